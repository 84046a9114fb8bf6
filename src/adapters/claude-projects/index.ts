// The Claude.ai Projects adapter. Projects are a web feature without an API, so the export is an
// upload bundle per agent (instructions, knowledge, checklist, ZIPs) that a person uploads by hand.
import type { Adapter, Detection, DetectEnv } from "../types.ts";
import { CLAUDE_WINDOW } from "../budget.ts";
import { TARGET, bundleRoot, renderClaudeProjects } from "./bundle.ts";
import { withLargeContext } from "../fallback.ts";

async function detect(env: DetectEnv): Promise<Detection> {
  const project = bundleRoot({ scope: "project", projectRoot: env.projectRoot, homeDir: env.homeDir });
  const user = bundleRoot({ scope: "user", projectRoot: env.projectRoot, homeDir: env.homeDir });
  return {
    // Nothing runs locally: "installed" stays false, the generation says where the tool lives.
    installed: false,
    generation: "web: claude.ai",
    configPaths: [project, user].map((path) => ({ path, exists: env.exists(path) })),
    exportPaths: { project: [project], user: [user] },
    notes: ["web: claude.ai (nothing to install); Claude.ai projects have no API, so aicfg writes upload bundles"],
    nextSteps: [
      `after 'aicfg export --target claude-projects', open https://claude.ai/projects and follow README.md in each folder under ${project} (project scope) or ${user} (user scope)`,
    ],
  };
}

export const claudeProjectsAdapter: Adapter = withLargeContext({
  id: TARGET,
  displayName: "Claude.ai Projects",
  description: "Claude.ai web projects: an upload bundle per agent (instructions, knowledge files, checklist, ZIP, skill ZIP)",
  scopes: ["project", "user"],
  locations: (roots) => [bundleRoot(roots)],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "partial",
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
  render: renderClaudeProjects,
  detect,
  // Each agent is one project: its instructions are in every chat of it; knowledge is retrieved (RAG) once large.
  // One folder or file set per agent, nothing shared: each agent is rendered (and cached) on its own.
  split: "agent",
  budget: {
    ...CLAUDE_WINDOW,
    per: "agent",
    source: "no documented limit for project instructions; the Claude context window, 200K tokens (support.claude.com 8241126)",
  },
  largeContext: {
    strategies: ["knowledge-folder"],
    source: "project knowledge is searched (RAG) once it is larger than the context (support.claude.com 11473015)",
  },
  limitations: [
    "no API: every export must be uploaded by hand, following the README.md checklist of each bundle",
    "always-on and on-demand knowledge both become project knowledge; claude.ai decides what it reads (RAG beyond about 200k tokens)",
    "project files are uploaded flat: knowledge files with the same name in two folders get the folder in their name (common--policies.md)",
    "MCP servers, tool permissions, tool settings, hooks and the model choice cannot be set on a web project and are left out with a warning",
    "the skill ZIP's description is cut to the 200 characters claude.ai allows",
    "files over 30 MB are left out; over about 8 MB in total a project is beyond even RAG capacity",
  ],
});
