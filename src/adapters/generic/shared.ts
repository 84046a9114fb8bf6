// Building blocks shared by the rules-style adapters (cursor, gemini-cli, windsurf, cline, agents-md and
// the declarative long-tail targets): knowledge metadata, markdown sections, MCP entry shapes, warnings
// for what a tool cannot express, frontmatter reading and install detection. Pure, except detection.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYamlText } from "yaml";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { stableStringify } from "../../library/hash.ts";
import type { ResolvedAgent, ResolvedKnowledge } from "../../library/model.ts";
import type { McpServer } from "../../library/schema.ts";
import { frontmatterFields, splitFrontmatter } from "../../library/yaml-source.ts";
import { findBinary } from "../detect-env.ts";
import { hasEnvRef, translateEnvRefs, unsupported, usedHookEvents } from "../common.ts";
import type { DetectEnv, Detection, OutputFile, RenderContext } from "../types.ts";

// ---------- knowledge ----------

export type KnowledgeMeta = {
  path: string;
  absPath: string;
  mode: "always" | "on-demand";
  /** From the knowledge frontmatter: description, else title, else the first heading, else the path. */
  description: string;
  /** File globs from the knowledge frontmatter `applyTo`. */
  globs: string[];
  body: string;
  /** Agents (sorted) that use this knowledge file. */
  agents: string[];
};

function firstHeading(body: string): string | undefined {
  const m = /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(body);
  return m?.[1];
}

function readFrontmatterFields(text: string): Record<string, unknown> {
  const fm = splitFrontmatter(text).frontmatter;
  return (fm !== undefined && frontmatterFields(fm)) || {};
}

const parsedFrontmatter = new WeakMap<RenderContext, Map<string, { raw: string; fm: Record<string, unknown> }>>();
function frontmatterSeen(ctx: RenderContext): Map<string, { raw: string; fm: Record<string, unknown> }> {
  let m = parsedFrontmatter.get(ctx);
  if (!m) parsedFrontmatter.set(ctx, (m = new Map()));
  return m;
}

/** Reads one knowledge file's body and frontmatter (description, title, applyTo). */
export function knowledgeMeta(ctx: RenderContext, k: ResolvedKnowledge, agents: string[]): KnowledgeMeta {
  const raw = new TextDecoder().decode(ctx.readBytes(k.absPath));
  // Every target of one export reads the same files: parse each frontmatter once per export (the
  // reads above still happen, so each target's cache still records what it read).
  const seen = frontmatterSeen(ctx);
  let fm = seen.get(k.absPath)?.raw === raw ? seen.get(k.absPath)!.fm : undefined;
  if (!fm) seen.set(k.absPath, { raw, fm: (fm = readFrontmatterFields(raw)) });
  const body = ctx.readKnowledge(k.absPath);
  const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);
  const applyTo = fm.applyTo;
  const globs = typeof applyTo === "string" ? [applyTo] : Array.isArray(applyTo) ? applyTo.filter((g): g is string => typeof g === "string") : [];
  return {
    path: k.path,
    absPath: k.absPath,
    mode: k.mode,
    description: str(fm.description) ?? str(fm.title) ?? firstHeading(body) ?? k.path,
    globs,
    body,
    agents,
  };
}

/** One knowledge file the agents use, before it is read: the mode it is rendered in and the agents (sorted) that use it. */
export type KnowledgeUse = { k: ResolvedKnowledge; agents: string[] };

/**
 * Every knowledge file the agents use, once, sorted by path, without reading any. A file used
 * `always` by one agent and `on-demand` by another is rendered `always` (rules in these tools are not per agent).
 */
