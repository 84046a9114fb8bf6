// Literal values in MCP env and header fields of a library (not `${VAR}` references): what a diff
// of exported files must mask, since those files carry them (the CLI's dry run, the dashboard).
import type { Library } from "./model.ts";

/** The literal MCP env/header values of at least 4 characters, longest first (so a value inside another is masked whole). */
export function literalSecretValues(lib: Library): string[] {
  const out = new Set<string>();
  const add = (rec: Record<string, unknown> | undefined) => {
    for (const v of Object.values(rec ?? {})) if (typeof v === "string" && v.length >= 4 && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v)) out.add(v);
  };
  for (const m of lib.mcp.values()) {
    add(m.server.env);
    add(m.server.headers);
  }
  for (const stack of lib.agents.values()) {
    for (const src of stack) {
      for (const ref of src.spec.mcp ?? [])
        if (typeof ref !== "string") {
          add(ref.env);
          add(ref.headers);
        }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** The text with each of the values replaced by asterisks. */
export function maskValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const s of values) out = out.split(s).join("********");
  return out;
}
