// What an agent gets when its knowledge is more than a tool can load at once: one planner for every
// target. Before an adapter renders, `planLargeContext` decides per target (or per agent, for a
// per-agent budget) whether the always-on knowledge fits the target's context budget (inline), and
// otherwise uses the large-context form the adapter declares (`largeContext`): on-demand rules the
// tool loads by description, a knowledge folder the tool reads by itself (an upload bundle), or an
// index in the agent's instructions that lists every file by path and one-line description and
// points to the library's own files (no copies). An index too big for the budget becomes two levels:
// the always-loaded part lists folders, each folder's files are listed in an index file of its own.
// On-demand knowledge reaches every target the same way: natively where the tool has a form for it,
// else through the index, never dropped. Knowledge scoped to file globs (`applyTo`) stays a glob rule
// where the tool has them, up to ON_DEMAND_COPY_MAX_BYTES of such files (each rule is a copy);
// past that it is listed in the index with its globs, so no target copies a large library.
import { join } from "node:path";
import type { Diagnostic } from "../library/diagnostics.ts";
import type { ResolvedAgent, ResolvedKnowledge } from "../library/model.ts";
import type { ExportScope } from "../library/schema.ts";
import { frontmatterFields, splitFrontmatter } from "../library/yaml-source.ts";
import { VARIOUS_WINDOW, type ContextBudget } from "./budget.ts";
import { portableRef } from "./refs.ts";
import type { Adapter, FileSource, OutputFile, ParseResult, RenderContext, RenderResult, Roots } from "./types.ts";

/**
 * - `on-demand-rules`: the adapter renders on-demand knowledge in the tool's own on-demand form
 *   (rules loaded by description, a reference list the agent opens, skills), copying where the tool
 *   needs the text in its own folder;
 * - `knowledge-folder`: the knowledge goes into a folder the tool reads (searches) by itself, e.g. a
 *   Claude project or a GPT's uploaded knowledge: only the instructions are always loaded;
 * - `index`: the agent's instructions get an index of the files (path and description) and the agent
 *   reads a file with its file tool when the task needs it. Works wherever the agent can read files.
 */
const LARGE_CONTEXT_STRATEGIES = ["on-demand-rules", "knowledge-folder", "index"] as const;
export type LargeContextStrategy = (typeof LARGE_CONTEXT_STRATEGIES)[number];

/** What a tool supports for context larger than its budget, best first, and where that is documented. */
export type LargeContext = {
  strategies: readonly LargeContextStrategy[];
  /** Where one scope differs (e.g. no rules folder in user scope). */
  scopes?: Partial<Record<ExportScope, readonly LargeContextStrategy[]>>;
  /** Scopes where the tool scopes rules to file globs: knowledge with `applyTo` is left to the adapter there. */
  globRules?: readonly ExportScope[];
  source: string;
};

/** The strategies of one scope, best first. */
function strategiesFor(lc: LargeContext, scope: ExportScope): readonly LargeContextStrategy[] {
  return lc.scopes?.[scope] ?? lc.strategies;
}

export type ContextDecision = {
  /** The agent decided for; absent when one decision covers every agent of the target (a shared budget). */
  agent?: string;
  strategy: "inline" | LargeContextStrategy;
  /** Knowledge files handled by the strategy (for inline: the always-on files inlined). */
  files: number;
  /**
   * Index depth: 1 = the list is in the instructions, 2 = folders there and one index file per folder,
   * 3 = the folder list is itself in index files (more folder pages than the budget lists).
   */
  levels?: 1 | 2 | 3;
  /** Index files written besides the always-loaded part. */
  indexFiles?: number;
};

/**
 * An estimate of the characters one budget allows (bytes of knowledge are compared; chars <= bytes):
 * `total` for prose (three characters a token, the safe side of the ~4 English text averages),
 * `index` for an index, whose paths and numbers tokenize densely (two a token, measured ~2.5).
 */
