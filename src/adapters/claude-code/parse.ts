// Imports Claude Code sub-agents (`.claude/agents/*.md`) into universal agents: frontmatter and
// body, tool names mapped back, MCP servers looked up in .mcp.json / ~/.claude.json, Claude-only
// fields kept under extensions.claude-code, and the permission rules of .claude/settings.json
// turned into the agents' trusted and denied tools. Frontmatter is read as Claude Code reads it
// (see import/frontmatter.ts); names the library cannot hold are mapped. Problems are diagnostics;
// one bad file never stops the rest.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { AgentSpec, McpServer, Slug, type Hook, type HookEvent, type Hooks } from "../../library/schema.ts";
import { splitFrontmatter } from "../../library/yaml-source.ts";
import { readFrontmatter, type FrontmatterKeys } from "../import/frontmatter.ts";
import { librarySlug, nameClash } from "../import/names.ts";
import { parseJsonText } from "../shared-files.ts";
import type { FileSource, ImportedAgent, ParseResult, Roots, SkippedFile } from "../types.ts";
import { ClaudeCodeExtension, EXTENSION_KEYS, TARGET, fromClaudeHookEvent, fromClaudeTool, parseMcpToolName, universalMatcher } from "./names.ts";
import { importPermissions } from "./permissions.ts";
import { ON_DEMAND_MARKER } from "./render.ts";

/** The frontmatter keys Claude Code reads (sub-agents.md), and which of them are plain scalars. */
const FRONTMATTER_KEYS: FrontmatterKeys = {
  name: "string",
  description: "string",
  tools: "string",
  disallowedTools: "string",
  model: "string",
  mcpServers: "structured",
  hooks: "structured",
  ...Object.fromEntries(
    EXTENSION_KEYS.map((k) => [k, k === "maxTurns" ? "number" : k === "background" ? "boolean" : k === "skills" ? "structured" : "string"]),
  ),
};

export function parseClaudeCode(src: FileSource, roots: Roots): ParseResult {
  const warnings: Diagnostic[] = [];
  const agents: ImportedAgent[] = [];
  const skipped: SkippedFile[] = [];
  const mcpRel = roots.scope === "project" ? ".mcp.json" : ".claude.json";
  const registry = readServers(src, mcpRel, warnings);
  const seen = new Map<string, ImportedAgent>();
  for (const rel of src.list(".claude/agents")) {
    if (!rel.endsWith(".md")) continue;
    const file = join(src.root, rel);
    const text = src.read(rel);
    if (text === undefined) continue;
    const agent = parseAgentFile(text, file, src.root, registry, join(src.root, mcpRel), warnings, skipped);
    if (!agent) continue;
    const prev = seen.get(agent.spec.name);
    if (prev) {
      const clash = nameClash(prev, agent);
      warnings.push(clash.diagnostic);
      skipped.push({ file, reason: clash.reason, error: clash.diagnostic.severity === "error" });
      continue;
    }
    seen.set(agent.spec.name, agent);
    agents.push(agent);
  }
  if (agents.length) importPermissions(src, roots, agents, warnings);
  const servers: Record<string, McpServer> = {};
  for (const [name, raw] of registry) {
    const server = fromClaudeServer(name, raw, join(src.root, mcpRel), warnings);
    if (server) servers[name] = server;
  }
  return { agents, warnings, skipped, ...(registry.size ? { servers: { file: join(src.root, mcpRel), servers } } : {}) };
}