export function groupKnowledge(agents: readonly ResolvedAgent[]): KnowledgeUse[] {
  const byPath = new Map<string, { k: ResolvedKnowledge; mode: "always" | "on-demand"; agents: Set<string> }>();
  for (const a of agents) {
    for (const k of a.knowledge) {
      const cur = byPath.get(k.path);
      if (!cur) byPath.set(k.path, { k, mode: k.mode, agents: new Set([a.name]) });
      else {
        cur.agents.add(a.name);
        if (k.mode === "always") cur.mode = "always";
      }
    }
  }
  return [...byPath.keys()].sort().map((p) => {
    const e = byPath.get(p)!;
    return { k: { ...e.k, mode: e.mode }, agents: [...e.agents].sort() };
  });
}

/** groupKnowledge, each file read (knowledgeMeta). */
export function collectKnowledge(agents: readonly ResolvedAgent[], ctx: RenderContext): KnowledgeMeta[] {
  return groupKnowledge(agents).map((u) => knowledgeMeta(ctx, u.k, u.agents));
}

/** What an output made from one knowledge file depends on besides its text: which file, its mode and the agents using it. */
export function knowledgeUseInput(u: KnowledgeUse): unknown {
  return [u.k.path, u.k.absPath, u.k.mode, u.k.layer, u.agents];
}

/** `common/policies.md` -> `common-policies`: a flat, safe file stem. */
export function knowledgeSlug(path: string): string {
  const stem = path.replace(/\.(md|mdc|markdown|txt)$/i, "");
  return (
    stem
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "knowledge"
  );
}

// ---------- markdown ----------

/** Pushes every ATX heading down `by` levels (at most h6), leaving fenced code blocks alone. */
export function demoteHeadings(markdown: string, by: number): string {
  let fence: string | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
      if (f) {
        if (!fence) fence = f[1]![0]!;
        else if (f[1]![0] === fence) fence = undefined;
        return line;
      }
      if (fence) return line;
      const h = /^(#{1,6})([ \t].*|)$/.exec(line);
      if (!h) return line;
      return "#".repeat(Math.min(6, h[1]!.length + by)) + h[2];
    })
    .join("\n");
}

function trimBlock(text: string): string {
  return text.replace(/^\s*\n/, "").replace(/\s+$/, "");
}

/** One agent as a `## Agent: <name>` block: description, then the instructions (headings demoted). */
export function agentBlock(agent: ResolvedAgent): string {
  const parts = [`## Agent: ${agent.name}`, agent.description.trim()];
  const body = trimBlock(demoteHeadings(agent.instructions, 2));
  if (body) parts.push(body);
  return parts.join("\n\n");
}

/** One knowledge file as a `## Knowledge: <path>` block. */
export function knowledgeBlock(k: KnowledgeMeta): string {
  const parts = [`## Knowledge: ${k.path}`];
  const body = trimBlock(demoteHeadings(k.body, 2));
  if (body) parts.push(body);
  return parts.join("\n\n");
}

/** Joins blocks with one blank line and a final newline. */
export function joinBlocks(blocks: readonly string[]): string {
  return blocks.filter((b) => b.trim()).join("\n\n") + "\n";
}

/** Body text with exactly one final newline. */
export function bodyText(text: string): string {
  return trimBlock(text) + "\n";
}

/**
 * Keeps the first of two outputs for one path (an agent named like a knowledge rule, e.g.
 * `knowledge-x`) and warns, so one target never asks the writer for two contents of one file.
 */
export function dropClashes(target: string, files: OutputFile[]): { files: OutputFile[]; warnings: Diagnostic[] } {
  const seen = new Set<string>();
  const out: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  for (const f of files) {
    if (seen.has(f.path)) {
      warnings.push({
        severity: "warning",
        code: "name-clash",
        message: `${target}: ${f.path} would be written twice (an agent and a knowledge file map to the same name); the second is left out`,
        hint: "rename the agent or the knowledge file",
      });
      continue;
    }
    seen.add(f.path);
    out.push(f);
  }
  return { files: out, warnings };
}

