// Renders agents for OpenAI Codex: one custom-agent TOML per agent, the agents' MCP servers as
// `[mcp_servers.*]` tables in config.toml (the user's other keys stay byte-for-byte), and an index
// of the agents plus the knowledge they all share as a marked block in AGENTS.md.
import { join } from "node:path";
import { stringify as stringifyToml, parse as parseToml } from "smol-toml";
import { z } from "zod";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent, type ResolvedKnowledge } from "../../library/model.ts";
import type { BuiltinTool } from "../../library/schema.ts";
import { unsupported, usedHookEvents } from "../common.ts";
import { portableRef } from "../refs.ts";
import type { OutputFile, RenderContext, RenderResult, TomlTableEntry } from "../types.ts";
import { codexServerName, toCodexServer } from "./mcp.ts";
import { addOutput, agentInput } from "../memo.ts";

export const TARGET = "codex";

/** Codex stops reading AGENTS.md files at `project_doc_max_bytes`, 32 KiB by default. */
export const PROJECT_DOC_MAX_BYTES = 32 * 1024;

export const CodexExtension = z.strictObject({
  model_reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).optional(),
  sandbox_mode: z.enum(["read-only", "workspace-write", "danger-full-access"]).optional(),
  nickname_candidates: z.array(z.string().min(1)).min(1).optional(),
});
export type CodexExtension = z.infer<typeof CodexExtension>;

/** Where each file goes for a scope: project files under the project, user files under ~/.codex. */
export function codexPaths(ctx: { scope: "project" | "user"; projectRoot: string; homeDir: string }): {
  agentsMd: string;
  agentsDir: string;
  configToml: string;
  knowledgeDir: string;
} {
  const dotCodex = join(ctx.scope === "project" ? ctx.projectRoot : ctx.homeDir, ".codex");
  return {
    agentsMd: ctx.scope === "project" ? join(ctx.projectRoot, "AGENTS.md") : join(dotCodex, "AGENTS.md"),
    agentsDir: join(dotCodex, "agents"),
    configToml: join(dotCodex, "config.toml"),
    knowledgeDir: join(dotCodex, "knowledge"),
  };
}

function toolAllowed(agent: ResolvedAgent, tool: BuiltinTool): boolean {
  const deny = agent.tools.deny ?? [];
  if (deny.includes(tool) || deny.includes("*")) return false;
  const allow = agent.tools.allow;
  return allow === undefined || allow.includes("*") || allow.includes(tool);
}

/** No write and no shell allowed: nothing can change the workspace, so the sandbox is read-only. */
function derivedSandbox(agent: ResolvedAgent): "read-only" | "workspace-write" {
  return toolAllowed(agent, "write") || toolAllowed(agent, "shell") ? "workspace-write" : "read-only";
}

/**
 * TOML text of `developer_instructions`: a multi-line literal string when the text allows it (it
 * reads like the markdown it is), else the escaped basic string smol-toml writes.
 */
function instructionsToml(text: string): string {
  const literal = `developer_instructions = '''\n${text}'''\n`;
  const safe = !text.includes("'''") && !/[\u0000-\u0008\u000b-\u001f\u007f\r]/.test(text) && !text.endsWith("'");
  if (safe) {
    try {
      if ((parseToml(literal) as { developer_instructions?: unknown }).developer_instructions === text) return literal;
    } catch {
      /* fall back to the escaped form */
    }
  }
  return stringifyToml({ developer_instructions: text });
}

function trimEnd(s: string): string {
  return s.replace(/\s+$/, "");
}

/**
 * The agent's instructions with its always-on knowledge inlined. On-demand knowledge never gets here:
 * the large-context planner (fallback.ts) lists it in the instructions as an index of the library's own files.
 */
function developerInstructions(agent: ResolvedAgent, ctx: RenderContext): string {
  const parts = [trimEnd(agent.instructions)];
  for (const k of agent.knowledge.filter((x) => x.mode === "always")) {
    parts.push(`## Knowledge: ${k.path}\n\n${trimEnd(ctx.readKnowledge(k.absPath))}`);
  }
  return parts.join("\n\n") + "\n";
}

function agentToml(agent: ResolvedAgent, ctx: RenderContext, ext: CodexExtension): string {
  const head: Record<string, unknown> = { name: agent.name, description: agent.description };
  if (ext.nickname_candidates) head.nickname_candidates = ext.nickname_candidates;
  const model = modelFor(agent, TARGET);
  if (model) head.model = model;
  if (ext.model_reasoning_effort) head.model_reasoning_effort = ext.model_reasoning_effort;
  head.sandbox_mode = ext.sandbox_mode ?? derivedSandbox(agent);
  return stringifyToml(head) + instructionsToml(developerInstructions(agent, ctx));
}

function warnUnexpressible(agent: ResolvedAgent, warnings: Diagnostic[]): void {
  const t = agent.tools;
  if (t.allow?.length || t.deny?.length) {
    warnings.push(
      unsupported(
        TARGET,
        agent,
        "per-tool permissions (tools.allow / tools.deny)",
        `Codex only has a sandbox mode; '${derivedSandbox(agent)}' was derived from whether write or shell is allowed`,
      ),
    );
  }
  if (t.trusted?.length)
    warnings.push(unsupported(TARGET, agent, "trusted tools (tools.trusted)", "Codex asks for approval by its approval_policy, not per tool"));
  if (Object.keys(agent.toolSettings).length)
    warnings.push(unsupported(TARGET, agent, "toolSettings (allowed paths and commands)", "use Codex rules or the sandbox settings in config.toml by hand"));
  const hooks = usedHookEvents(agent);
  if (hooks.length) warnings.push(unsupported(TARGET, agent, `hooks (${hooks.join(", ")})`));
}

