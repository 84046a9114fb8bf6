// The ownership manifest: every file (or key, table, section of a shared file) we wrote, with the
// hash of what we wrote. We only update or delete what it lists and what is unchanged since.
import { closeSync, constants, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { ConfigError, type Diagnostic } from "../library/diagnostics.ts";
import { isInside } from "../library/paths.ts";
import { atomicWrite, ensureDirNoSymlinks, lstatSafe } from "./atomic.ts";

export const OwnedEntry = z.object({
  path: z.string(),
  target: z.string(),
  kind: z.enum(["file", "json-keys", "toml-tables", "md-section"]),
  root: z.string(),
  scope: z.enum(["project", "user"]),
  agent: z.string().optional(),
  /** file: hash of the content; md-section: hash of the block; keys/tables: hash of all owned values. */
  hash: z.string(),
  /** json-keys / toml-tables: JSON-encoded key path -> hash of its value. */
  keys: z.record(z.string(), z.string()).optional(),
  /** json-keys: one-line objects we laid out over lines to insert into, as they were (given back once ours are gone). */
  layouts: z.array(z.object({ path: z.array(z.string()), chain: z.array(z.string()), text: z.string(), indent: z.string() })).optional(),
  /** Size and mtime of the whole file right after our write, for a read-free "unchanged" check. */
  size: z.number().optional(),
  mtimeMs: z.number().optional(),
  writtenAt: z.string(),
});
export type OwnedEntry = z.infer<typeof OwnedEntry>;

export const OwnedFileManifest = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), OwnedEntry),
  /** Per target+scope+root: a fingerprint of the inputs of the last successful export. */
  cache: z.record(
    z.string(),
    z.object({
      fingerprint: z.string(),
      paths: z.array(z.string()),
      /** Library files the render read (path, size, mtime): content changes there invalidate the cache. */
      reads: z.array(z.tuple([z.string(), z.number(), z.number()])).default([]),
      /**
       * Instead of `reads`: the key of the record (`reads\u0000<hash>`) that holds them. Records that read
       * the same many files (every target of an agent that loads 10,000) share one list, so an edit
       * records one new list, not one per target and unit; a list no record names is dropped.
       */
      readsRef: z.string().optional(),
      /** The target's always-loaded figures at that export (budget.ts), reported again when nothing changed. */
      budget: z.record(z.string(), z.unknown()).optional(),
      /** One agent of a target rendered per agent (Adapter.split): the warnings its render gave, reported again when it is cached. */
      warnings: z.array(z.record(z.string(), z.unknown())).optional(),
      /**
       * One memoized output of a target (RenderContext.output): what it gave, to give back when its inputs
       * are unchanged. A whole file by the hash of its content (read back from disk), a part of a shared
       * file (md-section, json-keys, toml-tables) with its content; never a secret one.
       */
      outputs: z.array(z.record(z.string(), z.unknown())).optional(),
    }),
  ),
});
export type OwnedFileManifest = z.infer<typeof OwnedFileManifest>;

export const MANIFEST_NAME = "exports.json";
/** Changes since the snapshot, one JSON line per export: a run that writes a few files appends a few entries. */
export const MANIFEST_LOG = "exports.log";
const MANIFEST_LOCK = "exports.lock";

export function entryKey(path: string, target: string): string {
  return `${path}\u0000${target}`;
}

export function emptyManifest(): OwnedFileManifest {
  return { version: 1, entries: {}, cache: {} };
}

const CacheRecord = OwnedFileManifest.shape.cache.valueType;
const LogLine = z.object({ v: z.literal(1), e: z.record(z.string(), OwnedEntry.nullable()), c: z.record(z.string(), CacheRecord.nullable()) });
type LogLine = z.infer<typeof LogLine>;

function corrupt(file: string, what: string): ConfigError {
  return new ConfigError("manifest-corrupt", `the ownership manifest ${file} ${what}`, {
    file,
    hint: "restore it from a backup (aicfg restore) or move it away; without it aicfg treats every exported file as foreign and touches none",
  });
}

/** The state's ownership manifest: the snapshot, then every change logged since (see MANIFEST_LOG). */
export function loadManifest(stateDir: string): OwnedFileManifest {
  const file = join(stateDir, MANIFEST_NAME);
  // Stat before reading: a change made while we read gives another stamp, never the same one.
  const stamp = stampOf(stateDir);
  const m = existsSync(file) ? parseSnapshot(file) : emptyManifest();
  replayLog(join(stateDir, MANIFEST_LOG), m);
  // A path is trusted for overwrite or delete only inside the root it was recorded under: an entry
  // pointing elsewhere (a crafted or damaged state) is dropped, so the file it names is foreign.
  const roots = new Map<string, string | undefined>();
  for (const [k, e] of Object.entries(m.entries)) if (!trustedEntry(e, roots)) delete m.entries[k];
  loadedStamps.set(m, stamp);
  return m;
}

