// Generates the JSON Schemas under schemas/ from the zod schemas (the single source of truth), for
// editor completion through `# yaml-language-server: $schema=...` modelines. Never hand-edit them.
import { z } from "zod";
import { AgentSpec, CommandSpec, KnowledgeSpec, LibraryManifest, McpServerSource, SkillSpec } from "../library/schema.ts";
import { listAdapters } from "../adapters/registry.ts";

export type SchemaEntry = { file: string; title: string; description: string; schema: z.ZodType };

const entries: SchemaEntry[] = [
  {
    file: "library.json",
    title: "AI Configurator library manifest (aicfg.yaml)",
    description: "The manifest of a library: name, default targets, defaults, extends.",
    schema: LibraryManifest,
  },
  {
    file: "agent.json",
    title: "AI Configurator agent (frontmatter of agents/<name>.md)",
    description: "The fields of an agent; the markdown body below the frontmatter is its instructions.",
    schema: AgentSpec,
  },
  {
    file: "mcp-server.json",
    title: "AI Configurator MCP server (mcp/<name>.yaml)",
    description: "One MCP server of the library's registry.",
    schema: McpServerSource,
  },
  {
    file: "knowledge.json",
    title: "AI Configurator knowledge file frontmatter",
    description: "Optional frontmatter of a knowledge file.",
    schema: KnowledgeSpec,
  },
  { file: "skill.json", title: "Agent Skill frontmatter (skills/<name>/SKILL.md)", description: "The Agent Skills format.", schema: SkillSpec },
  { file: "command.json", title: "AI Configurator command (commands/<name>.md)", description: "A reusable prompt / slash command.", schema: CommandSpec },
];

/** Other layers (workflows, daemon config) add their user-written file schemas here. */
export function registerJsonSchema(entry: SchemaEntry): void {
  if (!entries.some((e) => e.file === entry.file)) entries.push(entry);
}

export function generateJsonSchemas(): Record<string, string> {
  const targets = listAdapters()
    .map((a) => a.id)
    .sort();
  const out: Record<string, string> = {};
  for (const e of [...entries].sort((a, b) => a.file.localeCompare(b.file))) {
    const json = z.toJSONSchema(e.schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
    const doc = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: e.title,
      description: `${e.description} Generated from the zod schemas by 'npm run schemas'; do not edit.`,
      ...withoutSchemaKey(json),
    };
    out[e.file] = JSON.stringify(addTargetExamples(doc, targets), null, 2) + "\n";
  }
  return out;
}

function withoutSchemaKey(json: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, ...rest } = json;
  return rest;
}

/** Target ids are open strings (plugins may add targets); list the known ones as examples for completion. */
function addTargetExamples(node: unknown, targets: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => addTargetExamples(n, targets));
  if (!node || typeof node !== "object") return node;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) obj[k] = addTargetExamples(v, targets);
  if (obj.type === "string" && typeof obj.pattern === "string" && obj.pattern === "^[a-z0-9][a-z0-9-]*$") obj.examples = targets;
  return obj;
}
