// The Amazon Q Developer CLI adapter: one custom-agent JSON file per agent in
// `.amazonq/cli-agents/` (project) or `~/.aws/amazonq/cli-agents/` (user), valid against the
// official agent-v1 schema (Q refuses files with unknown top-level keys).
import { join } from "node:path";
import { CLAUDE_WINDOW } from "../budget.ts";
import { z } from "zod";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import type { Adapter } from "../types.ts";
import { detectQ } from "./detect.ts";
import { Q_DIALECT, type AgentDialect } from "./dialect.ts";
import { parseAgentFiles } from "./parse.ts";
import { renderAgentFiles, type AgentExtras } from "./render.ts";
import { withLargeContext } from "../fallback.ts";
import { ALL_ENV_REFS } from "../secrets.ts";

const ToolAliases = z
  .record(z.string().min(1), z.string().min(1))
  .describe("tool name → shorter or collision-free name, e.g. '@github/get_issues': github_issues");

/** `extensions.q-cli` of an agent: fields only Q CLI has. */
export const QCliExtension = z.strictObject({
  useLegacyMcpJson: z.boolean().optional().describe("also load the servers of ~/.aws/amazonq/mcp.json and .amazonq/mcp.json"),
  toolAliases: ToolAliases.optional(),
  resources: z
    .array(z.string().regex(/^file:\/\/./, "must be a file:// URI such as file://README.md"))
    .optional()
    .describe("extra files always loaded into context (relative paths resolve against the chat's working folder)"),
});
export type QCliExtension = z.infer<typeof QCliExtension>;

/** Reads `extensions.<id>` with its schema; an invalid one is reported and left out. */
export function extensionOf<T extends z.ZodType>(agent: ResolvedAgent, d: AgentDialect, schema: T, warnings: Diagnostic[]): z.infer<T> | undefined {
  const raw = agent.extensions[d.target];
  if (raw === undefined) return undefined;
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  warnings.push({
    severity: "warning",
    code: "invalid-extension",
    message: `extensions.${d.target} of agent '${agent.name}' is invalid (${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}); it is left out`,
    file: agent.sourceFile,
  });
  return undefined;
}

export const qCliAdapter: Adapter = withLargeContext({
  id: "q-cli",
  displayName: Q_DIALECT.displayName,
  description: "Amazon Q Developer CLI custom agents (JSON, Q 1.13-1.19; end-of-life, succeeded by Kiro CLI)",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations: (roots) => [roots.scope === "user" ? join(roots.homeDir, Q_DIALECT.userDir) : join(roots.projectRoot, Q_DIALECT.projectDir)],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "yes",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "yes",
    "tools-deny": "partial",
    "tool-settings": "partial",
    hooks: "yes",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: QCliExtension,
  render: (agents, ctx) => {
    const warnings: Diagnostic[] = [];
    const result = renderAgentFiles(agents, ctx, Q_DIALECT, (agent): AgentExtras => {
      const ext = extensionOf(agent, Q_DIALECT, QCliExtension, warnings);
      const extras: AgentExtras = {};
      if (ext?.toolAliases) extras.toolAliases = ext.toolAliases;
      if (ext?.resources) extras.resources = ext.resources;
      if (ext?.useLegacyMcpJson !== undefined) extras.beforeModel = [["useLegacyMcpJson", ext.useLegacyMcpJson]];
      return extras;
    });
    return { files: result.files, warnings: [...warnings, ...result.warnings] };
  },
  parse: (src, roots) => parseAgentFiles(src, roots, Q_DIALECT, { keys: { useLegacyMcpJson: (v) => typeof v === "boolean" } }),
  detect: detectQ,
  // A session runs as one agent (--agent); its prompt is what aicfg writes that the tool always loads.
  // One folder or file set per agent, nothing shared: each agent is rendered (and cached) on its own.
  split: "agent",
  budget: { ...CLAUDE_WINDOW, per: "agent" },
  largeContext: {
    strategies: ["index"],
    source: "resources load at session start (aws/amazon-q-developer-cli: docs/agent-format.md); fs_read opens the files the index lists",
  },
  limitations: [
    "Amazon Q Developer CLI is end-of-life (maintenance only since November 2025); prefer the kiro-cli target.",
    "No grep, glob, web_fetch or web_search tools: such tools.allow entries, toolSettings.web_fetch and hooks matching them are left out with a warning.",
    "tools.deny is expressed by listing the tools that remain: Q tools outside the universal vocabulary (introspect, report_issue) and servers from the legacy mcp.json are then hidden too.",
    "Denying one tool of an MCP server while allowing the rest cannot be expressed (warned).",
    "Always-on knowledge is written as file:// resources, which load at session start; on-demand knowledge (and always-on knowledge over the budget) is an index in the prompt that points to the library's files.",
    "Q resolves a relative file:// resource against the folder the chat runs in (start it at the project root): when the library and the project share a folder other than the home folder or /, project-scope agents name library files relative to the project root, so moving both together keeps them valid. Otherwise, and always in user scope (a user-wide agent runs from any folder), they are ~/path or absolute.",
    "MCP env and header values use Q's ${env:VAR}; Q does not expand variables in command, args or url, so such servers are left out (warned). Header substitution needs a Q/Kiro release whose MCP client expands headers.",
    "shell allowedCommands/deniedCommands are regular expressions anchored at both ends in Q.",
    "SSE MCP servers, server cwd and includeTools/excludeTools have no Q equivalent (warned).",
  ],
});
