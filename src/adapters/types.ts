// The contract every adapter (one folder per AI tool) implements: render the universal model
// into the tool's native files, parse those files back for import, and detect the tool.
import type { z } from "zod";
import type { Diagnostic } from "../library/diagnostics.ts";
import type { Library, ResolvedAgent } from "../library/model.ts";
import type { AgentSpec, ExportScope, McpServer } from "../library/schema.ts";
import type { ContextBudget } from "./budget.ts";
import type { ContextDecision, LargeContext } from "./fallback.ts";
import type { EnvRefSupport } from "./secrets.ts";

export type Roots = {
  scope: ExportScope;
  /** Absolute project root (used for project scope). */
  projectRoot: string;
  /** Absolute home folder (used for user scope). */
  homeDir: string;
};

export type RenderContext = Roots & {
  library: Library;
  /** A knowledge file's text without its frontmatter (cached). */
  readKnowledge: (absPath: string) => string;
  /** Raw bytes of a library file (skill companions). */
  readBytes: (absPath: string) => Uint8Array;
  /**
   * The export's memo of one output (or a few that share their inputs), set by the export layer while
   * a target renders (export.ts): when the inputs `reads` names are those of the previous export, the
   * outputs it recorded are given back and `compute` is not called. Absent (tests, a render outside an
   * export): adapters call `compute` themselves (memo.ts `outputOf`).
   */
  output?: (key: string, reads: OutputReads, compute: () => OutputPart) => OutputPart;
  /**
   * Set by the export layer: true when a library file's size and mtime, as the library has them, tell
   * its content (it was not found changed by hash, nor reported by the watcher, since): what was read
   * of it in this process at the same size and mtime may be used again without reading it. Absent: read.
   */
  statTrusted?: (absPath: string) => boolean;
};

/**
 * What an output depends on: library files (size and mtime, and the export's changed-input lists) and
 * values (hashed: the agents, knowledge metadata and options it is made from). The export adds the
 * target, scope, roots and the library manifest; an output must depend on nothing else.
 */
export type OutputReads = { files?: readonly string[]; values: unknown };
/** What a memoized part of a render gives: its outputs and the warnings found making them. */
export type OutputPart = { files: OutputFile[]; warnings: Diagnostic[] };

/** One file (or part of a shared file) an adapter wants on disk. Paths are absolute. */
export type OutputFile =
  /** A whole file we own. */
  | { kind: "file"; path: string; content: string | Uint8Array; secret?: boolean; agent?: string; alwaysLoaded?: boolean; loadsBytes?: number }
  /** Keys inside a shared JSON file (settings.json, mcp.json); every other byte is left as it was. */
  | { kind: "json-keys"; path: string; entries: JsonKeyEntry[]; secret?: boolean; agent?: string }
  /** Tables inside a shared TOML file (Codex config.toml): `[table.path]` blocks we own. */
  | { kind: "toml-tables"; path: string; tables: TomlTableEntry[]; secret?: boolean; agent?: string }
  /**
   * A marked block inside a shared text file (CLAUDE.md, AGENTS.md, .cursorignore); text outside the
   * markers is left as it was. Markers are HTML comments, or `#` comment lines with `comment: "hash"`.
   *
   * `alwaysLoaded` (file, md-section): the tool puts this text into the context of every session (an
   * instruction file, an always-apply rule, the prompt of the agent a session runs as), so it counts
   * against the target's context budget (budget.ts). On-demand agents, skills and referenced files do not.
   * `loadsBytes`: the size of the files the tool loads together with this one at session start (Claude
   * Code `@` imports, Q / Kiro `file://` resources), which count against the budget too.
   */
  | { kind: "md-section"; path: string; content: string; agent?: string; comment?: "html" | "hash"; alwaysLoaded?: boolean; loadsBytes?: number };

export type JsonKeyEntry = { key: string[]; value: unknown };
/** `path` like ["mcp_servers", "fetch"]; `value` is the table body as a plain object. */
export type TomlTableEntry = { path: string[]; value: Record<string, unknown> };

export type RenderResult = {
  files: OutputFile[];
  /** Unsupported features (code `unsupported-feature`), exceeded limits (`limit-exceeded`), ... */
  warnings: Diagnostic[];
  /** What the large-context planner (fallback.ts) decided for each agent's knowledge. */
  contextPlan?: ContextDecision[];
};

