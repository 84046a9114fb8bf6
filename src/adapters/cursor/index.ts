// Cursor: each agent becomes an Agent Requested rule (.cursor/rules/<agent>.mdc) and a subagent
// (.cursor/agents/<agent>.md); knowledge becomes rules (always / agent requested / auto attached);
// MCP servers go to .cursor/mcp.json (or ~/.cursor/mcp.json). Reads agents and rules back for import.
import { join } from "node:path";
import { VARIOUS_WINDOW } from "../budget.ts";
import { z } from "zod";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import { Slug, type McpServer } from "../../library/schema.ts";
import { limitExceeded, renderFrontmatter, unsupported } from "../common.ts";
import { parseJsonText } from "../shared-files.ts";
import type { Adapter, FileSource, ImportedAgent, OutputFile, ParseResult, RenderContext, RenderResult, Roots } from "../types.ts";
import { ALL_ENV_REFS } from "../secrets.ts";
import {
  byName,
  detectTool,
  dropClashes,
  groupKnowledge,
  knowledgeMeta,
  knowledgeSlug,
  knowledgeUseInput,
  parseMcpServer,
  readFrontmatterDoc,
  renderServerEntries,
  unexpressed,
  type McpShapeSpec,
} from "../generic/shared.ts";
import { withLargeContext } from "../fallback.ts";
import { addOutput, agentInput } from "../memo.ts";

const ID = "cursor";
/** Cursor's guidance: keep a rule under 500 lines. */
const CURSOR_RULE_MAX_LINES = 500;

const CursorExtension = z.strictObject({
  readonly: z.boolean().optional().describe("the subagent may not edit files or run state-changing commands"),
  is_background: z.boolean().optional().describe("run the subagent in the background"),
});
type CursorExtension = z.infer<typeof CursorExtension>;

const CURSOR_MCP_SHAPE: McpShapeSpec = { urlKey: "url", envSyntax: "env-colon", remote: true, headers: true, extras: [] };

function rootOf(r: Roots): string {
  return r.scope === "project" ? r.projectRoot : r.homeDir;
}

function lineCount(text: string): number {
  return text.endsWith("\n") ? text.split("\n").length - 1 : text.split("\n").length;
}

function render(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const root = rootOf(ctx);
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const sorted = byName(agents);
  const project = ctx.scope === "project";
  const byAgent = new Map(sorted.map((a) => [a.name, a]));

  // Each agent's subagent file, its rule and its warnings are one output, made from that agent alone.
  for (const a of sorted)
    addOutput(out, ctx, `agent\u0000${a.name}`, { values: agentInput(a) }, () => {
      const files: OutputFile[] = [];
      const warnings = unexpressed(
        ID,
        a,
        { model: true, mcp: true },
        { hooks: "aicfg does not write .cursor/hooks.json", toolsAllow: "set extensions.cursor.readonly for a read-only subagent" },
      );
      const ext = (a.extensions[ID] ?? {}) as CursorExtension;
      const model = modelFor(a, ID);
      files.push({
        kind: "file",
        path: join(root, ".cursor", "agents", `${a.name}.md`),
        content: renderFrontmatter(
          { name: a.name, description: a.description, model, readonly: ext.readonly, is_background: ext.is_background },
          a.instructions,
        ),
        agent: a.name,
      });
      if (project) {
        files.push({
          kind: "file",
          path: join(root, ".cursor", "rules", `${a.name}.mdc`),
          content: renderFrontmatter({ description: a.description, alwaysApply: false }, a.instructions),
          agent: a.name,
        });
      }
      return { files, warnings };
    });

  // Each knowledge file's rule (or, in user scope, its warning) is one output, made from that file and the agents using it.
  for (const u of groupKnowledge(sorted)) {
    if (!project) {
      for (const name of u.agents)
        out.warnings.push(
          unsupported(
            ID,
            byAgent.get(name)!,
            `knowledge ${u.k.path} in user scope`,
            "Cursor keeps user rules in its settings, not in files; export knowledge with --scope project",
          ),
        );
      continue;
    }
    addOutput(out, ctx, `knowledge\u0000${u.k.path}`, { files: [u.k.absPath], values: knowledgeUseInput(u) }, () => {
      const k = knowledgeMeta(ctx, u.k, u.agents);
      const fields: Record<string, unknown> = k.globs.length
        ? { description: k.description, globs: k.globs.join(","), alwaysApply: false }
        : { description: k.description, alwaysApply: k.mode === "always" };
      const file: OutputFile = {
        kind: "file",
        path: join(root, ".cursor", "rules", `knowledge-${knowledgeSlug(k.path)}.mdc`),
        content: renderFrontmatter(fields, k.body),
        ...(fields.alwaysApply === true ? { alwaysLoaded: true } : {}),
        ...(k.agents.length === 1 ? { agent: k.agents[0]! } : {}),
      };
      return { files: [file], warnings: [] };
    });
  }

  // The MCP file holds the servers of every agent: any agent's servers changed renders it again.
  const servers = sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.secretRefs ?? null]);
  addOutput(out, ctx, "mcp", { values: servers }, () => {
    const mcp = renderServerEntries(ID, sorted, CURSOR_MCP_SHAPE, ["mcpServers"]);
    const files: OutputFile[] = mcp.entries.length
      ? [{ kind: "json-keys", path: join(root, ".cursor", "mcp.json"), entries: mcp.entries, ...(mcp.secret ? { secret: true } : {}) }]
      : [];
    return { files, warnings: mcp.warnings };
  });

  const clash = dropClashes(ID, out.files);
  const warnings = [...out.warnings, ...clash.warnings];
  for (const f of clash.files) {
    if (f.kind !== "file" || !f.path.endsWith(".mdc")) continue;
    const n = lineCount(f.content as string);
    if (n > CURSOR_RULE_MAX_LINES) {
      warnings.push(
        limitExceeded(
          ID,
          f.agent ? byAgent.get(f.agent) : undefined,
          `${f.path.slice(root.length + 1)} has ${n} lines; Cursor recommends rules under ${CURSOR_RULE_MAX_LINES} lines`,
          "split the knowledge into smaller files",
        ),
      );
    }
  }
  return { files: clash.files, warnings };
}