function parseAgentFile(
  text: string,
  file: string,
  /** Relative knowledge paths in the body are relative to this folder (the project root). */
  root: string,
  registry: Map<string, unknown>,
  mcpFile: string,
  warnings: Diagnostic[],
  skipped: SkippedFile[],
): ImportedAgent | undefined {
  const skip = (d: Diagnostic, reason: string): undefined => {
    warnings.push(d);
    skipped.push({ file, reason, error: d.severity === "error" });
    return undefined;
  };
  const { frontmatter, fmLine, body } = splitFrontmatter(text);
  if (frontmatter === undefined) {
    return skip(
      {
        severity: "warning",
        code: "not-an-agent",
        message: "has no YAML frontmatter, so it is not a sub-agent (Claude Code skips such files, and so does the import)",
        file,
        line: 1,
        col: 1,
        hint: "start the file with ---, name: and description:",
      },
      "no frontmatter (not an agent file)",
    );
  }
  const parsed = readFrontmatter(frontmatter, file, fmLine, FRONTMATTER_KEYS, "Claude Code");
  if (!parsed.value) {
    const first = parsed.diagnostics[0]!;
    return skip({ ...first, severity: "error", message: `agent not imported: ${first.message}` }, "invalid frontmatter");
  }
  warnings.push(...parsed.diagnostics);
  const f = parsed.value;
  const at = (key: string): { line: number; col: number } => parsed.locate(key);
  for (const key of Object.keys(f)) {
    if (!Object.hasOwn(FRONTMATTER_KEYS, key))
      warnings.push({ severity: "warning", code: "unknown-field", message: `field '${key}' is not known to the import and is left out`, file, ...at(key) });
  }

  const spec: Record<string, unknown> = { name: f.name, description: f.description };
  let nativeName: string | undefined;
  if (typeof f.name === "string" && !Slug.safeParse(f.name).success) {
    const slug = librarySlug(f.name);
    if (slug) {
      nativeName = f.name;
      spec.name = slug;
      spec.displayName = f.name;
      warnings.push({
        severity: "warning",
        code: "name-mapped",
        message: `agent name '${f.name}' is not a library name; imported as '${slug}', with '${f.name}' kept as its displayName`,
        file,
        ...at("name"),
        hint: "library names are lowercase letters, digits, '-' and '_'; targets that show a display name use displayName",
      });
    }
  }
  const tools: { allow?: string[]; deny?: string[] } = {};
  if (f.tools !== undefined) tools.allow = universalTools(f.tools, file, warnings, at("tools"));
  if (f.disallowedTools !== undefined) tools.deny = universalTools(f.disallowedTools, file, warnings, at("disallowedTools"));
  if (tools.allow || tools.deny) spec.tools = tools;
  if (typeof f.model === "string" && f.model !== "inherit") spec.model = { [TARGET]: f.model };

  const mcp: Record<string, McpServer> = {};
  if (f.mcpServers !== undefined) {
    const list = Array.isArray(f.mcpServers) ? f.mcpServers : [];
    if (!Array.isArray(f.mcpServers))
      warnings.push({ severity: "warning", code: "invalid-field", message: "mcpServers must be a list; left out", file, ...at("mcpServers") });
    for (const item of list) {
      if (typeof item === "string") {
        const raw = registry.get(item);
        if (raw !== undefined) {
          const server = fromClaudeServer(item, raw, mcpFile, []);
          if (server) mcp[item] = server;
        } else
          warnings.push({
            severity: "warning",
            code: "unknown-mcp",
            message: `MCP server '${item}' is not defined in ${mcpFile}; left out`,
            file,
            ...at("mcpServers"),
          });
      } else if (item && typeof item === "object" && !Array.isArray(item)) {
        for (const [name, raw] of Object.entries(item as Record<string, unknown>)) {
          const server = fromClaudeServer(name, raw, file, warnings);
          if (server) mcp[name] = server;
        }
      }
    }
    if (Object.keys(mcp).length) spec.mcp = Object.keys(mcp);
  }

  if (f.hooks !== undefined) {
    const hooks = universalHooks(f.hooks, file, warnings);
    if (hooks) spec.hooks = hooks;
  }

  const ext: Record<string, unknown> = {};
  for (const key of EXTENSION_KEYS) {
    if (f[key] === undefined) continue;
    const r = ClaudeCodeExtension.shape[key].safeParse(f[key]);
    if (r.success) ext[key] = r.data;
    else
      warnings.push({
        severity: "warning",
        code: "invalid-field",
        message: `${key}: ${r.error.issues[0]?.message ?? "invalid value"}; left out`,
        file,
        ...at(key),
      });
  }
  if (Object.keys(ext).length) spec.extensions = { [TARGET]: ext };

  const checked = AgentSpec.safeParse(spec);
  if (!checked.success || typeof checked.data.name !== "string") {
    const issue = checked.success ? { path: ["name"], message: "is required" } : checked.error.issues[0]!;
    const key = String(issue.path[0] ?? "name");
    const field = issue.path.join(".") || "frontmatter";
    return skip(
      {
        severity: "error",
        code: "import-skipped",
        message: `agent not imported: ${field} ${issue.message}`,
        file,
        ...(f[key] !== undefined ? at(key) : { line: 1, col: 1 }),
        hint: "Claude Code needs name (lowercase letters, digits and hyphens) and description",
      },
      f[key] === undefined ? `missing ${key}` : `invalid ${key}`,
    );
  }

  // The body after renderFrontmatter's blank line; an aicfg on-demand knowledge list is taken off.
  let instructions = body.startsWith("\n") ? body.slice(1) : body.startsWith("\r\n") ? body.slice(2) : body;
  const knowledgeFiles: string[] = [];
  const cut = instructions.indexOf(`\n${ON_DEMAND_MARKER}\n`);
  if (cut !== -1) {
    for (const line of instructions.slice(cut).split("\n")) {
      const m = /^- (\S.*)$/.exec(line);
      if (m) knowledgeFiles.push(m[1]!.startsWith("/") || m[1]!.startsWith("~/") ? m[1]! : join(root, m[1]!));
    }
    instructions = instructions.slice(0, cut);
  }
  return { spec: { ...checked.data, name: checked.data.name }, instructions, mcp, knowledgeFiles, source: file, ...(nativeName ? { nativeName } : {}) };
}

function warn(warnings: Diagnostic[], file: string, message: string, hint?: string, code = "import-skipped"): void {
  warnings.push({ severity: "warning", code, message, file, ...(hint ? { hint } : {}) });
}

