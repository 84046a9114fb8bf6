// The vocabulary Claude Code uses and how it maps to the universal model: tool names, model
// aliases, hook events and the `extensions.claude-code` fields. Pure tables and functions only.
import { z } from "zod";
import type { ResolvedAgent } from "../../library/model.ts";
import { modelFor } from "../../library/model.ts";
import type { BuiltinTool, HookEvent } from "../../library/schema.ts";

export const TARGET = "claude-code";

/**
 * Universal built-in tool -> Claude Code tool names (code.claude.com/docs/en/tools-reference,
 * permissions.md). `delegate` is `Agent`: Claude Code 2.1.63 renamed the `Task` tool to `Agent`
 * and keeps `Task` only as an alias. `aws`, `thinking` and `knowledge` have no Claude Code tool.
 */
export const CLAUDE_TOOLS: Record<BuiltinTool, readonly string[]> = {
  read: ["Read"],
  write: ["Edit", "Write"],
  shell: ["Bash"],
  grep: ["Grep"],
  glob: ["Glob"],
  web_fetch: ["WebFetch"],
  web_search: ["WebSearch"],
  todo: ["TodoWrite"],
  delegate: ["Agent"],
  aws: [],
  thinking: [],
  knowledge: [],
};

/** Claude Code tool name -> universal tool, for import (aliases and legacy names included). */
const FROM_CLAUDE_TOOL: Record<string, BuiltinTool> = {
  Read: "read",
  Edit: "write",
  Write: "write",
  MultiEdit: "write",
  NotebookEdit: "write",
  Bash: "shell",
  Grep: "grep",
  Glob: "glob",
  WebFetch: "web_fetch",
  WebSearch: "web_search",
  TodoWrite: "todo",
  Agent: "delegate",
  Task: "delegate",
};

/** Own-property lookups only: a tool named `constructor` in a user's file is not a built-in. */
export function fromClaudeTool(name: string): BuiltinTool | undefined {
  return Object.hasOwn(FROM_CLAUDE_TOOL, name) ? FROM_CLAUDE_TOOL[name] : undefined;
}

export function fromClaudeHookEvent(name: string): HookEvent | undefined {
  return Object.hasOwn(FROM_CLAUDE_HOOK_EVENT, name) ? FROM_CLAUDE_HOOK_EVENT[name] : undefined;
}

/** `@server` -> `mcp__server__*`, `@server/tool` -> `mcp__server__tool`. */
export function mcpToolName(server: string, tool?: string): string {
  return `mcp__${server}__${tool ?? "*"}`;
}

/** The reverse of mcpToolName; also accepts the bare `mcp__server` form of permission rules. */
export function parseMcpToolName(name: string): { server: string; tool?: string } | undefined {
  const m = /^mcp__([A-Za-z0-9][A-Za-z0-9._-]*?)(?:__(.+))?$/.exec(name);
  if (!m) return undefined;
  const tool = m[2];
  return tool === undefined || tool === "*" ? { server: m[1]! } : { server: m[1]!, tool };
}

/** Claude Code's model aliases (sub-agents.md: `sonnet|opus|haiku|fable|<full id>|inherit`). */
const MODEL_ALIASES = ["sonnet", "opus", "haiku", "fable", "inherit"] as const;

export type ModelChoice = { model?: string; dropped?: string };

/**
 * The `model:` of an agent file. A per-target entry (`model: {claude-code: ...}`) is taken as
 * written: the user chose it for this tool. A shared id is mapped: `claude-sonnet-*` -> `sonnet`,
 * `claude-opus-*` -> `opus`, `claude-haiku-*` -> `haiku`; an alias or another Claude/Anthropic id
 * (Bedrock and Vertex ids contain "claude") is kept; a model of another vendor is dropped, since
 * Claude Code cannot run it and the sub-agent would fail to start.
 */