function allowance(b: ContextBudget): { total: number; perFile: number; index: number } {
  const inChars = (max: number, unit: ContextBudget["unit"], perToken: number): number => (unit === "tokens" ? max * perToken : max);
  if (b.per === "file")
    return { total: inChars(VARIOUS_WINDOW.max, "tokens", 3), perFile: b.max, index: Math.min(b.max, inChars(VARIOUS_WINDOW.max, "tokens", 2)) };
  const t = inChars(b.max, b.unit, 3);
  return { total: t, perFile: t, index: inChars(b.max, b.unit, 2) };
}

/** The share of a budget an index may take: the rest stays for the conversation and the files the agent reads. */
const INDEX_SHARE = 0.25;

/** Markdown heading and blank lines each inlined file costs. */
const INLINE_OVERHEAD = 40;
/** Per file a description-based rule or reference line costs in the always-loaded listing, besides its description. */
const LISTING_OVERHEAD = 48;
/** On-demand rules copy every file into the tool's folder: past this much, an index of the library's own files is used instead. */
const ON_DEMAND_COPY_MAX_BYTES = 1024 * 1024;
/** Largest index file (one folder's listing) an agent is pointed at: what a file tool reads in one go. */
const INDEX_PAGE_MAX_CHARS = 24_000;
/** Longest description an index line carries. */
const DESCRIPTION_MAX = 100;

/** Index files go under `.aicfg/index/` of the scope root. */
function indexRoot(roots: Roots): string {
  return join(roots.scope === "project" ? roots.projectRoot : roots.homeDir, ".aicfg", "index");
}

/**
 * A target's own index files: `.aicfg/index/<target>/<agent>/`. Only used when its index differs from
 * one another target of the export wrote to the shared folder (see sharedIndexDir).
 */
function indexDir(target: string, roots: Roots): string {
  return join(indexRoot(roots), target);
}

/**
 * Index pages every target with the same index of an agent shares (one copy instead of one per
 * target): `.aicfg/index/shared/<agent>/<variant>-<depth>/`, where the variant says which of the
 * agent's files are indexed (all, or the on-demand ones; with or without the glob-scoped ones) and
 * the depth how they are grouped: what the pages' text depends on besides the files themselves.
 */
function sharedIndexDir(roots: Roots, agent: string, variant: string, depth: number): string {
  return join(indexRoot(roots), "shared", agent, `${variant}-${depth}`);
}

// What each shared index page holds in this export: a target whose page would differ falls back to its own folder.
const sharedPages = new WeakMap<RenderContext, Map<string, string>>();

// Descriptions are read once per export, not once per target (the render context lives for one export).
type Meta = { description: string; globs: string[] };
const metaCache = new WeakMap<RenderContext, Map<string, Meta>>();

function firstHeading(body: string): string | undefined {
  return /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(body)?.[1];
}

/** A knowledge file's one-line description (frontmatter description, else title, else first heading) and whether it has `applyTo`. */
function metaOf(k: ResolvedKnowledge, ctx: RenderContext): Meta {
  let cache = metaCache.get(ctx);
  if (!cache) metaCache.set(ctx, (cache = new Map()));
  const hit = cache.get(k.absPath);
  if (hit !== undefined) return hit;
  // Read in an earlier export of this process (the daemon) at the same size and mtime, and trusted by the export.
  const seen = metaSeen.get(k.absPath);
  if (seen && seen.size === k.size && seen.mtimeMs === k.mtimeMs && ctx.statTrusted?.(k.absPath)) {
    cache.set(k.absPath, seen.meta);
    return seen.meta;
  }
  const meta = readMeta(k, ctx);
  cache.set(k.absPath, meta);
  if (metaSeen.size >= META_SEEN_MAX) metaSeen.clear();
  metaSeen.set(k.absPath, { size: k.size, mtimeMs: k.mtimeMs, meta });
  return meta;
}

/** Descriptions read by earlier exports of this process, by file, with the size and mtime they were read at. */
const metaSeen = new Map<string, { size: number; mtimeMs: number; meta: Meta }>();
const META_SEEN_MAX = 200_000;