function universalTools(value: unknown, file: string, warnings: Diagnostic[], pos: { line: number; col: number }): string[] {
  const names = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value.map(String) : [];
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!name) continue;
    const base = name.replace(/\(.*\)$/s, "");
    const builtin = fromClaudeTool(base);
    if (base !== name && builtin) {
      warnings.push({
        severity: "warning",
        code: "tool-narrowed",
        message: `tool '${name}': the part in parentheses has no universal equivalent; imported as '${builtin}'`,
        file,
        ...pos,
      });
    }
    if (builtin) {
      out.push(builtin);
      continue;
    }
    const m = parseMcpToolName(base);
    if (m) {
      out.push(m.tool === undefined ? `@${m.server}` : `@${m.server}/${m.tool}`);
      continue;
    }
    warnings.push({
      severity: "warning",
      code: "unknown-tool",
      message: `tool '${name}' has no universal equivalent; left out`,
      file,
      ...pos,
      hint: "universal tools: read, write, shell, grep, glob, web_fetch, web_search, todo, delegate, @server",
    });
  }
  return [...new Set(out)];
}

function universalHooks(value: unknown, file: string, warnings: Diagnostic[]): Hooks | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    warn(warnings, file, "hooks must be a mapping of events; left out", undefined, "invalid-field");
    return undefined;
  }
  const out: Partial<Record<HookEvent, Hook[]>> = {};
  for (const [event, groups] of Object.entries(value as Record<string, unknown>)) {
    const ev = fromClaudeHookEvent(event);
    if (!ev) {
      warn(
        warnings,
        file,
        `hook event '${event}' has no universal equivalent; left out`,
        "universal events: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, Stop",
        "unsupported-feature",
      );
      continue;
    }
    for (const g of Array.isArray(groups) ? groups : []) {
      const group = (g ?? {}) as { matcher?: unknown; hooks?: unknown };
      for (const h of Array.isArray(group.hooks) ? group.hooks : []) {
        const handler = (h ?? {}) as { type?: unknown; command?: unknown; timeout?: unknown };
        if (handler.type !== "command" || typeof handler.command !== "string" || !handler.command) {
          warn(
            warnings,
            file,
            `a ${event} hook of type '${String(handler.type)}' has no universal equivalent (command hooks only); left out`,
            undefined,
            "unsupported-feature",
          );
          continue;
        }
        const hook: Hook = { command: handler.command };
        if (typeof group.matcher === "string" && group.matcher && (ev === "beforeTool" || ev === "afterTool")) hook.matcher = universalMatcher(group.matcher);
        if (typeof handler.timeout === "number" && handler.timeout > 0) hook.timeout = Math.round(handler.timeout * 1000);
        (out[ev] ??= []).push(hook);
      }
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Reads `mcpServers` of .mcp.json / ~/.claude.json as raw entries; an absent file is an empty
 * registry. Entries are converted when an agent names them, so servers no agent uses cause no warnings.
 */
function readServers(src: FileSource, rel: string, warnings: Diagnostic[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const text = src.read(rel);
  if (text === undefined) return out;
  const file = join(src.root, rel);
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    warn(warnings, file, `is not valid JSON (${parsed.error}); its MCP servers are not imported`, undefined, "invalid-json");
    return out;
  }
  const servers = (parsed.value as { mcpServers?: unknown }).mcpServers;
  if (!servers || typeof servers !== "object" || Array.isArray(servers)) return out;
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) out.set(name, raw);
  return out;
}

const SERVER_KEYS = new Set(["type", "command", "args", "env", "url", "headers", "timeout"]);

/** One Claude Code MCP entry -> universal McpServer (stdio without `type`, as library files write it). */
function fromClaudeServer(name: string, raw: unknown, file: string, warnings: Diagnostic[]): McpServer | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    warn(warnings, file, `MCP server '${name}' is not an object; left out`, undefined, "invalid-field");
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const type = r.type === "streamable-http" ? "http" : r.type;
  if (type === "ws") {
    warn(warnings, file, `MCP server '${name}' uses WebSocket transport, which the library has no field for; left out`, undefined, "unsupported-feature");
    return undefined;
  }
  const dropped = Object.keys(r).filter((k) => !SERVER_KEYS.has(k));
  if (dropped.length)
    warn(warnings, file, `MCP server '${name}': ${dropped.join(", ")} not imported (no universal equivalent)`, undefined, "unsupported-feature");
  const s: Record<string, unknown> = {};
  if (type === "http" || type === "sse") {
    s.type = type;
    s.url = r.url;
    if (r.headers !== undefined) s.headers = r.headers;
  } else {
    s.command = r.command;
    if (r.args !== undefined) s.args = r.args;
    if (r.env !== undefined) s.env = r.env;
    if (r.url !== undefined) s.url = r.url;
  }
  if (r.timeout !== undefined) s.timeout = r.timeout;
  const checked = McpServer.safeParse(s);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    warn(warnings, file, `MCP server '${name}' is not valid: ${issue.path.join(".")} ${issue.message}; left out`, undefined, "invalid-field");
    return undefined;
  }
  return checked.data;
}