export const CAPABILITIES = [
  "instructions",
  "knowledge-always",
  "knowledge-on-demand",
  "mcp-stdio",
  "mcp-http",
  "tools-allow",
  "tools-deny",
  "tool-settings",
  "hooks",
  "model",
  "skills",
  "commands",
  "ignore",
] as const;
export type Capability = (typeof CAPABILITIES)[number];
export type Support = "yes" | "partial" | "no";

/** Files an importer reads: a real folder or an in-memory set (for round-trip tests). */
export type FileSource = {
  root: string;
  read: (relPath: string) => string | undefined;
  /** Relative paths of the files directly inside a relative folder (not recursive). */
  list: (relDir: string) => string[];
};

export type ImportedAgent = {
  spec: AgentSpec & { name: string };
  instructions: string;
  /** MCP servers the agent defined inline, to move into the library's registry. */
  mcp: Record<string, McpServer>;
  /** Absolute or ~-paths of knowledge files the agent referenced. */
  knowledgeFiles: string[];
  /** The native file it came from. */
  source: string;
  /** The name the native file gives, when it is not a library name and `spec.name` was mapped from it. */
  nativeName?: string;
};

/** A native agent file that was not imported; `error` when the file is broken (not a duplicate or a non-agent file). */
export type SkippedFile = { file: string; reason: string; error: boolean };

export type ParseResult = {
  agents: ImportedAgent[];
  warnings: Diagnostic[];
  skipped?: SkippedFile[];
  /** MCP servers the tool's shared MCP file defines (all of them, not only those an agent names). */
  servers?: { file: string; servers: Record<string, McpServer> };
};

export type DetectEnv = {
  homeDir: string;
  projectRoot: string;
  env: Record<string, string | undefined>;
  /** Finds a binary on PATH; undefined when absent. */
  which: (name: string) => string | undefined;
  /** Runs a binary with a short timeout; undefined when it cannot be run. */
  run: (file: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string } | undefined>;
  exists: (absPath: string) => boolean;
};

export type Detection = {
  installed: boolean;
  binary?: { name: string; path: string; version?: string };
  /** Config folders/files the tool uses and whether each exists. */
  configPaths: { path: string; exists: boolean }[];
  /** Format generation, e.g. "q-cli" vs "kiro-cli 2.x". */
  generation?: string;
  /** Where exports go for each scope. */
  exportPaths: { project: string[]; user: string[] };
  notes: string[];
  nextSteps: string[];
};

export type Adapter = {
  id: string;
  displayName: string;
  description: string;
  scopes: readonly ExportScope[];
  /** Absolute folders/files this adapter may write for the given roots (checked by the conformance suite). */
  locations: (roots: Roots) => string[];
  capabilities: Record<Capability, Support>;
  /** Validates `extensions.<id>` of an agent. */
  extensionSchema?: z.ZodType;
  render: (agents: readonly ResolvedAgent[], ctx: RenderContext) => RenderResult;
  /**
   * `agent`: rendering the agents one at a time gives the same outputs as rendering them together
   * (each output is a whole file of one agent, nothing is shared between agents, the budget is per
   * agent or per file), so an export renders each agent as a unit with its own cache and a one-file
   * edit renders only the agents that read that file. Absent: the target is rendered whole (shared
   * files such as AGENTS.md hold every agent's part). The conformance suite checks the claim.
   */
  split?: "agent";
  parse?: (src: FileSource, roots: Roots) => ParseResult;
  detect: (env: DetectEnv) => Promise<Detection>;
  /** What the tool always loads may hold at most (budget.ts): measured on every export, warned when over. */
  budget: ContextBudget;
  /** What the tool supports when an agent's knowledge is over the budget (fallback.ts), with the source. */
  largeContext: LargeContext;
  /** Which `${VAR}` references its MCP config expands (absent: none); decides what a `{ secret: NAME }` becomes (secrets.ts). */
  mcpEnvRefs?: EnvRefSupport | ((scope: ExportScope) => EnvRefSupport);
  /** Known limitations, for `aicfg targets` and the README. */
  limitations: string[];
};
