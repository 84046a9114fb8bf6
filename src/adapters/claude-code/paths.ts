// Where Claude Code keeps each kind of file, per export scope (code.claude.com/docs: settings.md,
// memory.md, mcp.md, sub-agents.md).
import { join } from "node:path";
import type { Roots } from "../types.ts";

export type ClaudePaths = {
  /** The export root: the project (project scope) or the home folder (user scope). */
  base: string;
  claudeDir: string;
  agentsDir: string;
  rulesDir: string;
  settings: string;
  /** `.mcp.json` (project) or `~/.claude.json` (user MCP servers live in that big shared file). */
  mcp: string;
  /** `CLAUDE.md` (project root) or `~/.claude/CLAUDE.md`. */
  memory: string;
};

export function claudePaths(roots: Roots): ClaudePaths {
  const project = roots.scope === "project";
  const base = project ? roots.projectRoot : roots.homeDir;
  const claudeDir = join(base, ".claude");
  return {
    base,
    claudeDir,
    agentsDir: join(claudeDir, "agents"),
    rulesDir: join(claudeDir, "rules"),
    settings: join(claudeDir, "settings.json"),
    mcp: project ? join(base, ".mcp.json") : join(base, ".claude.json"),
    memory: project ? join(base, "CLAUDE.md") : join(claudeDir, "CLAUDE.md"),
  };
}
