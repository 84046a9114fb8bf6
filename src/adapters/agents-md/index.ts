// AGENTS.md, the cross-tool convention (agents.md): one marked section with every agent's name,
// description and instructions and the always-on knowledge inlined, read by Codex, Copilot, Cursor,
// Windsurf, Cline, Kiro, Amp, OpenCode and others. Text outside the section stays the user's.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import type { Adapter, OutputFile, RenderContext, RenderResult } from "../types.ts";
import { agentBlock, byName, groupKnowledge, joinBlocks, knowledgeBlock, knowledgeMeta, knowledgeUseInput, unexpressed } from "../generic/shared.ts";
import { addOutput, agentInput } from "../memo.ts";
import { withLargeContext } from "../fallback.ts";

const ID = "agents-md";
/** Codex reads at most 32 KiB of AGENTS.md files by default (project_doc_max_bytes). */
const AGENTS_MD_BUDGET_BYTES = 32 * 1024;

function render(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const sorted = byName(agents);
  const hint = "AGENTS.md is plain text every reader loads; use a tool target for this feature";
  // Each agent's warnings are made from that agent alone.
  for (const a of sorted)
    addOutput(out, ctx, `agent\u0000${a.name}`, { values: agentInput(a) }, () => ({
      files: [],
      warnings: unexpressed(ID, a, {}, { model: hint, toolsAllow: hint, toolsDeny: hint, toolsTrusted: hint, toolSettings: hint, hooks: hint, mcp: hint }),
    }));
  // The section holds every agent and the text of every always-on knowledge file: any of them changed renders it again.
  // On-demand knowledge never gets here: the large-context planner (fallback.ts) lists it in the agent's block as an index.
  const always = groupKnowledge(sorted).filter((u) => u.k.mode === "always");
  if (sorted.length || always.length) {
    const reads = { files: always.map((u) => u.k.absPath), values: { agents: sorted.map(agentInput), knowledge: always.map(knowledgeUseInput) } };
    addOutput(out, ctx, "agents-md", reads, () => {
      const blocks = [...sorted.map(agentBlock), ...always.map((u) => knowledgeBlock(knowledgeMeta(ctx, u.k, u.agents)))];
      const files: OutputFile[] = blocks.length
        ? [{ kind: "md-section", path: join(ctx.projectRoot, "AGENTS.md"), content: joinBlocks(blocks), alwaysLoaded: true }]
        : [];
      return { files, warnings: [] };
    });
  }
  return out;
}

export const agentsMdAdapter: Adapter = withLargeContext({
  id: ID,
  displayName: "AGENTS.md",
  description: "The AGENTS.md convention: one marked section with every agent and the always-on knowledge",
  scopes: ["project"],
  locations: (r) => [join(r.projectRoot, "AGENTS.md")],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "yes",
    "mcp-stdio": "no",
    "mcp-http": "no",
    "tools-allow": "no",
    "tools-deny": "no",
    "tool-settings": "no",
    hooks: "no",
    model: "no",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  render,
  detect: async (env) => {
    const file = join(env.projectRoot, "AGENTS.md");
    const exists = env.exists(file);
    // A convention, not a program: "installed" means the project already uses an AGENTS.md.
    return {
      installed: exists,
      configPaths: [{ path: file, exists }],
      exportPaths: { project: [file], user: [] },
      notes: [
        "AGENTS.md is a file convention, not a program: nothing to install; read natively by Codex, Copilot, Cursor, Windsurf/Devin, Cline, Kiro, Amp, OpenCode and others",
      ],
      nextSteps: [],
    };
  },
  // Every reader loads AGENTS.md whole; Codex stops at 32 KiB.
  budget: {
    max: AGENTS_MD_BUDGET_BYTES,
    unit: "bytes",
    per: "total",
    model: "various",
    source: "Codex, the strictest reader: project_doc_max_bytes, 32 KiB (developers.openai.com/codex/guides/agents-md)",
  },
  largeContext: {
    strategies: ["index"],
    source: "AGENTS.md is plain markdown every reader loads whole (agents.md); the agents of these tools open files by path with their file tools",
  },
  limitations: [
    "plain markdown: no MCP servers, models, tool permissions or hooks",
    "every reader loads the whole file: on-demand knowledge (and always-on knowledge over 32 KiB) is an index in the agent's block that points to the library's files",
    "no user scope: the global files differ per tool (~/.codex/AGENTS.md, ~/.config/amp/AGENTS.md, ...); use those tools' targets",
    "the codex, amp, opencode, factory-droid and rovodev targets write their own sections of the same file: enable one of them per project to avoid repeating the text",
  ],
});
