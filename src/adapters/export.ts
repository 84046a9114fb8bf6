// The export pipeline: load -> resolve -> render per target -> plan -> (apply). Used by
// `aicfg export`, the `export` workflow action and the API, so all three behave the same.
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve, sep } from "node:path";
import type { InputScan } from "../library/inputs.ts";
import { saveExportRecord } from "./export-record.ts";
import { hasErrors, type Diagnostic } from "../library/diagnostics.ts";
import { hashValue, sha256 } from "../library/hash.ts";
import { loadLibrary } from "../library/load.ts";
import type { Library, ResolvedAgent } from "../library/model.ts";
import { readKnowledgeBody, resolveAll } from "../library/resolve.ts";
import type { ExportScope } from "../library/schema.ts";
import {
  entryKey,
  loadManifest,
  loadProjectManifest,
  MANIFEST_LOG,
  MANIFEST_NAME,
  manifestBase,
  mergeProjectManifest,
  PROJECT_MANIFEST,
  saveProjectManifest,
  updateManifest,
  type ManifestBase,
  type OwnedFileManifest,
} from "./manifest.ts";
import { applyPlan, applyPlanAsync, planExport, type ApplyResult, type ExportPlan, type PlanEntry, type TargetOutput } from "./plan.ts";
import { getAdapter, listAdapters } from "./registry.ts";
import { renderExtras } from "./extras/index.ts";
import { budgetWarning, measureBudget, type BudgetFigures, type ContextBudget } from "./budget.ts";
import { markSecretFiles, prepareSecrets } from "./secrets.ts";
import type { Adapter, OutputFile, OutputPart, RenderContext, RenderResult, Roots } from "./types.ts";

const EXPORT_FORMAT_VERSION = "2";

export type ExportOptions = {
  library: string | Library;
  /** Only these targets; `undefined` means every target each agent names. */
  targets?: string[];
  /** Only these agents. */
  agents?: string[];
  scope?: ExportScope;
  /** Project root (project scope) or home folder (user scope). */
  root?: string;
  stateDir: string;
  dryRun?: boolean;
  force?: boolean;
  strict?: boolean;
  /** Skip the input-fingerprint shortcut (always render and plan). */
  noCache?: boolean;
  now?: () => Date;
  /**
   * Files the caller saw change since its last export (a watch trigger's paths, absolute): a cached
   * target that read one is rendered again even when its stats look unchanged; the others keep
   * their cache (an agent or MCP change reaches the fingerprint through the library).
   */
  changedPaths?: readonly string[];
  /** The library's resolution when the caller keeps one current (the daemon's live library); default resolveAll. */
  resolved?: { agents: ResolvedAgent[]; diagnostics: Diagnostic[] };
  /**
   * Record this export for the no-op shortcut of a later process (export-record.ts): the key of the
   * export's options and the inputs as listed before the library was loaded.
   */
  record?: { key: string; scan: InputScan };
  /**
   * Inputs whose content changed since the recorded export (found by hash, so also edits that kept
   * size and mtime): targets that read one are rendered again; any other changed input renders all.
   */
  changedInputs?: readonly string[];
  /**
   * Decrypted values of the secrets the agents refer to (`{ secret: NAME }`), for targets that cannot
   * read an environment variable in user scope (src/adapters/secrets.ts). Absent: such values are left out.
   */
  secrets?: ReadonlyMap<string, string>;
  /** Called with each target's render (files and warnings) as it is made: analytics measure it per agent (analytics.ts). */
  onRender?: (target: string, rendered: RenderResult) => void;
};

type TargetSummary = {
  target: string;
  agents: string[];
  counts: Record<PlanEntry["action"], number>;
  cached: boolean;
  /** What the target always loads against its context budget (from the last render when cached). */
  budget?: BudgetFigures;
  /** Outputs rendered again in this run (0 when the target's inputs did not change). */
  rendered: number;
  /** A target rendered per agent (Adapter.split): the agents rendered again and those whose outputs were cached. */
  units?: { rendered: string[]; cached: string[] };
  /**
   * A target whose adapter names each output with its inputs (RenderContext.output): the outputs (file
   * paths) rendered again because an input changed, and those given back from the previous export.
   */
  outputs?: { rendered: number; cached: number };
  /** Rendered again as a whole: its adapter neither renders one agent alone nor names its outputs' inputs. */
  whole?: boolean;
};

