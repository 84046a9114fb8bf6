// A library kept in memory and brought up to date file by file: the daemon's watcher reports what
// changed, and the next reader gets the library with only those files read again (refreshLibrary)
// and only the agents that read them resolved again. One edit in a 10,000-file library then costs
// one file read and a patch of the agents that read it, not a full load and resolve.
// A broken agent or MCP file keeps its last good definition (with the error reported), as a broken
// workflow does: the daemon keeps exporting what last worked instead of removing that agent.
import { relative, resolve } from "node:path";
import picomatch from "picomatch";
import type { Diagnostic } from "./diagnostics.ts";
import { INPUT_TOPS, loadLibrary, MANIFEST_FILE, refreshLibrary } from "./load.ts";
import type { AgentSource, LayerFolder, Library, McpEntry, ResolvedAgent } from "./model.ts";
import { toPosix } from "./paths.ts";
import { resolveAgent, type ResolveResult } from "./resolve.ts";

/** The library as it is now, resolved (what resolveAll would return for it). */
export type LibrarySnapshot = {
  library: Library;
  resolved: { agents: ResolvedAgent[]; diagnostics: Diagnostic[] };
  /**
   * The agents whose inputs include one of these paths (changed files), or undefined when any agent
   * may be affected (a manifest, MCP server, skill, command or template changed). May name more
   * agents than strictly needed, never fewer.
   */
  affectedBy: (paths: readonly string[]) => string[] | undefined;
};

type LiveLibraryStats = { fullLoads: number; refreshes: number; resolved: number; patched: number };

export type LiveLibrary = {
  root: string;
  /** Applies the changes reported so far (and `changed`, e.g. a watch run's paths): the library as it is now. */
  current: (changed?: readonly string[]) => LibrarySnapshot;
  /** A file changed (added, edited or removed): it is read again on the next `current()`. */
  invalidate: (path: string) => void;
  /** Something no single path describes changed (a folder, a lost watcher): load it all again. */
  invalidateAll: () => void;
  /**
   * The checkouts of the git layers (aicfg.yaml `layers:`) moved to other pins: the next `current()`
   * loads it all again with these folders. The caller resolves them (workflows/layers.ts).
   */
  setGitLayers: (folders: readonly LayerFolder[]) => void;
  /** Work done so far, for tests and benchmarks. */
  stats: () => LiveLibraryStats;
};

const GLOB_CHARS = /[*?[\]{}!]/;

/**
 * Keeps `root` loaded; nothing is read until the first `current()`. `onLayers` hears the layer
 * folders after every full load (an edit to `extends` may add one the watcher must follow).
 */