export function byName(agents: readonly ResolvedAgent[]): ResolvedAgent[] {
  return [...agents].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------- frontmatter reading (import) ----------

export type FrontmatterDoc = { data: Record<string, unknown>; body: string; error?: string };

/** Splits and parses `---` YAML frontmatter; a YAML error is returned, not thrown. */
export function readFrontmatterDoc(text: string): FrontmatterDoc {
  const split = splitFrontmatter(text);
  const body = split.body.replace(/^\r?\n/, "");
  if (split.frontmatter === undefined) return { data: {}, body };
  try {
    const v: unknown = parseYamlText(split.frontmatter);
    if (v === null || v === undefined) return { data: {}, body };
    if (typeof v !== "object" || Array.isArray(v)) return { data: {}, body, error: "the frontmatter is not a mapping" };
    return { data: v as Record<string, unknown>, body };
  } catch (e) {
    return { data: {}, body, error: (e as Error).message.split("\n")[0] ?? "invalid YAML" };
  }
}

// ---------- warnings ----------

export type FeatureSupport = {
  toolsAllow?: boolean;
  toolsDeny?: boolean;
  toolsTrusted?: boolean;
  toolSettings?: boolean;
  hooks?: boolean;
  model?: boolean;
  mcp?: boolean;
};

/** One `unsupported-feature` warning per feature the agent uses and the target cannot express. */
export function unexpressed(target: string, agent: ResolvedAgent, s: FeatureSupport, hints: Partial<Record<keyof FeatureSupport, string>> = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (key: keyof FeatureSupport, feature: string): void => {
    out.push(unsupported(target, agent, feature, hints[key]));
  };
  if (!s.model && agent.model !== undefined) add("model", "a model");
  if (!s.toolsAllow && agent.tools.allow?.length) add("toolsAllow", "tools.allow");
  if (!s.toolsDeny && agent.tools.deny?.length) add("toolsDeny", "tools.deny");
  if (!s.toolsTrusted && agent.tools.trusted?.length) add("toolsTrusted", "tools.trusted");
  if (!s.toolSettings && Object.keys(agent.toolSettings).length) add("toolSettings", "toolSettings");
  const hooks = usedHookEvents(agent);
  if (!s.hooks && hooks.length) add("hooks", `hooks (${hooks.join(", ")})`);
  const servers = Object.keys(agent.mcpServers).sort();
  if (!s.mcp && servers.length) add("mcp", `MCP servers (${servers.join(", ")})`);
  return out;
}

// ---------- MCP ----------

type McpEnvSyntax = "braces" | "braces-default" | "dollar" | "env-colon" | "literal" | "curly-env";
type McpExtra = "cwd" | "timeout" | "disabled" | "enabled" | "autoApprove" | "alwaysAllow" | "includeTools" | "excludeTools";

export type McpShapeSpec = {
  /** Key of the remote URL for streamable HTTP servers. */
  urlKey: "url" | "serverUrl" | "httpUrl";
  /** Key of the URL for SSE servers (defaults to urlKey). */
  sseUrlKey?: "url" | "serverUrl" | "httpUrl";
  /** Values written to a `type` key per transport; absent transports get no `type`. */
  typeValues?: { stdio?: string; http?: string; sse?: string };
  /** `command: [cmd, ...args]` instead of `command` + `args` (opencode). */
  commandArray?: boolean;
  envKey?: "env" | "environment";
  envSyntax: McpEnvSyntax;
  /** Remote servers can be expressed at all. */
  remote: boolean;
  headers: boolean;
  extras: readonly McpExtra[];
};

function translateValue(value: string, syntax: McpEnvSyntax): string | undefined {
  if (syntax === "curly-env") return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g, (_m, n: string) => `{env:${n}}`);
  return translateEnvRefs(value, syntax);
}

/**
 * Renders one universal server in a tool's shape. `lost` names the fields that could not be
 * expressed (left out); `literal` the places whose `${VAR}` reference is written as-is.
 */