function readMeta(k: ResolvedKnowledge, ctx: RenderContext): Meta {
  let d = "";
  let globs: string[] = [];
  try {
    const text = new TextDecoder().decode(ctx.readBytes(k.absPath));
    const split = splitFrontmatter(text);
    // A broken frontmatter is reported by the library loader; the index falls back to the heading.
    const fm: Record<string, unknown> = (split.frontmatter !== undefined && frontmatterFields(split.frontmatter)) || {};
    const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);
    d = str(fm.description) ?? str(fm.title) ?? firstHeading(split.body) ?? "";
    const applyTo = fm.applyTo;
    globs =
      typeof applyTo === "string"
        ? applyTo
          ? [applyTo]
          : []
        : Array.isArray(applyTo)
          ? applyTo.filter((g): g is string => typeof g === "string" && g !== "")
          : [];
  } catch {
    d = "";
  }
  d = d.replace(/\s+/g, " ");
  if (d.length > DESCRIPTION_MAX) d = d.slice(0, DESCRIPTION_MAX - 1) + "…";
  return { description: d, globs };
}

type Entry = { id: number; k: ResolvedKnowledge; ref: string; dir: string; name: string; description: string; globs: readonly string[] };

// An entry is the same for every target of one export (refs are relative to the session's folder, not
// to the target's files): built once per knowledge file and export.
const entryCache = new WeakMap<RenderContext, Map<ResolvedKnowledge, Entry>>();

function entriesOf(files: readonly ResolvedKnowledge[], ctx: RenderContext): Entry[] {
  let cache = entryCache.get(ctx);
  if (!cache) entryCache.set(ctx, (cache = new Map()));
  const out: Entry[] = [];
  for (const k of files) {
    let e = cache.get(k);
    if (!e) {
      // The agent opens the file from the session's folder (the project root in project scope): refs.ts.
      const ref = portableRef(k.absPath, ctx, "cwd");
      const cut = ref.lastIndexOf("/");
      const meta = metaOf(k, ctx);
      e = {
        id: cache.size,
        k,
        ref,
        dir: cut < 0 ? "." : ref.slice(0, cut),
        name: cut < 0 ? ref : ref.slice(cut + 1),
        description: meta.description,
        globs: meta.globs,
      };
      cache.set(k, e);
    }
    out.push(e);
  }
  // Every target of the export with the same files for an agent gets the same list: sorted once.
  let sorted = sortedCache.get(ctx);
  if (!sorted) sortedCache.set(ctx, (sorted = new Map()));
  const key = out.map((e) => e.id).join(",");
  const hit = sorted.get(key);
  if (hit) return hit;
  const list = out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  sorted.set(key, list);
  return list;
}
const sortedCache = new WeakMap<RenderContext, Map<string, Entry[]>>();

// A page's whole text, one string per path and export: targets sharing a page hand the plan the same
// string, so comparing and hashing them again costs nothing.
const pageCache = new WeakMap<RenderContext, Map<string, { key: string; text: string }>>();

function pageText(path: string, head: string, entries: readonly Entry[], ctx: RenderContext): string {
  let cache = pageCache.get(ctx);
  if (!cache) pageCache.set(ctx, (cache = new Map()));
  const key = `${head}\0${entries.map((e) => e.id).join(",")}`;
  const hit = cache.get(path);
  if (hit?.key === key) return hit.text;
  const text = `${head}Generated by aicfg; paths are relative to the project root.\n\n${listing(entries)}`;
  cache.set(path, { key, text });
  return text;
}

/** Files grouped by folder: `### <folder>/` then `- <name>: <description>`, the shortest form that keeps every path whole. */
function listing(entries: readonly Entry[]): string {
  let out = "";
  let dir: string | undefined;
  for (const e of entries) {
    if (e.dir !== dir) {
      dir = e.dir;
      out += `${out ? "\n" : ""}### ${dir}/\n\n`;
    }
    out += `- ${e.name}${e.globs.length ? ` (for ${e.globs.join(", ")})` : ""}${e.description ? `: ${e.description}` : ""}\n`;
  }
  return out;
}

/** The first `depth` segments of a knowledge path's folder (its group in a two-level index). */
function groupOf(path: string, depth: number): string {
  const parts = path.split("/").slice(0, -1);
  return parts.length ? parts.slice(0, depth).join("/") : ".";
}

