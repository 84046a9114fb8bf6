// Writes library files (agents, MCP servers, knowledge) for `aicfg import` and `aicfg new`:
// validated against the schemas first, never overwriting an existing file unless asked.
import { copyFileSync, existsSync, lstatSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { atomicWrite } from "./atomic.ts";
import { ConfigError } from "../library/diagnostics.ts";
import { resolveInside, safeName } from "../library/paths.ts";
import { AgentSpec, McpServer } from "../library/schema.ts";

export type WriteOutcome = { path: string; action: "created" | "replaced" | "skipped"; reason?: string };

const FIELD_ORDER = ["name", "displayName", "description", "model", "knowledge", "mcp", "tools", "toolSettings", "hooks", "targets", "tags", "extensions"];

/** The text of `agents/<name>.md`: ordered YAML frontmatter and the instructions. */
function renderAgentFile(spec: AgentSpec, instructions: string): string {
  const parsed = AgentSpec.parse(spec);
  const ordered: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if ((parsed as Record<string, unknown>)[k] !== undefined) ordered[k] = (parsed as Record<string, unknown>)[k];
  const body = instructions.trim() ? instructions.replace(/\s*$/, "\n") : "";
  return `---\n${stringifyYaml(ordered, { lineWidth: 0 })}---\n\n${body}`;
}

function renderMcpFile(server: McpServer): string {
  return stringifyYaml(McpServer.parse(server), { lineWidth: 0 });
}

function writeNew(path: string, content: string, force: boolean): WriteOutcome {
  const exists = existsSync(path);
  if (exists && lstatSync(path).isSymbolicLink()) return { path, action: "skipped", reason: "is a symbolic link" };
  if (exists && !force) return { path, action: "skipped", reason: "already exists (use --force to replace it)" };
  mkdirSync(dirname(path), { recursive: true });
  atomicWrite(path, content, 0o644);
  return { path, action: exists ? "replaced" : "created" };
}

export function writeAgent(libRoot: string, name: string, spec: AgentSpec, instructions: string, force = false): WriteOutcome {
  safeName(name, "agent name");
  return writeNew(join(libRoot, "agents", `${name}.md`), renderAgentFile(spec, instructions), force);
}

export function writeMcp(libRoot: string, name: string, server: McpServer, force = false): WriteOutcome {
  safeName(name, "MCP server name");
  return writeNew(join(libRoot, "mcp", `${name}.yaml`), renderMcpFile(server), force);
}

/** Copies a file into knowledge/<relPath> (relPath is checked to stay inside knowledge/). */
export function copyKnowledge(libRoot: string, source: string, relPath: string, force = false): WriteOutcome {
  const dest = resolveInside(join(libRoot, "knowledge"), relPath, "knowledge path");
  if (existsSync(dest) && !force) return { path: dest, action: "skipped", reason: "already exists" };
  if (!existsSync(source)) throw new ConfigError("knowledge-missing", `cannot copy ${source}: it does not exist`);
  mkdirSync(dirname(dest), { recursive: true });
  const existed = existsSync(dest);
  copyFileSync(source, dest);
  return { path: dest, action: existed ? "replaced" : "created" };
}

export function writeManifestFile(libRoot: string, content: string, force = false): WriteOutcome {
  return writeNew(join(libRoot, "aicfg.yaml"), content, force);
}

export function writeLibraryFile(libRoot: string, relPath: string, content: string, force = false): WriteOutcome {
  return writeNew(resolveInside(libRoot, relPath, "library path"), content, force);
}
