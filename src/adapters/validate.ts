// Whole-library validation: the loader's diagnostics plus every cross-reference check that needs
// the adapter registry (known targets, per-tool extension schemas). One pass, every problem.
import type { Diagnostic } from "../library/diagnostics.ts";
import type { Library } from "../library/model.ts";
import { resolveAll } from "../library/resolve.ts";
import { closest } from "../library/yaml-source.ts";
import { listAdapters } from "./registry.ts";

export type LibraryCheck = (lib: Library) => Diagnostic[];

const extraChecks: LibraryCheck[] = [];

/** Lets other layers (workflows) add their checks to `aicfg validate` without a dependency cycle. */
export function registerLibraryCheck(check: LibraryCheck): void {
  if (!extraChecks.includes(check)) extraChecks.push(check);
}

export function validateLibrary(lib: Library): Diagnostic[] {
  const out: Diagnostic[] = [...lib.diagnostics];
  const { agents, diagnostics } = resolveAll(lib);
  out.push(...diagnostics);
  const adapters = listAdapters();
  const ids = adapters.map((a) => a.id);
  const checkTarget = (t: string, file: string, what: string): void => {
    if (ids.includes(t)) return;
    const guess = closest(t, ids);
    out.push({
      severity: "error",
      code: "unknown-target",
      message: `${what} names unknown target '${t}'`,
      file,
      hint: guess ? `did you mean '${guess}'?` : `known targets: ${ids.join(", ")}`,
    });
  };
  for (const t of lib.manifest.targets ?? []) checkTarget(t, lib.manifestFile, "aicfg.yaml");
  for (const a of agents) {
    if (a.provenance.targets !== "manifest") for (const t of a.targets) checkTarget(t, a.sourceFile, `agent '${a.name}'`);
    for (const [tool, ext] of Object.entries(a.extensions)) {
      const adapter = adapters.find((x) => x.id === tool);
      if (!adapter) {
        checkTarget(tool, a.sourceFile, `extensions of agent '${a.name}'`);
        continue;
      }
      if (!adapter.extensionSchema) {
        out.push({
          severity: "error",
          code: "invalid-extension",
          message: `${adapter.displayName} takes no extensions (agent '${a.name}')`,
          file: a.sourceFile,
          hint: `remove extensions.${tool}`,
        });
        continue;
      }
      const r = adapter.extensionSchema.safeParse(ext);
      if (!r.success) {
        for (const issue of r.error.issues) {
          out.push({
            severity: "error",
            code: "invalid-extension",
            message: `extensions.${tool}${issue.path.length ? "." + issue.path.join(".") : ""} of agent '${a.name}': ${issue.message}`,
            file: a.sourceFile,
            hint: `see the ${adapter.displayName} section of the README for the fields it accepts`,
          });
        }
      }
    }
  }
  for (const check of extraChecks) {
    try {
      out.push(...check(lib));
    } catch (e) {
      out.push({ severity: "error", code: "check-failed", message: `a validation check failed: ${(e as Error).message}` });
    }
  }
  return dedupe(out);
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
