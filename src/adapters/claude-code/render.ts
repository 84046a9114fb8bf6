// Renders universal agents into Claude Code's native files: one sub-agent file per agent, the MCP
// servers they use (as keys of .mcp.json / ~/.claude.json), a CLAUDE.md section of @imports for
// always-on knowledge, path-scoped rules for on-demand knowledge with `applyTo`, and permission
// rules in settings.json. Pure: the only input is the model and the render context.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { hashValue } from "../../library/hash.ts";
import type { ResolvedAgent, ResolvedKnowledge } from "../../library/model.ts";
import { HOOK_EVENTS, KnowledgeSpec, type McpServer, type ToolSettings } from "../../library/schema.ts";
import { parseYaml, splitFrontmatter } from "../../library/yaml-source.ts";
import { hasEnvRef, isBuiltin, isRemote, parseMcpRef, renderFrontmatter, unsupported } from "../common.ts";
import { portableRef } from "../refs.ts";
import type { JsonKeyEntry, OutputFile, RenderContext, RenderResult } from "../types.ts";
import { CLAUDE_HOOK_EVENTS, CLAUDE_TOOLS, ClaudeCodeExtension, EXTENSION_KEYS, TARGET, claudeMatcher, claudeModel, mcpToolName } from "./names.ts";
import { claudePaths } from "./paths.ts";
import { addOutput, agentInput, outputOf } from "../memo.ts";

/** Marks the on-demand knowledge list appended to an agent's body, so import can take it off again. */
export const ON_DEMAND_MARKER = "<!-- aicfg:on-demand-knowledge -->";

/** Knowledge files whose frontmatter we read (for `applyTo`): text formats only. */
const TEXT_KNOWLEDGE = /\.(md|markdown|mdx|txt)$/i;

type Permissions = { allow: Set<string>; deny: Set<string> };
type Import = { k: ResolvedKnowledge; ref: string; agents: string[] };