function importWarning(file: string, message: string, hint?: string): Diagnostic {
  return { severity: "warning", code: "import-skipped", message: `cursor: ${message}`, file, ...(hint ? { hint } : {}) };
}

function parse(src: FileSource, roots: Roots): ParseResult {
  const root = rootOf(roots);
  const warnings: Diagnostic[] = [];
  const agents: ImportedAgent[] = [];
  const names = new Set<string>();

  // MCP servers apply to every agent in Cursor.
  const mcp: Record<string, McpServer> = {};
  const mcpText = src.read(".cursor/mcp.json");
  if (mcpText !== undefined) {
    const parsed = parseJsonText(mcpText);
    if (!parsed.ok)
      warnings.push(importWarning(join(root, ".cursor/mcp.json"), `could not read .cursor/mcp.json: ${parsed.error}`, "fix the JSON and import again"));
    else {
      const servers = (parsed.value as Record<string, unknown>).mcpServers;
      if (servers && typeof servers === "object") {
        for (const name of Object.keys(servers).sort()) {
          const s = parseMcpServer((servers as Record<string, unknown>)[name], CURSOR_MCP_SHAPE);
          if (s) mcp[name] = s;
          else warnings.push(importWarning(join(root, ".cursor/mcp.json"), `MCP server '${name}' has neither command nor url; skipped`));
        }
      }
    }
  }

  for (const rel of src.list(".cursor/agents").filter((p) => p.endsWith(".md"))) {
    const file = join(root, rel);
    const doc = readFrontmatterDoc(src.read(rel) ?? "");
    if (doc.error) {
      warnings.push(importWarning(file, `invalid frontmatter: ${doc.error}`, "fix the YAML between the --- lines"));
      continue;
    }
    const stem = rel.slice(rel.lastIndexOf("/") + 1, -3);
    const name = typeof doc.data.name === "string" ? doc.data.name : stem;
    if (!Slug.safeParse(name).success) {
      warnings.push(importWarning(file, `agent name '${name}' is not a lowercase slug; skipped`, "rename it to letters, digits and '-'"));
      continue;
    }
    const description = typeof doc.data.description === "string" && doc.data.description.trim() ? doc.data.description.trim() : `Imported from ${rel}`;
    const spec: ImportedAgent["spec"] = { name, description };
    if (typeof doc.data.model === "string" && doc.data.model !== "inherit") spec.model = doc.data.model;
    const ext: Record<string, unknown> = {};
    if (typeof doc.data.readonly === "boolean") ext.readonly = doc.data.readonly;
    if (typeof doc.data.is_background === "boolean") ext.is_background = doc.data.is_background;
    if (Object.keys(ext).length) spec.extensions = { [ID]: ext };
    names.add(name);
    agents.push({ spec, instructions: doc.body, mcp: { ...mcp }, knowledgeFiles: [], source: file });
  }

  // Rules: an agent's own rule repeats its instructions; a description-only rule with no subagent
  // is an agent; every other rule is knowledge of all agents.
  const knowledge: string[] = [];
  for (const rel of src.list(".cursor/rules").filter((p) => p.endsWith(".mdc"))) {
    const file = join(root, rel);
    const stem = rel.slice(rel.lastIndexOf("/") + 1, -4);
    if (names.has(stem)) continue;
    const doc = readFrontmatterDoc(src.read(rel) ?? "");
    if (doc.error) {
      warnings.push(importWarning(file, `invalid frontmatter: ${doc.error}`, "fix the YAML between the --- lines"));
      continue;
    }
    const agentRequested = typeof doc.data.description === "string" && doc.data.alwaysApply !== true && !doc.data.globs;
    if (agentRequested && !stem.startsWith("knowledge-") && Slug.safeParse(stem).success) {
      names.add(stem);
      agents.push({
        spec: { name: stem, description: (doc.data.description as string).trim() || stem },
        instructions: doc.body,
        mcp: { ...mcp },
        knowledgeFiles: [],
        source: file,
      });
    } else knowledge.push(file);
  }
  for (const a of agents) a.knowledgeFiles = [...knowledge];
  agents.sort((x, y) => (x.spec.name < y.spec.name ? -1 : 1));
  return { agents, warnings };
}

