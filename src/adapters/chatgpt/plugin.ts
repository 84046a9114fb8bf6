// The OpenAI plugin of one agent, the 2026 layout ChatGPT and Codex both read:
// `.codex-plugin/plugin.json`, the instructions as an Agent Skill, on-demand knowledge as the
// skill's references, and the agent's MCP servers in `.mcp.json`.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import type { McpServer } from "../../library/schema.ts";
import { hasEnvRef, isRemote, jsonFile, limitExceeded, renderFrontmatter, unsupported } from "../common.ts";
import type { OutputFile, RenderContext } from "../types.ts";
import { extensionOf, pluginName, TARGET, type Upload } from "./gpt.ts";

/** Agent Skills spec (agentskills.io): name 1-64 characters, description 1-1024. */
const SKILL_NAME_MAX = 64;
const SKILL_DESCRIPTION_MAX = 1024;

function pluginServer(s: McpServer): Record<string, unknown> {
  if (isRemote(s)) {
    return { type: s.type === "sse" ? "sse" : "http", url: s.url, ...(s.headers && Object.keys(s.headers).length ? { headers: { ...s.headers } } : {}) };
  }
  return {
    command: s.command,
    ...(s.args?.length ? { args: [...s.args] } : {}),
    ...(s.env && Object.keys(s.env).length ? { env: { ...s.env } } : {}),
    ...(s.cwd !== undefined ? { cwd: s.cwd } : {}),
  };
}

function literalIn(rec: Record<string, string> | undefined): boolean {
  return Object.values(rec ?? {}).some((v) => v.length > 0 && !hasEnvRef(v));
}

function skillBody(agent: ResolvedAgent, ctx: RenderContext, merged: readonly Upload[] | undefined): string {
  const parts = [agent.instructions.replace(/\s+$/, "")];
  for (const k of agent.knowledge.filter((x) => x.mode === "always"))
    parts.push(`## Knowledge: ${k.path}\n\n${ctx.readKnowledge(k.absPath).replace(/\s+$/, "")}`);
  const onDemand = agent.knowledge.filter((x) => x.mode === "on-demand");
  if (onDemand.length && merged)
    parts.push(
      `## More knowledge\n\nThe ${onDemand.length.toLocaleString("en-US")} library files are merged into these references, each file under a \`# knowledge/<path>\` heading; search them for the topic of the task and read the sections you need:\n\n${merged.map((u) => `- [${u.name}](references/${u.name})`).join("\n")}`,
    );
  else if (onDemand.length)
    parts.push(
      `## More knowledge\n\nRead these files when they are relevant to the task:\n\n${onDemand.map((k) => `- [${k.path}](references/${k.path})`).join("\n")}`,
    );
  return parts.join("\n\n") + "\n";
}

/** The folder of the plugin's references, relative to the plugins folder. */
export function referencesDir(agent: ResolvedAgent): string {
  const name = pluginName(agent.name);
  return join(name, "skills", name, "references");
}

/**
 * `merged`: the GPT's upload parts, which then are the references too (one copy of a large library
 * instead of one per file and product).
 */
export function renderPlugin(agent: ResolvedAgent, ctx: RenderContext, pluginsDir: string, warnings: Diagnostic[], merged?: readonly Upload[]): OutputFile[] {
  const name = pluginName(agent.name);
  const dir = join(pluginsDir, name);
  const files: OutputFile[] = [];
  if (name !== agent.name) {
    warnings.push({
      severity: "warning",
      code: "renamed",
      message: `chatgpt: agent '${agent.name}' is written as plugin and skill '${name}' (plugin and skill names are kebab-case)`,
      file: agent.sourceFile,
    });
  }
  if (name.length > SKILL_NAME_MAX)
    warnings.push(limitExceeded(TARGET, agent, `the skill name is ${name.length} characters, over the Agent Skills limit of ${SKILL_NAME_MAX}`));
  if (agent.description.length > SKILL_DESCRIPTION_MAX) {
    warnings.push(
      limitExceeded(TARGET, agent, `the description is ${agent.description.length} characters, over the Agent Skills limit of ${SKILL_DESCRIPTION_MAX}`),
    );
  }
  const ext = extensionOf(agent);
  const servers = Object.keys(agent.mcpServers).sort();
  const iface: Record<string, unknown> = { displayName: agent.displayName ?? agent.name, shortDescription: agent.description.replace(/\s+/g, " ").trim() };
  const starter = ext.conversationStarters?.[0];
  if (starter) iface.defaultPrompt = starter;
  const manifest: Record<string, unknown> = {
    name,
    version: ext.version ?? "1.0.0",
    description: agent.description,
    skills: "./skills/",
    ...(servers.length ? { mcpServers: "./.mcp.json" } : {}),
    interface: iface,
  };
  files.push({ kind: "file", path: join(dir, ".codex-plugin", "plugin.json"), content: jsonFile(manifest), agent: agent.name });
  const skillDir = join(dir, "skills", name);
  files.push({
    kind: "file",
    path: join(skillDir, "SKILL.md"),
    content: renderFrontmatter({ name, description: agent.description }, skillBody(agent, ctx, merged)),
    agent: agent.name,
  });
  if (merged) for (const u of merged) files.push({ kind: "file", path: join(skillDir, "references", u.name), content: u.content, agent: agent.name });
  else
    for (const k of agent.knowledge.filter((x) => x.mode === "on-demand")) {
      files.push({ kind: "file", path: join(skillDir, "references", k.path), content: ctx.readKnowledge(k.absPath), agent: agent.name });
    }
  if (servers.length) {
    const mcp: Record<string, unknown> = {};
    let secret = false;
    for (const n of servers) {
      const s = agent.mcpServers[n]!;
      const lost = (what: string): void => void warnings.push(unsupported(TARGET, agent, `${what} of MCP server '${n}' (in the plugin's .mcp.json)`));
      if (s.timeout !== undefined) lost("timeout");
      if (s.disabled) lost("disabled");
      if (s.autoApprove?.length) lost("autoApprove");
      if (s.includeTools?.length || s.excludeTools?.length) lost("includeTools / excludeTools");
      if (s.oauth) lost("oauth settings");
      mcp[n] = pluginServer(s);
      secret ||= literalIn(s.env) || literalIn(s.headers);
    }
    files.push({ kind: "file", path: join(dir, ".mcp.json"), content: jsonFile({ mcpServers: mcp }), agent: agent.name, ...(secret ? { secret: true } : {}) });
  }
  return files;
}