/** The sub-agent's frontmatter and body, and the warnings about what it loses; reads nothing but the agent. */
function agentFile(
  agent: ResolvedAgent,
  ctx: RenderContext,
  ruled: ReadonlySet<string>,
  dropped: ReadonlyMap<string, string>,
): { file: OutputFile; warnings: Diagnostic[] } {
  const paths = claudePaths(ctx);
  const w: Diagnostic[] = [];
  const fm: Record<string, unknown> = { name: agent.name, description: agent.description };

  // Tools: allow -> `tools`, deny (and servers' excludeTools) -> `disallowedTools`.
  const allow = agent.tools.allow;
  if (allow && !allow.includes("*")) {
    // An empty list (every allowed tool unsupported) stays an explicit empty list: leaving
    // `tools` out would give the agent every tool.
    const names = toolList(allow, agent, w, "tools.allow");
    fm.tools = names.length ? names.join(", ") : [];
  }
  const denied = toolList(agent.tools.deny ?? [], agent, w, "tools.deny");

  const model = claudeModel(agent);
  if (model.dropped) {
    w.push(
      unsupported(
        TARGET,
        agent,
        `model '${model.dropped}'`,
        "it is not a Claude model; the sub-agent inherits the session's model. Set model: {claude-code: <id>} to choose one",
      ),
    );
  }

  // MCP servers: definitions go to the shared MCP file (serversOf); the agent lists their names.
  const used: string[] = [];
  for (const name of Object.keys(agent.mcpServers).sort()) {
    const server = agent.mcpServers[name]!;
    if (!claudeServer(name, server, agent, w)) continue;
    used.push(name);
    for (const t of server.excludeTools ?? []) denied.push(mcpToolName(name, t));
  }
  if (denied.length) fm.disallowedTools = [...new Set(denied)].join(", ");
  if (model.model !== undefined) fm.model = model.model;
  if (used.length) fm.mcpServers = used;

  const hooks = claudeHooks(agent);
  if (hooks) fm.hooks = hooks;

  const ext = agent.extensions[TARGET];
  if (ext !== undefined) {
    const parsed = ClaudeCodeExtension.safeParse(ext);
    if (parsed.success) {
      for (const key of EXTENSION_KEYS) if (parsed.data[key] !== undefined) fm[key] = parsed.data[key];
    } else {
      w.push({
        severity: "warning",
        code: "invalid-extension",
        message: `${TARGET}: extensions.claude-code of agent '${agent.name}' is invalid and left out: ${parsed.error.issues[0]?.message ?? "invalid"}`,
        file: agent.sourceFile,
      });
    }
  }

  // Permission rules are project-wide in Claude Code (settings.json, permissionsOf): what they cannot say is reported here.
  addPermissions(agent, ctx.scope, { allow: new Set(), deny: new Set() }, w);

  // Knowledge: always-on files are @imported from CLAUDE.md; on-demand files become rules
  // (when they say which files they apply to: `ruled`) or a list the agent reads when it needs them.
  const onDemand: string[] = [];
  for (const k of agent.knowledge) {
    if (k.mode === "always") {
      const ref = importRef(k, ctx);
      if (/\s/.test(ref))
        w.push(
          unsupported(
            TARGET,
            agent,
            `knowledge file ${ref} (its path has a space, which ends an @import in CLAUDE.md)`,
            "rename the library folder or the file without spaces",
          ),
        );
      continue;
    }
    const winner = dropped.get(k.path);
    if (winner !== undefined) {
      w.push({
        severity: "warning",
        code: "output-name-clash",
        message: `${TARGET}: knowledge/${k.path} of agent '${agent.name}' would become the same rule file as knowledge/${winner} (${rulePath(k, ctx)}); it is left out`,
        file: agent.sourceFile,
        hint: "rename one of the two knowledge files",
      });
    } else if (!ruled.has(k.path)) onDemand.push(portableRef(k.absPath, ctx, "cwd")); // the Read tool opens paths from the session's folder
  }
  if (onDemand.length && allow && !allow.includes("*") && !allow.includes("read")) {
    w.push(
      unsupported(TARGET, agent, "on-demand knowledge without the read tool", "add 'read' to tools.allow so the agent can open the files listed in its prompt"),
    );
  }

  let body = agent.instructions.endsWith("\n") || agent.instructions === "" ? agent.instructions : agent.instructions + "\n";
  if (onDemand.length) {
    body +=
      `\n${ON_DEMAND_MARKER}\n## Reference files\n\nRead these files with the Read tool when the task needs them; they are not loaded up front:\n\n` +
      onDemand
        .sort()
        .map((p) => `- ${p}\n`)
        .join("");
  }
  return { file: { kind: "file", path: join(paths.agentsDir, `${agent.name}.md`), content: renderFrontmatter(fm, body), agent: agent.name }, warnings: w };
}

/** CLAUDE.md resolves an @import relative to itself, so a library beside the project stays found after a move. */
function importRef(k: ResolvedKnowledge, ctx: RenderContext): string {
  return portableRef(k.absPath, ctx, { file: claudePaths(ctx).memory });
}

function rulePath(k: ResolvedKnowledge, ctx: RenderContext): string {
  const slug = k.path.replace(/\.[^./]+$/, "").replace(/[^A-Za-z0-9._-]+/g, "-");
  return join(claudePaths(ctx).rulesDir, `${slug}.md`);
}