function renderMcpServer(server: McpServer, shape: McpShapeSpec): { value: Record<string, unknown> | undefined; lost: string[]; literal: string[] } {
  const lost: string[] = [];
  const literal: string[] = [];
  const remote = server.type === "http" || server.type === "sse" || (!!server.url && !server.command);
  const tr = (v: string, where: string): string => {
    if (shape.envSyntax !== "braces-default" && shape.envSyntax !== "literal" && /\$\{[A-Za-z_][A-Za-z0-9_]*:-/.test(v))
      lost.push(`the \${VAR:-default} fallback in ${where}`);
    const t = translateValue(v, shape.envSyntax);
    if (t === undefined) {
      literal.push(where);
      return v;
    }
    return t;
  };
  const trRec = (rec: Record<string, string> | undefined, where: string): Record<string, string> | undefined => {
    if (!rec || !Object.keys(rec).length) return undefined;
    const out: Record<string, string> = {};
    for (const k of Object.keys(rec).sort()) out[k] = tr(rec[k]!, `${where}.${k}`);
    return out;
  };
  const v: Record<string, unknown> = {};
  if (remote) {
    if (!shape.remote) return { value: undefined, lost: ["a remote (http/sse) transport"], literal };
    const kind = server.type === "sse" ? "sse" : "http";
    const t = shape.typeValues?.[kind];
    if (t) v.type = t;
    v[kind === "sse" ? (shape.sseUrlKey ?? shape.urlKey) : shape.urlKey] = tr(server.url!, "url");
    const headers = trRec(server.headers, "headers");
    if (headers) {
      if (shape.headers) v.headers = headers;
      else lost.push("headers");
    }
  } else {
    const t = shape.typeValues?.stdio;
    if (t) v.type = t;
    const command = tr(server.command!, "command");
    const args = (server.args ?? []).map((a, i) => tr(a, `args[${i}]`));
    if (shape.commandArray) v.command = [command, ...args];
    else {
      v.command = command;
      if (args.length) v.args = args;
    }
    const env = trRec(server.env, "env");
    if (env) v[shape.envKey ?? "env"] = env;
    if (server.cwd !== undefined) {
      if (shape.extras.includes("cwd")) v.cwd = server.cwd;
      else lost.push("cwd");
    }
  }
  const has = (e: McpExtra): boolean => shape.extras.includes(e);
  if (server.timeout !== undefined) {
    if (has("timeout")) v.timeout = server.timeout;
    else lost.push("timeout");
  }
  if (server.disabled !== undefined) {
    if (has("disabled")) v.disabled = server.disabled;
    else if (has("enabled")) v.enabled = !server.disabled;
    else if (server.disabled) lost.push("disabled");
  }
  if (server.autoApprove?.length) {
    if (has("autoApprove")) v.autoApprove = [...server.autoApprove];
    else if (has("alwaysAllow")) v.alwaysAllow = [...server.autoApprove];
    else lost.push("autoApprove");
  }
  if (server.includeTools?.length) {
    if (has("includeTools")) v.includeTools = [...server.includeTools];
    else lost.push("includeTools");
  }
  if (server.excludeTools?.length) {
    if (has("excludeTools")) v.excludeTools = [...server.excludeTools];
    else lost.push("excludeTools");
  }
  if (server.oauth) lost.push("oauth");
  return { value: v, lost, literal };
}

/**
 * Renders the collected servers as json-keys entries under `key`, with one warning per server that
 * loses a field or keeps a `${VAR}` reference literally. `decorate` adds tool-only fields.
 */
export function renderServerEntries(
  target: string,
  agents: readonly ResolvedAgent[],
  shape: McpShapeSpec,
  key: readonly string[],
  decorate?: (name: string, value: Record<string, unknown>) => void,
): { entries: { key: string[]; value: unknown }[]; secret: boolean; warnings: Diagnostic[] } {
  const collected = collectServers(target, agents);
  const warnings = [...collected.warnings];
  const byAgentName = new Map(agents.map((a) => [a.name, a]));
  const entries: { key: string[]; value: unknown }[] = [];
  const written: McpServer[] = [];
  for (const c of collected.servers) {
    const r = renderMcpServer(c.server, shape);
    const owner = byAgentName.get(c.agent)!;
    if (r.lost.length)
      warnings.push(
        unsupported(
          target,
          owner,
          `${r.lost.join(" and ")} (MCP server '${c.name}')`,
          r.value ? "the server is written without it" : "the whole server is left out",
        ),
      );
    if (r.literal.length) {
      warnings.push({
        severity: "warning",
        code: "unsupported-feature",
        message: `${target}: agent '${owner.name}': MCP server '${c.name}' refers to environment variables in ${r.literal.join(", ")}, which ${target} does not expand; the text is written as-is`,
        file: owner.sourceFile,
        hint: "the tool passes the literal ${VAR} text: put the value in the tool's own settings instead",
      });
    }
    if (!r.value) continue;
    decorate?.(c.name, r.value);
    entries.push({ key: [...key, c.name], value: r.value });
    written.push(c.server);
  }
  return { entries, secret: holdsLiteralSecrets(written), warnings };
}

type CollectedServer = { name: string; server: McpServer; agent: string };

/**
 * The MCP servers of every agent, once per name (agents in name order). Two agents defining one
 * name differently: the first wins and a warning says so.
 */
function collectServers(target: string, agents: readonly ResolvedAgent[]): { servers: CollectedServer[]; warnings: Diagnostic[] } {
  const seen = new Map<string, CollectedServer>();
  const warnings: Diagnostic[] = [];
  for (const a of byName(agents)) {
    for (const name of Object.keys(a.mcpServers).sort()) {
      const s = a.mcpServers[name]!;
      const prev = seen.get(name);
      if (!prev) seen.set(name, { name, server: s, agent: a.name });
      else if (stableStringify(prev.server) !== stableStringify(s)) {
        warnings.push({
          severity: "warning",
          code: "mcp-conflict",
          message: `${target}: agents '${prev.agent}' and '${a.name}' define MCP server '${name}' differently; ${target} has one server list, so the definition of '${prev.agent}' is used`,
          file: a.sourceFile,
          hint: "give one of the servers another name",
        });
      }
    }
  }
  return { servers: [...seen.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)), warnings };
}