export type ExportResult = {
  library: Library;
  libraryName: string;
  libraryRoot: string;
  scope: ExportScope;
  roots: Roots;
  plan: ExportPlan;
  applied?: ApplyResult;
  targets: TargetSummary[];
  warnings: Diagnostic[];
  errors: Diagnostic[];
  /** True when a file is out of date, drifted or in conflict (what `--check` fails on). */
  outOfDate: boolean;
  /**
   * Targets and outputs rendered again, of all the export covers (a one-file edit renders few), and
   * the targets among them rendered whole (their adapter renders every agent together).
   */
  rendered: { targets: number; outputs: number; totalOutputs: number; whole: string[] };
};

export { defaultStateDir } from "./export-record.ts";

export function exportRoots(lib: Library, scope: ExportScope, root: string | undefined): Roots {
  const projectRoot =
    scope === "project" && root ? resolve(root) : lib.manifest.export?.root ? resolve(lib.root, lib.manifest.export.root) : resolve(process.cwd());
  const homeDir = scope === "user" && root ? resolve(root) : homedir();
  return { scope, projectRoot, homeDir };
}

/** Renders and plans every target, and applies the plan unless it is a dry run (fsyncs one at a time). */
export function exportLibrary(opts: ExportOptions): ExportResult {
  const p = prepareExport(opts);
  if (p.apply) finishExport(opts, p, applyPlan(p.result.plan, p.manifest, opts.stateDir, p.now));
  return p.result;
}

/**
 * exportLibrary with the durability batched on the libuv pool (applyPlanAsync): the same files, the
 * same crash guarantee, a fraction of the time when thousands of files are written.
 */
export async function exportLibraryAsync(opts: ExportOptions): Promise<ExportResult> {
  const p = prepareExport(opts);
  if (p.apply) finishExport(opts, p, await applyPlanAsync(p.result.plan, p.manifest, opts.stateDir, p.now));
  return p.result;
}

type Prepared = {
  result: ExportResult;
  apply: boolean;
  now: string;
  manifest: OwnedFileManifest;
  base: ManifestBase;
  committed: ReturnType<typeof loadProjectManifest> | undefined;
  cacheUpdates: Record<string, CacheRecord>;
  /** Cache records to remove (agents a per-agent target no longer has). */
  cacheDrops: string[];
  outputPaths: string[];
  only: Set<string> | undefined;
};

type CacheRecord = OwnedFileManifest["cache"][string];
type ReadStats = [string, number, number][];
/** Read lists at least this long are stored once for every record that has the same (CacheRecord.readsRef). */
const SHARED_READS_MIN = 64;
const SHARED_READS_PREFIX = "reads\u0000";

