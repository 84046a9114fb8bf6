// Kiro CLI 2.x agent JSON, described as a dialect of the Q CLI format it grew out of: renamed
// built-in tools and toolsSettings keys, `${VAR}` in MCP env/headers, `.kiro/agents/` folders.
import type { AgentDialect } from "../q-cli/dialect.ts";

/**
 * Tool names from https://kiro.dev/docs/cli/reference/built-in-tools (read, write, shell, aws, grep,
 * glob, web_search/web_fetch, knowledge, thinking, todo_list, delegate); the Q names are still
 * accepted as aliases and are read back on import. `${VAR}` in env and headers follows
 * https://kiro.dev/docs/cli/mcp/configuration. `web_fetch` settings are `trusted` / `blocked` lists
 * of URL regexes, blocked winning (Kiro's source: aws/amazon-q-developer-cli
 * crates/chat-cli/src/cli/chat/tools/web_fetch.rs, tests of eval_perm).
 */
export const KIRO_DIALECT: AgentDialect = {
  target: "kiro-cli",
  displayName: "Kiro CLI",
  builtins: {
    read: "read",
    write: "write",
    shell: "shell",
    grep: "grep",
    glob: "glob",
    web_fetch: "web_fetch",
    web_search: "web_search",
    aws: "aws",
    todo: "todo_list",
    thinking: "thinking",
    knowledge: "knowledge",
    delegate: "delegate",
  },
  readAliases: { fs_read: "read", fs_write: "write", execute_bash: "shell", use_aws: "aws" },
  settingsKeys: { read: "read", write: "write", shell: "shell", aws: "aws", web_fetch: "web_fetch" },
  envSyntax: "braces",
  projectDir: ".kiro/agents",
  userDir: ".kiro/agents",
  extraResourcePrefixes: ["skill://"],
};
