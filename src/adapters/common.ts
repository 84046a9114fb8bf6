// Helpers shared by adapters: warnings for what a tool cannot express, MCP env-variable syntax,
// frontmatter rendering, tool-name mapping. Pure functions only.
import { stringify as stringifyYaml } from "yaml";
import type { Diagnostic } from "../library/diagnostics.ts";
import type { ResolvedAgent } from "../library/model.ts";
import { BUILTIN_TOOLS, type BuiltinTool, type McpServer } from "../library/schema.ts";

/** A feature of an agent the target cannot express: reported in the plan, never dropped silently. */
export function unsupported(target: string, agent: ResolvedAgent, feature: string, hint?: string): Diagnostic {
  const d: Diagnostic = {
    severity: "warning",
    code: "unsupported-feature",
    message: `${target}: agent '${agent.name}' uses ${feature}, which ${target} cannot express; it is left out of this target`,
    file: agent.sourceFile,
  };
  if (hint) d.hint = hint;
  return d;
}

/** A documented limit of the target is exceeded. */
export function limitExceeded(target: string, agent: ResolvedAgent | undefined, what: string, hint?: string): Diagnostic {
  const d: Diagnostic = {
    severity: "warning",
    code: "limit-exceeded",
    message: `${target}: ${agent ? `agent '${agent.name}': ` : ""}${what}`,
  };
  if (agent) d.file = agent.sourceFile;
  if (hint) d.hint = hint;
  return d;
}

/** Renders `---\n<yaml>---\n\n<body>` with keys in the given order and undefined values dropped. */
export function renderFrontmatter(fields: Record<string, unknown>, body: string): string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) clean[k] = v;
  const yaml = Object.keys(clean).length ? stringifyYaml(clean, { lineWidth: 0 }) : "";
  const text = body.endsWith("\n") ? body : body + "\n";
  return `---\n${yaml}---\n\n${text}`;
}

export type EnvSyntax = "braces" | "braces-default" | "dollar" | "env-colon" | "literal";

const VAR_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** True when a value refers to an environment variable (`${VAR}`). */
export function hasEnvRef(value: string): boolean {
  VAR_REF.lastIndex = 0;
  return VAR_REF.test(value);
}

/**
 * Translates the universal `${VAR}` / `${VAR:-default}` into a tool's syntax. Returns undefined
 * when the tool cannot express it (literal-only tools).
 */
export function translateEnvRefs(value: string, syntax: EnvSyntax): string | undefined {
  VAR_REF.lastIndex = 0;
  if (!hasEnvRef(value)) return value;
  switch (syntax) {
    case "braces-default":
      return value;
    case "braces":
      return value.replace(VAR_REF, (_m, name: string) => `\${${name}}`);
    case "dollar":
      return value.replace(VAR_REF, (_m, name: string) => `$${name}`);
    case "env-colon":
      return value.replace(VAR_REF, (_m, name: string) => `\${env:${name}}`);
    case "literal":
      return undefined;
  }
}

/** Maps a record's values with translateEnvRefs; collects the keys that could not be expressed. */
export function translateRecord(rec: Record<string, string> | undefined, syntax: EnvSyntax, lost: string[], where: string): Record<string, string> | undefined {
  if (!rec) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) {
    const t = translateEnvRefs(v, syntax);
    if (t === undefined) {
      lost.push(`${where}.${k}`);
      out[k] = v;
    } else out[k] = t;
  }
  return out;
}

export function isRemote(s: McpServer): boolean {
  return s.type === "http" || s.type === "sse" || (!!s.url && !s.command);
}

export function isBuiltin(ref: string): ref is BuiltinTool {
  return (BUILTIN_TOOLS as readonly string[]).includes(ref);
}

/** Splits an `@server/tool` reference. */
export function parseMcpRef(ref: string): { server: string; tool?: string } | undefined {
  if (!ref.startsWith("@")) return undefined;
  const [server, tool] = ref.slice(1).split("/", 2) as [string, string | undefined];
  return tool === undefined ? { server } : { server, tool };
}

/** JSON text as the tools write it: two-space indent and a final newline. */
export function jsonFile(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** The hook events every agent can have, in a fixed order. */
export const HOOK_ORDER = ["sessionStart", "promptSubmit", "beforeTool", "afterTool", "stop"] as const;

export function usedHookEvents(agent: ResolvedAgent): string[] {
  return HOOK_ORDER.filter((e) => (agent.hooks[e]?.length ?? 0) > 0);
}