function prepareExport(opts: ExportOptions): Prepared {
  const now = (opts.now ?? (() => new Date()))().toISOString();
  const lib = typeof opts.library === "string" ? loadLibrary(opts.library) : opts.library;
  const scope: ExportScope = opts.scope ?? lib.manifest.export?.scope ?? "project";
  const roots = exportRoots(lib, scope, opts.root);
  const root = scope === "project" ? roots.projectRoot : roots.homeDir;
  const warnings: Diagnostic[] = lib.diagnostics.filter((d) => d.severity === "warning");
  const errors: Diagnostic[] = lib.diagnostics.filter((d) => d.severity === "error");

  const resolved = opts.resolved ?? resolveAll(lib);
  const badAgents = new Set<string>();
  for (const d of resolved.diagnostics) {
    (d.severity === "error" ? errors : warnings).push(d);
    if (d.severity === "error") {
      const m = /agent '([^']+)'/.exec(d.message);
      if (m) badAgents.add(m[1]!);
    }
  }
  // With --agent, targets are still rendered from all their agents (shared files such as CLAUDE.md or
  // .mcp.json hold every agent's part); only the whole files of other agents are then left out.
  const agents = resolved.agents.filter((a) => !badAgents.has(a.name));
  const only = opts.agents?.length ? new Set(opts.agents) : undefined;
  if (only) {
    for (const name of only) {
      if (!lib.agents.has(name))
        errors.push({
          severity: "error",
          code: "agent-not-found",
          message: `no agent named '${name}'`,
          hint: `known agents: ${[...lib.agents.keys()].sort().join(", ")}`,
        });
    }
  }

  // Which agents go to which target.
  const known = new Set(listAdapters().map((a) => a.id));
  const perTarget = new Map<string, ResolvedAgent[]>();
  // `all` needs no detection, so it is expanded here too; `detected` must be expanded by the caller
  // (expandTargets: detection is asynchronous).
  const targets = opts.targets ? [...new Set(opts.targets.flatMap((t) => (t === "all" ? [...known] : [t])))] : undefined;
  for (const t of targets ?? []) {
    if (t === "detected")
      errors.push({
        severity: "error",
        code: "unknown-target",
        message: "target 'detected' was not expanded",
        hint: "this is a bug in the caller: expand the list with expandTargets() first",
      });
    else if (!known.has(t))
      errors.push({
        severity: "error",
        code: "unknown-target",
        message: `unknown target '${t}'`,
        hint: `known targets: ${[...known].sort().join(", ")}, or 'all' (every target) or 'detected' (the tools 'aicfg doctor' finds) (see 'aicfg targets')`,
      });
    else perTarget.set(t, []);
  }
  for (const a of agents) {
    // --target T exports to T every agent that does not restrict itself: an agent's own `targets`
    // limit it, the library's default targets do not.
    const ownTargets = a.provenance.targets !== "manifest" && a.provenance.targets !== "none";
    const wanted = targets ? targets.filter((t) => known.has(t) && (!ownTargets || a.targets.includes(t))) : a.targets;
    if (!targets && a.targets.length === 0) {
      warnings.push({
        severity: "warning",
        code: "no-targets",
        message: `agent '${a.name}' names no targets and the library has no default targets; not exported`,
        file: a.sourceFile,
        hint: "add targets: to aicfg.yaml or the agent, or pass --target",
      });
    }
    for (const t of wanted) {
      if (!known.has(t)) {
        errors.push({
          severity: "error",
          code: "unknown-target",
          message: `agent '${a.name}' names unknown target '${t}'`,
          file: a.sourceFile,
          hint: `known targets: ${[...known].sort().join(", ")}`,
        });
        continue;
      }
      const list = perTarget.get(t) ?? [];
      list.push(a);
      perTarget.set(t, list);
    }
  }

  const manifest = loadManifest(opts.stateDir);
  const base = manifestBase(manifest);
  // Project exports keep their ownership record in the project too (committed with them), so a
  // fresh clone or CI knows which files are ours without the per-user state.
  const committed = scope === "project" ? loadProjectManifest(roots.projectRoot) : undefined;
  if (committed?.error) errors.push(committed.error);
  else if (committed) mergeProjectManifest(manifest, committed.entries);
  const knowledgeCache = new Map<string, string>();
  // Files a render reads: the cache fingerprint covers their size and mtime, so a content change
  // re-renders only targets that embed that content (Q, Kiro and Claude Code refer to it by path).
  let reads = new Set<string>();
  const ctx: RenderContext = {
    ...roots,
    library: lib,
    readKnowledge: (p) => {
      reads.add(p);
      let t = knowledgeCache.get(p);
      if (t === undefined) {
        t = readKnowledgeBody(p);
        knowledgeCache.set(p, t);
      }
      return t;
    },
    readBytes: (p) => {
      reads.add(p);
      return readFileSync(p);
    },
  };

  const moved = new Set(opts.changedInputs ?? []);
  const seen = new Set(opts.changedPaths ?? []);
  // What was read of a file in an earlier export of this process may be used again where the cache may be (fallback.ts descriptions).
  ctx.statTrusted = opts.noCache || opts.force ? () => false : (p) => !moved.has(p) && !seen.has(p);
  // The library was just loaded (or refreshed from the watcher's events): its knowledge stats are
  // current, so the cache check compares with them instead of a stat per read per target.
  // Other files a render reads (agents, skills) are stat'ed once per export, not once per target and output
  // (a stat taken before the file is read: an edit in between makes the next export render it again).
  const knownStats = new Map<string, [number, number] | undefined>();
  for (const k of lib.knowledge.values()) knownStats.set(k.absPath, [k.size, k.mtimeMs]);
  // Each agent and the library are hashed once, not once per target (37 times at --target all).
  const libKey = hashValue(libraryFingerprint(lib));
  // What an agent rendered alone (Adapter.split) sees of the library besides its own definition: the
  // other agents' files are not part of it, so editing one agent leaves the others cached.
  const unitLibKey = hashValue({ ...(libraryFingerprint(lib) as Record<string, unknown>), agents: undefined });
  const agentKeys = new Map<ResolvedAgent, string>();
  const agentKey = (a: ResolvedAgent) => {
    let k = agentKeys.get(a);
    if (k === undefined) agentKeys.set(a, (k = hashValue(withoutStats(a))));
    return k;
  };
  // The per-target fingerprint sees agents by size and mtime only: a changed agent, manifest, MCP or
  // skill file found by hash disables it; changed knowledge invalidates the targets that read it.
  const fingerprintTrusted = [...moved].every((p) => lib.layers.some((l) => p.startsWith(join(l.root, "knowledge") + sep)));
  // An agent rendered alone sees the other agents not at all and its own definition by content
  // (agentKey, the MCP servers it uses resolved into it, as in a memoized output's agentInput): an
  // agent or MCP file changed by hash leaves the other agents' units and outputs cached.
  const unitsTrusted = [...moved].every((p) => lib.layers.some((l) => ["knowledge", "agents", "mcp"].some((d) => p.startsWith(join(l.root, d) + sep))));
  // Long read lists are stored once (CacheRecord.readsRef): the new ones of this export, by key.
  const sharedReads: Record<string, CacheRecord> = {};
  const readsOf = (c: CacheRecord): ReadStats | undefined =>
    c.readsRef === undefined ? c.reads : (sharedReads[c.readsRef] ?? manifest.cache[c.readsRef])?.reads;
  const storeReads = (list: ReadStats): Pick<CacheRecord, "reads" | "readsRef"> => {
    if (list.length < SHARED_READS_MIN) return { reads: list };
    const key = `${SHARED_READS_PREFIX}${sha256(JSON.stringify(list))}`;
    if (!manifest.cache[key] && !sharedReads[key]) sharedReads[key] = { fingerprint: "reads", paths: [], reads: list };
    return { reads: [], readsRef: key };
  };
  const outputs: TargetOutput[] = [];
  const summaries: TargetSummary[] = [];
  const outputPaths: string[] = [];
  // Paths rendered again by any target: a file several targets write (a shared index page, AGENTS.md)
  // counts once, as it does in the total.
  const renderedAll = new Set<string>();
  // Where the large-context planner writes its index pages (fallback.ts), and their hashes, once per path.
  const indexPrefix = join(root, ".aicfg", "index") + sep;
  const pageHashes = new Map<string, string>();
  const pageHash = (path: string, content: string | Uint8Array): string => {
    let h = pageHashes.get(path);
    if (h === undefined) pageHashes.set(path, (h = sha256(content)));
    return h;
  };
  const cacheUpdates: Record<string, CacheRecord> = {};
  const cacheDrops: string[] = [];
  for (const [target, list] of [...perTarget].sort(([a], [b]) => a.localeCompare(b))) {
    const adapter = getAdapter(target)!;
    if (!adapter.scopes.includes(scope)) {
      warnings.push({
        severity: "warning",
        code: "scope-unsupported",
        message: `${adapter.displayName} has no ${scope} scope; skipped`,
        hint: `export it with --scope ${adapter.scopes[0]}`,
      });
      continue;
    }
    const extErrors = checkExtensions(adapter, list);
    errors.push(...extErrors.errors);
    const checked = list.filter((a) => !extErrors.bad.has(a.name));
    const prepared = prepareSecrets(target, adapter, checked, scope, opts.secrets);
    const targetAgents = prepared.agents;
    if (only && !targetAgents.some((a) => only.has(a.name))) continue;
    const cacheKey = `${target}\u0000${scope}\u0000${root}`;
    // The library's agents before secrets are put in: a decrypted value never reaches the fingerprint.
    const fingerprint = hashValue({ v: EXPORT_FORMAT_VERSION, target, roots, agents: checked.map(agentKey), lib: libKey });
    const cached = manifest.cache[cacheKey];
    const cachedReads = cached && readsOf(cached);
    const summary: TargetSummary = {
      target,
      agents: targetAgents.filter((a) => !only || only.has(a.name)).map((a) => a.name),
      counts: { create: 0, update: 0, delete: 0, unchanged: 0, drift: 0, conflict: 0 },
      cached: false,
      rendered: 0,
    };
    summaries.push(summary);
    // A decrypted value is not in the fingerprint (it must not reach the state folder), so such a target always renders.
    if (
      !opts.noCache &&
      !opts.force &&
      !only &&
      fingerprintTrusted &&
      !prepared.literals.length &&
      cached &&
      cachedReads &&
      cached.fingerprint === fingerprint &&
      !cachedReads.some(([p]) => moved.has(p) || seen.has(p)) &&
      readsUnchanged(cachedReads, knownStats) &&
      outputsIntact(manifest, cached.paths, target)
    ) {
      summary.cached = true;
      summary.counts.unchanged = cached.paths.length;
      outputPaths.push(...cached.paths);
      if (cached.budget) {
        summary.budget = { ...(cached.budget as BudgetFigures), budget: adapter.budget };
        const over = budgetWarning(target, summary.budget);
        if (over)
          (opts.strict ? errors : warnings).push(
            opts.strict ? { ...over, severity: "error", hint: `${over.hint}; reported as an error because of --strict` } : over,
          );
      }
      continue;
    }
    const canCache = !opts.noCache && !opts.force && !only && unitsTrusted && !prepared.literals.length;
    // `intact`: the unit's files must be as the manifest recorded them; a memoized output checks its own
    // (replayOutputs: a whole file by the hash of what is on disk, a shared file's part by the plan's drift check).
    const unitCached = (key: string, fp: string, intact = true): CacheRecord | undefined => {
      const c = manifest.cache[key];
      const r = c && readsOf(c);
      return canCache &&
        c &&
        r &&
        c.fingerprint === fp &&
        !r.some(([p]) => moved.has(p) || seen.has(p)) &&
        readsUnchanged(r, knownStats) &&
        (!intact || outputsIntact(manifest, c.paths, target))
        ? c
        : undefined;
    };
    // The target's memoized outputs (RenderContext.output): keys used by this render, paths given back and rendered again.
    const memoPrefix = `${cacheKey}\u0000out\u0000`;
    const memo = { used: new Set<string>(), hits: new Set<string>(), misses: new Set<string>(), lastReads: new Set<string>() };
    const readStatsOf = (set: Iterable<string>): ReadStats => {
      const out: ReadStats = [];
      for (const p of [...set].sort()) {
        const st = statOnce(p, knownStats);
        if (st) out.push([p, st[0], st[1]]);
      }
      return out;
    };
    let rendered: RenderResult;
    // A target rendered per agent (Adapter.split): agents whose inputs did not change keep their
    // outputs (`keep`), the others are rendered alone, each with its own cache record.
    const keep = new Set<string>();
    const split = adapter.split === "agent" ? { rendered: [] as string[], cached: [] as string[], budgets: [] as BudgetFigures[] } : undefined;
    const targetReads = new Set<string>();
    const unitUpdates: Record<string, CacheRecord> = {};
    try {
      if (split) {
        const files: OutputFile[] = [];
        const unitWarnings: Diagnostic[] = [];
        for (const a of [...targetAgents].sort((x, y) => x.name.localeCompare(y.name))) {
          const source = checked.find((c) => c.name === a.name)!;
          const key = `${cacheKey}\u0000agent\u0000${a.name}`;
          const fp = hashValue({ v: EXPORT_FORMAT_VERSION, target, roots, agent: agentKey(source), lib: unitLibKey });
          const hit = unitCached(key, fp);
          if (hit) {
            split.cached.push(a.name);
            for (const p of hit.paths) keep.add(p);
            for (const [p] of readsOf(hit)!) targetReads.add(p);
            unitWarnings.push(...((hit.warnings ?? []) as Diagnostic[]));
            if (hit.budget) split.budgets.push({ ...(hit.budget as BudgetFigures), budget: adapter.budget });
            continue;
          }
          // The large-context planner (fallback.ts) decides from the sizes and descriptions of the agent's knowledge.
          reads = new Set(a.knowledge.map((k) => k.absPath));
          const r = adapter.render([a], ctx);
          const shared = r.files.find((f) => f.kind !== "file");
          if (shared)
            throw new Error(`declares split: "agent" but wrote a part of the shared file ${shared.path} for agent '${a.name}' (a bug in the adapter)`);
          split.rendered.push(a.name);
          files.push(...r.files);
          unitWarnings.push(...r.warnings);
          const figures = measureBudget(adapter.budget, r.files);
          split.budgets.push(figures);
          for (const p of reads) targetReads.add(p);
          unitUpdates[key] = {
            fingerprint: fp,
            paths: [...new Set(r.files.map((f) => f.path))].sort(),
            ...storeReads(readStatsOf(reads)),
            budget: figures,
            ...(r.warnings.length ? { warnings: r.warnings as Record<string, unknown>[] } : {}),
          };
        }
        rendered = { files, warnings: unitWarnings };
        // The records of agents this target no longer has are dropped with the export's other changes.
        const prefix = `${cacheKey}\u0000agent\u0000`;
        const names = new Set(targetAgents.map((a) => a.name));
        for (const k of Object.keys(manifest.cache)) if (k.startsWith(prefix) && !names.has(k.slice(prefix.length))) cacheDrops.push(k);
      } else {
        // The large-context planner (fallback.ts) decides from the sizes and descriptions of every agent's
        // knowledge (read once per export, not per target): a change to any of them may change the plan.
        reads = new Set(targetAgents.flatMap((a) => a.knowledge.map((k) => k.absPath)));
        ctx.output = (key, declared, compute) => {
          const full = memoPrefix + key;
          if (memo.used.has(full)) throw new Error(`names two outputs '${key}' (a bug in the adapter)`);
          memo.used.add(full);
          const fp = hashValue({ v: EXPORT_FORMAT_VERSION, target, roots, lib: unitLibKey, files: declared.files ?? [], values: declared.values });
          const hit = unitCached(full, fp, false);
          const replayed = hit && replayOutputs(hit);
          if (hit && replayed) {
            for (const [p] of readsOf(hit)!) reads.add(p);
            for (const f of replayed) memo.hits.add(f.path);
            return { files: replayed, warnings: (hit.warnings ?? []) as Diagnostic[] };
          }
          const outer = reads;
          reads = new Set(declared.files ?? []);
          let part: OutputPart;
          try {
            part = compute();
          } finally {
            const mine = reads;
            reads = outer;
            for (const p of mine) outer.add(p);
            memo.lastReads = mine;
          }
          for (const f of part.files) memo.misses.add(f.path);
          // Never a decrypted value (prepared.literals: marked secret only after the render) nor a secret file.
          if (!prepared.literals.length && !part.files.some((f) => "secret" in f && f.secret))
            unitUpdates[full] = {
              fingerprint: fp,
              paths: [...new Set(part.files.map((f) => f.path))].sort(),
              ...storeReads(readStatsOf(memo.lastReads)),
              outputs: part.files.map(storedOutput),
              ...(part.warnings.length ? { warnings: part.warnings as Record<string, unknown>[] } : {}),
            };
          return part;
        };
        try {
          rendered = adapter.render(targetAgents, ctx);
        } finally {
          ctx.output = undefined;
        }
        for (const p of reads) targetReads.add(p);
        // The records of outputs this render no longer has (a removed agent or knowledge file) are dropped.
        for (const k of Object.keys(manifest.cache)) if (k.startsWith(memoPrefix) && !memo.used.has(k)) cacheDrops.push(k);
      }
      // Library-wide skills, commands and ignore patterns, for tools that have a native place for them.
      reads = new Set();
      const extras = renderExtras(target, lib, ctx);
      for (const p of reads) targetReads.add(p);
      rendered = {
        files: markSecretFiles([...rendered.files, ...extras.files], prepared.literals),
        warnings: [...prepared.warnings, ...rendered.warnings, ...extras.warnings],
        ...(rendered.contextPlan ? { contextPlan: rendered.contextPlan } : {}),
      };
      for (const f of extras.files) keep.delete(f.path);
    } catch (e) {
      errors.push({
        severity: "error",
        code: "render-failed",
        message: `${adapter.displayName}: ${(e as Error).message}`,
        hint: "this target was skipped; the others were exported",
      });
      continue;
    }
    opts.onRender?.(target, rendered);
    // Only what the target's own render marks always-loaded counts; library skills and commands load on demand.
    const figures = split ? largestOf(adapter.budget, split.budgets) : measureBudget(adapter.budget, rendered.files);
    summary.budget = figures;
    const over = budgetWarning(target, figures);
    if (over) rendered.warnings.push(over);
    for (const w of rendered.warnings) {
      if (opts.strict && (w.code === "unsupported-feature" || w.code === "limit-exceeded"))
        errors.push({ ...w, severity: "error", hint: (w.hint ? w.hint + "; " : "") + "reported as an error because of --strict" });
      else if (w.severity === "error") errors.push(w);
      else warnings.push(w);
    }
    const files = only ? rendered.files.filter((f) => f.kind !== "file" || !f.agent || only.has(f.agent)) : rendered.files;
    const renderedPaths = new Set(files.map((f) => f.path));
    // A path given back from the cache by every output that holds it was not rendered again; nor was an
    // index page of the large-context planner (made again from the knowledge listing at every render,
    // cheaply) whose text is the one this target wrote last time: the edit did not reach it.
    const notAgain = (f: OutputFile): boolean =>
      (memo.hits.has(f.path) && !memo.misses.has(f.path)) ||
      (f.kind === "file" && f.path.startsWith(indexPrefix) && manifest.entries[entryKey(f.path, target)]?.hash === pageHash(f.path, f.content));
    const again = new Set(files.filter((f) => !notAgain(f)).map((f) => f.path));
    const replayedOnly = renderedPaths.size - again.size;
    summary.rendered = again.size;
    for (const p of again) renderedAll.add(p);
    if (split) summary.units = { rendered: split.rendered, cached: split.cached };
    else if (memo.used.size) summary.outputs = { rendered: summary.rendered, cached: replayedOnly };
    else summary.whole = true;
    for (const p of keep) if (renderedPaths.has(p)) keep.delete(p);
    summary.counts.unchanged += keep.size;
    outputPaths.push(...files.map((f) => f.path), ...keep);
    outputs.push({ target, scope, root, files, prune: true, ...(only ? { agents: only } : {}), ...(keep.size ? { keep } : {}) });
    Object.assign(cacheUpdates, unitUpdates);
    cacheUpdates[cacheKey] = {
      fingerprint,
      paths: [...new Set([...rendered.files.map((f) => f.path), ...keep])].sort(),
      ...storeReads(readStatsOf(targetReads)),
      budget: figures,
    };
  }

  Object.assign(cacheUpdates, sharedReads);
  const plan = planExport(outputs, manifest, { force: !!opts.force, now, texts: !!opts.dryRun });
  errors.push(...plan.errors);
  // A file several targets share (AGENTS.md) counts for each of them: every target reports its files.
  for (const e of plan.entries) {
    for (const s of summaries) if (e.targets.includes(s.target)) s.counts[e.action]++;
  }
  const outOfDate = plan.entries.some((e) => e.action !== "unchanged");
  const totalOutputs = new Set(outputPaths).size;
  const rendered = {
    targets: summaries.filter((t) => !t.cached).length,
    outputs: renderedAll.size,
    totalOutputs,
    whole: summaries.filter((t) => t.whole).map((t) => t.target),
  };
  const result: ExportResult = {
    library: lib,
    libraryName: lib.manifest.name,
    libraryRoot: lib.root,
    scope,
    roots,
    plan,
    targets: summaries,
    warnings,
    errors,
    outOfDate,
    rendered,
  };
  const blocked = opts.strict && hasErrors(errors);
  return { result, apply: !opts.dryRun && !blocked, now, manifest, base, committed, cacheUpdates, cacheDrops, outputPaths, only };
}

