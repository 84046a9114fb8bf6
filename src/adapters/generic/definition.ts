// The declarative description of a long-tail AI tool: where it reads instructions, rules, agents and
// MCP servers per scope, which frontmatter its rule files take, its size limit and how to detect it.
// One generic adapter (adapter.ts) interprets these; a new simple tool is a few lines of data.
import { z } from "zod";

/** A path relative to the scope root (project root or home folder), slash-separated, never leaving it. */
const RelPath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."),
    "must be a relative path without '..' (relative to the project root or the home folder)",
  );

/**
 * A frontmatter value: a constant (`trigger: always_on`, `alwaysApply: true`) or a field taken from
 * what is rendered: `name` (agent name or knowledge file stem), `description`, `globs` (a knowledge
 * file's `applyTo`) written as a YAML list, a comma-joined string or its first item.
 */
const FrontmatterValue = z.union([
  z.string(),
  z.boolean(),
  z.number(),
  z.strictObject({ from: z.enum(["name", "description", "globs"]), as: z.enum(["list", "comma", "first"]).optional() }),
]);
type FrontmatterValue = z.infer<typeof FrontmatterValue>;

/** Ordered frontmatter keys; an empty mapping means the file has no frontmatter block. */
export const FrontmatterMap = z.record(z.string().min(1), FrontmatterValue);
export type FrontmatterMap = z.infer<typeof FrontmatterMap>;

const FileStem = z
  .string()
  .regex(/^[A-Za-z0-9._{}-]+$/, "a file name pattern with {name} or {slug}, e.g. knowledge-{slug}")
  .refine((s) => !s.startsWith("."), "must not start with '.'");

const RulesFolder = z.strictObject({
  dir: RelPath.describe("folder of rule files, e.g. .roo/rules"),
  extension: z
    .string()
    .regex(/^\.[a-z]+$/)
    .default(".md"),
  naming: z
    .strictObject({
      agent: FileStem.default("{name}").describe("file stem of an agent's rule; {name} is the agent name"),
      knowledge: FileStem.default("knowledge-{slug}").describe("file stem of a knowledge rule; {slug} is its path flattened"),
    })
    .default({ agent: "{name}", knowledge: "knowledge-{slug}" }),
  frontmatter: z.strictObject({
    always: FrontmatterMap.describe("always-on rules"),
    onDemand: FrontmatterMap.optional().describe("rules the model loads by their description; absent: the tool has none"),
    glob: FrontmatterMap.optional().describe("rules for files matching globs; absent: the tool has none"),
  }),
  agentAs: z.enum(["always", "onDemand"]).default("always").describe("which kind of rule an agent's instructions become"),
});
type RulesFolder = z.infer<typeof RulesFolder>;

const AgentsFolder = z.strictObject({
  dir: RelPath.describe("folder of agent (persona / subagent) files"),
  extension: z
    .string()
    .regex(/^\.[a-z]+$/)
    .default(".md"),
  frontmatter: FrontmatterMap,
  modelKey: z.string().min(1).optional().describe("frontmatter key of the model id; absent: the tool takes no model here"),
  modelPattern: z
    .string()
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, "must be a regular expression")
    .optional()
    .describe("model ids the tool accepts; a shared model id that does not match is left out with a warning"),
});
type AgentsFolder = z.infer<typeof AgentsFolder>;

export const McpShape = z.strictObject({
  urlKey: z.enum(["url", "serverUrl", "httpUrl"]).default("url"),
  sseUrlKey: z.enum(["url", "serverUrl", "httpUrl"]).optional(),
  typeValues: z.strictObject({ stdio: z.string().optional(), http: z.string().optional(), sse: z.string().optional() }).optional(),
  commandArray: z.boolean().default(false),
  envKey: z.enum(["env", "environment"]).default("env"),
  envSyntax: z.enum(["braces", "braces-default", "dollar", "env-colon", "literal", "curly-env"]).describe("how the tool spells ${VAR}"),
  remote: z.boolean().default(true),
  headers: z.boolean().default(true),
  extras: z.array(z.enum(["cwd", "timeout", "disabled", "enabled", "autoApprove", "alwaysAllow", "includeTools", "excludeTools"])).default([]),
});
export type McpShape = z.infer<typeof McpShape>;

