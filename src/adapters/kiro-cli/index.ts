// The Kiro CLI adapter: one agent JSON file per agent in `.kiro/agents/` (project) or
// `~/.kiro/agents/` (user), in the 2.x format that Kiro CLI 2.x and 3.x both read.
import { join } from "node:path";
import { CLAUDE_WINDOW } from "../budget.ts";
import { z } from "zod";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { Adapter } from "../types.ts";
import { extensionOf } from "../q-cli/index.ts";
import { parseAgentFiles } from "../q-cli/parse.ts";
import { renderAgentFiles, type AgentExtras } from "../q-cli/render.ts";
import { detectKiro } from "./detect.ts";
import { KIRO_DIALECT } from "./dialect.ts";
import { withLargeContext } from "../fallback.ts";
import { ALL_ENV_REFS } from "../secrets.ts";

/** `extensions.kiro-cli` of an agent: fields only Kiro CLI has. */
export const KiroCliExtension = z.strictObject({
  welcomeMessage: z.string().min(1).optional().describe("shown when the user switches to this agent"),
  keyboardShortcut: z
    .string()
    .regex(/^(?:(?:ctrl|shift|alt|cmd|option|meta)\+)+[a-z0-9]$/, "must be modifiers and one key joined by '+', e.g. ctrl+shift+a")
    .optional()
    .describe("switches to this agent, e.g. ctrl+shift+a"),
  includeMcpJson: z.boolean().optional().describe("also load the servers of ~/.kiro/settings/mcp.json and .kiro/settings/mcp.json"),
  toolAliases: z.record(z.string().min(1), z.string().min(1)).optional().describe("tool name → new name, e.g. '@github/get_issues': github_issues"),
  resources: z
    .array(z.string().regex(/^(?:file|skill):\/\/./, "must be a file:// or skill:// URI"))
    .optional()
    .describe("extra file:// (always loaded) or skill:// (loaded on demand) resources"),
});
export type KiroCliExtension = z.infer<typeof KiroCliExtension>;

export const kiroCliAdapter: Adapter = withLargeContext({
  id: "kiro-cli",
  displayName: KIRO_DIALECT.displayName,
  description: "Kiro CLI custom agents (JSON, the 2.x format that 2.x and 3.x read)",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations: (roots) => [join(roots.scope === "user" ? roots.homeDir : roots.projectRoot, KIRO_DIALECT.projectDir)],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "yes",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "yes",
    "tools-deny": "partial",
    "tool-settings": "yes",
    hooks: "yes",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: KiroCliExtension,
  render: (agents, ctx) => {
    const warnings: Diagnostic[] = [];
    const result = renderAgentFiles(agents, ctx, KIRO_DIALECT, (agent): AgentExtras => {
      const ext = extensionOf(agent, KIRO_DIALECT, KiroCliExtension, warnings);
      const extras: AgentExtras = {};
      if (ext?.toolAliases) extras.toolAliases = ext.toolAliases;
      if (ext?.resources) extras.resources = ext.resources;
      if (ext?.includeMcpJson !== undefined) extras.beforeModel = [["includeMcpJson", ext.includeMcpJson]];
      const after: [string, unknown][] = [];
      if (ext?.keyboardShortcut !== undefined) after.push(["keyboardShortcut", ext.keyboardShortcut]);
      if (ext?.welcomeMessage !== undefined) after.push(["welcomeMessage", ext.welcomeMessage]);
      if (after.length) extras.afterModel = after;
      return extras;
    });
    return { files: result.files, warnings: [...warnings, ...result.warnings] };
  },
  parse: (src, roots) =>
    parseAgentFiles(src, roots, KIRO_DIALECT, {
      keys: {
        includeMcpJson: (v) => typeof v === "boolean",
        welcomeMessage: (v) => typeof v === "string" && v.length > 0,
        keyboardShortcut: (v) => KiroCliExtension.shape.keyboardShortcut.safeParse(v).success,
      },
    }),
  detect: detectKiro,
  // A session runs as one agent (--agent); its prompt is what aicfg writes that the tool always loads.
  // One folder or file set per agent, nothing shared: each agent is rendered (and cached) on its own.
  split: "agent",
  budget: { ...CLAUDE_WINDOW, per: "agent" },
  largeContext: {
    strategies: ["index"],
    source:
      "file:// resources load at session start (kiro.dev/docs/cli/custom-agents/configuration-reference); the read tool opens the files the index lists (skill:// resources are not written by aicfg)",
  },
  limitations: [
    "Writes the 2.x JSON agent format; Kiro CLI 3.x reads it, but its v3 harness takes hooks from .kiro/hooks/ and permissions from `permissions` rules, which are not generated.",
    "Since Kiro CLI 2.4 a ${VAR} in MCP env/headers is expanded only for variables listed in kiroAgent.mcpApprovedEnvVars of ~/.kiro/settings/cli.json (otherwise the server sees the literal text).",
    "Kiro does not expand variables in command, args or url: such MCP servers are left out (warned).",
    "tools.deny is expressed by listing the tools that remain: Kiro tools outside the universal vocabulary (code, introspect) and servers from mcp.json files are then hidden too.",
    "Denying one tool of an MCP server while allowing the rest cannot be expressed (warned).",
    "Always-on knowledge is written as file:// resources, which load at session start; on-demand knowledge (and always-on knowledge over the budget) is an index in the prompt that points to the library's files.",
    "Kiro resolves a relative file:// resource against the folder the chat runs in (start it at the project root): when the library and the project share a folder other than the home folder or /, project-scope agents name library files relative to the project root, so moving both together keeps them valid. Otherwise, and always in user scope (a user-wide agent runs from any folder), they are ~/path or absolute.",
    "toolSettings.web_fetch domains become URL regexes in web_fetch trusted/blocked.",
    "SSE MCP servers, server cwd and includeTools/excludeTools have no Kiro equivalent (warned).",
  ],
});