/** True when an env value or header of any server is a literal (no `${VAR}` reference): the file then holds a secret. */
function holdsLiteralSecrets(servers: readonly McpServer[]): boolean {
  return servers.some((s) => [...Object.values(s.env ?? {}), ...Object.values(s.headers ?? {})].some((v) => v.length > 0 && !hasEnvRef(v)));
}

/** Reverses a tool's env syntax back to the universal `${VAR}` (import). */
function universalEnvRefs(value: string, syntax: McpEnvSyntax): string {
  switch (syntax) {
    case "env-colon":
      return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, "${$1}");
    case "curly-env":
      return value.replace(/(^|[^$])\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, "$1${$2}");
    case "dollar":
      return value.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, "${$1}");
    default:
      return value;
  }
}

/** Reads a tool's MCP entry back into the universal shape (import); undefined when it is not a server. */
export function parseMcpServer(raw: unknown, shape: McpShapeSpec): McpServer | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const u = (v: string): string => universalEnvRefs(v, shape.envSyntax);
  const strRec = (v: unknown): Record<string, string> | undefined => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = u(x);
    return Object.keys(out).length ? out : undefined;
  };
  const s: McpServer = {};
  const urlKeys = [shape.urlKey, shape.sseUrlKey ?? shape.urlKey, "url", "serverUrl", "httpUrl"];
  const urlKey = urlKeys.find((k) => typeof r[k] === "string");
  if (urlKey) {
    const tv = shape.typeValues;
    const sseByType = r.type === "sse" || (tv?.sse !== undefined && tv.sse !== tv.http && r.type === tv.sse);
    const sseByKey = shape.sseUrlKey !== undefined && shape.sseUrlKey !== shape.urlKey && urlKey === shape.sseUrlKey;
    s.type = sseByType || sseByKey ? "sse" : "http";
    s.url = u(r[urlKey] as string);
    const h = strRec(r.headers);
    if (h) s.headers = h;
  } else {
    let command: string | undefined;
    let args: string[] | undefined;
    if (Array.isArray(r.command)) {
      const parts = r.command.filter((x): x is string => typeof x === "string");
      command = parts[0];
      args = parts.slice(1);
    } else if (typeof r.command === "string") {
      command = r.command;
      if (Array.isArray(r.args)) args = r.args.filter((x): x is string => typeof x === "string");
    }
    if (!command) return undefined;
    s.command = u(command);
    if (args?.length) s.args = args.map(u);
    const env = strRec(r[shape.envKey ?? "env"]);
    if (env) s.env = env;
    if (typeof r.cwd === "string") s.cwd = r.cwd;
  }
  if (typeof r.timeout === "number" && Number.isInteger(r.timeout) && r.timeout > 0) s.timeout = r.timeout;
  if (typeof r.disabled === "boolean") s.disabled = r.disabled;
  else if (typeof r.enabled === "boolean") s.disabled = !r.enabled;
  const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined);
  const approve = list(r.autoApprove) ?? list(r.alwaysAllow);
  if (approve?.length) s.autoApprove = approve;
  const inc = list(r.includeTools);
  if (inc?.length) s.includeTools = inc;
  const exc = list(r.excludeTools);
  if (exc?.length) s.excludeTools = exc;
  return s;
}