type Index = { text: string; files: OutputFile[]; levels: 1 | 2 | 3 };

/** Start and end of the index section in an agent's instructions, so import (parse) can take it off again. */
export const INDEX_MARKER = "<!-- aicfg:knowledge-index -->";
const INDEX_END = "<!-- aicfg:knowledge-index-end -->";

/** Instructions without the index the planner appended (what import gives back as the agent's own text). */
function withoutKnowledgeIndex(instructions: string): string {
  const at = instructions.indexOf(INDEX_MARKER);
  if (at < 0) return instructions;
  const end = instructions.indexOf(INDEX_END, at);
  const own = instructions.slice(0, at).replace(/\s+$/, "");
  // What a target rendered after the instructions (inlined knowledge) stays, as it would be without the index.
  const rest = end < 0 ? "" : instructions.slice(end + INDEX_END.length).replace(/^\s+/, "");
  if (!rest) return own ? own + "\n" : "";
  return own ? `${own}\n\n${rest}` : rest;
}

const INTRO =
  "These knowledge files are not loaded up front. Before you answer, read the ones the task needs with your file-reading tool; " +
  "paths are relative to the folder you run in (the project root), `~` is the home folder.";

/**
 * The index section for one agent's files: the whole listing when it fits `max`, else one line per
 * folder group in the section and each group's listing in its own file (split into parts when a group
 * is larger than a page), grouping deeper until the section fits.
 */
function buildIndex(entries: readonly Entry[], max: number, dirOf: (depth: number) => string, ctx: RenderContext, agent: ResolvedAgent): Index {
  // Each listing line holds at least the file name: past `max` by names alone, the flat listing is not built.
  let least = 0;
  for (const e of entries) if ((least += e.name.length + 3) > max) break;
  if (least <= max) {
    const flat = `${INDEX_MARKER}\n## Knowledge index\n\n${INTRO}\n\n${listing(entries)}${INDEX_END}\n`;
    if (flat.length <= max) return { text: flat, files: [], levels: 1 };
  }
  let best: Index | undefined;
  for (let depth = 1; depth <= 8; depth++) {
    const groups = new Map<string, Entry[]>();
    for (const e of entries) {
      const g = groupOf(e.k.path, depth);
      const list = groups.get(g) ?? [];
      list.push(e);
      groups.set(g, list);
    }
    const files: OutputFile[] = [];
    let lines = "";
    for (const [g, list] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const pages = paginate(list);
      const stem = g === "." ? "_root" : g;
      pages.forEach((page, i) => {
        const path = join(dirOf(depth), pages.length === 1 ? `${stem}.md` : `${stem}.part-${i + 1}.md`);
        const head = `# Knowledge of ${agent.name}: ${g === "." ? "top folder" : `${g}/`}${pages.length > 1 ? ` (part ${i + 1} of ${pages.length})` : ""}\n\n`;
        files.push({
          kind: "file",
          path,
          content: pageText(path, head, page, ctx),
          agent: agent.name,
        });
        const ref = portableRef(path, ctx, "cwd");
        lines += `- ${g === "." ? "(top folder)" : `${g}/`}${pages.length > 1 ? ` part ${i + 1}` : ""} (${page.length} files): ${ref}\n`;
      });
    }
    const text = `${INDEX_MARKER}\n## Knowledge index\n\n${INTRO} The ${entries.length.toLocaleString("en-US")} files are listed by folder: read the index file of the folder the task is about, then the files.\n\n${lines}${INDEX_END}\n`;
    const candidate: Index = { text, files, levels: 2 };
    if (!best || text.length < best.text.length) best = candidate;
    if (text.length <= max) return candidate;
    // Deeper grouping only helps while it does not multiply the folder lines.
    if (groups.size >= entries.length) break;
  }
  return best!.text.length <= max ? best! : folderPages(best!, entries.length, dirOf, ctx, agent);
}

// Targets with the same entries (one sorted list per export: entriesOf), room and folder get the same index: built once.
const indexCache = new WeakMap<readonly Entry[], Map<string, Index>>();