/** The snapshot's and the log's stats as loaded, per manifest object: unchanged, there is nothing to read again. */
const loadedStamps = new WeakMap<OwnedFileManifest, string>();

/**
 * Size, mtime, inode and ctime of the snapshot and the log. Every way they are written changes one:
 * an append grows the log, a snapshot or an emptied log is a new file renamed into place (new inode).
 */
function stampOf(stateDir: string): string {
  const one = (p: string): string => {
    const st = lstatSafe(p);
    return st ? `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}` : "-";
  };
  return `${one(join(stateDir, MANIFEST_NAME))}|${one(join(stateDir, MANIFEST_LOG))}`;
}

/** POSIX: an absolute path with no empty, `.` or `..` segment and no trailing slash is what resolve() gives back. */
const NOT_NORMAL = /\/\/|\/\.\.?(\/|$)|.\/$/;

/**
 * An entry whose path lies strictly inside its absolute root (and whose key matches it). `roots`
 * caches each root's resolved form with a separator (thousands of entries share a few roots).
 */
export function trustedEntry(e: OwnedEntry, roots?: Map<string, string | undefined>): boolean {
  if (!isAbsolute(e.root) || !isAbsolute(e.path) || e.path === e.root) return false;
  if (sep === "/" && roots) {
    // The same test as below, without a resolve() and relative() per entry.
    if (NOT_NORMAL.test(e.path)) return false;
    let prefix = roots.get(e.root);
    if (prefix === undefined && !roots.has(e.root)) {
      const r = resolve(e.root);
      prefix = r.endsWith(sep) ? r : r + sep;
      roots.set(e.root, prefix);
    }
    return prefix !== undefined && e.path.startsWith(prefix);
  }
  return resolve(e.path) === e.path && isInside(e.root, e.path);
}

