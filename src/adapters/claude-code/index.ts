// The Claude Code adapter: sub-agents in .claude/agents, MCP servers in .mcp.json (~/.claude.json
// for user scope), always-on knowledge as CLAUDE.md @imports, permission rules in settings.json.
import { findBinary } from "../detect-env.ts";
import { CLAUDE_WINDOW } from "../budget.ts";
import type { Adapter, Detection, DetectEnv, Roots } from "../types.ts";
import { ClaudeCodeExtension, TARGET } from "./names.ts";
import { parseClaudeCode } from "./parse.ts";
import { claudePaths } from "./paths.ts";
import { renderClaudeCode } from "./render.ts";
import { withLargeContext } from "../fallback.ts";
import { ALL_ENV_REFS } from "../secrets.ts";

function locations(roots: Roots): string[] {
  const p = claudePaths(roots);
  return [p.claudeDir, p.mcp, p.memory];
}

async function detect(env: DetectEnv): Promise<Detection> {
  const found = await findBinary(env, ["claude"]);
  const bin = found?.path;
  const version = found?.version;
  const project = claudePaths({ scope: "project", projectRoot: env.projectRoot, homeDir: env.homeDir });
  const user = claudePaths({ scope: "user", projectRoot: env.projectRoot, homeDir: env.homeDir });
  const configPaths = [user.claudeDir, user.mcp, project.claudeDir, project.mcp, project.memory].map((path) => ({ path, exists: env.exists(path) }));
  const notes: string[] = [];
  const nextSteps: string[] = [];
  if (!bin) {
    if (env.exists(user.claudeDir) || env.exists(user.mcp))
      notes.push("~/.claude exists but the 'claude' binary is not on PATH (installed elsewhere, or only the IDE extension is used)");
    nextSteps.push("install Claude Code: npm install -g @anthropic-ai/claude-code (or the native installer from code.claude.com)");
  } else if (!version) notes.push(`'${bin} --version' gave no version number`);
  nextSteps.push(
    "run 'aicfg export --target claude-code', then '/agents' inside Claude Code to see the exported sub-agents",
    "approve the project MCP servers from .mcp.json when Claude Code asks (or list them in enabledMcpjsonServers)",
    "CLAUDE.md imports files from your library folder: approve the external imports the first time Claude Code asks",
  );
  const d: Detection = {
    installed: !!bin,
    configPaths,
    exportPaths: {
      project: [project.agentsDir, project.mcp, project.memory, project.rulesDir, project.settings],
      user: [user.agentsDir, user.mcp, user.memory, user.rulesDir, user.settings],
    },
    notes,
    nextSteps,
  };
  if (bin) d.binary = version ? { name: "claude", path: bin, version } : { name: "claude", path: bin };
  if (version) d.generation = `claude-code ${version}`;
  return d;
}

export const claudeCodeAdapter: Adapter = withLargeContext({
  id: TARGET,
  displayName: "Claude Code",
  description: "Anthropic's coding agent CLI: sub-agents in .claude/agents, MCP in .mcp.json, CLAUDE.md memory",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations,
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "partial",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "yes",
    "tools-deny": "yes",
    "tool-settings": "partial",
    hooks: "yes",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: ClaudeCodeExtension,
  render: renderClaudeCode,
  parse: parseClaudeCode,
  detect,
  // CLAUDE.md is loaded at every start; subagents, skills and path-scoped rules load on demand.
  budget: CLAUDE_WINDOW,
  largeContext: {
    strategies: ["on-demand-rules", "index"],
    globRules: ["project", "user"],
    source: "CLAUDE.md @imports load at launch (memory.md); a sub-agent opens the files its prompt lists with the Read tool (sub-agents.md)",
  },
  limitations: [
    "always-on knowledge is @imported from CLAUDE.md, which Claude Code loads for the main session and every sub-agent, not only for the agents that name it",
    "library files are named relative to CLAUDE.md (imports) or the project root (Read lists) when the library and the project share a folder, so moving both together keeps them valid; in user scope, or with no shared folder, they are ~/path or absolute, and Claude Code asks once before it follows an import outside the project",
    "on-demand knowledge becomes a .claude/rules file when the knowledge file has applyTo globs, otherwise a list of paths in the agent's prompt that it reads with the Read tool; past 1 MiB of glob-scoped files together (copies in .claude/rules), they go into the index with their globs instead",
    "trusted tools and tool settings become permission rules in settings.json, which apply to the whole project (Claude Code has no per-sub-agent rules); aicfg owns permissions.allow and permissions.deny there, so keep your own rules in .claude/settings.local.json (Claude Code merges the arrays of all settings files)",
    "MCP servers are shared by every session of the project; two agents cannot use different servers of the same name",
    "models: claude-sonnet-*/opus-*/haiku-* become the aliases sonnet/opus/haiku (latest version); models of other vendors are left out",
    "hook timeouts are rounded up to whole seconds",
    "library ignore patterns are not written: Claude Code has no ignore file, and permissions.deny in .claude/settings.json is owned by this target; the export warning prints ready-to-paste Read(...) rules for .claude/settings.local.json",
  ],
});