export const cursorAdapter: Adapter = withLargeContext({
  id: ID,
  displayName: "Cursor",
  description: "Cursor: .cursor/rules/*.mdc rules, .cursor/agents/*.md subagents and .cursor/mcp.json",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations: (r) => {
    const root = rootOf(r);
    return r.scope === "project"
      ? [join(root, ".cursor", "rules"), join(root, ".cursor", "agents"), join(root, ".cursor", "mcp.json")]
      : [join(root, ".cursor", "agents"), join(root, ".cursor", "mcp.json")];
  },
  capabilities: {
    instructions: "yes",
    "knowledge-always": "partial",
    "knowledge-on-demand": "partial",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "no",
    "tools-deny": "no",
    "tool-settings": "no",
    hooks: "no",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: CursorExtension,
  render,
  parse,
  detect: (env) =>
    detectTool(env, {
      binaries: ["cursor-agent", "cursor"],
      configPaths: [join(env.homeDir, ".cursor")],
      exportPaths: {
        project: [join(env.projectRoot, ".cursor", "rules"), join(env.projectRoot, ".cursor", "agents"), join(env.projectRoot, ".cursor", "mcp.json")],
        user: [join(env.homeDir, ".cursor", "agents"), join(env.homeDir, ".cursor", "mcp.json")],
      },
      install: "install Cursor (https://cursor.com/downloads) or the CLI agent: curl https://cursor.com/install -fsS | bash",
    }),
  // alwaysApply rules are in every request; agents, agent rules (alwaysApply: false) and glob rules load on demand.
  budget: VARIOUS_WINDOW,
  largeContext: {
    strategies: ["on-demand-rules", "index"],
    scopes: { user: ["index"] },
    globRules: ["project"],
    source: "Agent Requested rules (a description, alwaysApply: false) load when the model finds them relevant (docs.cursor.com/context/rules)",
  },
  limitations: [
    "knowledge becomes project rules only: Cursor keeps user rules in its settings, not in files",
    "rules apply to every chat, not only to one agent; knowledge shared by agents is written once",
    "tool permissions, tool settings and hooks are not exported (.cursor/cli.json and .cursor/hooks.json are not written)",
    "MCP cwd and timeout are not expressible in mcp.json",
    "subagents (.cursor/agents) come from a secondary source [2nd]; plain .md rules are ignored, so rules are always .mdc",
    "globs are written as one comma-separated YAML string; YAML quotes those starting with '*', which Cursor is assumed to accept [?]",
  ],
});
