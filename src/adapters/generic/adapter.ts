// The one adapter factory for declaratively described tools (definition.ts): it places agents and
// knowledge in the tool's instructions file, rules folder or agents folder, writes MCP servers in
// the tool's shape, warns about everything the tool cannot express, and detects the tool.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import { VARIOUS_WINDOW } from "../budget.ts";
import { withLargeContext, type LargeContext, type LargeContextStrategy } from "../fallback.ts";
import { limitExceeded, renderFrontmatter, unsupported } from "../common.ts";
import type { Adapter, Capability, FileSource, OutputFile, RenderContext, RenderResult, Roots, Support } from "../types.ts";
import { hashValue } from "../../library/hash.ts";
import { agentInput, outputOf } from "../memo.ts";
import { GenericExtension, mcpPath, TargetDefinition, type FrontmatterMap, type ScopeLayout, type TargetDefinitionInput } from "./definition.ts";
import { canParse, parseGeneric } from "./parse.ts";
import { NO_ENV_REFS } from "../secrets.ts";

export { mcpPath };
import {
  agentBlock,
  bodyText,
  byName,
  collectKnowledge,
  detectTool,
  dropClashes,
  joinBlocks,
  knowledgeBlock,
  knowledgeSlug,
  renderServerEntries,
  unexpressed,
  type KnowledgeMeta,
} from "./shared.ts";

type Fields = { name: string; description: string; globs: string[] };

/** Fills a frontmatter mapping; keys whose source field is empty are left out. */
function fillFrontmatter(map: FrontmatterMap, f: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(map)) {
    if (typeof v !== "object") {
      out[key] = v;
      continue;
    }
    if (v.from === "name") out[key] = f.name;
    else if (v.from === "description") out[key] = f.description;
    else if (f.globs.length) out[key] = v.as === "comma" ? f.globs.join(",") : v.as === "first" ? f.globs[0] : [...f.globs];
  }
  return out;
}

function withFrontmatter(fields: Record<string, unknown>, body: string): string {
  return Object.keys(fields).length ? renderFrontmatter(fields, body) : bodyText(body);
}

function scopeRoot(ctx: Roots): string {
  return ctx.scope === "project" ? ctx.projectRoot : ctx.homeDir;
}

function layoutPaths(layout: ScopeLayout, root: string): string[] {
  const out: string[] = [];
  if (layout.instructions) out.push(join(root, layout.instructions.file));
  if (layout.rules) out.push(join(root, layout.rules.dir));
  if (layout.agents) out.push(join(root, layout.agents.dir));
  if (layout.mcp) out.push(join(root, mcpPath(layout.mcp)));
  return out;
}

function capabilitiesOf(def: TargetDefinition): Record<Capability, Support> {
  const layouts = [def.scopes.project, def.scopes.user].filter((l): l is ScopeLayout => !!l);
  const level = (test: (l: ScopeLayout) => boolean): Support => {
    const n = layouts.filter(test).length;
    return n === 0 ? "no" : n === layouts.length ? "yes" : "partial";
  };
  return {
    instructions: level((l) => !!(l.instructions || l.rules || l.agents)),
    "knowledge-always": level((l) => !!(l.instructions || l.rules)),
    "knowledge-on-demand": level((l) => !!(l.instructions || l.rules || l.agents)),
    "mcp-stdio": level((l) => !!l.mcp),
    "mcp-http": level((l) => !!l.mcp?.shape.remote),
    "tools-allow": "no",
    "tools-deny": "no",
    "tool-settings": "no",
    hooks: "no",
    model: level((l) => !!l.agents?.modelKey),
    skills: "no",
    commands: "no",
    ignore: "no",
  };
}

/**
 * What the tool does with knowledge over its budget: rules it loads by their description where a
 * rules folder takes one (the same source as that folder), else an index the agent reads files from.
 */
