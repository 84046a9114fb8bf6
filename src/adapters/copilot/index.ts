// The GitHub Copilot adapter (VS Code Copilot Chat, github.com cloud agent, Copilot CLI): custom
// agents, knowledge as instruction files, MCP servers, and an agent index in copilot-instructions.md.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { findBinary, parseVersion } from "../detect-env.ts";
import type { Adapter, Detection, DetectEnv, Roots } from "../types.ts";
import { parseCopilot } from "./parse.ts";
import { AGENT_BODY_MAX_CHARS, copilotPaths, renderCopilot, TARGET } from "./render.ts";
import { withLargeContext } from "../fallback.ts";
import { ALL_ENV_REFS } from "../secrets.ts";

const EXTENSION_DIRS = [".vscode/extensions", ".vscode-insiders/extensions", ".vscode-server/extensions"];
const EXTENSION_PREFIX = "github.copilot-chat-";

/** VS Code extension folders of Copilot Chat (`github.copilot-chat-<version>`), newest name last. */
function copilotChatExtensions(homeDir: string): string[] {
  const found: string[] = [];
  for (const rel of EXTENSION_DIRS) {
    const dir = join(homeDir, rel);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) if (n.toLowerCase().startsWith(EXTENSION_PREFIX)) found.push(join(dir, n));
  }
  return found;
}

function locationsOf(roots: Roots): string[] {
  const p = copilotPaths(roots);
  return [...(p.instructionsMd ? [p.instructionsMd] : []), p.instructionsDir, p.agentsDir, p.mcpFile];
}

async function detectCopilot(env: DetectEnv): Promise<Detection> {
  const notes: string[] = [];
  const nextSteps: string[] = [];
  const found = await findBinary(env, ["copilot"]);
  const binary: Detection["binary"] = found ? { name: found.name, path: found.path, ...(found.version ? { version: found.version } : {}) } : undefined;
  if (found && !found.version) notes.push(`'${found.path} --version' gave no version`);
  const home = join(env.homeDir, ".copilot");
  const configPaths = [home, join(home, "agents"), join(home, "mcp-config.json")].map((path) => ({ path, exists: env.exists(path) }));
  const extensions = copilotChatExtensions(env.homeDir);
  for (const e of extensions) notes.push(`VS Code extension found: ${e}`);
  const newest = extensions[extensions.length - 1];
  const extVersion = newest ? parseVersion(newest.slice(newest.toLowerCase().lastIndexOf(EXTENSION_PREFIX) + EXTENSION_PREFIX.length)) : undefined;
  const installed = !!found || configPaths[0]!.exists || extensions.length > 0;
  const generations: string[] = [];
  if (binary) generations.push(`copilot-cli${binary.version ? " " + binary.version : ""}`);
  if (extensions.length) generations.push(`copilot-chat${extVersion ? " " + extVersion : ""}`);
  if (!installed) nextSteps.push("install the GitHub Copilot Chat extension in VS Code, or Copilot CLI: npm install -g @github/copilot");
  if (extensions.length && !found)
    notes.push(
      "user-scope export writes ~/.copilot/ (Copilot CLI); VS Code reads user agents and MCP servers from its profile folder, which aicfg does not write",
    );
  return {
    installed,
    ...(binary ? { binary } : {}),
    configPaths,
    ...(generations.length ? { generation: generations.join(", ") } : {}),
    exportPaths: {
      project: locationsOf({ scope: "project", projectRoot: env.projectRoot, homeDir: env.homeDir }),
      user: locationsOf({ scope: "user", projectRoot: env.projectRoot, homeDir: env.homeDir }),
    },
    notes,
    nextSteps,
  };
}

export const copilotAdapter: Adapter = withLargeContext({
  id: TARGET,
  displayName: "GitHub Copilot",
  description: "Custom agents (.github/agents/*.agent.md), knowledge as .instructions.md files, MCP servers in .vscode/mcp.json",
  scopes: ["project", "user"],
  mcpEnvRefs: ALL_ENV_REFS,
  locations: locationsOf,
  capabilities: {
    instructions: "yes",
    "knowledge-always": "partial",
    "knowledge-on-demand": "partial",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "yes",
    "tools-deny": "partial",
    "tool-settings": "no",
    hooks: "no",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  render: renderCopilot,
  parse: parseCopilot,
  detect: detectCopilot,
  // The agent a session runs as, copilot-instructions.md and applyTo "**" instructions are always in context.
  // The documented 30,000 characters are for an agent file's body; it is applied to each always-loaded
  // file, frontmatter included (a few hundred characters, erring on the safe side).
  budget: {
    max: AGENT_BODY_MAX_CHARS,
    unit: "chars",
    per: "file",
    model: "various",
    source: "agent prompt body, 30,000 characters (github/docs custom-agents-configuration)",
  },
  largeContext: {
    strategies: ["on-demand-rules", "index"],
    globRules: ["project", "user"],
    source:
      "an instruction file without applyTo is not applied automatically; the agent body links it and the agent reads linked files (vscode-docs copilot-customization, github/docs custom-agents-configuration)",
  },
  limitations: [
    "Knowledge becomes one <agent>-<path>.instructions.md file per file: a knowledge file's own applyTo globs become its applyTo (comma-separated; past 1 MiB of such files together they are listed in the index with their globs instead of copied); without globs, always-on knowledge gets applyTo: \"**\" and then applies to every Copilot chat in the repository, not only to the agent; on-demand knowledge has no applyTo (not applied automatically) and is linked from the agent's body.",
    "Tools map to Copilot aliases (read, edit, search, execute, web, todo, agent, server/*). grep+glob share 'search' and web_fetch+web_search share 'web', so denying one of a pair removes both; aws, thinking and knowledge have no Copilot tool.",
    "Trusted tools, toolSettings and hooks are warned about and left out; MCP cwd, timeout, autoApprove, excludeTools, oauth and disabled servers too (VS Code's mcp.json documents type, command, args, env, envFile, url and headers only).",
    "MCP servers are written twice: in the agent file's mcp-servers (read by the github.com cloud agent and Copilot CLI, not by VS Code; ${VAR} kept as is) and, for VS Code, in .vscode/mcp.json under 'servers' with ${VAR} as ${env:VAR}. The cloud agent only resolves secrets and variables named COPILOT_MCP_*.",
    "User scope writes Copilot CLI's ~/.copilot/agents/, ~/.copilot/instructions/ and ~/.copilot/mcp-config.json (mcpServers with type local/http, tools; shape from a secondary source); VS Code's per-profile user folder is not written.",
    "Model ids are written as given: Copilot expects its display names (e.g. 'Claude Sonnet 4.5'); set model: {copilot: ...} in the agent.",
    "The agent prompt body is limited to 30,000 characters.",
    "Knowledge two agents share becomes two instruction files (one per agent); always-on ones then both apply to every chat.",
  ],
});