/** After the apply: records ownership and the cache (only what changed), the committed manifest and the no-op record. */
function finishExport(opts: ExportOptions, p: Prepared, applied: ApplyResult): void {
  const { result, manifest, committed } = p;
  const { plan, errors, roots, library: lib, scope, warnings } = result;
  result.applied = applied;
  errors.push(...applied.failed);
  const failedPaths = new Set(applied.failed.map((f) => f.file));
  const drifted = new Set(plan.entries.filter((e) => e.action === "drift" || e.action === "conflict").map((e) => e.path));
  for (const [key, value] of Object.entries(p.cacheUpdates)) {
    if (value.paths.some((x) => failedPaths.has(x) || drifted.has(x))) delete manifest.cache[key];
    else manifest.cache[key] = value;
  }
  for (const key of p.cacheDrops) delete manifest.cache[key];
  // A shared read list no record names any more goes (a record naming a list that is gone is a cache miss).
  const named = new Set<string>();
  for (const c of Object.values(manifest.cache)) if (c.readsRef !== undefined) named.add(c.readsRef);
  for (const key of Object.keys(manifest.cache)) if (key.startsWith(SHARED_READS_PREFIX) && !named.has(key)) delete manifest.cache[key];
  // Under the state folder's lock, merged into what other exports recorded meanwhile.
  const recorded = updateManifest(opts.stateDir, p.base, manifest);
  if (committed && !committed.error) {
    try {
      saveProjectManifest(recorded, roots.projectRoot);
    } catch (e) {
      errors.push({
        severity: "error",
        code: "project-manifest-write-failed",
        message: `could not write ${PROJECT_MANIFEST}: ${(e as Error).message}`,
        file: join(roots.projectRoot, PROJECT_MANIFEST),
        hint: "the exports were written; without this file a fresh clone treats them as foreign",
      });
    }
  }
  // Only a clean export may be replayed: errors, drift or conflicts must be reported again.
  const clean = errors.length === 0 && !plan.entries.some((e) => e.action === "drift" || e.action === "conflict");
  if (opts.record && clean && !p.only) {
    const lock = join(roots.projectRoot, PROJECT_MANIFEST);
    const watched = [...new Set(p.outputPaths)];
    if (committed && existsSync(lock)) watched.push(lock);
    // The ownership manifest too: a replay must not vouch for files whose record was removed.
    watched.push(join(opts.stateDir, MANIFEST_NAME), join(opts.stateDir, MANIFEST_LOG));
    saveExportRecord(
      opts.stateDir,
      opts.record.key,
      opts.record.scan,
      lib.layers.map((l) => l.root),
      watched,
      {
        libraryName: lib.manifest.name,
        libraryRoot: lib.root,
        scope,
        roots,
        targets: result.targets.map((t) => ({
          target: t.target,
          agents: t.agents,
          files: t.counts.unchanged + t.counts.create + t.counts.update,
          ...(t.budget ? { budget: t.budget } : {}),
        })),
        warnings,
        totalOutputs: result.rendered.totalOutputs,
      },
    );
  }
}