/** buildIndex, once per export for each list of entries, room, index folder (`where`) and agent. */
function indexOf(entries: readonly Entry[], max: number, where: string, dirOf: (depth: number) => string, ctx: RenderContext, agent: ResolvedAgent): Index {
  let cache = indexCache.get(entries);
  if (!cache) indexCache.set(entries, (cache = new Map()));
  const key = `${max}\u0000${where}\u0000${agent.name}`;
  let idx = cache.get(key);
  if (!idx) cache.set(key, (idx = buildIndex(entries, max, dirOf, ctx, agent)));
  return idx;
}

/** A third level: the folder lines of a two-level index that is still too long go into pages of their own. */
function folderPages(two: Index, count: number, dirOf: (depth: number) => string, ctx: RenderContext, agent: ResolvedAgent): Index {
  const start = two.text.indexOf("\n- ");
  const end = two.text.lastIndexOf("\n" + INDEX_END);
  const lines = two.text.slice(start + 1, end + 1).split(/(?<=\n)/);
  const pages: string[] = [""];
  for (const l of lines) {
    if (pages[pages.length - 1]!.length + l.length > INDEX_PAGE_MAX_CHARS && pages[pages.length - 1]) pages.push("");
    pages[pages.length - 1] += l;
  }
  const files = [...two.files];
  let list = "";
  pages.forEach((page, i) => {
    const path = join(dirOf(0), `_folders${pages.length > 1 ? `.part-${i + 1}` : ""}.md`);
    const part = pages.length > 1 ? ` (part ${i + 1} of ${pages.length})` : "";
    files.push({
      kind: "file",
      path,
      content: `# Knowledge of ${agent.name}: folder index${part}\n\nGenerated by aicfg; paths are relative to the project root. Each line names a folder's index file.\n\n${page}`,
      agent: agent.name,
    });
    list += `- folders${part}: ${portableRef(path, ctx, "cwd")}\n`;
  });
  const text = `${INDEX_MARKER}\n## Knowledge index\n\n${INTRO} The ${count.toLocaleString("en-US")} files are listed by folder in index files; these list the folders: read them to find the folder the task is about, then its index file, then the files.\n\n${list}${INDEX_END}\n`;
  return { text, files, levels: 3 };
}

function paginate(list: readonly Entry[]): Entry[][] {
  const pages: Entry[][] = [[]];
  let size = 0;
  for (const e of list) {
    const n = e.name.length + e.description.length + e.globs.reduce((m, g) => m + g.length + 2, 0) + 6;
    if (size + n > INDEX_PAGE_MAX_CHARS && pages[pages.length - 1]!.length) {
      pages.push([]);
      size = 0;
    }
    pages[pages.length - 1]!.push(e);
    size += n;
  }
  return pages;
}

function sizeOf(files: readonly ResolvedKnowledge[], overhead: number): number {
  let n = 0;
  for (const k of files) n += k.size + overhead;
  return n;
}

type LargeContextPlan = { agents: ResolvedAgent[]; files: OutputFile[]; warnings: Diagnostic[]; decisions: ContextDecision[] };

/**
 * Decides, for one target, what each agent's knowledge becomes (see the module comment) and returns
 * the agents to render (knowledge re-moded or replaced by an index in the instructions) plus the index files.
 */
