// Reads GitHub Copilot custom agents (`.github/agents/*.agent.md`, user `~/.copilot/agents/`) back
// into library agents, with their `mcp-servers` and, for servers only named in `tools`, the entry
// of `.vscode/mcp.json` (project) or `~/.copilot/mcp-config.json` (user).
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { AgentSpec, McpName, McpServer, Slug } from "../../library/schema.ts";
import { splitFrontmatter } from "../../library/yaml-source.ts";
import { readFrontmatter, type FrontmatterKeys } from "../import/frontmatter.ts";
import { parseJsonText } from "../shared-files.ts";
import type { FileSource, ImportedAgent, ParseResult, Roots } from "../types.ts";
import { universalTools } from "./tools.ts";

const ENV_COLON = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function stringMap(v: unknown, fromVscode: boolean, where: string, file: string, warnings: Diagnostic[]): Record<string, string> | undefined {
  const rec = asRecord(v);
  if (!rec) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(rec)) {
    if (typeof x !== "string") continue;
    if (fromVscode && x.includes("${input:")) {
      warnings.push({
        severity: "warning",
        code: "import-lossy",
        message: `copilot: ${where}.${k} uses a VS Code input (\${input:...}); dropped`,
        file,
        hint: "set it as ${VAR} in the library's MCP server",
      });
      continue;
    }
    out[k] = fromVscode ? x.replace(ENV_COLON, (_m, name: string) => `\${${name}}`) : x;
  }
  return out;
}

/** One Copilot server entry (agent `mcp-servers`, VS Code `servers`, CLI `mcpServers`) to a universal server. */
function toUniversal(name: string, raw: unknown, fromVscode: boolean, file: string, warnings: Diagnostic[]): McpServer | undefined {
  const t = asRecord(raw);
  const warn = (m: string): void => void warnings.push({ severity: "warning", code: "import-lossy", message: `copilot: MCP server '${name}': ${m}`, file });
  if (!t || !McpName.safeParse(name).success) {
    warn("not a usable server entry; skipped");
    return undefined;
  }
  const s: Record<string, unknown> = {};
  if (typeof t.url === "string") {
    s.type = t.type === "sse" ? "sse" : "http";
    s.url = t.url;
    const headers = stringMap(t.headers, fromVscode, `${name}.headers`, file, warnings);
    if (headers && Object.keys(headers).length) s.headers = headers;
  } else if (typeof t.command === "string") {
    s.command = t.command;
    if (Array.isArray(t.args) && t.args.length) s.args = t.args.filter((a): a is string => typeof a === "string");
    const env = stringMap(t.env, fromVscode, `${name}.env`, file, warnings);
    if (env && Object.keys(env).length) s.env = env;
  } else {
    warn("has neither command nor url; skipped");
    return undefined;
  }
  if (Array.isArray(t.tools)) {
    const tools = t.tools.filter((x): x is string => typeof x === "string");
    if (tools.length && !tools.includes("*")) s.includeTools = tools;
  }
  const r = McpServer.safeParse(s);
  if (!r.success) {
    warn(`not a valid server (${r.error.issues[0]?.message ?? "invalid"}); skipped`);
    return undefined;
  }
  return r.data;
}

const KNOWLEDGE_SECTION =
  /\n## Knowledge\n\n((?:- \[[^\]\n]+\]\(\.\.\/instructions\/[^)\s]+\.instructions\.md\) \((?:always applied|read it when relevant)\)\n)+)$/;

/** Copilot agent frontmatter keys (VS Code custom agents); scalars may be read line-wise when strict YAML fails. */
const FRONTMATTER_KEYS: FrontmatterKeys = {
  name: "string",
  description: "string",
  model: "string",
  target: "string",
  "argument-hint": "string",
  tools: "structured",
  "mcp-servers": "structured",
  handoffs: "structured",
};