/**
 * The figures of a target rendered per agent, from each agent's: the largest session or file is the
 * largest of any agent's (a split target's budget is per agent or per file, nothing is shared).
 */
function largestOf(budget: ContextBudget, units: readonly BudgetFigures[]): BudgetFigures {
  if (!units.length) return measureBudget(budget, []);
  let largest = units[0]!;
  for (const u of units) if (u.chars > largest.chars) largest = u;
  return {
    ...largest,
    budget,
    files: units.reduce((n, u) => n + u.files, 0),
    totalChars: units.reduce((n, u) => n + u.totalChars, 0),
  };
}

/** What the cache keeps of a memoized output: a whole file without its content (it is on disk, checked by hash). */
function storedOutput(f: OutputFile): Record<string, unknown> {
  if (f.kind !== "file") return f;
  const { content, ...rest } = f;
  return { ...rest, hash: sha256(content), binary: typeof content !== "string" };
}

/**
 * The outputs a memoized render gave, as they were: a whole file's content is read back from disk and
 * must still hash as written (else the output is rendered again and the plan sees any drift).
 */
function replayOutputs(c: CacheRecord): OutputFile[] | undefined {
  if (!c.outputs) return undefined;
  const out: OutputFile[] = [];
  for (const o of c.outputs) {
    if (o.kind !== "file") {
      out.push(o as OutputFile);
      continue;
    }
    const { hash, binary, ...rest } = o as Extract<OutputFile, { kind: "file" }> & { hash: string; binary: boolean };
    let bytes: Buffer;
    try {
      bytes = readFileSync(rest.path);
    } catch {
      return undefined;
    }
    const content = binary ? new Uint8Array(bytes) : bytes.toString("utf8");
    if (sha256(content) !== hash) return undefined;
    out.push({ ...rest, content });
  }
  return out;
}

