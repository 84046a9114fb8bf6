// Gemini CLI: each agent becomes a subagent (.gemini/agents/<agent>.md with Gemini tool names),
// always-on knowledge a marked section of GEMINI.md, and MCP servers keys of mcpServers in
// .gemini/settings.json (user scope: the same under ~/.gemini). Reads subagents back for import.
import { join } from "node:path";
import { z } from "zod";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import { Slug, type BuiltinTool, type McpServer } from "../../library/schema.ts";
import { isBuiltin, parseMcpRef, renderFrontmatter, unsupported } from "../common.ts";
import { parseJsonText } from "../shared-files.ts";
import type { Adapter, FileSource, ImportedAgent, OutputFile, ParseResult, RenderContext, RenderResult, Roots } from "../types.ts";
import { ALL_ENV_REFS } from "../secrets.ts";
import {
  byName,
  detectTool,
  groupKnowledge,
  joinBlocks,
  knowledgeBlock,
  knowledgeMeta,
  knowledgeUseInput,
  parseMcpServer,
  readFrontmatterDoc,
  renderServerEntries,
  unexpressed,
  type McpShapeSpec,
} from "../generic/shared.ts";
import { withLargeContext } from "../fallback.ts";
import { addOutput, agentInput } from "../memo.ts";

const ID = "gemini-cli";

/** Universal tool -> Gemini CLI built-in tool names (packages/core/src/tools/tool-names.ts). */
const GEMINI_TOOLS: Partial<Record<BuiltinTool, readonly string[]>> = {
  read: ["read_file", "read_many_files", "list_directory"],
  write: ["write_file", "replace"],
  shell: ["run_shell_command"],
  grep: ["grep_search"],
  glob: ["glob"],
  web_fetch: ["web_fetch"],
  web_search: ["google_web_search"],
  todo: ["write_todos"],
};

const REVERSE: Record<string, BuiltinTool> = {};
for (const [u, names] of Object.entries(GEMINI_TOOLS)) for (const n of names!) REVERSE[n] = u as BuiltinTool;
REVERSE.search_file_content = "grep";

const GEMINI_MCP_SHAPE: McpShapeSpec = {
  urlKey: "httpUrl",
  sseUrlKey: "url",
  envSyntax: "braces",
  remote: true,
  headers: true,
  extras: ["cwd", "timeout", "includeTools", "excludeTools"],
};

const GeminiExtension = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  max_turns: z.number().int().positive().optional(),
  timeout_mins: z.number().int().positive().optional(),
});
type GeminiExtension = z.infer<typeof GeminiExtension>;

function rootOf(r: Roots): string {
  return r.scope === "project" ? r.projectRoot : r.homeDir;
}

/** Maps a universal tool list to Gemini names; `lost` collects what has no Gemini counterpart. */
export function geminiTools(refs: readonly string[], lost: string[]): string[] {
  const out: string[] = [];
  const add = (n: string): void => {
    if (!out.includes(n)) out.push(n);
  };
  for (const ref of refs) {
    if (ref === "*") add("*");
    else if (isBuiltin(ref)) {
      const names = GEMINI_TOOLS[ref];
      if (names) names.forEach(add);
      else lost.push(ref);
    } else {
      const m = parseMcpRef(ref);
      if (m) add(m.tool === undefined ? `mcp_${m.server}_*` : `mcp_${m.server}_${m.tool}`);
    }
  }
  return out;
}

/** Gemini names back to universal references (import); unknown names are collected. */
export function universalTools(names: readonly string[], servers: readonly string[], unknown: string[]): string[] {
  const out: string[] = [];
  const add = (r: string): void => {
    if (!out.includes(r)) out.push(r);
  };
  for (const n of names) {
    if (n === "*") add("*");
    else if (REVERSE[n]) add(REVERSE[n]);
    else if (n.startsWith("mcp_")) {
      const rest = n.slice(4);
      // Server names may contain '_': take the longest known server that prefixes the rest.
      const server = [...servers].sort((a, b) => b.length - a.length).find((s) => rest.startsWith(s + "_"));
      const srv = server ?? rest.slice(0, rest.indexOf("_") === -1 ? rest.length : rest.indexOf("_"));
      const tool = rest.slice(srv.length + 1);
      add(tool === "*" || tool === "" ? `@${srv}` : `@${srv}/${tool}`);
    } else unknown.push(n);
  }
  return out;
}

