// Checks that a module's default export is a plugin object this aicfg can load (apiVersion first),
// with the file, the field and its line in the error. Imports nothing heavy: the out-of-process
// child runs it before anything else.
import { ConfigError } from "../../library/diagnostics.ts";
import { ORDER_RANK, SUPPORTED_API_VERSIONS, type PluginDefinition } from "./api.ts";

/** Where a field sits in the plugin's source text (for `file:line:col` in errors); the first match of `field:`. */
export function locateField(text: string | undefined, field: string): { line?: number; col?: number } {
  if (!text) return {};
  const m = new RegExp(`\\b${field}\\s*:`).exec(text);
  if (!m) return {};
  const before = text.slice(0, m.index);
  return { line: before.split("\n").length, col: m.index - before.lastIndexOf("\n") };
}

/** Checks a module's default export is a plugin object this aicfg can load. */
export function checkPluginDefinition(value: unknown, file: string, text?: string): PluginDefinition {
  const fail = (field: string, message: string, hint: string): never => {
    throw new ConfigError("plugin-invalid", `${file}: ${field}: ${message}`, { file, ...locateField(text, field.split(".")[0] ?? field), hint });
  };
  if (typeof value !== "object" || value === null) {
    fail(
      "export default",
      "the module does not export a plugin",
      "end the module with 'export default definePlugin({ apiVersion: \"aicfg/v1\", name, version, setup(ctx) {…} })'",
    );
  }
  const p = value as Record<string, unknown>;
  if (!(SUPPORTED_API_VERSIONS as readonly unknown[]).includes(p.apiVersion)) {
    throw new ConfigError(
      "plugin-api-version",
      `${file}: apiVersion: this aicfg loads plugins of ${SUPPORTED_API_VERSIONS.map((v) => `"${v}"`).join(" or ")}, the plugin says ${JSON.stringify(p.apiVersion ?? null)}`,
      {
        file,
        ...locateField(text, "apiVersion"),
        hint:
          typeof p.apiVersion === "string" && /^aicfg\/v\d+$/.test(p.apiVersion) && Number(p.apiVersion.slice(7)) > 1
            ? "the plugin is newer than this aicfg: upgrade aicfg, or use an older release of the plugin"
            : `set apiVersion: "${SUPPORTED_API_VERSIONS[0]}" (and check the plugin against the current API), or use a release of the plugin made for it`,
      },
    );
  }
  if (typeof p.name !== "string" || !/^(?:@[a-z0-9._-]+\/)?[a-z0-9][a-z0-9._-]*$/.test(p.name))
    fail("name", "must be an npm-style package name", "use the package name, e.g. 'aicfg-plugin-gptme'");
  if (typeof p.version !== "string" || !/^\d+\.\d+\.\d+/.test(p.version)) fail("version", "must be a semver version", "e.g. version: '1.0.0'");
  if (typeof p.setup !== "function") fail("setup", "must be a function", "add setup(ctx) { ctx.adapters.register(…) }");
  if (p.order !== undefined && !(typeof p.order === "string" && Object.hasOwn(ORDER_RANK, p.order)))
    fail("order", `must be "pre", "normal" or "post"`, "remove order, or use one of those");
  return value as PluginDefinition;
}