function checkExtensions(adapter: Adapter, agents: readonly ResolvedAgent[]): { errors: Diagnostic[]; bad: Set<string> } {
  const errors: Diagnostic[] = [];
  const bad = new Set<string>();
  for (const a of agents) {
    const ext = a.extensions[adapter.id];
    if (ext === undefined || !adapter.extensionSchema) continue;
    const r = adapter.extensionSchema.safeParse(ext);
    if (!r.success) {
      bad.add(a.name);
      for (const issue of r.error.issues) {
        errors.push({
          severity: "error",
          code: "invalid-extension",
          message: `extensions.${adapter.id}${issue.path.length ? "." + issue.path.join(".") : ""} of agent '${a.name}': ${issue.message}`,
          file: a.sourceFile,
          hint: `see the ${adapter.displayName} section of the README for the fields it accepts`,
        });
      }
    }
  }
  return { errors, bad };
}

function libraryFingerprint(lib: Library): unknown {
  return {
    manifest: lib.manifest,
    skills: [...lib.skills.values()].map((s) => [s.name, s.file, s.files, safeStat(s.file)]),
    commands: [...lib.commands.values()].map((c) => [c.name, c.file, safeStat(c.file)]),
    agents: [...lib.agents.values()].map((stack) => stack.map((s) => [s.file, s.size, s.mtimeMs])),
  };
}