export function claudeModel(agent: Pick<ResolvedAgent, "model">): ModelChoice {
  const m = agent.model;
  if (m === undefined) return {};
  if (typeof m !== "string" && m[TARGET] !== undefined) return { model: m[TARGET] };
  const id = modelFor(agent, TARGET);
  if (id === undefined) return {};
  const family = /^claude-(sonnet|opus|haiku)(?:-|$)/.exec(id);
  if (family) return { model: family[1]! };
  if ((MODEL_ALIASES as readonly string[]).includes(id) || /claude|anthropic/i.test(id)) return { model: id };
  return { dropped: id };
}

/** Universal hook events -> Claude Code events (hooks.md; `Stop` in agent frontmatter runs as SubagentStop). */
export const CLAUDE_HOOK_EVENTS: Record<HookEvent, string> = {
  sessionStart: "SessionStart",
  promptSubmit: "UserPromptSubmit",
  beforeTool: "PreToolUse",
  afterTool: "PostToolUse",
  stop: "Stop",
};

const FROM_CLAUDE_HOOK_EVENT: Record<string, HookEvent> = {
  SessionStart: "sessionStart",
  UserPromptSubmit: "promptSubmit",
  PreToolUse: "beforeTool",
  PostToolUse: "afterTool",
  Stop: "stop",
  SubagentStop: "stop",
};

/**
 * Fields only Claude Code sub-agents have (sub-agents.md), written as-is into the agent's
 * frontmatter. Strict: a misspelt key is an error, not a silently ignored line.
 */
export const ClaudeCodeExtension = z.strictObject({
  permissionMode: z.enum(["default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan", "manual"]).optional(),
  color: z.enum(["red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"]).optional(),
  maxTurns: z.number().int().positive().optional(),
  skills: z.array(z.string().min(1)).optional().describe("skills preloaded into the sub-agent"),
  memory: z.enum(["user", "project", "local"]).optional(),
  effort: z.enum(["low", "medium", "high", "xhigh", "max"]).optional(),
  background: z.boolean().optional(),
  isolation: z.enum(["worktree"]).optional(),
  initialPrompt: z.string().min(1).optional(),
});
export type ClaudeCodeExtension = z.infer<typeof ClaudeCodeExtension>;

/** Extension keys in the order they are written. */
export const EXTENSION_KEYS = Object.keys(ClaudeCodeExtension.shape) as (keyof ClaudeCodeExtension)[];

/**
 * Maps a universal hook matcher (`shell`, `write|read`, `@fetch`) to Claude Code tool names; a
 * token that is not universal (`Bash`, a regex) is passed through unchanged.
 */
export function claudeMatcher(matcher: string): string {
  if (matcher === "*" || matcher === "") return matcher;
  const out: string[] = [];
  for (const token of matcher.split("|")) {
    const t = token.trim();
    if (Object.hasOwn(CLAUDE_TOOLS, t)) {
      const names = CLAUDE_TOOLS[t as BuiltinTool];
      out.push(...(names.length ? names : [t]));
    } else if (t.startsWith("@")) {
      const [server, tool] = t.slice(1).split("/", 2) as [string, string | undefined];
      out.push(tool === undefined ? `mcp__${server}__.*` : `mcp__${server}__${tool}`);
    } else out.push(t);
  }
  return [...new Set(out)].join("|");
}

/** The reverse of claudeMatcher, for import. */
export function universalMatcher(matcher: string): string {
  if (matcher === "*" || matcher === "") return matcher;
  const out: string[] = [];
  for (const token of matcher.split("|")) {
    const t = token.trim();
    const builtin = fromClaudeTool(t);
    if (builtin) out.push(builtin);
    else {
      const m = /^mcp__([A-Za-z0-9][A-Za-z0-9._-]*?)__(.+)$/.exec(t);
      if (m) out.push(m[2] === ".*" || m[2] === "*" ? `@${m[1]}` : `@${m[1]}/${m[2]}`);
      else out.push(t);
    }
  }
  return [...new Set(out)].join("|");
}
