// The one entry point for merging an upstream update into a person's adopted copy, shared by
// `aicfg library update` and the daemon's sync workflow so both behave alike: merge the file
// (library/merge.ts with the git diff3 body merger), then apply the outcome. A clean result is
// written atomically; a conflict never touches the live file: the markers go to
// `<file>.conflict.md` and a conflict record to the state folder. `resolveConflict` closes one.
import { existsSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { resolve, sep } from "node:path";
import { atomicWrite } from "../adapters/atomic.ts";
import { ConfigError } from "../library/diagnostics.ts";
import { conflictFileOf, isConflictFile, mergeFile, policyFor, type MergeInput, type MergeOutcome, type MergeRule, type MergeText } from "../library/merge.ts";
import { splitFrontmatter, parseYaml } from "../library/yaml-source.ts";
import { openConflictStore, type ConflictRecord, type ConflictResolution } from "./conflicts.ts";
import { gitMergeText } from "./merge-text.ts";

/** Merges one file's upstream update; `mergeText` defaults to `git merge-file --diff3` + the insert/insert rule. */
function mergeLayerUpdate(input: MergeInput & { mergeText?: MergeText }): Promise<MergeOutcome> {
  return mergeFile(input, input.mergeText ?? gitMergeText);
}

export type LayerUpdateFile = {
  libraryRoot: string;
  /** The library's name (what conflict records and metrics are labelled with). */
  library: string;
  stateDir: string;
  /** The file, relative to the library root (posix). */
  path: string;
  /** The file at the locked (previous) upstream commit, and at the new one; null: absent there. */
  base: string | null;
  theirs: string | null;
  /** `merge:` rules of aicfg.yaml (first match wins). */
  rules?: readonly MergeRule[];
  upstream?: { layer?: string; commit?: string };
  now: number;
  mergeText?: MergeText;
};

export type AppliedUpdate = {
  path: string;
  outcome: MergeOutcome;
  /** The live file was written (or deleted). */
  changed: boolean;
  conflict?: ConflictRecord;
};

/** A library-relative path that stays inside the root and is not a conflict file itself. */
function livePath(root: string, rel: string): string {
  const abs = resolve(root, rel);
  if (rel.startsWith("/") || rel.includes("\\") || (abs !== root && !abs.startsWith(root + sep)) || abs === root) {
    throw new ConfigError("unsafe-path", `${JSON.stringify(rel)} is not a path inside the library ${root}`, {
      hint: "give a path relative to the library root",
    });
  }
  if (isConflictFile(rel))
    throw new ConfigError("unsafe-path", `${rel} is a conflict file, not a library file`, {
      hint: `name the live file: ${rel.slice(0, -".conflict.md".length)}`,
    });
  return abs;
}

function readOrNull(path: string): string | null {
  try {
    if (lstatSync(path).isSymbolicLink()) throw new ConfigError("symlink-target", `${path} is a symbolic link; refusing to merge through it`);
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Merges the upstream update of one file into the live library and applies the outcome. */
export async function applyLayerUpdate(f: LayerUpdateFile): Promise<AppliedUpdate> {
  const root = resolve(f.libraryRoot);
  const live = livePath(root, f.path);
  const ours = readOrNull(live);
  const { policy } = policyFor(f.path, f.rules);
  const outcome = await mergeLayerUpdate({ base: f.base, ours, theirs: f.theirs, policy, ...(f.mergeText ? { mergeText: f.mergeText } : {}) });
  const store = openConflictStore(f.stateDir);
  const conflictAbs = conflictFileOf(live);
  if (outcome.status === "conflict") {
    atomicWrite(conflictAbs, outcome.conflictText, 0o644, { root });
    const rec = store.put(
      {
        library: f.library,
        libraryRoot: root,
        path: f.path,
        conflictFile: conflictFileOf(f.path),
        policy,
        fields: outcome.fieldConflicts.map((c) => c.path.join(".")),
        bodyConflicts: outcome.bodyConflicts,
        ...(f.upstream ? { upstream: f.upstream } : {}),
        ...(outcome.note ? { note: outcome.note } : {}),
      },
      { base: f.base, ours, theirs: f.theirs },
      f.now,
    );
    return { path: f.path, outcome, changed: false, conflict: rec };
  }
  let changed = false;
  if (outcome.content === null) {
    if (ours !== null) {
      rmSync(live, { force: true });
      changed = true;
    }
  } else if (outcome.content !== ours) {
    atomicWrite(live, outcome.content, 0o644, { root });
    changed = true;
  }
  // A newer upstream version merged cleanly: the old conflict is moot.
  if (store.get(root, f.path)?.status === "open") {
    store.resolve(root, f.path, "superseded", f.now);
    rmSync(conflictAbs, { force: true });
  }
  return { path: f.path, outcome, changed };
}

const MARKER_LINE = /^(<{7,}|\|{7,}|={7,}|>{7,})(?: |$)/m;

export type ResolveResult = { record: ConflictRecord; written: boolean };

/**
 * Closes an open conflict: `ours` keeps the live (local) file, `theirs` takes the upstream version,
 * `edited` takes `<file>.conflict.md` once its markers are gone (and its frontmatter is valid YAML).
 */
export function resolveConflict(o: {
  stateDir: string;
  libraryRoot: string;
  path: string;
  take: Exclude<ConflictResolution, "superseded">;
  now: number;
}): ResolveResult {
  const root = resolve(o.libraryRoot);
  const rel = isConflictFile(o.path) ? o.path.slice(0, -".conflict.md".length) : o.path;
  const live = livePath(root, rel);
  const store = openConflictStore(o.stateDir);
  const rec = store.get(root, rel);
  if (rec?.status !== "open") {
    const open = store.list({ libraryRoot: root }).map((r) => r.path);
    throw new ConfigError("no-conflict", `${rel} has no open merge conflict`, {
      hint: open.length ? `open conflicts: ${open.join(", ")}` : "aicfg status lists open conflicts",
    });
  }
  const conflictAbs = conflictFileOf(live);
  let written = false;
  if (o.take === "theirs") {
    if (rec.theirs === null) {
      rmSync(live, { force: true });
      written = true;
    } else {
      const text = store.blob(rec.theirs);
      if (text === undefined)
        throw new ConfigError("blob-missing", `the upstream version of ${rel} is no longer in the state folder`, { hint: "run the library update again" });
      atomicWrite(live, text, 0o644, { root });
      written = true;
    }
  } else if (o.take === "edited") {
    if (!existsSync(conflictAbs)) throw new ConfigError("conflict-file-missing", `${conflictFileOf(rel)} does not exist`, { hint: "use --ours or --theirs" });
    const text = readFileSync(conflictAbs, "utf8");
    const m = MARKER_LINE.exec(text);
    if (m) {
      const line = text.slice(0, m.index).split("\n").length;
      throw new ConfigError("markers-left", `conflict markers are still in the file`, {
        file: conflictAbs,
        line,
        col: 1,
        hint: "edit each <<<<<<< ... >>>>>>> block down to the text you want, then run resolve --edited again",
      });
    }
    const { frontmatter, fmLine } = splitFrontmatter(text);
    if (frontmatter !== undefined) {
      const bad = parseYaml(frontmatter, conflictAbs, fmLine).diagnostics.find((d) => d.severity === "error");
      if (bad)
        throw new ConfigError(bad.code, bad.message, {
          file: conflictAbs,
          ...(bad.line !== undefined ? { line: bad.line } : {}),
          ...(bad.col !== undefined ? { col: bad.col } : {}),
          ...(bad.hint ? { hint: bad.hint } : {}),
        });
    }
    atomicWrite(live, text, 0o644, { root });
    written = true;
  }
  rmSync(conflictAbs, { force: true });
  const record = store.resolve(root, rel, o.take, o.now)!;
  return { record, written };
}
