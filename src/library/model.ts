// The universal, tool-agnostic model that a library loads into and that every adapter renders from.
import type { AgentSpec, CommandSpec, Hooks, KnowledgeMode, LibraryManifest, McpSecretFields, McpServer, SkillSpec, ToolSettings } from "./schema.ts";
import type { Diagnostic } from "./diagnostics.ts";

export type LayerInfo = {
  /** The layer's library name from its aicfg.yaml. */
  name: string;
  root: string;
  /** 0 = the lowest (org) layer; the library itself is the last. */
  index: number;
};

/** A git layer already materialised as a folder (by the CLI or the daemon: this layer spawns no process). */
export type LayerFolder = { name: string; root: string };

export type AgentSource = {
  name: string;
  file: string;
  layer: string;
  spec: AgentSpec;
  /** The markdown body: the agent's instructions. */
  body: string;
  size: number;
  mtimeMs: number;
};

export type KnowledgeEntry = {
  /** Path relative to the layer's knowledge/ folder, with forward slashes. */
  path: string;
  absPath: string;
  layer: string;
  size: number;
  mtimeMs: number;
};

/** `secrets`: which env/header values are `{ secret: NAME }` (the server holds `${NAME}` there). */
export type McpEntry = { name: string; server: McpServer; file: string; layer: string; secrets?: McpSecretFields };
export type TemplateEntry = { name: string; file: string; layer: string };
export type SkillEntry = {
  name: string;
  dir: string;
  file: string;
  layer: string;
  spec: SkillSpec;
  body: string;
  /** Companion files relative to the skill folder (copied byte-for-byte). */
  files: string[];
};
export type CommandEntry = { name: string; file: string; layer: string; spec: CommandSpec; body: string };

export type Library = {
  root: string;
  /** The git layers this library was loaded with (kept so a reload loads them again). */
  layerFolders?: readonly LayerFolder[];
  manifestFile: string;
  /** The effective manifest: fields of later layers override earlier ones. */
  manifest: LibraryManifest;
  layers: LayerInfo[];
  /** Every definition of each agent, lowest layer first. */
  agents: Map<string, AgentSource[]>;
  knowledge: Map<string, KnowledgeEntry>;
  mcp: Map<string, McpEntry>;
  templates: Map<string, TemplateEntry>;
  skills: Map<string, SkillEntry>;
  commands: Map<string, CommandEntry>;
  /** Folders holding workflow files, one per layer that has one. */
  workflowDirs: string[];
  diagnostics: Diagnostic[];
};

export type ResolvedKnowledge = {
  path: string;
  absPath: string;
  mode: KnowledgeMode;
  size: number;
  mtimeMs: number;
  layer: string;
};

type ToolPolicy = NonNullable<AgentSpec["tools"]>;

/** One agent with its layers merged, references resolved and defaults applied: what adapters render. */
export type ResolvedAgent = {
  name: string;
  /** The name people see where a target shows one (e.g. a dotted name that is not a valid slug). */
  displayName?: string;
  description: string;
  model?: string | Record<string, string>;
  instructions: string;
  knowledge: ResolvedKnowledge[];
  mcpServers: Record<string, McpServer>;
  /** Per server: the env/header values that are `{ secret: NAME }` references (the export decides what to write). */
  secretRefs?: Record<string, McpSecretFields>;
  tools: ToolPolicy;
  toolSettings: ToolSettings;
  hooks: Hooks;
  targets: string[];
  tags: string[];
  extensions: Record<string, Record<string, unknown>>;
  /** The agent file of the top-most layer that defines it. */
  sourceFile: string;
  /** For each field, the name of the layer it came from. */
  provenance: Record<string, string>;
};

/** The model id for one target: a per-target entry, else `default`, else the single string. */
export function modelFor(agent: Pick<ResolvedAgent, "model">, target: string): string | undefined {
  const m = agent.model;
  if (m === undefined) return undefined;
  if (typeof m === "string") return m;
  return m[target] ?? m.default;
}