function parseSnapshot(file: string): OwnedFileManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw corrupt(file, `is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = OwnedFileManifest.safeParse(raw);
  if (!parsed.success) throw corrupt(file, "has an unexpected shape");
  return parsed.data;
}

function replayLog(file: string, m: OwnedFileManifest): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return;
  }
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (!line) continue;
    let parsed: LogLine;
    try {
      parsed = LogLine.parse(JSON.parse(line));
    } catch (e) {
      // The last line may be torn by a crash while it was appended: that export's record is lost
      // (its files then count as changed by hand, never overwritten); any other bad line is damage.
      if (i === lines.length - 1) break;
      throw corrupt(file, `line ${i + 1} is not a manifest change (${(e as Error).message.split("\n")[0]})`);
    }
    applyChange(m, parsed);
  }
}

function applyChange(m: OwnedFileManifest, c: Pick<LogLine, "e" | "c">): void {
  for (const [k, e] of Object.entries(c.e)) {
    if (e) m.entries[k] = e;
    else delete m.entries[k];
  }
  for (const [k, v] of Object.entries(c.c)) {
    if (v) m.cache[k] = v;
    else delete m.cache[k];
  }
}

/** What a later updateManifest compares with: the records as loaded (by reference, so this is cheap). */
export type ManifestBase = { entries: OwnedFileManifest["entries"]; cache: OwnedFileManifest["cache"]; stamp?: string };

export function manifestBase(m: OwnedFileManifest): ManifestBase {
  const stamp = loadedStamps.get(m);
  return { entries: { ...m.entries }, cache: { ...m.cache }, ...(stamp ? { stamp } : {}) };
}

/** The entries and cache records changed (replaced objects), added or removed since `base`. */
function changesSince(base: ManifestBase, m: OwnedFileManifest): Pick<LogLine, "e" | "c"> & { count: number } {
  const e: LogLine["e"] = {};
  const c: LogLine["c"] = {};
  let count = 0;
  for (const [k, v] of Object.entries(m.entries)) {
    if (base.entries[k] !== v) {
      e[k] = v;
      count++;
    }
  }
  for (const k of Object.keys(base.entries)) {
    if (!(k in m.entries)) {
      e[k] = null;
      count++;
    }
  }
  for (const [k, v] of Object.entries(m.cache)) {
    if (base.cache[k] !== v) {
      c[k] = v;
      count++;
    }
  }
  for (const k of Object.keys(base.cache)) {
    if (!(k in m.cache)) {
      c[k] = null;
      count++;
    }
  }
  return { e, c, count };
}

/** When the log outgrows this share of the snapshot (and a floor), the next update rewrites the snapshot. */
const COMPACT_FLOOR = 1 << 20;

/**
 * Records what this export changed in `manifest` since `base`, under the state folder's lock: the
 * manifest is read again there and only the changes are applied to it, so exports running at the
 * same time into one state folder each keep their records (none overwrites another's with its
 * stale copy). Small changes are appended to the log (fsync'ed); a big one, or a log grown past the
 * snapshot, rewrites the snapshot atomically. Returns the manifest as recorded. Nothing changed and
 * a manifest on disk: nothing is written.
 */
export function updateManifest(stateDir: string, base: ManifestBase, manifest: OwnedFileManifest): OwnedFileManifest {
  const change = changesSince(base, manifest);
  const file = join(stateDir, MANIFEST_NAME);
  if (change.count === 0 && existsSync(file)) return manifest;
  ensureDirNoSymlinks(stateDir, stateDir, 0o700);
  return withManifestLock(stateDir, () => {
    // Nobody recorded anything since `base` was loaded (same stats): the records on disk are `base`,
    // so `manifest` is already what applying the change to them gives; else read them again.
    const current = base.stamp !== undefined && base.stamp === stampOf(stateDir) ? manifest : loadManifest(stateDir);
    applyChange(current, change);
    const log = join(stateDir, MANIFEST_LOG);
    const line = JSON.stringify({ v: 1, e: change.e, c: change.c }) + "\n";
    const snapshotSize = Number(lstatSafe(file)?.size ?? 0);
    const logSize = Number(lstatSafe(log)?.size ?? 0);
    if (!existsSync(file) || logSize + line.length > Math.max(COMPACT_FLOOR, snapshotSize / 2)) writeSnapshot(stateDir, current);
    else appendDurably(log, line);
    return current;
  });
}

/** Writes the whole manifest (snapshot, empty log) under the state folder's lock. */
export function saveManifest(stateDir: string, manifest: OwnedFileManifest): void {
  ensureDirNoSymlinks(stateDir, stateDir, 0o700);
  withManifestLock(stateDir, () => writeSnapshot(stateDir, manifest));
}

function writeSnapshot(stateDir: string, manifest: OwnedFileManifest): void {
  // The snapshot first, then the empty log: a crash between replays the old log over a snapshot that
  // already holds it, which ends in the same records (every line sets or removes whole records).
  atomicWrite(join(stateDir, MANIFEST_NAME), JSON.stringify(manifest) + "\n", 0o600);
  atomicWrite(join(stateDir, MANIFEST_LOG), "", 0o600);
}

function appendDurably(file: string, line: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    const bytes = Buffer.from(line, "utf8");
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** How long an export waits for another one to finish recording before it gives up. */
const LOCK_WAIT_MS = 120_000;

/**
 * Runs `fn` holding `exports.lock` of the state folder (created O_EXCL, naming this process by pid
 * and start time). A lock whose process is gone, or whose pid now runs another process, is stale and
 * taken over; a live one is waited for.
 */
function withManifestLock<T>(stateDir: string, fn: () => T): T {
  const file = join(stateDir, MANIFEST_LOCK);
  const me = JSON.stringify({ pid: process.pid, start: startTime(process.pid) ?? null });
  const until = Date.now() + LOCK_WAIT_MS;
  for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
    try {
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        writeSync(fd, me);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let seen: string | undefined;
    try {
      seen = readFileSync(file, "utf8");
    } catch {
      continue; // released meanwhile
    }
    if (lockIsStale(seen, file)) {
      // Remove it only if it is still the lock judged stale (a rename is atomic, an unlink by name is not).
      const aside = `${file}.${process.pid}.stale`;
      try {
        renameSync(file, aside);
        const moved = readFileSync(aside, "utf8");
        // A fresh lock taken between the read and the rename goes back (link fails if yet another exists).
        if (moved !== seen) linkSync(aside, file);
        unlinkSync(aside);
      } catch {
        /* another process took it over first */
      }
      continue;
    }
    if (Date.now() > until) {
      throw new ConfigError("state-dir-locked", `another export (${seen.trim()}) has held ${file} for over ${LOCK_WAIT_MS / 1000} s`, {
        file,
        hint: "wait for it to finish, or remove the lock if no aicfg is running",
      });
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}

function lockIsStale(text: string, file: string): boolean {
  let holder: { pid?: unknown; start?: unknown };
  try {
    holder = JSON.parse(text) as typeof holder;
  } catch {
    // Half-written by a process that crashed between create and write, or by someone else: judge by age.
    return Date.now() - Number(lstatSafe(file)?.mtimeMs ?? 0) > 5_000;
  }
  if (typeof holder.pid !== "number") return true;
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
  }
  const start = startTime(holder.pid);
  return typeof holder.start === "string" && start !== undefined && start !== holder.start;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), on Linux. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

// ---------- the committed project manifest ----------
// The per-user manifest above lives in the state folder, so a fresh clone or a CI runner has none.
// For project-scope exports the project also keeps `.aicfg/exports.json`: what each output is
// (target, kind, agent) and the hash of what aicfg wrote, with paths relative to the project root,
// sorted, and nothing that changes between runs (no timestamps, no absolute paths), so it can be
// committed beside the exports. An output it lists with a matching hash is ours without any state.

export const PROJECT_MANIFEST = join(".aicfg", "exports.json");

const ProjectEntry = z.strictObject({
  kind: OwnedEntry.shape.kind,
  agent: z.string().optional(),
  hash: z.string(),
  keys: z.record(z.string(), z.string()).optional(),
});
const ProjectManifest = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  /** Output path relative to the project root (POSIX) -> target -> what aicfg wrote there. */
  files: z.record(z.string(), z.record(z.string(), ProjectEntry)),
});
type ProjectManifest = z.infer<typeof ProjectManifest>;

const PROJECT_COMMENT = "Written by aicfg export: the files it exported here and their hashes. Commit it with them; 'aicfg export --check' uses it.";

/**
 * Reads `.aicfg/exports.json` of a project root as ownership entries (absolute paths).
 * A file that is not ours is an error diagnostic, and it is never overwritten.
 */
export function loadProjectManifest(projectRoot: string): { entries: OwnedEntry[]; error?: Diagnostic } {
  const file = join(projectRoot, PROJECT_MANIFEST);
  if (!existsSync(file)) return { entries: [] };
  let parsed: ProjectManifest;
  try {
    const r = ProjectManifest.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; "));
    parsed = r.data;
  } catch (e) {
    return {
      entries: [],
      error: {
        severity: "error",
        code: "project-manifest-invalid",
        message: `${PROJECT_MANIFEST} is not an aicfg export manifest (${(e as Error).message}); left untouched`,
        file,
        hint: "restore it from git, or delete it and export again (committed exports then count as foreign once)",
      },
    };
  }
  const entries: OwnedEntry[] = [];
  for (const [rel, byTarget] of Object.entries(parsed.files)) {
    const abs = resolve(projectRoot, rel);
    // Never trust a committed path that leaves the project.
    if (isAbsolute(rel) || !abs.startsWith(projectRoot + sep)) continue;
    for (const [target, e] of Object.entries(byTarget)) {
      entries.push({
        path: abs,
        target,
        kind: e.kind,
        root: projectRoot,
        scope: "project",
        ...(e.agent ? { agent: e.agent } : {}),
        hash: e.hash,
        ...(e.keys ? { keys: e.keys } : {}),
        writtenAt: "",
      });
    }
  }
  return { entries };
}

/**
 * Adds the committed entries to the per-user manifest: an entry the user's state lacks, or records
 * with another hash (a teammate's export came in with `git pull`), is taken from the project.
 */
export function mergeProjectManifest(manifest: OwnedFileManifest, committed: readonly OwnedEntry[]): void {
  for (const e of committed) {
    const key = entryKey(e.path, e.target);
    const mine = manifest.entries[key];
    if (mine && mine.hash === e.hash && JSON.stringify(mine.keys ?? null) === JSON.stringify(e.keys ?? null)) continue;
    // Without size and mtime the planner reads the file and compares hashes (no read-free shortcut).
    manifest.entries[key] = { ...e, writtenAt: mine?.writtenAt ?? e.writtenAt };
  }
}

/** The deterministic text of `.aicfg/exports.json` for a project root; undefined when it owns nothing. */
function projectManifestText(manifest: OwnedFileManifest, projectRoot: string): string | undefined {
  const files: ProjectManifest["files"] = {};
  for (const e of Object.values(manifest.entries)) {
    if (e.scope !== "project" || e.root !== projectRoot) continue;
    const rel = relative(projectRoot, e.path).split(sep).join("/");
    (files[rel] ??= {})[e.target] = { kind: e.kind, ...(e.agent ? { agent: e.agent } : {}), hash: e.hash, ...(e.keys ? { keys: sortKeys(e.keys) } : {}) };
  }
  const paths = Object.keys(files).sort();
  if (paths.length === 0) return undefined;
  const sorted = Object.fromEntries(
    paths.map((p) => [
      p,
      Object.fromEntries(
        Object.keys(files[p]!)
          .sort()
          .map((t) => [t, files[p]![t]!]),
      ),
    ]),
  );
  return JSON.stringify({ $comment: PROJECT_COMMENT, version: 1, files: sorted }, null, 2) + "\n";
}

/** Writes `.aicfg/exports.json` atomically when its content changed; removes it when nothing is owned. */
export function saveProjectManifest(manifest: OwnedFileManifest, projectRoot: string): void {
  const file = join(projectRoot, PROJECT_MANIFEST);
  const text = projectManifestText(manifest, projectRoot);
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (text === current) return;
  if (text === undefined) {
    unlinkSync(file);
    return;
  }
  ensureDirNoSymlinks(projectRoot, dirname(file));
  atomicWrite(file, text, 0o644);
}

function sortKeys(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]!]),
  );
}