function sharedAlwaysKnowledge(agents: readonly ResolvedAgent[]): ResolvedKnowledge[] {
  if (!agents.length) return [];
  const [first, ...rest] = agents;
  return first!.knowledge.filter((k) => k.mode === "always" && rest.every((a) => a.knowledge.some((x) => x.mode === "always" && x.absPath === k.absPath)));
}

function agentsMdSection(agents: readonly ResolvedAgent[], ctx: RenderContext): string {
  const { agentsDir } = codexPaths(ctx);
  const where = (name: string): string => portableRef(join(agentsDir, `${name}.toml`), ctx, "cwd");
  const lines = [
    "# Custom agents",
    "",
    "These Codex custom agents come from the aicfg library. Ask Codex to spawn the matching agent by name for such tasks.",
    "",
    ...agents.map((a) => `- \`${a.name}\`: ${a.description.replace(/\s+/g, " ").trim()} (\`${where(a.name)}\`)`),
  ];
  let text = lines.join("\n") + "\n";
  for (const k of sharedAlwaysKnowledge(agents)) text += `\n## Knowledge: ${k.path}\n\n${trimEnd(ctx.readKnowledge(k.absPath))}\n`;
  return text;
}

export function renderCodex(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const paths = codexPaths(ctx);
  const sorted = [...agents].sort((a, b) => a.name.localeCompare(b.name));

  // Each agent's TOML (its instructions with its always-on knowledge inlined) and warnings are one output.
  for (const agent of sorted) {
    const always = agent.knowledge.filter((k) => k.mode === "always").map((k) => k.absPath);
    addOutput(out, ctx, `agent\u0000${agent.name}`, { files: always, values: agentInput(agent) }, () => {
      const warnings: Diagnostic[] = [];
      warnUnexpressible(agent, warnings);
      const parsedExt = CodexExtension.safeParse(agent.extensions[TARGET] ?? {});
      const ext = parsedExt.success ? parsedExt.data : {};
      const file: OutputFile = { kind: "file", path: join(paths.agentsDir, `${agent.name}.toml`), content: agentToml(agent, ctx, ext), agent: agent.name };
      for (const name of Object.keys(agent.mcpServers).sort()) {
        const codexName = codexServerName(name);
        if (codexName !== name) {
          warnings.push({
            severity: "warning",
            code: "renamed",
            message: `codex: agent '${agent.name}': MCP server '${name}' is written as '${codexName}' (Codex server names allow only letters, digits, '_' and '-')`,
            file: agent.sourceFile,
            hint: `tools of this server appear in Codex as ${codexName}/<tool>`,
          });
        }
        toCodexServer(name, agent.mcpServers[name]!, agent, warnings);
      }
      return { files: [file], warnings };
    });
  }

  // config.toml holds the servers of every agent: any agent's servers changed renders it again.
  const serverInput = sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.secretRefs ?? null]);
  addOutput(out, ctx, "mcp", { values: serverInput }, () => {
    const warnings: Diagnostic[] = [];
    const servers = new Map<string, { table: Record<string, unknown>; agent: string; source: string }>();
    let secret = false;
    for (const agent of sorted)
      for (const name of Object.keys(agent.mcpServers).sort()) {
        const codexName = codexServerName(name);
        // What the server loses is reported with the agent's own output.
        const { table, literal } = toCodexServer(name, agent.mcpServers[name]!, agent, []);
        const prev = servers.get(codexName);
        if (prev) {
          if (JSON.stringify(prev.table) !== JSON.stringify(table)) {
            warnings.push({
              severity: "warning",
              code: "mcp-name-conflict",
              message: `codex: MCP server '${codexName}' of agent '${agent.name}' (from '${name}') differs from the one of agent '${prev.agent}' (from '${prev.source}'); config.toml holds one table per name, the one of '${prev.agent}' is kept`,
              file: agent.sourceFile,
              hint: "give the servers different names in the library",
            });
          }
          continue;
        }
        servers.set(codexName, { table, agent: agent.name, source: name });
        secret ||= literal;
      }
    if (!servers.size) return { files: [], warnings };
    const tables: TomlTableEntry[] = [...servers.keys()].sort().map((n) => ({ path: ["mcp_servers", n], value: servers.get(n)!.table }));
    return { files: [{ kind: "toml-tables", path: paths.configToml, tables, ...(secret ? { secret: true } : {}) }], warnings };
  });

  // The AGENTS.md block lists every agent and inlines the knowledge they all share.
  if (sorted.length) {
    const shared = sharedAlwaysKnowledge(sorted);
    const reads = {
      files: shared.map((k) => k.absPath),
      values: { agents: sorted.map((a) => [a.name, a.description]), shared: shared.map((k) => [k.path, k.absPath]) },
    };
    // project_doc_max_bytes (32 KiB) is the target's context budget (budget.ts), checked on export.
    addOutput(out, ctx, "agents-md", reads, () => ({
      files: [{ kind: "md-section", path: paths.agentsMd, content: agentsMdSection(sorted, ctx), alwaysLoaded: true }],
      warnings: [],
    }));
  }
  return out;
}