export const McpFile = z.strictObject({
  file: RelPath,
  /** Per-platform file when it differs (Claude Desktop on macOS / Windows). */
  fileByPlatform: z.strictObject({ darwin: RelPath.optional(), win32: RelPath.optional() }).optional(),
  key: z.array(z.string().min(1)).min(1).default(["mcpServers"]).describe("key path of the server map, e.g. [mcpServers] or [mcp]"),
  shape: McpShape,
});
export type McpFile = z.infer<typeof McpFile>;

/** The MCP file of a scope on this platform (relative to the scope root). */
export function mcpPath(m: McpFile, platform: string = process.platform): string {
  if (platform === "darwin" && m.fileByPlatform?.darwin) return m.fileByPlatform.darwin;
  if (platform === "win32" && m.fileByPlatform?.win32) return m.fileByPlatform.win32;
  return m.file;
}

export const ScopeLayout = z
  .strictObject({
    instructions: z.strictObject({ file: RelPath }).optional().describe("one markdown file; aicfg owns a marked section of it"),
    rules: RulesFolder.optional(),
    agents: AgentsFolder.optional(),
    mcp: McpFile.optional(),
  })
  .refine((s) => s.instructions || s.rules || s.agents || s.mcp, "a scope needs at least one of instructions, rules, agents or mcp");
export type ScopeLayout = z.infer<typeof ScopeLayout>;

export const TargetDefinition = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  displayName: z.string().min(1),
  description: z.string().min(1),
  scopes: z
    .strictObject({ project: ScopeLayout.optional(), user: ScopeLayout.optional() })
    .refine((s) => s.project || s.user, "define the project scope, the user scope or both"),
  sizeLimit: z
    .strictObject({ max: z.number().int().positive(), unit: z.enum(["chars", "bytes"]), source: z.string().min(1) })
    .optional()
    .describe("largest instructions or rule file the tool reads"),
  largeContext: z
    .strictObject({
      strategies: z.array(z.enum(["on-demand-rules", "knowledge-folder", "index"])).min(1),
      source: z.string().min(1),
    })
    .optional()
    .describe(
      "what the tool supports for knowledge over its budget, best first; default: on-demand rules where a rules folder takes a description, then an index",
    ),
  detect: z.strictObject({
    binaries: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).default([]),
    configDirs: z.array(RelPath).default([]).describe("relative to the home folder"),
    projectMarkers: z.array(RelPath).default([]).describe("relative to the project root"),
    vscodeExtensions: z.array(z.string().regex(/^[A-Za-z0-9-]+\.[A-Za-z0-9-]+$/)).default([]),
    install: z.string().min(1).describe("where to get the tool, shown when it is not found"),
  }),
  mcpHint: z.string().min(1).optional().describe("why MCP servers are not written where a scope has no mcp file, and where to configure them"),
  notes: z.array(z.string()).default([]).describe("shown by detect: status, successors"),
  limitations: z.array(z.string()).default([]),
  sources: z.array(z.string().min(1)).min(1).describe("primary documentation (or [2nd] secondary) each path comes from"),
});
export type TargetDefinition = z.infer<typeof TargetDefinition>;
export type TargetDefinitionInput = z.input<typeof TargetDefinition>;

/** `extensions.<target>` of an agent for a generic target: extra frontmatter keys of the agent's own file. */
export const GenericExtension = z.strictObject({
  frontmatter: z
    .record(z.string().min(1), z.union([z.string(), z.boolean(), z.number(), z.array(z.string())]))
    .optional()
    .describe("keys added to (or replacing keys of) the agent's rule or agent file, e.g. {trigger: manual}"),
});
export type GenericExtension = z.infer<typeof GenericExtension>;