/** Knowledge size/mtime are left out: what a render reads is fingerprinted separately. */
function withoutStats(a: ResolvedAgent): unknown {
  // One string, not an array per file: at 10,000 files the key sorting of stableStringify dominated.
  return { ...a, knowledge: a.knowledge.map((k) => `${k.path}\u0000${k.absPath}\u0000${k.mode}`).join("\n") };
}

function readsUnchanged(reads: readonly [string, number, number][], known: Map<string, [number, number] | undefined>): boolean {
  for (const [p, size, mtime] of reads) {
    const st = statOnce(p, known);
    if (!st || st[0] !== size || st[1] !== mtime) return false;
  }
  return true;
}

/** A file's size and mtime as the library load saw it, else stat'ed once and remembered in `known`. */
function statOnce(p: string, known: Map<string, [number, number] | undefined>): [number, number] | undefined {
  if (known.has(p)) return known.get(p);
  const st = safeStat(p);
  known.set(p, st);
  return st;
}

function safeStat(p: string): [number, number] | undefined {
  try {
    const st = statSync(p);
    return [st.size, st.mtimeMs];
  } catch {
    return undefined;
  }
}

function outputsIntact(manifest: ReturnType<typeof loadManifest>, paths: string[], target: string): boolean {
  for (const p of paths) {
    const e = manifest.entries[`${p}\u0000${target}`];
    if (!e) return false;
    const st = safeStat(p);
    if (!st || st[0] !== e.size || st[1] !== e.mtimeMs) return false;
  }
  return true;
}