function render(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const root = rootOf(ctx);
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const sorted = byName(agents);
  const byAgent = new Map(sorted.map((a) => [a.name, a]));
  // Whole MCP servers an agent trusts get `trust: true` in the shared settings.
  const trustedServers = new Set<string>();
  for (const a of sorted)
    for (const t of a.tools.trusted ?? []) {
      const m = parseMcpRef(t);
      if (m && m.tool === undefined && a.mcpServers[m.server]) trustedServers.add(m.server);
    }

  // Each agent's subagent file and warnings are one output, made from that agent alone.
  for (const a of sorted)
    addOutput(out, ctx, `agent\u0000${a.name}`, { values: agentInput(a) }, () => {
      const warnings: Diagnostic[] = [];
      warnings.push(
        ...unexpressed(
          ID,
          a,
          { model: true, mcp: true, toolsAllow: true, toolsTrusted: true },
          { toolsDeny: "Gemini subagents take an allow list only; list the allowed tools instead" },
        ),
      );
      const lost: string[] = [];
      const tools = a.tools.allow ? geminiTools(a.tools.allow, lost) : undefined;
      if (lost.length)
        warnings.push(unsupported(ID, a, `the tools ${lost.join(", ")}`, "Gemini CLI has no such built-in tool; it is left out of the subagent's tools"));
      const trustLost = (a.tools.trusted ?? []).filter((t) => {
        const m = parseMcpRef(t);
        return !(m && m.tool === undefined && a.mcpServers[m.server]);
      });
      if (trustLost.length)
        warnings.push(
          unsupported(
            ID,
            a,
            `tools.trusted (${trustLost.join(", ")})`,
            "Gemini CLI trusts whole MCP servers only (trust: true); built-in tools ask unless run with --approval-mode",
          ),
        );
      const ext = (a.extensions[ID] ?? {}) as GeminiExtension;
      let model = modelFor(a, ID);
      const explicit = typeof a.model === "object" && a.model[ID] !== undefined;
      if (model !== undefined && !explicit && !model.startsWith("gemini-")) {
        warnings.push(
          unsupported(
            ID,
            a,
            `the model '${model}'`,
            `it is not a Gemini model; give one with model: {${ID}: gemini-2.5-pro} (the subagent inherits the session's model)`,
          ),
        );
        model = undefined;
      }
      const file: OutputFile = {
        kind: "file",
        path: join(root, ".gemini", "agents", `${a.name}.md`),
        content: renderFrontmatter(
          {
            name: a.name,
            description: a.description,
            kind: "local",
            tools,
            model,
            temperature: ext.temperature,
            max_turns: ext.max_turns,
            timeout_mins: ext.timeout_mins,
          },
          a.instructions,
        ),
        agent: a.name,
      };
      return { files: [file], warnings };
    });

  // GEMINI.md holds the text of every always-on knowledge file: any of them changed renders it again.
  // On-demand knowledge never gets here: the large-context planner (fallback.ts) lists it in the agent's prompt as an index.
  const always = groupKnowledge(sorted).filter((u) => u.k.mode === "always");
  if (always.length)
    addOutput(out, ctx, "gemini-md", { files: always.map((u) => u.k.absPath), values: always.map(knowledgeUseInput) }, () => {
      const warnings: Diagnostic[] = [];
      const blocks: string[] = [];
      for (const u of always) {
        const k = knowledgeMeta(ctx, u.k, u.agents);
        blocks.push(knowledgeBlock(k));
        if (k.globs.length)
          for (const name of k.agents)
            warnings.push(
              unsupported(
                ID,
                byAgent.get(name)!,
                `the applyTo globs of knowledge ${k.path}`,
                "GEMINI.md applies to the whole session; it is included unconditionally",
              ),
            );
      }
      const file: OutputFile = {
        kind: "md-section",
        path: join(root, ctx.scope === "project" ? "GEMINI.md" : join(".gemini", "GEMINI.md")),
        content: joinBlocks(blocks),
        alwaysLoaded: true,
      };
      return { files: [file], warnings };
    });

  // The settings file holds the servers of every agent: any agent's servers (or trusted servers) changed renders it again.
  const servers = sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.secretRefs ?? null]);
  addOutput(out, ctx, "mcp", { values: { servers, trusted: [...trustedServers].sort() } }, () => {
    const mcp = renderServerEntries(ID, sorted, GEMINI_MCP_SHAPE, ["mcpServers"], (name, value) => {
      if (trustedServers.has(name)) value.trust = true;
    });
    const files: OutputFile[] = mcp.entries.length
      ? [{ kind: "json-keys", path: join(root, ".gemini", "settings.json"), entries: mcp.entries, ...(mcp.secret ? { secret: true } : {}) }]
      : [];
    return { files, warnings: mcp.warnings };
  });
  return out;
}