// ---------- detection ----------

export type DetectSpec = {
  binaries: readonly string[];
  /** Absolute config folders/files; any that exists means installed. */
  configPaths: readonly string[];
  /** VS Code extension ids, found as `<id>-<version>` folders under the editors' extension folders. */
  vscodeExtensions?: readonly string[];
  exportPaths: { project: string[]; user: string[] };
  notes?: string[];
  /** Shown when nothing was found. */
  install: string;
};

const EXTENSION_DIRS = [".vscode/extensions", ".vscode-insiders/extensions", ".vscode-server/extensions", ".vscode-oss/extensions"];

/** Finds `<id>-<version>` extension folders; returns the folder and its version. */
function findVscodeExtension(homeDir: string, id: string): { path: string; version: string } | undefined {
  const found: { path: string; version: string }[] = [];
  for (const rel of EXTENSION_DIRS) {
    const dir = join(homeDir, rel);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (n.toLowerCase().startsWith(id.toLowerCase() + "-")) found.push({ path: join(dir, n), version: n.slice(id.length + 1) });
    }
  }
  return found[found.length - 1];
}

/** Binary on PATH (with `--version`), then config folders, then VS Code extensions. */
export async function detectTool(env: DetectEnv, spec: DetectSpec): Promise<Detection> {
  const notes = [...(spec.notes ?? [])];
  let binary: Detection["binary"];
  const found = await findBinary(env, spec.binaries);
  if (found) binary = found.version ? { name: found.name, path: found.path, version: found.version } : { name: found.name, path: found.path };
  const configPaths = spec.configPaths.map((p) => ({ path: p, exists: env.exists(p) }));
  let extension = false;
  for (const id of spec.vscodeExtensions ?? []) {
    const ext = findVscodeExtension(env.homeDir, id);
    if (ext) {
      extension = true;
      configPaths.push({ path: ext.path, exists: true });
      notes.push(`VS Code extension ${id} ${ext.version} is installed`);
    }
  }
  const installed = !!binary || extension || configPaths.some((c) => c.exists);
  const d: Detection = { installed, configPaths, exportPaths: spec.exportPaths, notes, nextSteps: installed ? [] : [spec.install] };
  if (binary) d.binary = binary;
  return d;
}