/** The MCP servers of every agent in the shared MCP file (one per name: the first agent's), with the clashes. */
function serversOf(agents: readonly ResolvedAgent[], ctx: RenderContext): { files: OutputFile[]; warnings: Diagnostic[] } {
  const warnings: Diagnostic[] = [];
  const servers = new Map<string, { value: Record<string, unknown>; hash: string; owner: string }>();
  for (const agent of agents)
    for (const name of Object.keys(agent.mcpServers).sort()) {
      // What a server loses is reported with the agent's own file (agentFile).
      const value = claudeServer(name, agent.mcpServers[name]!, agent, []);
      if (!value) continue;
      const hash = hashValue(value);
      const prev = servers.get(name);
      if (prev && prev.hash !== hash) {
        warnings.push({
          severity: "warning",
          code: "mcp-name-clash",
          message: `${TARGET}: agent '${agent.name}' defines MCP server '${name}' differently from agent '${prev.owner}'; Claude Code has one server per name, '${prev.owner}''s definition is kept`,
          file: agent.sourceFile,
          hint: "give the servers different names, or use one shared definition from mcp/",
        });
      } else if (!prev) servers.set(name, { value, hash, owner: agent.name });
    }
  if (!servers.size) return { files: [], warnings };
  const entries: JsonKeyEntry[] = [...servers.keys()].sort().map((name) => ({ key: ["mcpServers", name], value: servers.get(name)!.value }));
  const secret = [...servers.values()].some((s) => holdsLiteral(s.value));
  return { files: [{ kind: "json-keys", path: claudePaths(ctx).mcp, entries, secret }], warnings };
}

/** The project-wide permission rules of every agent (settings.json), and the one warning naming the agents that widen them. */
function permissionsOf(agents: readonly ResolvedAgent[], ctx: RenderContext): { files: OutputFile[]; warnings: Diagnostic[] } {
  const paths = claudePaths(ctx);
  const perms: Permissions = { allow: new Set(), deny: new Set() };
  const widened: ResolvedAgent[] = [];
  for (const agent of agents) {
    for (const name of Object.keys(agent.mcpServers).sort()) {
      const server = agent.mcpServers[name]!;
      if (server.disabled) continue;
      for (const t of server.autoApprove ?? []) perms.allow.add(mcpToolName(name, t === "*" ? undefined : t));
    }
    // What a rule cannot say is reported with the agent's own file (agentFile).
    const before = perms.allow.size + perms.deny.size;
    addPermissions(agent, ctx.scope, perms, []);
    if (perms.allow.size + perms.deny.size > before) widened.push(agent);
  }
  const files: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  const permEntries: JsonKeyEntry[] = [];
  if (perms.allow.size) permEntries.push({ key: ["permissions", "allow"], value: [...perms.allow].sort() });
  if (perms.deny.size) permEntries.push({ key: ["permissions", "deny"], value: [...perms.deny].sort() });
  if (permEntries.length) files.push({ kind: "json-keys", path: paths.settings, entries: permEntries });
  if (widened.length) {
    // One warning for the file, naming every agent whose rules it holds (not one per agent per export).
    const names = widened.map((a) => `'${a.name}'`).join(", ");
    warnings.push({
      severity: "warning",
      code: "permissions-widened",
      message: `${TARGET}: the trusted tools and tool settings of ${widened.length === 1 ? "agent" : "agents"} ${names} become permission rules in ${paths.settings}, which apply to every Claude Code session there, not only to ${widened.length === 1 ? "this agent" : "these agents"}`,
      file: widened[0]!.sourceFile,
      hint: "Claude Code has no per-sub-agent permission rules; narrow the rules, or use extensions.claude-code.permissionMode",
    });
  }
  return { files, warnings };
}

/**
 * Each output is made from what it holds: a sub-agent file from its agent (and which of its on-demand
 * files became rules), a rule from its knowledge file, the shared files (.mcp.json, CLAUDE.md,
 * settings.json) from the parts of every agent they hold, so a one-file edit renders only those.
 */
