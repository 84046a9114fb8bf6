// Turns the layered sources of an agent into the ResolvedAgent adapters render: layers merged
// field by field (with provenance), defaults applied, knowledge globs and MCP names resolved.
import picomatch from "picomatch";
import { readFileSync } from "node:fs";
import type { Diagnostic } from "./diagnostics.ts";
import type { AgentSource, Library, ResolvedAgent, ResolvedKnowledge } from "./model.ts";
import { splitSecretRefs, type AgentSpec, type KnowledgeMode, type McpSecretFields, type McpServer, type McpServerSource } from "./schema.ts";
import { parseYaml, splitFrontmatter } from "./yaml-source.ts";

const MERGED_FIELDS = ["displayName", "description", "model", "knowledge", "mcp", "tools", "toolSettings", "hooks", "targets", "tags", "extensions"] as const;

export type ResolveResult = { agent: ResolvedAgent | undefined; diagnostics: Diagnostic[] };

const GLOB_CHARS = /[*?[\]{}!]/;

/** Resolves every agent; problems of one agent never stop the others. */
export function resolveAll(lib: Library): { agents: ResolvedAgent[]; diagnostics: Diagnostic[] } {
  const agents: ResolvedAgent[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of [...lib.agents.keys()].sort()) {
    const r = resolveAgent(lib, name);
    diagnostics.push(...r.diagnostics);
    if (r.agent) agents.push(r.agent);
  }
  return { agents, diagnostics };
}

export function resolveAgent(lib: Library, name: string): ResolveResult {
  const stack = lib.agents.get(name);
  const diagnostics: Diagnostic[] = [];
  if (!stack?.length)
    return {
      agent: undefined,
      diagnostics: [{ severity: "error", code: "agent-not-found", message: `no agent named '${name}'`, hint: "list agents with 'aicfg list'" }],
    };
  const top = stack[stack.length - 1]!;
  const provenance: Record<string, string> = {};
  const spec: Partial<AgentSpec> = {};
  let instructions = "";
  for (const src of stack) {
    for (const field of MERGED_FIELDS) {
      const v = src.spec[field];
      if (v !== undefined) {
        (spec as Record<string, unknown>)[field] = v;
        provenance[field] = src.layer;
      }
    }
    if (src.body.trim()) {
      instructions = src.body;
      provenance.instructions = src.layer;
    }
  }
  provenance.name = top.layer;
  const defaults = lib.manifest.defaults ?? {};
  if (spec.model === undefined && defaults.model !== undefined) {
    spec.model = defaults.model;
    provenance.model = "defaults";
  }
  if (spec.tools === undefined && defaults.tools !== undefined) {
    spec.tools = defaults.tools;
    provenance.tools = "defaults";
  }
  const targets = spec.targets ?? lib.manifest.targets ?? [];
  if (!spec.targets) provenance.targets = lib.manifest.targets ? "manifest" : "none";

  const knowledgeRefs = [...(defaults.knowledge ?? []), ...(spec.knowledge ?? [])];
  const knowledge = resolveKnowledge(lib, top, knowledgeRefs, diagnostics);

  const mcpServers: Record<string, McpServer> = {};
  const secretRefs: Record<string, McpSecretFields> = {};
  for (const ref of [...(defaults.mcp ?? []), ...(spec.mcp ?? [])]) {
    if (typeof ref === "string") {
      const entry = lib.mcp.get(ref);
      if (!entry) {
        diagnostics.push({
          severity: "error",
          code: "unknown-mcp",
          message: `agent '${name}' refers to MCP server '${ref}', which is not in the registry`,
          file: top.file,
          ...locateInFrontmatter(top, ["mcp"]),
          hint: lib.mcp.size ? `known servers: ${[...lib.mcp.keys()].sort().join(", ")}` : "add it as mcp/" + ref + ".yaml",
        });
        continue;
      }
      mcpServers[ref] = entry.server;
      if (entry.secrets) secretRefs[ref] = entry.secrets;
      else delete secretRefs[ref];
    } else {
      const { name: serverName, ...source } = ref;
      const { server, secrets } = splitSecretRefs(source as McpServerSource);
      mcpServers[serverName] = server;
      if (Object.keys(secrets).length) secretRefs[serverName] = secrets;
      else delete secretRefs[serverName];
    }
  }
  for (const list of [spec.tools?.allow, spec.tools?.deny, spec.tools?.trusted]) {
    for (const ref of list ?? []) {
      if (!ref.startsWith("@")) continue;
      const server = ref.slice(1).split("/")[0]!;
      if (!(server in mcpServers)) {
        diagnostics.push({
          severity: "warning",
          code: "tool-unknown-server",
          message: `tool '${ref}' names MCP server '${server}', which agent '${name}' does not use`,
          file: top.file,
          ...locateInFrontmatter(top, ["tools"]),
          hint: `add '${server}' to the agent's mcp list`,
        });
      }
    }
  }

  const agent: ResolvedAgent = {
    name,
    description: spec.description ?? "",
    instructions,
    knowledge,
    mcpServers,
    tools: spec.tools ?? {},
    toolSettings: spec.toolSettings ?? {},
    hooks: spec.hooks ?? {},
    targets,
    tags: spec.tags ?? [],
    extensions: spec.extensions ?? {},
    sourceFile: top.file,
    provenance,
  };
  if (spec.model !== undefined) agent.model = spec.model;
  if (spec.displayName !== undefined) agent.displayName = spec.displayName;
  if (Object.keys(secretRefs).length) agent.secretRefs = secretRefs;
  return { agent, diagnostics };
}

