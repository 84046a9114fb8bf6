// The ChatGPT adapter: per agent a custom GPT bundle to create by hand (chatgpt/<name>/) and an
// OpenAI plugin (chatgpt/plugins/<name>/) that ChatGPT and Codex install. ChatGPT is a web app, so
// there is nothing to parse back and detection only explains where the bundles go.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import { unsupported, usedHookEvents } from "../common.ts";
import type { Adapter, Detection, DetectEnv, OutputFile, RenderContext, RenderResult, Roots } from "../types.ts";
import { ChatgptExtension, GPT_INSTRUCTIONS_MAX_CHARS, GPT_KNOWLEDGE_MAX_FILES, gptUploads, pluginName, renderGpt, TARGET } from "./gpt.ts";
import { referencesDir, renderPlugin } from "./plugin.ts";
import { withLargeContext } from "../fallback.ts";

function chatgptDir(roots: Pick<Roots, "projectRoot">): string {
  return join(roots.projectRoot, "chatgpt");
}

/** Warns about what neither the GPT nor the plugin can hold; returns the lines for the README. */
function leftOut(agent: ResolvedAgent, warnings: Diagnostic[]): string[] {
  const left: string[] = [];
  const servers = Object.keys(agent.mcpServers).sort();
  if (servers.length) {
    warnings.push(
      unsupported(
        TARGET,
        agent,
        `MCP servers (${servers.join(", ")}) in the custom GPT`,
        `GPTs take OpenAPI Actions, not MCP; the plugin in chatgpt/plugins/${pluginName(agent.name)}/ carries them in .mcp.json`,
      ),
    );
    left.push(`MCP servers ${servers.join(", ")} (the plugin carries them)`);
  }
  const t = agent.tools;
  if (t.allow?.length || t.deny?.length || t.trusted?.length) {
    warnings.push(
      unsupported(
        TARGET,
        agent,
        "tool permissions (tools.allow / deny / trusted)",
        "only the GPT capabilities follow them: web search <- web_search, canvas <- write, code interpreter <- shell",
      ),
    );
    left.push("tool permissions (only the capabilities follow them)");
  }
  if (Object.keys(agent.toolSettings).length) {
    warnings.push(unsupported(TARGET, agent, "toolSettings (allowed paths and commands)"));
    left.push("toolSettings");
  }
  const hooks = usedHookEvents(agent);
  if (hooks.length) {
    warnings.push(unsupported(TARGET, agent, `hooks (${hooks.join(", ")})`));
    left.push(`hooks (${hooks.join(", ")})`);
  }
  const model = modelFor(agent, TARGET);
  if (model) {
    warnings.push(unsupported(TARGET, agent, `a model choice (${model})`, "ChatGPT picks the model of a GPT or plugin itself"));
    left.push(`model ${model}`);
  }
  return left;
}

function renderChatgpt(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const files: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  const root = chatgptDir(ctx);
  for (const agent of [...agents].sort((a, b) => a.name.localeCompare(b.name))) {
    const left = leftOut(agent, warnings);
    const uploads = gptUploads(agent, ctx);
    // Past the GPT's 20 files the knowledge is merged into upload parts; when the plugin's references
    // are the same files (all knowledge on demand, as the large-context planner makes it), the parts
    // are written once, as the references, and the GPT's README points there.
    const shared = agent.knowledge.length > GPT_KNOWLEDGE_MAX_FILES && agent.knowledge.every((k) => k.mode === "on-demand");
    const uploadsAt = shared ? `../plugins/${referencesDir(agent)}` : "knowledge";
    files.push(...renderGpt(agent, ctx, join(root, agent.name), left, warnings, uploads, uploadsAt));
    files.push(...renderPlugin(agent, ctx, join(root, "plugins"), warnings, shared ? uploads : undefined));
  }
  return { files, warnings };
}

async function detectChatgpt(env: DetectEnv): Promise<Detection> {
  const notes = ["ChatGPT is a web app: nothing is installed locally; export writes bundles to add by hand (GPT) or install as a plugin"];
  const codex = env.which("codex");
  if (codex) notes.push(`Codex CLI found at ${codex}: it can install the plugins in chatgpt/plugins/ from a local marketplace`);
  return {
    installed: false,
    configPaths: [],
    generation: "web",
    exportPaths: { project: [chatgptDir(env)], user: [] },
    notes,
    nextSteps: ["aicfg export --target chatgpt, then follow chatgpt/<agent>/README.md (GPT) or add chatgpt/plugins/<agent>/ to a plugin marketplace"],
  };
}

export const chatgptAdapter: Adapter = withLargeContext({
  id: TARGET,
  displayName: "ChatGPT (custom GPTs and OpenAI plugins)",
  description: "A custom GPT bundle with manual steps, and an OpenAI plugin (skill + MCP servers) for ChatGPT and Codex, per agent",
  scopes: ["project"],
  locations: (roots: Roots) => [chatgptDir(roots)],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "partial",
    "knowledge-on-demand": "yes",
    "mcp-stdio": "partial",
    "mcp-http": "partial",
    "tools-allow": "partial",
    "tools-deny": "partial",
    "tool-settings": "no",
    hooks: "no",
    model: "no",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  extensionSchema: ChatgptExtension,
  render: renderChatgpt,
  detect: detectChatgpt,
  // Each agent is one GPT: its instructions are in every chat; knowledge files are searched.
  // One folder or file set per agent, nothing shared: each agent is rendered (and cached) on its own.
  split: "agent",
  budget: {
    max: GPT_INSTRUCTIONS_MAX_CHARS,
    unit: "chars",
    per: "agent",
    model: "openai",
    source: "custom GPT instructions, 8,000 characters [2nd] (tool-formats.md §4)",
  },
  largeContext: {
    strategies: ["knowledge-folder"],
    source:
      "GPT knowledge files are searched, not loaded whole (help.openai.com, Knowledge in GPTs [2nd]); the plugin's skill ships references/ read on activation (agentskills.io)",
  },
  limitations: [
    "ChatGPT has no API or import format for GPTs: the bundle in chatgpt/<agent>/ is created by hand following its README.md; nothing can be read back.",
    "New GPTs can be created only on Business, Enterprise and Edu plans and OpenAI plans to retire GPTs; the plugin in chatgpt/plugins/<agent>/ is the installable form.",
    "GPT knowledge is retrieval only: always-on knowledge is uploaded and the instructions tell the GPT to always follow it. The plugin's skill inlines always-on knowledge and ships on-demand knowledge as references/.",
    "GPTs cannot use MCP servers (only OpenAPI Actions, not generated); the plugin's .mcp.json carries them without timeout, autoApprove, include/excludeTools, oauth or disabled, and with ${VAR} written as is.",
    "Tool permissions only drive the GPT capabilities (web search <- web_search, canvas <- write, code interpreter <- shell; image generation off) unless extensions.chatgpt.capabilities sets them.",
    "Knowledge is copied into the bundle (a GPT and a plugin need the files in their own folders): past the GPT's 20 files it is merged into at most 20 upload parts, each library file under a `# knowledge/<path>` heading, and the instructions say to search the knowledge instead of naming every file. When all of it is on demand (a library too large to load), the parts are written once, as the plugin's references/, and the GPT's README names them there.",
    "Limits checked: GPT instructions 8,000 characters, 20 knowledge files, 512 MB per file (secondary sources), 4 conversation starters shown; Agent Skills name 64 and description 1,024 characters.",
    "Project scope only: the bundles are written under <project>/chatgpt/.",
  ],
});