export function renderClaudeCode(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const paths = claudePaths(ctx);
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const sorted = [...agents].sort((a, b) => a.name.localeCompare(b.name));

  // On-demand knowledge, in the order the agents name it: a file with applyTo globs becomes a rule
  // (the first agent naming it owns it); of two files that map to one rule path, the first is kept.
  const onDemand = new Map<string, { k: ResolvedKnowledge; agent: string }>();
  for (const agent of sorted) for (const k of agent.knowledge) if (k.mode !== "always" && !onDemand.has(k.path)) onDemand.set(k.path, { k, agent: agent.name });
  const ruled = new Set<string>();
  /** A knowledge path left out -> the one whose rule file it would overwrite. */
  const dropped = new Map<string, string>();
  const rules: OutputFile[] = [];
  const rulesAt = new Map<string, string>();
  for (const { k, agent } of onDemand.values()) {
    const path = rulePath(k, ctx);
    const part = outputOf(ctx, `knowledge\u0000${k.path}`, { files: [k.absPath], values: [k.path, k.absPath, k.layer, agent] }, () => {
      const applyTo = knowledgeApplyTo(k, ctx);
      if (!applyTo.length) return { files: [], warnings: [] };
      const body = `<!-- generated by aicfg export from knowledge/${k.path}; edit the library instead -->\n\n${ctx.readKnowledge(k.absPath)}`;
      return { files: [{ kind: "file", path, content: renderFrontmatter({ paths: applyTo }, body), agent }], warnings: [] };
    });
    if (!part.files.length) continue;
    const winner = rulesAt.get(path);
    if (winner !== undefined) {
      dropped.set(k.path, winner);
      continue;
    }
    rulesAt.set(path, k.path);
    ruled.add(k.path);
    rules.push(...part.files);
  }

  for (const agent of sorted) {
    const own = agent.knowledge.filter((k) => k.mode !== "always").map((k) => k.path);
    const values = {
      agent: agentInput(agent),
      ruled: own.filter((p) => ruled.has(p)),
      dropped: own.filter((p) => dropped.has(p)).map((p) => [p, dropped.get(p)]),
    };
    addOutput(out, ctx, `agent\u0000${agent.name}`, { values }, () => {
      const r = agentFile(agent, ctx, ruled, dropped);
      return { files: [r.file], warnings: r.warnings };
    });
  }

  addOutput(out, ctx, "mcp", { values: sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.secretRefs ?? null]) }, () => serversOf(sorted, ctx));

  // CLAUDE.md imports the always-on knowledge (files shared by agents once); the imports load with
  // it at launch (memory.md), so their size counts against the budget too (measured here, not cached).
  const imports = new Map<string, Import>();
  for (const agent of sorted)
    for (const k of agent.knowledge) {
      if (k.mode !== "always") continue;
      const ref = importRef(k, ctx);
      if (/\s/.test(ref)) continue;
      const entry = imports.get(k.absPath) ?? { k, ref, agents: [] };
      entry.agents.push(agent.name);
      imports.set(k.absPath, entry);
    }
  if (imports.size) {
    const loadsBytes = [...imports.values()].reduce((n, e) => n + e.k.size, 0);
    const values = [...imports.values()].map((e) => [e.k.path, e.ref, e.agents]);
    const part = outputOf(ctx, "memory", { values }, () => ({
      files: [{ kind: "md-section", path: paths.memory, content: memorySection(imports), alwaysLoaded: true }],
      warnings: [],
    }));
    for (const f of part.files) out.files.push(f.kind === "md-section" && loadsBytes ? { ...f, loadsBytes } : f);
  }
  out.files.push(...rules.sort((a, b) => a.path.localeCompare(b.path)));

  const permInput = sorted.map((a) => [a.name, a.sourceFile, a.tools, a.toolSettings, a.mcpServers]);
  addOutput(out, ctx, "permissions", { values: permInput }, () => permissionsOf(sorted, ctx));
  return out;
}

/** Universal tool references -> Claude Code tool names, warning about those it has no tool for. */
function toolList(refs: readonly string[], agent: ResolvedAgent, w: Diagnostic[], where: string): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    if (ref === "*") {
      if (where === "tools.deny") w.push(unsupported(TARGET, agent, "'*' in tools.deny", "list the tools to deny instead"));
      continue;
    }
    if (isBuiltin(ref)) {
      const names = CLAUDE_TOOLS[ref];
      if (!names.length) w.push(unsupported(TARGET, agent, `the '${ref}' tool (${where})`, "Claude Code has no such built-in tool"));
      out.push(...names);
      continue;
    }
    const m = parseMcpRef(ref);
    if (m) out.push(mcpToolName(m.server, m.tool));
  }
  return [...new Set(out)];
}