function planLargeContext(
  target: Pick<Adapter, "id" | "displayName" | "budget" | "largeContext">,
  agents: readonly ResolvedAgent[],
  ctx: RenderContext,
): LargeContextPlan {
  const { budget, largeContext } = target;
  const strategies = strategiesFor(largeContext, ctx.scope);
  const lim = allowance(budget);
  const out: LargeContextPlan = { agents: [], files: [], warnings: [], decisions: [] };
  const dir = indexDir(target.id, ctx);

  // One budget for all agents (a shared instructions file) decides inline for all of them together.
  const shared = budget.per !== "agent";
  // Knowledge with applyTo globs is not always loaded where the tool scopes rules to files: the adapter keeps it.
  // The adapter writes one rule per such file (a copy in the tool's folder): past ON_DEMAND_COPY_MAX_BYTES
  // together they go into the index like the rest (with their globs), so no target copies the library.
  const hasGlobs = (k: ResolvedKnowledge): boolean => metaOf(k, ctx).globs.length > 0;
  let globsKept: boolean | undefined;
  const keepGlobs = (): boolean => {
    if (globsKept !== undefined) return globsKept;
    const seen = new Set<string>();
    let bytes = 0;
    for (const a of agents)
      for (const k of a.knowledge) {
        if (seen.has(k.absPath) || !hasGlobs(k)) continue;
        seen.add(k.absPath);
        bytes += k.size;
      }
    return (globsKept = bytes <= ON_DEMAND_COPY_MAX_BYTES);
  };
  const globScoped = largeContext.globRules?.includes(ctx.scope) ? (k: ResolvedKnowledge) => hasGlobs(k) && keepGlobs() : () => false;
  const fitsInlineWith = (group: readonly ResolvedAgent[], excluded: (k: ResolvedKnowledge) => boolean): boolean => {
    const seen = new Set<string>();
    let total = 0;
    for (const a of group) {
      total += a.instructions.length + a.description.length + INLINE_OVERHEAD;
      for (const k of a.knowledge) {
        if (k.mode !== "always" || seen.has(k.absPath) || excluded(k)) continue;
        seen.add(k.absPath);
        if (k.size + INLINE_OVERHEAD > lim.perFile) return false;
        total += k.size + INLINE_OVERHEAD;
      }
    }
    return total <= lim.total;
  };
  // Reading a file to learn its globs makes the export depend on the file's content (a target then
  // renders again on every edit of it): when the agents fit even counting every always-on file, the
  // answer is "inline" without reading any.
  const fitsInline = (group: readonly ResolvedAgent[]): boolean => fitsInlineWith(group, () => false) || fitsInlineWith(group, globScoped);
  const sharedInline = shared ? fitsInline(agents) : false;
  // The index goes into the agent's instructions, one file: a per-file budget bounds it too. Agents
  // sharing one budget share its room.
  const cap = Math.min(lim.total, lim.perFile);
  const indexCap = lim.index * INDEX_SHARE;
  const sharedBase = shared ? agents.reduce((n, a) => n + a.instructions.length + a.description.length + INLINE_OVERHEAD, 0) : 0;

  for (const agent of agents) {
    const inline = shared ? sharedInline : fitsInline([agent]);
    if (inline && !agent.knowledge.some((k) => k.mode === "on-demand")) {
      // Everything is inlined: nothing to defer, no file needs reading.
      out.agents.push(agent);
      const always = agent.knowledge.filter((k) => k.mode === "always").length;
      if (always) out.decisions.push({ ...(shared ? {} : { agent: agent.name }), strategy: "inline", files: always });
      continue;
    }
    const always = agent.knowledge.filter((k) => k.mode === "always" && !globScoped(k));
    const onDemand = agent.knowledge.filter((k) => k.mode === "on-demand" && !globScoped(k));
    // What has to reach the agent without being loaded up front.
    const deferred = inline ? onDemand : [...always, ...onDemand];
    if (!deferred.length) {
      out.agents.push(agent);
      if (always.length) out.decisions.push({ ...(shared ? {} : { agent: agent.name }), strategy: "inline", files: always.length });
      continue;
    }
    const own = agent.instructions.length + agent.description.length + INLINE_OVERHEAD;
    const inlined = inline ? sizeOf(always, INLINE_OVERHEAD) : 0;
    const room = shared ? Math.max(0, cap - sharedBase - inlined) / agents.length : Math.max(0, cap - own - inlined);
    const listingCost = deferred.reduce((n, k) => n + k.path.length + LISTING_OVERHEAD, 0);
    const strategy =
      strategies.find((s) => {
        if (s === "knowledge-folder") return true;
        if (s === "on-demand-rules") return listingCost <= room && sizeOf(deferred, 0) <= ON_DEMAND_COPY_MAX_BYTES;
        return true;
      }) ?? "index";
    const deferredSet = new Set(deferred);
    if (!inline && always.length) {
      out.warnings.push({
        severity: "warning",
        code: "context-fallback",
        message: `${target.id}: agent '${agent.name}': its ${always.length.toLocaleString("en-US")} always-on knowledge files (${sizeOf(always, 0).toLocaleString("en-US")} bytes) are more than ${target.displayName} loads at once (${budget.max.toLocaleString("en-US")} ${budget.unit}${budget.per === "total" ? "" : ` per ${budget.per}`}); they are given as ${STRATEGY_TEXT[strategy]}`,
        file: agent.sourceFile,
        hint: "mark the knowledge mode: on-demand to say so, or narrow the agent's knowledge globs",
      });
    }
    if (strategy !== "index") {
      out.agents.push({ ...agent, knowledge: agent.knowledge.map((k) => (deferredSet.has(k) && k.mode === "always" ? { ...k, mode: "on-demand" } : k)) });
      out.decisions.push({ agent: agent.name, strategy, files: deferred.length });
      continue;
    }
    const entries = entriesOf(deferred, ctx);
    const max = Math.max(Math.min(room, indexCap), 2_000);
    const variant = `${inline ? "on-demand" : "all"}${largeContext.globRules?.includes(ctx.scope) && keepGlobs() ? "-unscoped" : ""}`;
    let idx = indexOf(entries, max, `shared\u0000${variant}`, (depth) => sharedIndexDir(ctx, agent.name, variant, depth), ctx, agent);
    let pages = sharedPages.get(ctx);
    if (!pages) sharedPages.set(ctx, (pages = new Map()));
    const claimed = pages;
    if (idx.files.some((f) => f.kind === "file" && claimed.has(f.path) && claimed.get(f.path) !== f.content))
      idx = indexOf(entries, max, dir, () => join(dir, agent.name), ctx, agent);
    else for (const f of idx.files) if (f.kind === "file" && typeof f.content === "string") claimed.set(f.path, f.content);
    const instructions = agent.instructions.replace(/\s+$/, "");
    out.agents.push({
      ...agent,
      instructions: `${instructions}${instructions ? "\n\n" : ""}${idx.text}`,
      knowledge: agent.knowledge.filter((k) => !deferredSet.has(k)),
    });
    out.files.push(...idx.files);
    out.decisions.push({ agent: agent.name, strategy: "index", files: deferred.length, levels: idx.levels, indexFiles: idx.files.length });
  }
  return out;
}