function resolveKnowledge(lib: Library, agent: AgentSource, refs: NonNullable<AgentSpec["knowledge"]>, diagnostics: Diagnostic[]): ResolvedKnowledge[] {
  const out = new Map<string, ResolvedKnowledge>();
  const all = sortedKnowledgePaths(lib);
  refs.forEach((ref, i) => {
    const pattern = typeof ref === "string" ? ref : ref.path;
    const mode: KnowledgeMode = typeof ref === "string" ? "always" : (ref.mode ?? "always");
    if (pattern.split("/").includes("..") || pattern.startsWith("/")) {
      diagnostics.push({
        severity: "error",
        code: "path-traversal",
        message: `knowledge pattern '${pattern}' must stay inside knowledge/`,
        file: agent.file,
        ...locateInFrontmatter(agent, ["knowledge", i]),
        hint: "use a path relative to the library's knowledge/ folder, without '..'",
      });
      return;
    }
    const isGlob = GLOB_CHARS.test(pattern);
    let matched: string[];
    if (isGlob) {
      // Only paths below the pattern's static base can match: test those alone.
      const m = picomatch(pattern, { dot: false });
      const base = picomatch.scan(pattern).base;
      matched = withPrefix(all, base ? base + "/" : "").filter((p) => m(p));
    } else {
      const direct = lib.knowledge.has(pattern) ? [pattern] : [];
      // A folder name means everything below it.
      matched = direct.length ? direct : withPrefix(all, pattern.replace(/\/$/, "") + "/");
    }
    if (!matched.length) {
      diagnostics.push({
        severity: isGlob ? "warning" : "error",
        code: isGlob ? "knowledge-no-match" : "knowledge-missing",
        message: isGlob
          ? `knowledge glob '${pattern}' of agent '${agent.name}' matches no file`
          : `knowledge file '${pattern}' of agent '${agent.name}' does not exist`,
        file: agent.file,
        ...locateInFrontmatter(agent, ["knowledge", i]),
        hint: "paths are relative to the library's knowledge/ folder (any layer)",
      });
    }
    for (const p of matched) {
      const e = lib.knowledge.get(p)!;
      out.set(p, { path: p, absPath: e.absPath, mode, size: e.size, mtimeMs: e.mtimeMs, layer: e.layer });
    }
  });
  return [...out.values()];
}

const sortedCache = new WeakMap<Library, { size: number; paths: string[] }>();

function sortedKnowledgePaths(lib: Library): string[] {
  const hit = sortedCache.get(lib);
  if (hit && hit.size === lib.knowledge.size) return hit.paths;
  const paths = [...lib.knowledge.keys()].sort();
  sortedCache.set(lib, { size: lib.knowledge.size, paths });
  return paths;
}

/** The slice of a sorted array whose entries start with `prefix` (binary search). */
function withPrefix(sorted: readonly string[], prefix: string): string[] {
  if (!prefix) return sorted as string[];
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < sorted.length && sorted[end]!.startsWith(prefix)) end++;
  return sorted.slice(lo, end);
}

const fmCache = new Map<string, ReturnType<typeof parseYaml> | undefined>();

/** Finds the position of a frontmatter field of an agent file, for diagnostics. */
function locateInFrontmatter(agent: AgentSource, path: (string | number)[]): { line?: number; col?: number } {
  let parsed = fmCache.get(agent.file + ":" + agent.mtimeMs);
  if (parsed === undefined) {
    try {
      const { frontmatter, fmLine } = splitFrontmatter(readFileSync(agent.file, "utf8"));
      parsed = frontmatter === undefined ? undefined : parseYaml(frontmatter, agent.file, fmLine);
    } catch {
      parsed = undefined;
    }
    fmCache.set(agent.file + ":" + agent.mtimeMs, parsed);
  }
  return parsed ? parsed.locate(path) : {};
}

/** Reads a knowledge file's body (frontmatter removed). */
export function readKnowledgeBody(absPath: string): string {
  const text = readFileSync(absPath, "utf8");
  return splitFrontmatter(text).body;
}
