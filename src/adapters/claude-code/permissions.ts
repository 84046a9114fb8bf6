// Imports the permission rules of Claude Code's settings.json (permissions.md) into the imported
// agents: the reverse of render.ts's addPermissions. Claude Code's rules apply to every session
// of the project, the library's to one agent, so every agent of the folder gets them.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ToolSettings } from "../../library/schema.ts";
import { parseJsonText } from "../shared-files.ts";
import type { FileSource, ImportedAgent, Roots } from "../types.ts";
import { fromClaudeTool, parseMcpToolName } from "./names.ts";

type Mapped = { trusted: string[]; deny: string[]; settings: ToolSettings };

/** Reads `.claude/settings.json` of the folder and adds its rules to each agent's spec. */
export function importPermissions(src: FileSource, roots: Roots, agents: ImportedAgent[], warnings: Diagnostic[]): void {
  const rel = ".claude/settings.json";
  const text = src.read(rel);
  if (text === undefined) return;
  const file = join(src.root, rel);
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    warnings.push({ severity: "warning", code: "invalid-json", message: `is not valid JSON (${parsed.error}); its permission rules are not imported`, file });
    return;
  }
  const perms = (parsed.value as { permissions?: unknown } | null)?.permissions;
  if (!perms || typeof perms !== "object" || Array.isArray(perms)) return;
  const p = perms as Record<string, unknown>;
  const mapped: Mapped = { trusted: [], deny: [], settings: {} };
  const lost: string[] = [];
  for (const list of ["allow", "deny"] as const) {
    for (const rule of strings(p[list])) if (!mapRule(rule, list, roots.scope, mapped)) lost.push(`${list} '${rule}'`);
  }
  for (const rule of strings(p.ask)) lost.push(`ask '${rule}'`);
  const other = Object.keys(p).filter((k) => k !== "allow" && k !== "deny" && k !== "ask");
  if (lost.length) {
    warnings.push({
      severity: "warning",
      code: "unsupported-feature",
      message: `permission rules with no library equivalent are not imported: ${lost.join(", ")}`,
      file,
      hint: "the library has trusted and denied tools, allowed and denied paths, commands and domains; 'ask' is the default for every tool that is not trusted",
    });
  }
  if (other.length)
    warnings.push({
      severity: "warning",
      code: "unsupported-feature",
      message: `permissions.${other.join(", permissions.")} not imported (no library equivalent)`,
      file,
    });
  if (!mapped.trusted.length && !mapped.deny.length && !Object.keys(mapped.settings).length) return;
  for (const a of agents) apply(a, mapped);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.trim() !== "").map((x) => x.trim()) : [];
}

/** One rule; false when it has no library equivalent. */
function mapRule(rule: string, list: "allow" | "deny", scope: Roots["scope"], out: Mapped): boolean {
  const m = /^([A-Za-z_][A-Za-z0-9_.*-]*)(?:\((.*)\))?$/s.exec(rule);
  if (!m) return false;
  const [, tool, spec] = m as unknown as [string, string, string | undefined];
  const mcp = parseMcpToolName(tool);
  if (mcp) {
    if (spec !== undefined) return false;
    const ref = mcp.tool === undefined ? `@${mcp.server}` : `@${mcp.server}/${mcp.tool}`;
    (list === "allow" ? out.trusted : out.deny).push(ref);
    return true;
  }
  const builtin = fromClaudeTool(tool);
  if (!builtin) return false;
  if (spec === undefined || spec === "" || spec === "*") {
    (list === "allow" ? out.trusted : out.deny).push(builtin);
    return true;
  }
  const s = out.settings;
  const key = list === "allow" ? "allowed" : "denied";
  if (builtin === "read" || (builtin === "write" && tool !== "NotebookEdit")) {
    const t = (s[builtin] ??= {});
    (t[`${key}Paths`] ??= []).push(libraryPath(spec, scope));
    return true;
  }
  if (builtin === "shell") {
    const t = (s.shell ??= {});
    (t[`${key}Commands`] ??= []).push(shellCommand(spec));
    return true;
  }
  if (builtin === "web_fetch" && spec.startsWith("domain:")) {
    const t = (s.web_fetch ??= {});
    (t[`${key}Domains`] ??= []).push(spec.slice("domain:".length));
    return true;
  }
  return false;
}

/** The reverse of render.ts's permissionPath: `/src/**` (project-anchored) -> `src/**`, `//abs` -> `/abs`. */
function libraryPath(p: string, scope: Roots["scope"]): string {
  if (p.startsWith("~/")) return p;
  if (p.startsWith("//")) return p.slice(1);
  if (scope === "project" && p.startsWith("/")) return p.slice(1) || ".";
  return p.replace(/^(\.\/)+/, "") || ".";
}

/** The reverse of render.ts's bashRule: `npm test *` and the legacy `npm test:*` -> `npm test`. */
function shellCommand(spec: string): string {
  const m = /^(.*?)(?: \*|:\*)$/s.exec(spec);
  return m?.[1] && !m[1].includes("*") ? m[1] : spec;
}

function apply(a: ImportedAgent, m: Mapped): void {
  const spec = a.spec;
  const union = (x: string[] | undefined, y: string[]): string[] | undefined => (x || y.length ? [...new Set([...(x ?? []), ...y])] : undefined);
  const trusted = union(spec.tools?.trusted, m.trusted);
  const deny = union(spec.tools?.deny, m.deny);
  if (trusted || deny) spec.tools = { ...spec.tools, ...(trusted ? { trusted } : {}), ...(deny ? { deny } : {}) };
  if (!Object.keys(m.settings).length) return;
  const ts: Record<string, Record<string, unknown>> = { ...(spec.toolSettings as Record<string, Record<string, unknown>> | undefined) };
  for (const [tool, fields] of Object.entries(m.settings as Record<string, Record<string, string[]>>)) {
    const cur = { ...ts[tool] };
    for (const [k, v] of Object.entries(fields)) cur[k] = union(cur[k] as string[] | undefined, v);
    ts[tool] = cur;
  }
  spec.toolSettings = ts as ToolSettings;
}