function largeContextOf(def: TargetDefinition): LargeContext {
  if (def.largeContext) return def.largeContext;
  const source = def.sources[0]!;
  const of = (l: ScopeLayout | undefined): LargeContextStrategy[] => (l?.rules?.frontmatter.onDemand ? ["on-demand-rules", "index"] : ["index"]);
  const project = of(def.scopes.project);
  const user = of(def.scopes.user);
  const strategies = def.scopes.project ? project : user;
  const rules = [def.scopes.project, def.scopes.user].some((l) => l?.rules?.frontmatter.onDemand);
  const globRules = (["project", "user"] as const).filter((sc) => def.scopes[sc]?.rules?.frontmatter.glob);
  return {
    strategies,
    ...(def.scopes.project && def.scopes.user && project.length !== user.length ? { scopes: { user } } : {}),
    ...(globRules.length ? { globRules } : {}),
    source: rules
      ? `rules with a description, loaded when relevant (${source}); elsewhere the agent opens the files an index lists`
      : `the instructions file is loaded whole (${source}); the agent opens the files the index lists`,
  };
}

/** Builds an Adapter from a target definition (validated here, so a bad definition fails at startup). */
export function genericAdapter(input: TargetDefinitionInput): Adapter {
  const def = TargetDefinition.parse(input);
  const id = def.id;
  const scopes = (["project", "user"] as const).filter((s) => def.scopes[s]);
  // Every output depends on the definition (its layouts, frontmatter maps, limits, hints).
  const defKey = hashValue(def);

  const render = (agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult => {
    const layout = def.scopes[ctx.scope];
    const files: OutputFile[] = [];
    const warnings: Diagnostic[] = [];
    if (!layout) {
      warnings.push({
        severity: "warning",
        code: "scope-unsupported",
        message: `${def.displayName} has no ${ctx.scope} scope; nothing was rendered`,
        hint: `export it with --scope ${scopes[0]}`,
      });
      return { files, warnings };
    }
    const root = scopeRoot(ctx);
    const sorted = byName(agents);
    const agentByName = new Map(sorted.map((a) => [a.name, a]));
    // What the instructions file holds (one md-section), rendered after the loops as one output.
    const blockAgents: ResolvedAgent[] = [];
    const blockKnowledge: KnowledgeMeta[] = [];
    const otherScope = scopes.find((s) => s !== ctx.scope);

    // Each agent's file and warnings are one output, made from that agent alone.
    for (const a of sorted) {
      if (!layout.agents && !layout.rules && layout.instructions) blockAgents.push(a);
      const part = outputOf(ctx, `agent\u0000${a.name}`, { values: { def: defKey, agent: agentInput(a) } }, () => {
        const files: OutputFile[] = [];
        const warnings: Diagnostic[] = [];
        warnings.push(
          ...unexpressed(
            id,
            a,
            { model: !!layout.agents?.modelKey, mcp: !!layout.mcp },
            {
              mcp:
                otherScope && def.scopes[otherScope]?.mcp
                  ? `${def.displayName} reads MCP servers only in ${otherScope} scope; export with --scope ${otherScope}`
                  : (def.mcpHint ?? `configure the servers in ${def.displayName} itself`),
            },
          ),
        );
        const model = modelFor(a, id);
        const extra = (a.extensions[id] as GenericExtension | undefined)?.frontmatter ?? {};
        if (layout.agents) {
          const fm = fillFrontmatter(layout.agents.frontmatter, { name: a.name, description: a.description, globs: [] });
          const explicit = typeof a.model === "object" && a.model[id] !== undefined;
          if (model !== undefined && layout.agents.modelPattern && !explicit && !new RegExp(layout.agents.modelPattern).test(model)) {
            warnings.push(unsupported(id, a, `the model '${model}'`, `${def.displayName} does not take this model id; give one with model: {${id}: ...}`));
          } else if (layout.agents.modelKey && model !== undefined) fm[layout.agents.modelKey] = model;
          files.push({
            kind: "file",
            path: join(root, layout.agents.dir, a.name + layout.agents.extension),
            content: withFrontmatter({ ...fm, ...extra }, a.instructions),
            agent: a.name,
          });
        } else if (layout.rules) {
          const r = layout.rules;
          const map = r.agentAs === "onDemand" && r.frontmatter.onDemand ? r.frontmatter.onDemand : r.frontmatter.always;
          const fm = fillFrontmatter(map, { name: a.name, description: a.description, globs: [] });
          files.push({
            kind: "file",
            path: join(root, r.dir, r.naming.agent.replaceAll("{name}", a.name) + r.extension),
            content: withFrontmatter({ ...fm, ...extra }, a.instructions),
            agent: a.name,
            ...(map === r.frontmatter.always ? { alwaysLoaded: true } : {}),
          });
        } else if (layout.instructions) {
          if (Object.keys(extra).length)
            warnings.push(
              unsupported(id, a, `extensions.${id}.frontmatter`, `${def.displayName} keeps agents in one shared file, which has no per-agent frontmatter`),
            );
        } else {
          warnings.push(unsupported(id, a, "instructions", `${def.displayName} takes only MCP servers from files`));
        }
        return { files, warnings };
      });
      files.push(...part.files);
      warnings.push(...part.warnings);
    }

    // Each knowledge file's rule file and warnings are one output: made from that file, its metadata and the agents that use it.
    for (const k of collectKnowledge(sorted, ctx)) {
      const r = layout.rules;
      if (!(k.globs.length && r?.frontmatter.glob) && k.mode === "always" && !r && layout.instructions) blockKnowledge.push(k);
      const reads = { files: [k.absPath], values: { def: defKey, k: { ...k, body: undefined }, agents: k.agents.map((n) => agentByName.get(n)!.sourceFile) } };
      const part = outputOf(ctx, `knowledge\u0000${k.path}`, reads, () => {
        const files: OutputFile[] = [];
        const warnings: Diagnostic[] = [];
        const knowledgeWarn = (k: KnowledgeMeta, feature: string, hint: string): void => {
          for (const name of k.agents) warnings.push(unsupported(id, agentByName.get(name)!, feature, hint));
        };
        const fields = { name: knowledgeSlug(k.path), description: k.description, globs: k.globs };
        const ruleFile = (map: FrontmatterMap): void => {
          files.push({
            kind: "file",
            path: join(root, r!.dir, r!.naming.knowledge.replaceAll("{slug}", fields.name).replaceAll("{name}", fields.name) + r!.extension),
            content: withFrontmatter(fillFrontmatter(map, fields), k.body),
            ...(map === r!.frontmatter.always ? { alwaysLoaded: true } : {}),
            ...(k.agents.length === 1 ? { agent: k.agents[0]! } : {}),
          });
        };
        if (k.globs.length && r?.frontmatter.glob) {
          ruleFile(r.frontmatter.glob);
          return { files, warnings };
        }
        if (k.globs.length)
          knowledgeWarn(k, `the applyTo globs of knowledge ${k.path}`, `${def.displayName} cannot scope rules to files; it is loaded as ${k.mode} knowledge`);
        if (k.mode === "always") {
          if (r) ruleFile(r.frontmatter.always);
          else if (layout.instructions) {
            // In the instructions file (blockKnowledge): rendered with it below.
          } else knowledgeWarn(k, `always-on knowledge ${k.path}`, `${def.displayName} has no file for always-on context in ${ctx.scope} scope`);
        } else if (r?.frontmatter.onDemand) ruleFile(r.frontmatter.onDemand);
        // Without on-demand rules the large-context planner (fallback.ts) has already made on-demand knowledge an index in the instructions.
        return { files, warnings };
      });
      files.push(...part.files);
      warnings.push(...part.warnings);
    }

    // The instructions file holds every agent and always-on knowledge file in it: any of them changed renders it again.
    if (layout.instructions && (blockAgents.length || blockKnowledge.length)) {
      const path = join(root, layout.instructions.file);
      const reads = {
        files: blockKnowledge.map((k) => k.absPath),
        values: { def: defKey, agents: blockAgents.map(agentInput), knowledge: blockKnowledge.map((k) => ({ ...k, body: undefined })) },
      };
      const part = outputOf(ctx, "instructions", reads, () => ({
        files: [{ kind: "md-section", path, content: joinBlocks([...blockAgents.map(agentBlock), ...blockKnowledge.map(knowledgeBlock)]), alwaysLoaded: true }],
        warnings: [],
      }));
      files.push(...part.files);
    }

    // The MCP file holds the servers of every agent: any agent's servers changed renders it again.
    if (layout.mcp) {
      const m = layout.mcp;
      const servers = sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.secretRefs ?? null]);
      const part = outputOf(ctx, "mcp", { values: { def: defKey, servers } }, () => {
        const r = renderServerEntries(id, sorted, m.shape, m.key);
        const files: OutputFile[] = r.entries.length
          ? [{ kind: "json-keys", path: join(root, mcpPath(m)), entries: r.entries, ...(r.secret ? { secret: true } : {}) }]
          : [];
        return { files, warnings: r.warnings };
      });
      files.push(...part.files);
      warnings.push(...part.warnings);
    }

    const clash = dropClashes(id, files);
    warnings.push(...clash.warnings);
    // Always-loaded files are checked against the budget on export (budget.ts); a rule the tool reads
    // only when relevant (or a subagent file) is still cut at the same per-file limit, so it is checked here.
    if (def.sizeLimit) {
      const lim = def.sizeLimit;
      for (const f of clash.files) {
        if ((f.kind !== "file" && f.kind !== "md-section") || f.alwaysLoaded) continue;
        const text = typeof f.content === "string" ? f.content : new TextDecoder().decode(f.content);
        const n = lim.unit === "bytes" ? new TextEncoder().encode(text).length : [...text].length;
        if (n > lim.max) {
          const rel = f.path.slice(root.length + 1);
          warnings.push(
            limitExceeded(
              id,
              f.agent ? agentByName.get(f.agent) : undefined,
              `${rel} is ${n} ${lim.unit}; ${def.displayName} reads at most ${lim.max} ${lim.unit} per file (${lim.source})`,
              "shorten the instructions or split the knowledge into smaller files",
            ),
          );
        }
      }
    }
    return { files: clash.files, warnings };
  };

  const homeRel = (env: { homeDir: string }, p: string): string => join(env.homeDir, p);
  return withLargeContext({
    id,
    displayName: def.displayName,
    description: def.description,
    scopes,
    mcpEnvRefs: (scope) => {
      const shape = def.scopes[scope]?.mcp?.shape;
      if (!shape || shape.envSyntax === "literal") return NO_ENV_REFS;
      return { env: "any", headers: shape.headers ? "any" : "none" };
    },
    locations: (roots) => {
      const layout = def.scopes[roots.scope];
      return layout ? layoutPaths(layout, scopeRoot(roots)) : [];
    },
    capabilities: capabilitiesOf(def),
    // The instructions file and always-on rules are in every session; subagent files and on-demand rules are not.
    budget: def.sizeLimit ? { max: def.sizeLimit.max, unit: def.sizeLimit.unit, per: "file", model: "various", source: def.sizeLimit.source } : VARIOUS_WINDOW,
    largeContext: largeContextOf(def),
    extensionSchema: GenericExtension,
    render,
    ...(canParse(def.scopes.project) || canParse(def.scopes.user) ? { parse: (src: FileSource, roots: Roots) => parseGeneric(def, src, roots) } : {}),
    detect: (env) =>
      detectTool(env, {
        binaries: def.detect.binaries,
        configPaths: [...def.detect.configDirs.map((p) => homeRel(env, p)), ...def.detect.projectMarkers.map((p) => join(env.projectRoot, p))],
        vscodeExtensions: def.detect.vscodeExtensions,
        exportPaths: {
          project: def.scopes.project ? layoutPaths(def.scopes.project, env.projectRoot) : [],
          user: def.scopes.user ? layoutPaths(def.scopes.user, env.homeDir) : [],
        },
        notes: def.notes,
        install: def.detect.install,
      }),
    limitations: def.limitations,
  });
}
