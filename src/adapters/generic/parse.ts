// Import for declaratively described tools: agents come back from an agents folder, or from a rules
// folder whose agent rules are recognisable (on-demand rules with constant frontmatter, not named
// like knowledge rules); the other rules are knowledge; MCP servers come from the tool's MCP file.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { Slug, type McpServer } from "../../library/schema.ts";
import { getJsonPath, parseJsonText } from "../shared-files.ts";
import type { FileSource, ImportedAgent, ParseResult, Roots } from "../types.ts";
import { mcpPath, type FrontmatterMap, type ScopeLayout, type TargetDefinition } from "./definition.ts";
import { parseMcpServer, readFrontmatterDoc } from "./shared.ts";

/** True when a scope layout lets agents be told apart from other files. */
export function canParse(layout: ScopeLayout | undefined): boolean {
  return (
    !!layout &&
    (!!layout.agents ||
      (!!layout.rules && layout.rules.agentAs === "onDemand" && !!layout.rules.frontmatter.onDemand && hasConstant(layout.rules.frontmatter.onDemand)))
  );
}

function hasConstant(map: FrontmatterMap): boolean {
  return Object.values(map).some((v) => typeof v !== "object");
}

function keyFor(map: FrontmatterMap, from: "name" | "description"): string | undefined {
  return Object.entries(map).find(([, v]) => typeof v === "object" && v.from === from)?.[0];
}

/** Keys the mapping produces, so everything else in an agent file is kept as extension frontmatter. */
function mappedKeys(map: FrontmatterMap, extra: (string | undefined)[]): Set<string> {
  return new Set([...Object.keys(map), ...extra.filter((k): k is string => !!k)]);
}

export function parseGeneric(def: TargetDefinition, src: FileSource, roots: Roots): ParseResult {
  const layout = def.scopes[roots.scope];
  const root = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
  const warnings: Diagnostic[] = [];
  const agents: ImportedAgent[] = [];
  if (!layout || !canParse(layout)) return { agents, warnings };
  const warn = (file: string, message: string, hint?: string): void => {
    warnings.push({ severity: "warning", code: "import-skipped", message: `${def.id}: ${message}`, file, ...(hint ? { hint } : {}) });
  };

  const servers: Record<string, McpServer> = {};
  if (layout.mcp) {
    const rel = mcpPath(layout.mcp);
    const text = src.read(rel);
    if (text !== undefined) {
      const parsed = parseJsonText(text);
      if (!parsed.ok) warn(join(root, rel), `could not read ${rel}: ${parsed.error}`, "fix the JSON and import again");
      else {
        const map = getJsonPath(parsed.value, layout.mcp.key);
        if (map && typeof map === "object" && !Array.isArray(map)) {
          for (const name of Object.keys(map).sort()) {
            const s = parseMcpServer((map as Record<string, unknown>)[name], layout.mcp.shape);
            if (s) servers[name] = s;
            else warn(join(root, rel), `MCP server '${name}' has neither a command nor a url; skipped`);
          }
        }
      }
    }
  }

  const knowledge: string[] = [];
  const readAgent = (rel: string, map: FrontmatterMap, modelKey: string | undefined, isAgent: (data: Record<string, unknown>) => boolean): void => {
    const file = join(root, rel);
    const doc = readFrontmatterDoc(src.read(rel) ?? "");
    if (doc.error) {
      warn(file, `invalid frontmatter: ${doc.error}`, "fix the YAML between the --- lines");
      return;
    }
    if (!isAgent(doc.data)) {
      knowledge.push(file);
      return;
    }
    const stem = rel.slice(rel.lastIndexOf("/") + 1).replace(/\.[^.]+$/, "");
    const nameKey = keyFor(map, "name");
    const descKey = keyFor(map, "description");
    const name = nameKey && typeof doc.data[nameKey] === "string" ? (doc.data[nameKey] as string) : stem;
    if (!Slug.safeParse(name).success) {
      warn(file, `agent name '${name}' is not a lowercase slug; skipped`, "rename it to letters, digits and '-'");
      return;
    }
    const d = descKey ? doc.data[descKey] : undefined;
    const spec: ImportedAgent["spec"] = { name, description: typeof d === "string" && d.trim() ? d.trim() : `Imported from ${rel}` };
    if (modelKey && typeof doc.data[modelKey] === "string") spec.model = doc.data[modelKey] as string;
    const known = mappedKeys(map, [modelKey]);
    const rest = Object.fromEntries(Object.entries(doc.data).filter(([k]) => !known.has(k)));
    if (Object.keys(rest).length) spec.extensions = { [def.id]: { frontmatter: rest } };
    agents.push({ spec, instructions: doc.body, mcp: { ...servers }, knowledgeFiles: [], source: file });
  };

  if (layout.agents) {
    const a = layout.agents;
    for (const rel of src.list(a.dir).filter((p) => p.endsWith(a.extension))) readAgent(rel, a.frontmatter, a.modelKey, () => true);
    if (layout.rules) for (const rel of src.list(layout.rules.dir).filter((p) => p.endsWith(layout.rules!.extension))) knowledge.push(join(root, rel));
  } else {
    const r = layout.rules!;
    const onDemand = r.frontmatter.onDemand!;
    const constants = Object.entries(onDemand).filter(([, v]) => typeof v !== "object");
    const prefix = r.naming.knowledge.split("{")[0]!;
    for (const rel of src.list(r.dir).filter((p) => p.endsWith(r.extension))) {
      const stem = rel.slice(rel.lastIndexOf("/") + 1);
      readAgent(rel, onDemand, undefined, (data) => !(prefix && stem.startsWith(prefix)) && constants.every(([k, v]) => data[k] === v));
    }
  }
  if (layout.instructions && src.read(layout.instructions.file) !== undefined) knowledge.push(join(root, layout.instructions.file));
  for (const a of agents) a.knowledgeFiles = [...knowledge].sort();
  agents.sort((x, y) => (x.spec.name < y.spec.name ? -1 : x.spec.name > y.spec.name ? 1 : 0));
  return { agents, warnings };
}