/** One MCP server in Claude Code's .mcp.json shape (mcp.md); undefined when it is not exported. */
function claudeServer(name: string, s: McpServer, agent: ResolvedAgent, w: Diagnostic[]): Record<string, unknown> | undefined {
  if (s.disabled) {
    w.push(unsupported(TARGET, agent, `the disabled MCP server '${name}'`, "Claude Code has no 'disabled' flag; remove 'disabled' to export the server"));
    return undefined;
  }
  const out: Record<string, unknown> = {};
  if (isRemote(s)) {
    out.type = s.type ?? "http";
    out.url = s.url;
    if (s.headers) out.headers = s.headers;
  } else {
    out.type = "stdio";
    out.command = s.command;
    if (s.args) out.args = s.args;
    if (s.env) out.env = s.env;
  }
  if (s.timeout !== undefined) out.timeout = s.timeout;
  const lost: string[] = [];
  if (s.cwd !== undefined) lost.push("cwd");
  if (s.includeTools?.length) lost.push("includeTools");
  if (s.oauth !== undefined) lost.push("oauth");
  if (lost.length) {
    w.push(
      unsupported(
        TARGET,
        agent,
        `${lost.join(", ")} of MCP server '${name}'`,
        lost.includes("oauth") ? "Claude Code signs in to OAuth servers itself through /mcp" : undefined,
      ),
    );
  }
  return out;
}

/** True when an env value or header is written literally (not a `${VAR}` reference): a secret may be in the file. */
function holdsLiteral(server: Record<string, unknown>): boolean {
  for (const key of ["env", "headers"]) {
    const rec = server[key] as Record<string, string> | undefined;
    for (const v of Object.values(rec ?? {})) if (v.length > 0 && !hasEnvRef(v)) return true;
  }
  return false;
}

function claudeHooks(agent: ResolvedAgent): Record<string, unknown[]> | undefined {
  const out: Record<string, unknown[]> = {};
  for (const ev of HOOK_EVENTS) {
    for (const h of agent.hooks[ev] ?? []) {
      const handler: Record<string, unknown> = { type: "command", command: h.command };
      // Universal timeouts are milliseconds; Claude Code's are seconds.
      if (h.timeout !== undefined) handler.timeout = Math.max(1, Math.ceil(h.timeout / 1000));
      const entry: Record<string, unknown> = {};
      if ((ev === "beforeTool" || ev === "afterTool") && h.matcher) entry.matcher = claudeMatcher(h.matcher);
      entry.hooks = [handler];
      (out[CLAUDE_HOOK_EVENTS[ev]] ??= []).push(entry);
    }
  }
  return Object.keys(out).length ? out : undefined;
}

const PERMISSION_TOOL: Partial<Record<string, string>> = {
  read: "Read",
  write: "Edit",
  shell: "Bash",
  grep: "Grep",
  glob: "Glob",
  web_fetch: "WebFetch",
  web_search: "WebSearch",
  todo: "TodoWrite",
  delegate: "Agent",
};

/**
 * Trusted tools and tool settings -> permission rules (permissions.md): `Bash(npm test *)`,
 * `Read(/src/**)`, `Edit(...)`, `WebFetch(domain:x)`, `mcp__server__*`.
 */
