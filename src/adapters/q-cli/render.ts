// Renders one resolved agent as a Q CLI / Kiro CLI agent JSON file (`<agents dir>/<name>.json`):
// only keys the tool accepts, in a fixed order, two-space JSON with a final newline.
import { join } from "node:path";
import { HOOK_ORDER, jsonFile, unsupported } from "../common.ts";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import { safeName } from "../../library/paths.ts";
import type { HookEvent } from "../../library/schema.ts";
import { portableRef } from "../refs.ts";
import type { OutputFile, RenderResult, Roots } from "../types.ts";
import type { AgentDialect } from "./dialect.ts";
import { mapMcpServers } from "./mcp.ts";
import { mapMatcher, mapToolPolicy, mapToolSettings } from "./tools.ts";

/** Universal hook events → the tools' trigger names (docs/hooks.md; postToolUse 1.16.2, stop 1.18.0). */
export const HOOK_NAMES: Record<HookEvent, string> = {
  sessionStart: "agentSpawn",
  promptSubmit: "userPromptSubmit",
  beforeTool: "preToolUse",
  afterTool: "postToolUse",
  stop: "stop",
};

/** What an adapter adds from `extensions.<id>` (already validated by its extension schema). */
export type AgentExtras = {
  toolAliases?: Record<string, string>;
  /** Extra resource URIs, written after the knowledge files. */
  resources?: string[];
  /** Tool-specific keys written after `hooks` and before `model`, in this order. */
  beforeModel?: [string, unknown][];
  /** Tool-specific keys written after `model`, in this order. */
  afterModel?: [string, unknown][];
};

function agentsDir(roots: Roots, d: AgentDialect): string {
  return roots.scope === "user" ? join(roots.homeDir, d.userDir) : join(roots.projectRoot, d.projectDir);
}

function renderHooks(agent: ResolvedAgent, d: AgentDialect, warnings: Diagnostic[]): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const event of HOOK_ORDER) {
    const hooks = agent.hooks[event];
    if (!hooks?.length) continue;
    const toolEvent = event === "beforeTool" || event === "afterTool";
    const list: Record<string, unknown>[] = [];
    for (const h of hooks) {
      // Hook objects are snake_case in both tools (crates/chat-cli/src/cli/agent/hook.rs).
      const o: Record<string, unknown> = { command: h.command };
      if (h.matcher !== undefined) {
        if (!toolEvent) {
          warnings.push(
            unsupported(
              d.displayName,
              agent,
              `a matcher on a ${event} hook`,
              `${d.displayName} matches tools only in preToolUse/postToolUse hooks; the hook runs for every ${HOOK_NAMES[event]}`,
            ),
          );
        } else {
          const m = mapMatcher(h.matcher, d);
          if ("missing" in m) {
            warnings.push(
              unsupported(
                d.displayName,
                agent,
                `the ${event} hook that matches ${m.missing}`,
                `${d.displayName} has no ${m.missing} tool, so the hook could never run`,
              ),
            );
            continue;
          }
          o.matcher = m.value;
        }
      }
      if (h.timeout !== undefined) o.timeout_ms = h.timeout;
      list.push(o);
    }
    if (list.length) out[HOOK_NAMES[event]] = list;
  }
  return out;
}

/** The agent JSON object, in the key order of the tools' own examples. */
function renderAgentJson(
  agent: ResolvedAgent,
  d: AgentDialect,
  roots: Roots,
  extras: AgentExtras = {},
): { json: Record<string, unknown>; secret: boolean; warnings: Diagnostic[]; loadsBytes: number } {
  const warnings: Diagnostic[] = [];
  const mcp = mapMcpServers(agent, d);
  warnings.push(...mcp.warnings);
  const policy = mapToolPolicy(agent, d, Object.keys(mcp.servers), mcp.trusted);
  warnings.push(...policy.warnings);
  const settings = mapToolSettings(agent, d);
  warnings.push(...settings.warnings);

  const resources: string[] = [];
  let loadsBytes = 0;
  // On-demand knowledge never gets here: the large-context planner (fallback.ts) lists it in the
  // prompt as an index, since both tools load every resource at session start.
  for (const k of agent.knowledge) {
    // Both tools join a relative resource onto the chat's working folder (the project root for a
    // workspace agent), expand `~` and keep `/abs`: see refs.ts.
    if (k.mode === "always") {
      resources.push(`file://${portableRef(k.absPath, roots, "cwd")}`);
      loadsBytes += k.size;
    }
  }
  for (const r of extras.resources ?? []) if (!resources.includes(r)) resources.push(r);
  const hooks = renderHooks(agent, d, warnings);

  const json: Record<string, unknown> = {};
  if (d.schemaUrl) json.$schema = d.schemaUrl;
  json.name = agent.name;
  json.description = agent.description;
  json.prompt = agent.instructions;
  if (Object.keys(mcp.servers).length) json.mcpServers = mcp.servers;
  json.tools = policy.tools;
  if (extras.toolAliases && Object.keys(extras.toolAliases).length) json.toolAliases = extras.toolAliases;
  json.allowedTools = policy.allowedTools;
  if (Object.keys(settings.settings).length) json.toolsSettings = settings.settings;
  if (resources.length) json.resources = resources;
  if (Object.keys(hooks).length) json.hooks = hooks;
  for (const [k, v] of extras.beforeModel ?? []) json[k] = v;
  const model = modelFor(agent, d.target);
  if (model !== undefined) json.model = model;
  for (const [k, v] of extras.afterModel ?? []) json[k] = v;
  return { json, secret: mcp.secret, warnings, loadsBytes };
}

/** One file per agent under the scope's agents folder. */
export function renderAgentFiles(agents: readonly ResolvedAgent[], roots: Roots, d: AgentDialect, extrasOf: (a: ResolvedAgent) => AgentExtras): RenderResult {
  const files: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  const dir = agentsDir(roots, d);
  for (const agent of agents) {
    const r = renderAgentJson(agent, d, roots, extrasOf(agent));
    warnings.push(...r.warnings);
    const file: OutputFile = {
      kind: "file",
      path: join(dir, `${safeName(agent.name, "agent name")}.json`),
      content: jsonFile(r.json),
      agent: agent.name,
      alwaysLoaded: true,
    };
    // The resources load with the agent at session start: their size counts against the budget too.
    if (r.loadsBytes) file.loadsBytes = r.loadsBytes;
    if (r.secret) file.secret = true;
    files.push(file);
  }
  return { files, warnings };
}
