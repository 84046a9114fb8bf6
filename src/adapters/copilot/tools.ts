// Maps the universal tool vocabulary to GitHub Copilot's tool aliases (read, edit, search, execute,
// web, todo, agent, `server/*`) and back. Several universal tools share one alias, so a deny can
// only remove a whole alias.
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import { BUILTIN_TOOLS, type BuiltinTool } from "../../library/schema.ts";
import { isBuiltin, parseMcpRef, unsupported } from "../common.ts";

const ALIAS_ORDER = ["read", "edit", "search", "execute", "web", "todo", "agent"] as const;
export type CopilotAlias = (typeof ALIAS_ORDER)[number];

/** Universal built-in tool -> Copilot alias; undefined when Copilot has no such tool. */
export const TOOL_ALIAS: Record<BuiltinTool, CopilotAlias | undefined> = {
  read: "read",
  write: "edit",
  shell: "execute",
  grep: "search",
  glob: "search",
  web_fetch: "web",
  web_search: "web",
  todo: "todo",
  delegate: "agent",
  aws: undefined,
  thinking: undefined,
  knowledge: undefined,
};

/**
 * Copilot aliases and their compatible names (lowercase; Copilot matches them case-insensitively)
 * -> universal tools. github/docs content/copilot/reference/custom-agents-configuration.md.
 */
export const ALIAS_TOOLS: Record<string, BuiltinTool[]> = {
  read: ["read"],
  notebookread: ["read"],
  edit: ["write"],
  write: ["write"],
  multiedit: ["write"],
  notebookedit: ["write"],
  search: ["grep", "glob"],
  grep: ["grep"],
  glob: ["glob"],
  execute: ["shell"],
  shell: ["shell"],
  bash: ["shell"],
  powershell: ["shell"],
  web: ["web_fetch", "web_search"],
  webfetch: ["web_fetch"],
  websearch: ["web_search"],
  todo: ["todo"],
  todowrite: ["todo"],
  agent: ["delegate"],
  "custom-agent": ["delegate"],
  task: ["delegate"],
};

const TARGET = "copilot";

/**
 * The `tools:` list of an agent file, or undefined for "all tools" (Copilot's default when the key
 * is absent). `servers` are the agent's MCP servers that are exported. Warnings for what cannot be
 * expressed go to `warnings`.
 */
export function copilotTools(agent: ResolvedAgent, servers: readonly string[], warnings: Diagnostic[]): string[] | undefined {
  const allow = agent.tools.allow;
  const deny = agent.tools.deny ?? [];
  if (deny.includes("*")) return [];
  const all = allow === undefined || allow.includes("*");
  if (all && deny.length === 0) return undefined;

  const wantedBuiltins: BuiltinTool[] = all ? [...BUILTIN_TOOLS] : allow!.filter(isBuiltin);
  const deniedAliases = new Set<CopilotAlias>();
  const deniedServers = new Set<string>();
  for (const d of deny) {
    if (isBuiltin(d)) {
      const a = TOOL_ALIAS[d];
      if (a) deniedAliases.add(a);
      continue;
    }
    const ref = parseMcpRef(d);
    if (ref && ref.tool === undefined) deniedServers.add(ref.server);
    else if (ref)
      warnings.push(
        unsupported(
          TARGET,
          agent,
          `a deny of one MCP tool (${d})`,
          `Copilot lists allowed tools only; allow the other tools of '${ref.server}' one by one instead of @${ref.server}`,
        ),
      );
  }
  const aliases = new Set<CopilotAlias>();
  const lostToDeny: string[] = [];
  const noAlias: string[] = [];
  for (const t of wantedBuiltins) {
    if (deny.includes(t)) continue;
    const a = TOOL_ALIAS[t];
    if (!a) {
      if (!all) noAlias.push(t);
      continue;
    }
    if (deniedAliases.has(a)) {
      lostToDeny.push(t);
      continue;
    }
    aliases.add(a);
  }
  if (noAlias.length) warnings.push(unsupported(TARGET, agent, `the tools ${noAlias.join(", ")}`, "Copilot has no such built-in tool"));
  if (lostToDeny.length) {
    warnings.push(
      unsupported(
        TARGET,
        agent,
        `allowing ${lostToDeny.join(", ")} while denying a tool that shares its Copilot alias`,
        "Copilot grants read/edit/search/execute/web as whole aliases; the alias was left out so the deny holds",
      ),
    );
  }
  const out: string[] = ALIAS_ORDER.filter((a) => aliases.has(a));
  const serverRefs = new Set<string>();
  if (all) {
    for (const s of [...servers].sort()) if (!deniedServers.has(s)) serverRefs.add(`${s}/*`);
  } else {
    for (const ref of allow!) {
      const m = parseMcpRef(ref);
      // A server of the agent that was left out (disabled) gets no tools either.
      if (!m || deniedServers.has(m.server) || (m.server in agent.mcpServers && !servers.includes(m.server))) continue;
      serverRefs.add(m.tool === undefined ? `${m.server}/*` : `${m.server}/${m.tool}`);
    }
  }
  out.push(...[...serverRefs].sort());
  return out;
}

/** A Copilot `tools:` list back to universal refs; unknown entries are reported. */
export function universalTools(list: readonly string[], file: string, warnings: Diagnostic[]): string[] {
  const out: string[] = [];
  const add = (t: string): void => {
    if (!out.includes(t)) out.push(t);
  };
  for (const raw of list) {
    const entry = raw.trim();
    if (entry === "*") {
      add("*");
      continue;
    }
    const slash = entry.indexOf("/");
    if (slash > 0) {
      const server = entry.slice(0, slash);
      const tool = entry.slice(slash + 1);
      add(tool === "*" ? `@${server}` : `@${server}/${tool}`);
      continue;
    }
    const mapped = ALIAS_TOOLS[entry.toLowerCase()];
    if (mapped) mapped.forEach(add);
    else
      warnings.push({
        severity: "warning",
        code: "import-lossy",
        message: `copilot: tool '${entry}' has no universal equivalent; dropped`,
        file,
        hint: "known aliases: read, edit, search, execute, web, todo, agent and server/tool",
      });
  }
  return out;
}
