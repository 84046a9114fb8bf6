// The OpenAI Codex CLI adapter: custom agents in `.codex/agents/*.toml`, MCP servers as
// `[mcp_servers.*]` tables in config.toml, and an index block in AGENTS.md.
import { join, resolve } from "node:path";
import { findBinary } from "../detect-env.ts";
import type { Adapter, Detection, DetectEnv, Roots } from "../types.ts";
import { parseCodex } from "./parse.ts";
import { CodexExtension, codexPaths, PROJECT_DOC_MAX_BYTES, renderCodex, TARGET } from "./render.ts";
import { withLargeContext } from "../fallback.ts";

async function detectCodex(env: DetectEnv): Promise<Detection> {
  const codexHome = env.env.CODEX_HOME ? resolve(env.env.CODEX_HOME) : join(env.homeDir, ".codex");
  const defaultHome = join(env.homeDir, ".codex");
  const notes: string[] = [];
  const nextSteps: string[] = [];
  const found = await findBinary(env, ["codex"]);
  const binary: Detection["binary"] = found ? { name: found.name, path: found.path, ...(found.version ? { version: found.version } : {}) } : undefined;
  if (found && !found.version) notes.push(`'${found.path} --version' gave no version`);
  const configPaths = [codexHome, join(codexHome, "config.toml"), join(codexHome, "agents"), join(codexHome, "AGENTS.md")].map((path) => ({
    path,
    exists: env.exists(path),
  }));
  const installed = !!found || configPaths[0]!.exists;
  if (env.env.CODEX_HOME && codexHome !== defaultHome) {
    notes.push(`CODEX_HOME is ${codexHome}; aicfg writes user-scope files to ${defaultHome}, which this Codex does not read`);
    nextSteps.push(`unset CODEX_HOME, or link ${defaultHome} to ${codexHome}`);
  }
  if (!installed) nextSteps.push("install Codex CLI: npm install -g @openai/codex (or brew install --cask codex)");
  notes.push("project-scope .codex/config.toml and AGENTS.md are read only in projects Codex trusts");
  const project = codexPaths({ scope: "project", projectRoot: env.projectRoot, homeDir: env.homeDir });
  const user = codexPaths({ scope: "user", projectRoot: env.projectRoot, homeDir: env.homeDir });
  return {
    installed,
    ...(binary ? { binary } : {}),
    configPaths,
    ...(binary?.version ? { generation: `codex-cli ${binary.version}` } : {}),
    exportPaths: {
      project: [project.agentsMd, project.agentsDir, project.configToml, project.knowledgeDir],
      user: [user.agentsMd, user.agentsDir, user.configToml, user.knowledgeDir],
    },
    notes,
    nextSteps,
  };
}

export const codexAdapter: Adapter = withLargeContext({
  id: TARGET,
  displayName: "OpenAI Codex CLI",
  description: "Custom agents (.codex/agents/*.toml), MCP servers in config.toml, an agent index in AGENTS.md",
  scopes: ["project", "user"],
  mcpEnvRefs: { env: "same-name", headers: "any" }, // env only as KEY=${KEY} (env_vars); headers via env_http_headers
  locations: (roots: Roots) => {
    const p = codexPaths(roots);
    return [p.agentsMd, p.agentsDir, p.configToml, p.knowledgeDir];
  },
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "partial",
    "mcp-stdio": "yes",
    "mcp-http": "yes",
    "tools-allow": "partial",
    "tools-deny": "partial",
    "tool-settings": "no",
    hooks: "no",
    model: "yes",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: CodexExtension,
  render: renderCodex,
  parse: parseCodex,
  detect: detectCodex,
  // AGENTS.md files are concatenated into every session; agents and knowledge under .codex/ load on demand.
  budget: {
    max: PROJECT_DOC_MAX_BYTES,
    unit: "bytes",
    per: "total",
    model: "openai",
    source: "project_doc_max_bytes, 32 KiB (developers.openai.com/codex/guides/agents-md)",
  },
  largeContext: {
    strategies: ["index"],
    source:
      "AGENTS.md files are concatenated into every session up to project_doc_max_bytes and Codex has no on-demand loading: the agent opens the files it is pointed to (developers.openai.com/codex/guides/agents-md)",
  },
  limitations: [
    "Tool permissions become only a sandbox_mode: read-only when neither write nor shell is allowed, else workspace-write (override with extensions.codex.sandbox_mode); per-tool allow/deny, trusted tools and toolSettings are warned about and left out.",
    "MCP servers go to config.toml, which every Codex session shares: they are not limited to the agent that names them, and two agents cannot give one server name different settings.",
    "MCP env values must be literal or exactly ${NAME} under the key NAME (written as env_vars); headers literal, exactly ${VAR} (env_http_headers) or 'Bearer ${VAR}' (bearer_token_env_var). Other ${VAR} uses are warned about and left out.",
    "MCP server names with characters other than letters, digits, '_' and '-' are renamed ('.' becomes '-').",
    "On-demand knowledge (and always-on knowledge over the 32 KiB budget) is listed in developer_instructions as an index of the library's own files for the agent to read; Codex has no on-demand loading of its own. Nothing is copied into .codex/.",
    "AGENTS.md gets an index of the agents and the always-on knowledge every exported agent shares; Codex reads at most 32 KiB of AGENTS.md files in total (project_doc_max_bytes).",
    "Hooks are not exported. User-scope files go to ~/.codex even when CODEX_HOME points elsewhere.",
  ],
});