const STRATEGY_TEXT: Record<LargeContextStrategy, string> = {
  "on-demand-rules": "on-demand knowledge the tool loads when relevant",
  "knowledge-folder": "knowledge the tool searches by itself instead of loading it whole",
  index: "an index in the agent's instructions that points to each file, read when needed",
};

/** Wraps an adapter's render and locations with the planner: the one place every target gets it from. */
export function withLargeContext(adapter: Adapter): Adapter {
  const render = (agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult => {
    const plan = planLargeContext(adapter, agents, ctx);
    const r = adapter.render(plan.agents, ctx);
    // A target with nothing for this scope (it warned why) gets no index files either.
    const files = r.files.length ? [...r.files, ...plan.files] : r.files;
    return { files, warnings: [...plan.warnings, ...r.warnings], contextPlan: r.files.length ? plan.decisions : [] };
  };
  const inner = adapter.parse;
  const parse = inner
    ? (src: FileSource, roots: Roots): ParseResult => {
        const r = inner(src, roots);
        return { ...r, agents: r.agents.map((a) => ({ ...a, instructions: withoutKnowledgeIndex(a.instructions) })) };
      }
    : undefined;
  // Index files (a two-level index) are written only by targets that can take an index.
  const lc = adapter.largeContext;
  const indexes = (scope: ExportScope) => strategiesFor(lc, scope).includes("index");
  const locations = (roots: Roots): string[] => [...adapter.locations(roots), ...(indexes(roots.scope) ? [indexRoot(roots)] : [])];
  return { ...adapter, render, ...(parse ? { parse } : {}), locations };
}

/** The index file paths of a render, relative to the scope root (for tests and summaries). */
export function isIndexFile(path: string, target: string, roots: Roots): boolean {
  const own = indexDir(target, roots);
  const shared = join(indexRoot(roots), "shared");
  return path.startsWith(own + "/") || path.startsWith(shared + "/");
}