function importWarning(file: string, message: string, hint?: string): Diagnostic {
  return { severity: "warning", code: "import-skipped", message: `gemini-cli: ${message}`, file, ...(hint ? { hint } : {}) };
}

function parse(src: FileSource, roots: Roots): ParseResult {
  const root = rootOf(roots);
  const warnings: Diagnostic[] = [];
  const agents: ImportedAgent[] = [];
  const servers: Record<string, McpServer> = {};
  const settingsText = src.read(".gemini/settings.json");
  if (settingsText !== undefined) {
    const parsed = parseJsonText(settingsText);
    if (!parsed.ok)
      warnings.push(importWarning(join(root, ".gemini/settings.json"), `could not read settings.json: ${parsed.error}`, "fix the JSON and import again"));
    else {
      const raw = (parsed.value as Record<string, unknown>).mcpServers;
      if (raw && typeof raw === "object") {
        for (const name of Object.keys(raw).sort()) {
          // Gemini expands both $VAR and ${VAR}.
          const s = parseMcpServer((raw as Record<string, unknown>)[name], { ...GEMINI_MCP_SHAPE, envSyntax: "dollar" });
          if (s) servers[name] = s;
          else warnings.push(importWarning(join(root, ".gemini/settings.json"), `MCP server '${name}' has none of command, url, httpUrl; skipped`));
        }
      }
    }
  }
  const serverNames = Object.keys(servers);
  for (const rel of src.list(".gemini/agents").filter((p) => p.endsWith(".md"))) {
    const file = join(root, rel);
    const doc = readFrontmatterDoc(src.read(rel) ?? "");
    if (doc.error) {
      warnings.push(importWarning(file, `invalid frontmatter: ${doc.error}`, "fix the YAML between the --- lines"));
      continue;
    }
    const name = typeof doc.data.name === "string" ? doc.data.name : rel.slice(rel.lastIndexOf("/") + 1, -3);
    if (!Slug.safeParse(name).success) {
      warnings.push(importWarning(file, `agent name '${name}' is not a lowercase slug; skipped`, "rename it to letters, digits and '-'"));
      continue;
    }
    if (doc.data.kind === "remote") {
      warnings.push(importWarning(file, `'${name}' is a remote (A2A) agent; skipped`));
      continue;
    }
    const description = typeof doc.data.description === "string" && doc.data.description.trim() ? doc.data.description.trim() : `Imported from ${rel}`;
    const spec: ImportedAgent["spec"] = { name, description };
    if (typeof doc.data.model === "string" && doc.data.model !== "inherit") spec.model = doc.data.model;
    let mcp: Record<string, McpServer> = { ...servers };
    if (Array.isArray(doc.data.tools)) {
      const unknown: string[] = [];
      const allow = universalTools(
        doc.data.tools.filter((t): t is string => typeof t === "string"),
        serverNames,
        unknown,
      );
      if (unknown.length) warnings.push(importWarning(file, `unknown tools ${unknown.join(", ")} of '${name}' were left out`));
      spec.tools = { allow };
      const used = new Set(allow.filter((r) => r.startsWith("@")).map((r) => parseMcpRef(r)!.server));
      mcp = allow.includes("*") ? mcp : Object.fromEntries(Object.entries(servers).filter(([n]) => used.has(n)));
    }
    const ext: Record<string, unknown> = {};
    for (const key of ["temperature", "max_turns", "timeout_mins"] as const) if (typeof doc.data[key] === "number") ext[key] = doc.data[key];
    if (Object.keys(ext).length) spec.extensions = { [ID]: ext };
    const context = roots.scope === "project" ? "GEMINI.md" : ".gemini/GEMINI.md";
    agents.push({ spec, instructions: doc.body, mcp, knowledgeFiles: src.read(context) !== undefined ? [join(root, context)] : [], source: file });
  }
  agents.sort((x, y) => (x.spec.name < y.spec.name ? -1 : 1));
  return { agents, warnings };
}