export function parseCopilot(src: FileSource, roots: Roots): ParseResult {
  const warnings: Diagnostic[] = [];
  const project = roots.scope === "project";
  const agentsRel = project ? ".github/agents" : ".copilot/agents";
  const instructionsRel = project ? ".github/instructions" : ".copilot/instructions";
  const mcpRel = project ? ".vscode/mcp.json" : ".copilot/mcp-config.json";
  const mcpKey = project ? "servers" : "mcpServers";

  let sharedServers: Record<string, unknown> = {};
  const mcpText = src.read(mcpRel);
  if (mcpText !== undefined) {
    const r = parseJsonText(mcpText);
    if (!r.ok)
      warnings.push({
        severity: "error",
        code: "json-syntax",
        message: `copilot: ${r.error}`,
        file: join(src.root, mcpRel),
        hint: "fix the JSON; its servers were not imported",
      });
    else sharedServers = asRecord((r.value as Record<string, unknown>)[mcpKey]) ?? {};
  }

  const agents: ImportedAgent[] = [];
  const files = src
    .list(agentsRel)
    .filter((f) => f.endsWith(".md"))
    .sort();
  for (const rel of files) {
    const file = join(src.root, rel);
    const text = src.read(rel);
    if (text === undefined) continue;
    const { frontmatter, body, fmLine } = splitFrontmatter(text);
    const parsed = frontmatter === undefined ? { value: {}, diagnostics: [] } : readFrontmatter(frontmatter, file, fmLine, FRONTMATTER_KEYS, "Copilot");
    if (!parsed.value) {
      warnings.push(...parsed.diagnostics);
      continue;
    }
    warnings.push(...parsed.diagnostics.filter((d) => d.severity !== "error"));
    const fm = asRecord(parsed.value) ?? {};
    const base = rel.slice(rel.lastIndexOf("/") + 1).replace(/\.agent\.md$|\.md$/, "");
    const name = typeof fm.name === "string" ? fm.name : base;
    if (!Slug.safeParse(name).success) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: `copilot: agent name ${JSON.stringify(name)} is not a library slug; agent skipped`,
        file,
        line: fmLine + 1,
        col: 1,
        hint: "rename it to lowercase letters, digits, '-' or '_'",
      });
      continue;
    }
    if (typeof fm.description !== "string" || !fm.description.trim()) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: "copilot: description is missing; agent skipped",
        file,
        line: fmLine + 1,
        col: 1,
        hint: "Copilot requires a description in an agent file",
      });
      continue;
    }
    const spec: Record<string, unknown> = { name, description: fm.description };
    const model = typeof fm.model === "string" ? fm.model : Array.isArray(fm.model) && typeof fm.model[0] === "string" ? fm.model[0] : undefined;
    if (model) spec.model = model;
    const toolList = Array.isArray(fm.tools)
      ? fm.tools.filter((x): x is string => typeof x === "string")
      : typeof fm.tools === "string"
        ? fm.tools.split(",")
        : undefined;
    const tools = toolList ? universalTools(toolList, file, warnings) : undefined;
    if (tools) spec.tools = { allow: tools };

    const mcp: Record<string, McpServer> = {};
    for (const [n, raw] of Object.entries(asRecord(fm["mcp-servers"]) ?? {})) {
      const s = toUniversal(n, raw, false, file, warnings);
      if (s) mcp[n] = s;
    }
    for (const t of tools ?? []) {
      if (!t.startsWith("@")) continue;
      const server = t.slice(1).split("/")[0]!;
      if (mcp[server] || !(server in sharedServers)) continue;
      const s = toUniversal(server, sharedServers[server], project, join(src.root, mcpRel), warnings);
      if (s) mcp[server] = s;
    }
    if (Object.keys(mcp).length) spec.mcp = Object.keys(mcp).sort();

    const dropped = Object.keys(fm)
      .filter((k) => !["name", "description", "tools", "model", "mcp-servers"].includes(k))
      .sort();
    if (dropped.length)
      warnings.push({
        severity: "warning",
        code: "import-lossy",
        message: `copilot: keys ${dropped.join(", ")} have no place in the library model; dropped`,
        file,
      });

    let instructions = body.replace(/^\r?\n/, "");
    const knowledgeFiles: string[] = [];
    const k = KNOWLEDGE_SECTION.exec(instructions);
    if (k) {
      instructions = instructions.slice(0, k.index);
      for (const m of k[1]!.matchAll(/\(\.\.\/instructions\/([^)\s]+)\)/g)) knowledgeFiles.push(join(src.root, instructionsRel, m[1]!));
    }
    const checked = AgentSpec.safeParse(spec);
    if (!checked.success) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: `copilot: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}; agent skipped`,
        file,
      });
      continue;
    }
    agents.push({ spec: { ...checked.data, name }, instructions, mcp, knowledgeFiles, source: file });
  }
  return { agents, warnings };
}