function addPermissions(agent: ResolvedAgent, scope: RenderContext["scope"], perms: Permissions, w: Diagnostic[]): void {
  for (const ref of agent.tools.trusted ?? []) {
    if (ref === "*") {
      w.push(
        unsupported(
          TARGET,
          agent,
          "'*' in tools.trusted",
          "Claude Code ignores an allow rule for every tool; use extensions.claude-code.permissionMode instead",
        ),
      );
      continue;
    }
    if (isBuiltin(ref)) {
      const name = PERMISSION_TOOL[ref];
      if (name) perms.allow.add(name);
      else w.push(unsupported(TARGET, agent, `the '${ref}' tool (tools.trusted)`, "Claude Code has no such built-in tool"));
      continue;
    }
    const m = parseMcpRef(ref);
    if (m) perms.allow.add(mcpToolName(m.server, m.tool));
  }
  const ts: ToolSettings = agent.toolSettings;
  const path = (p: string): string => permissionPath(p, scope);
  for (const p of ts.read?.allowedPaths ?? []) perms.allow.add(`Read(${path(p)})`);
  for (const p of ts.read?.deniedPaths ?? []) perms.deny.add(`Read(${path(p)})`);
  for (const p of ts.write?.allowedPaths ?? []) perms.allow.add(`Edit(${path(p)})`);
  for (const p of ts.write?.deniedPaths ?? []) perms.deny.add(`Edit(${path(p)})`);
  for (const c of ts.shell?.allowedCommands ?? []) perms.allow.add(bashRule(c));
  for (const c of ts.shell?.deniedCommands ?? []) perms.deny.add(bashRule(c));
  for (const d of ts.web_fetch?.allowedDomains ?? []) perms.allow.add(`WebFetch(domain:${d})`);
  for (const d of ts.web_fetch?.deniedDomains ?? []) perms.deny.add(`WebFetch(domain:${d})`);
  if (ts.aws) w.push(unsupported(TARGET, agent, "toolSettings.aws", "Claude Code has no AWS tool; allow the aws CLI with toolSettings.shell.allowedCommands"));
  // autoAllowReadonly needs nothing: Claude Code runs its built-in read-only commands without asking.
}

/** `npm test` -> `Bash(npm test *)` (a trailing ` *` also matches the bare command); patterns with `*` stay as written. */
function bashRule(command: string): string {
  return command.includes("*") ? `Bash(${command})` : `Bash(${command} *)`;
}

/**
 * Library paths are relative to the project; Claude Code anchors `/path` at the project for project
 * settings, needs `//` for absolute paths and keeps `~/`. In user settings `/path` would mean
 * `~/.claude/path`, so relative paths stay relative to the working folder there.
 */
export function permissionPath(p: string, scope: RenderContext["scope"]): string {
  if (p.startsWith("~/")) return p;
  if (p.startsWith("/")) return "/" + p;
  const rel = p.replace(/^(\.\/)+/, "");
  return scope === "project" ? "/" + rel : rel;
}

/** `applyTo` globs from a text knowledge file's frontmatter (empty when none or unreadable). */
function knowledgeApplyTo(k: ResolvedKnowledge, ctx: RenderContext): string[] {
  if (!TEXT_KNOWLEDGE.test(k.path)) return [];
  let text: string;
  try {
    text = Buffer.from(ctx.readBytes(k.absPath)).toString("utf8");
  } catch {
    return [];
  }
  const { frontmatter, fmLine } = splitFrontmatter(text);
  if (frontmatter === undefined) return [];
  const parsed = KnowledgeSpec.safeParse(parseYaml(frontmatter, k.absPath, fmLine).value ?? {});
  if (!parsed.success || parsed.data.applyTo === undefined) return [];
  return typeof parsed.data.applyTo === "string" ? [parsed.data.applyTo] : parsed.data.applyTo;
}

/**
 * The CLAUDE.md block: `@<path>` imports (memory.md), so knowledge is read where it lives
 * instead of being copied. Files shared by several agents are imported once, under a heading
 * naming all of them; groups and files are sorted so the block is stable.
 */
function memorySection(imports: Map<string, Import>): string {
  const groups = new Map<string, Import[]>();
  for (const entry of imports.values()) {
    const key = [...new Set(entry.agents)].sort().join(", ");
    const list = groups.get(key) ?? [];
    list.push(entry);
    groups.set(key, list);
  }
  let out = "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n";
  for (const key of [...groups.keys()].sort()) {
    out += `\n## Knowledge of ${key}\n\n`;
    for (const e of groups.get(key)!.sort((a, b) => a.k.path.localeCompare(b.k.path) || a.ref.localeCompare(b.ref))) out += `@${e.ref}\n`;
  }
  return out;
}
