// What differs between the agent JSON of Amazon Q Developer CLI and of its successor Kiro CLI 2.x:
// tool names, toolsSettings keys, environment-variable syntax and where the files live. The
// rendering, parsing and detection code in this folder is shared and takes one of these.
import type { EnvSyntax } from "../common.ts";
import type { BuiltinTool } from "../../library/schema.ts";

export type AgentDialect = {
  /** The adapter id (`q-cli`, `kiro-cli`). */
  target: string;
  displayName: string;
  /** Universal built-in tool → the tool's own name; absent means the tool has no equivalent. */
  builtins: Partial<Record<BuiltinTool, string>>;
  /** Extra native names read back on import (older aliases the tool still accepts). */
  readAliases: Record<string, BuiltinTool>;
  /** Universal toolSettings key → native toolsSettings key; absent means it cannot be expressed. */
  settingsKeys: Partial<Record<"read" | "write" | "shell" | "aws" | "web_fetch", string>>;
  /** How `${VAR}` in MCP `env` and `headers` is written for this tool. */
  envSyntax: EnvSyntax;
  /** Agent folders relative to the project root and to the home folder. */
  projectDir: string;
  userDir: string;
  /** The `$schema` written into every file, if the tool publishes one. */
  schemaUrl?: string;
  /** Resource URI schemes besides `file://` the tool reads (kept as extensions on import). */
  extraResourcePrefixes: string[];
};

/** Written by `q` itself (crates/chat-cli/src/cli/agent/mod.rs `default_schema()`). */
export const Q_SCHEMA_URL = "https://raw.githubusercontent.com/aws/amazon-q-developer-cli/refs/heads/main/schemas/agent-v1.json";

/**
 * Q CLI 1.13-1.19: built-in tools from docs/built-in-tools.md. Q has no grep, glob, web_fetch or
 * web_search tool. `${env:VAR}` is what Q's MCP client substitutes in `env` values and in HTTP
 * `headers` (crates/chat-cli/src/mcp_client/client.rs `substitute_env_vars`, regex
 * `\$\{env:([^}]+)\}`; earlier in tools/custom_tool.rs); a plain `${VAR}` would reach the server
 * as literal text.
 */
export const Q_DIALECT: AgentDialect = {
  target: "q-cli",
  displayName: "Amazon Q Developer CLI",
  builtins: {
    read: "fs_read",
    write: "fs_write",
    shell: "execute_bash",
    aws: "use_aws",
    knowledge: "knowledge",
    thinking: "thinking",
    todo: "todo_list",
    delegate: "delegate",
  },
  readAliases: {},
  settingsKeys: { read: "fs_read", write: "fs_write", shell: "execute_bash", aws: "use_aws" },
  envSyntax: "env-colon",
  projectDir: ".amazonq/cli-agents",
  userDir: ".aws/amazonq/cli-agents",
  schemaUrl: Q_SCHEMA_URL,
  extraResourcePrefixes: [],
};

/** Reverse of `builtins` plus the read aliases: native name → universal name. */
export function nativeToUniversal(d: AgentDialect): Map<string, BuiltinTool> {
  const m = new Map<string, BuiltinTool>();
  for (const [u, n] of Object.entries(d.builtins) as [BuiltinTool, string][]) m.set(n, u);
  for (const [n, u] of Object.entries(d.readAliases)) if (!m.has(n)) m.set(n, u);
  return m;
}