export const geminiCliAdapter: Adapter = withLargeContext({
  id: ID,
  displayName: "Gemini CLI",
  description: "Google Gemini CLI: .gemini/agents/*.md subagents, GEMINI.md context and mcpServers in .gemini/settings.json",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations: (r) => {
    const root = rootOf(r);
    return [
      join(root, ".gemini", "agents"),
      join(root, ".gemini", "settings.json"),
      r.scope === "project" ? join(root, "GEMINI.md") : join(root, ".gemini", "GEMINI.md"),
    ];
  },
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "yes",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "yes",
    "tools-deny": "no",
    "tool-settings": "no",
    hooks: "no",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: GeminiExtension,
  render,
  parse,
  detect: (env) =>
    detectTool(env, {
      binaries: ["gemini"],
      configPaths: [join(env.homeDir, ".gemini"), join(env.homeDir, ".config", "gemini-cli")],
      exportPaths: {
        project: [join(env.projectRoot, ".gemini", "agents"), join(env.projectRoot, ".gemini", "settings.json"), join(env.projectRoot, "GEMINI.md")],
        user: [join(env.homeDir, ".gemini", "agents"), join(env.homeDir, ".gemini", "settings.json"), join(env.homeDir, ".gemini", "GEMINI.md")],
      },
      notes: [
        "since 2026-06-18 Gemini CLI serves only Gemini Code Assist (enterprise) and API-key users; individual accounts moved to Antigravity CLI (agy): export the antigravity target for them",
      ],
      install: "install Gemini CLI: npm install -g @google/gemini-cli",
    }),
  // GEMINI.md is loaded at every start; subagents load on demand.
  budget: {
    max: 1_048_576,
    unit: "tokens",
    per: "total",
    model: "google",
    source: "Gemini 2.5 Pro context window, 1,048,576 tokens (ai.google.dev/gemini-api/docs/models)",
  },
  largeContext: {
    strategies: ["index"],
    source: "GEMINI.md and its @imports load at start (google-gemini/gemini-cli: docs/cli/gemini-md.md); read_file opens the files the index lists",
  },
  limitations: [
    "Gemini CLI stopped serving individual Google accounts on 2026-06-18 (Antigravity CLI replaces it); enterprise and API-key users keep it",
    "GEMINI.md is loaded for the whole session: always-on knowledge is shared by all agents; on-demand knowledge is an index in the agent's prompt that points to the library's files",
    "subagents take an allow list only: tools.deny, tool settings and hooks are not exported; tools.trusted maps to trust: true for whole MCP servers only, and that trust then holds for every agent using the server",
    "MCP servers are shared by all agents in settings.json; a subagent with a tool list sees only the servers it names (mcp_<server>_*)",
    "user scope writes ~/.gemini/ (docs/reference/configuration.md); a newer docs/core/subagents.md names the user config directory (e.g. ~/.config/gemini-cli/agents/) for user subagents [?]",
  ],
});