export function createLiveLibrary(root: string, opts: { onLayers?: (roots: string[]) => void; gitLayers?: readonly LayerFolder[] } = {}): LiveLibrary {
  const abs = resolve(root);
  let gitLayers: readonly LayerFolder[] = opts.gitLayers ?? [];
  let lib: Library | undefined;
  let full = true;
  const pending = new Set<string>();
  const results = new Map<string, ResolveResult>();
  // Agents that have read each knowledge path (relative to knowledge/). Entries are only added, so
  // it also names an agent that read a file before it was removed or stopped matching.
  const readers = new Map<string, Set<string>>();
  // The agent(s) each agent file has defined, added to likewise.
  const definedBy = new Map<string, Set<string>>();
  const lastGoodAgents = new Map<string, AgentSource>();
  const lastGoodMcp = new Map<string, McpEntry>();
  const counters: LiveLibraryStats = { fullLoads: 0, refreshes: 0, resolved: 0, patched: 0 };

  const remember = (index: Map<string, Set<string>>, key: string, name: string) => {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(name);
  };
  const resolveOne = (l: Library, name: string) => {
    counters.resolved++;
    if (!l.agents.has(name)) {
      results.delete(name);
      return;
    }
    const r = resolveAgent(l, name);
    results.set(name, r);
    for (const k of r.agent?.knowledge ?? []) remember(readers, k.path, name);
  };

  /** The knowledge references an agent resolves (the manifest defaults, then its top-most `knowledge:`). */
  const refsOf = (l: Library, name: string): string[] => {
    const stack = l.agents.get(name) ?? [];
    const own = stack.findLast((s) => s.spec.knowledge !== undefined)?.spec.knowledge ?? [];
    return [...(l.manifest.defaults?.knowledge ?? []), ...own].map((r) => (typeof r === "string" ? r : r.path));
  };
  const refMatches = (ref: string, krel: string) => {
    if (GLOB_CHARS.test(ref)) return picomatch(ref, { dot: false })(krel);
    return krel === ref || krel.startsWith(ref.replace(/\/$/, "") + "/");
  };

  /** Where a path sits in the library: its layer and its path relative to that layer. */
  const locate = (l: Library, path: string): { top: string; rest: string[] } | undefined => {
    const layer = [...l.layers].reverse().find((x) => path.startsWith(x.root + "/"));
    if (!layer) return undefined;
    const [top, ...rest] = toPosix(relative(layer.root, path)).split("/");
    return { top: top!, rest };
  };

  /** A broken agent or MCP file keeps its last good definition; the error stays reported. */
  const keepLastGood = (l: Library) => {
    const broken = new Set(l.diagnostics.filter((d) => d.severity === "error" && d.file).map((d) => d.file!));
    const defined = new Set<string>();
    for (const stack of l.agents.values()) for (const s of stack) defined.add(s.file);
    const layerIndex = new Map(l.layers.map((x) => [x.name, x.index]));
    for (const [file, old] of lastGoodAgents) {
      if (!broken.has(file) || defined.has(file) || !layerIndex.has(old.layer)) continue;
      const stack = l.agents.get(old.name) ?? [];
      if (stack.some((s) => s.layer === old.layer)) continue; // another file of its layer took the name
      l.agents.set(
        old.name,
        [...stack, old].sort((a, b) => layerIndex.get(a.layer)! - layerIndex.get(b.layer)!),
      );
    }
    for (const [file, old] of lastGoodMcp) {
      if (broken.has(file) && !l.mcp.has(old.name)) l.mcp.set(old.name, old);
    }
    for (const [file] of lastGoodAgents) if (!defined.has(file) && !broken.has(file)) lastGoodAgents.delete(file);
    for (const stack of l.agents.values()) for (const s of stack) lastGoodAgents.set(s.file, s);
    for (const [file, m] of lastGoodMcp) if (!broken.has(file) && l.mcp.get(m.name)?.file !== file) lastGoodMcp.delete(file);
    for (const m of l.mcp.values()) lastGoodMcp.set(m.file, m);
  };

  const loadAll = () => {
    const l = loadLibrary(abs, gitLayers.length ? { layers: gitLayers } : {});
    counters.fullLoads++;
    opts.onLayers?.(l.layers.map((x) => x.root));
    keepLastGood(l);
    results.clear();
    for (const name of l.agents.keys()) resolveOne(l, name);
    return l;
  };

  const apply = (prev: Library, paths: string[]): Library => {
    const next = refreshLibrary(prev, paths);
    counters.refreshes++;
    // refreshLibrary falls back to a full load (new layer list) when one file cannot settle it.
    if (next.layers !== prev.layers) {
      counters.fullLoads++;
      opts.onLayers?.(next.layers.map((x) => x.root));
      keepLastGood(next);
      results.clear();
      for (const name of next.agents.keys()) resolveOne(next, name);
      return next;
    }
    // Only the maps refreshLibrary copied may be changed here (the previous library stays as it was).
    keepLastGood(next);
    const again = new Set<string>();
    const patch = new Map<string, { size: number; mtimeMs: number }>();
    for (const path of paths) {
      const where = locate(prev, path);
      if (!where) continue;
      if (where.top === "agents") {
        for (const n of definedBy.get(path) ?? []) again.add(n);
        for (const [name, stack] of next.agents) if (stack.some((s) => s.file === path)) again.add(name);
      } else if (where.top === "knowledge") {
        const krel = where.rest.join("/");
        const before = prev.knowledge.get(krel);
        const after = next.knowledge.get(krel);
        if (before && after && before.absPath === after.absPath && before.layer === after.layer) {
          // Same file, new content: the agents that read it keep their list, with its new size and time.
          if (before.size !== after.size || before.mtimeMs !== after.mtimeMs) patch.set(krel, { size: after.size, mtimeMs: after.mtimeMs });
        } else if (before !== after) {
          // Added, removed or moved between layers: which agents match it may change (and their warnings).
          for (const name of next.agents.keys()) if (refsOf(next, name).some((r) => refMatches(r, krel))) again.add(name);
          for (const name of readers.get(krel) ?? []) again.add(name);
        }
      } else if (where.top === "mcp") {
        for (const name of next.agents.keys()) again.add(name);
      }
    }
    for (const [name, stack] of prev.agents) if (!next.agents.has(name) || next.agents.get(name) !== stack) again.add(name);
    for (const name of next.agents.keys()) if (!results.has(name)) again.add(name);
    for (const name of again) resolveOne(next, name);
    if (patch.size) {
      const touched = new Set<string>();
      for (const krel of patch.keys()) for (const name of readers.get(krel) ?? []) if (!again.has(name)) touched.add(name);
      for (const name of touched) {
        const r = results.get(name);
        if (!r?.agent) continue;
        counters.patched++;
        const knowledge = r.agent.knowledge.map((k) => {
          const p = patch.get(k.path);
          return p && next.knowledge.get(k.path)?.absPath === k.absPath ? { ...k, ...p } : k;
        });
        results.set(name, { agent: { ...r.agent, knowledge }, diagnostics: r.diagnostics });
      }
    }
    return next;
  };

  const snapshot = (l: Library): LibrarySnapshot => {
    const agents: ResolvedAgent[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const name of [...l.agents.keys()].sort()) {
      const r = results.get(name);
      if (!r) continue;
      diagnostics.push(...r.diagnostics);
      if (r.agent) agents.push(r.agent);
    }
    for (const [name, stack] of l.agents) for (const s of stack) remember(definedBy, s.file, name);
    return {
      library: l,
      resolved: { agents, diagnostics },
      affectedBy: (paths) => {
        const out = new Set<string>();
        for (const raw of paths) {
          const path = resolve(raw);
          const where = locate(l, path);
          if (!where || !INPUT_TOPS.has(where.top) || where.top === "workflows") continue;
          if (where.rest.some((s) => s.startsWith("."))) continue;
          if (where.top === "agents") {
            for (const n of definedBy.get(path) ?? []) out.add(n);
          } else if (where.top === "knowledge") {
            for (const n of readers.get(where.rest.join("/")) ?? []) out.add(n);
          } else return undefined;
        }
        return [...out].sort();
      },
    };
  };

  return {
    root: abs,
    current: (changed = []) => {
      for (const p of changed) pending.add(resolve(p));
      if (full || !lib) {
        const l = loadAll();
        lib = l;
        full = false;
        pending.clear();
        return snapshot(l);
      }
      if (pending.size) {
        const paths = [...pending];
        pending.clear();
        try {
          lib = apply(lib, paths);
        } catch (e) {
          full = true; // e.g. the folder is no library any more: try again from scratch next time
          throw e;
        }
      }
      return snapshot(lib);
    },
    invalidate: (path) => {
      const p = resolve(path);
      const where = lib ? locate(lib, p) : undefined;
      // Exported files inside the library, dot-files and workflows are no input: nothing to re-read.
      if (lib && where && (!INPUT_TOPS.has(where.top) || where.top === "workflows" || (where.top === MANIFEST_FILE) !== (where.rest.length === 0))) return;
      pending.add(p);
    },
    invalidateAll: () => {
      full = true;
    },
    setGitLayers: (folders) => {
      const same =
        folders.length === gitLayers.length && folders.every((f, i) => f.name === gitLayers[i]!.name && resolve(f.root) === resolve(gitLayers[i]!.root));
      gitLayers = [...folders];
      if (!same) full = true;
    },
    stats: () => ({ ...counters }),
  };
}
