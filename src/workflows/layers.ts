// Git layers of a library (aicfg.yaml `layers:`): one bare mirror per remote under the state folder, the pinned
// commit of each layer checked out into a content-addressed folder (`layers/trees/<commit>`, written aside and
// renamed into place), and aicfg.lock written last. The checkouts are plain folders that loadLibrary layers like
// `extends:` folders: this module resolves them, the library layer never spawns git.
//
// Crash safety: the lock is the only thing that says which tree is active, and it is replaced atomically after
// the new tree is complete, so a kill -9 at any point leaves the previous pin active; leftovers (temp trees, git's
// own *.lock files in a mirror, our update lock) belong to a dead process and are cleared by the next run.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { atomicWrite } from "../adapters/atomic.ts";
import { AicfgError, ConfigError, type Diagnostic } from "../library/diagnostics.ts";
import { sha256 } from "../library/hash.ts";
import { loadLibrary, MANIFEST_FILE, validateYaml } from "../library/load.ts";
import {
  diffFiles,
  emptyLock,
  fileIntegrity,
  integrityMismatches,
  lockGap,
  LOCK_FILE,
  parseLock,
  serializeLock,
  staleLockEntries,
  type FileDiff,
  type LockedLayer,
  type LockFile,
} from "../library/lock.ts";
import type { LayerFolder, Library } from "../library/model.ts";
import { resolveInside, toPosix } from "../library/paths.ts";
import { LibraryManifest, type LayerSpec } from "../library/schema.ts";
import { openConflictStore } from "./conflicts.ts";
import { applyLayerUpdate } from "./layer-merge.ts";
import { ActionError } from "./actions/types.ts";
import { checkRemoteUrl, checkSha, firstLines, git, gitBytes, type GitOptions } from "./git.ts";

/** A layer could not be fetched, resolved or checked out. */
class LayerError extends AicfgError {}

/** rulesync's caps for a fetched source: a layer is configuration, not a data set. */
const MAX_LAYER_FILES = 10_000;
const MAX_LAYER_BYTES = 100 * 1024 * 1024;

const TREE_MARKER = ".aicfg-tree.json";
const FETCH_RECORD = "aicfg-fetch.json";

export type LayerContext = {
  libraryRoot: string;
  stateDir: string;
  now?: () => Date;
  /** Test hook points (AICFG_TEST_HOLD_AT): the environment to read it from. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
};

type Offline = { reason: string; lastFetch?: string };

type LayerStatus = "up-to-date" | "updated" | "added" | "outdated" | "rewritten" | "not-locked" | "lock-mismatch" | "damaged" | "removed";

export type LayerReport = {
  name: string;
  url: string;
  ref: string;
  status: LayerStatus;
  /** The commit in aicfg.lock before this command. */
  locked?: string;
  /** The commit the ref points at in the mirror (after the fetch, or from the last one when offline). */
  upstream?: string;
  offline?: Offline;
  files?: FileDiff;
  /** The library's adopted copies of this layer's files, 3-way merged with the upstream update. */
  merges?: AdoptedMerge[];
  message?: string;
};

/** What an upstream update did to one adopted copy (the live file in the library, at the same path). */
type AdoptedMerge = {
  path: string;
  /** merged: the live file took upstream's changes; kept: nothing to take (or a policy kept the local file); conflict: see conflictFile. */
  result: "merged" | "kept" | "conflict";
  decidedBy?: string;
  /** The file with the conflict markers, relative to the library root (the live file is unchanged). */
  conflictFile?: string;
  fields?: string[];
  bodyConflicts?: number;
  note?: string;
};

// ----- where things live ----------------------------------------------------------------------------------

export function layersDir(stateDir: string): string {
  return join(stateDir, "layers");
}

/** The bare mirror of a remote: keyed by the URL git fetches from, so two libraries share one fetch. */
function mirrorDir(stateDir: string, spec: LayerSpec, libraryRoot: string): string {
  return join(layersDir(stateDir), "mirrors", `${spec.name}-${sha256(remoteOf(spec, libraryRoot).url).slice(0, 16)}.git`);
}

/** The checkout of `path` at `commit`: content-addressed, so a pin names exactly one folder. */
export function treeDir(stateDir: string, commit: string, path: string | undefined): string {
  return join(layersDir(stateDir), "trees", path ? `${commit}-${sha256(path).slice(0, 12)}` : commit);
}

/** What git fetches from: local paths are relative to the library; file access only for local layers. */
function remoteOf(spec: LayerSpec, libraryRoot: string): { url: string; allowFile: boolean } {
  const local = spec.url.startsWith("/") || spec.url.startsWith("./") || spec.url.startsWith("../");
  const url = local ? resolve(libraryRoot, spec.url) : spec.url;
  const allowFile = local || spec.url.startsWith("file://");
  try {
    checkRemoteUrl(url, allowFile);
  } catch (e) {
    throw asLayerError(e, spec);
  }
  return { url, allowFile };
}

function asLayerError(e: unknown, spec: LayerSpec): AicfgError {
  if (e instanceof AicfgError) return e;
  if (e instanceof ActionError) return new LayerError(e.code, `layer '${spec.name}': ${e.message}`, e.hint ? { hint: e.hint } : {});
  return new LayerError("layer-failed", `layer '${spec.name}': ${(e as Error).message}`);
}

// ----- reading aicfg.yaml and aicfg.lock ------------------------------------------------------------------

/** The `layers:` of a library's aicfg.yaml; a bad entry is a ConfigError at its file:line:col. */
export function readLayerSpecs(libraryRoot: string): LayerSpec[] {
  return readManifest(libraryRoot).layers ?? [];
}

/** The library's own aicfg.yaml, validated (its name labels conflict records, its `merge:` rules pick merge policies). */
function readManifest(libraryRoot: string): LibraryManifest {
  const file = join(libraryRoot, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("manifest-missing", `cannot read ${file}: ${(e as Error).message}`, { file, hint: "point --library at a folder with an aicfg.yaml" });
  }
  const d: Diagnostic[] = [];
  const manifest = validateYaml(text, file, LibraryManifest, d, 0, Object.keys(LibraryManifest.shape));
  if (!manifest) throw diagnosticsError(d);
  return manifest;
}

function diagnosticsError(d: Diagnostic[]): ConfigError {
  const first = d.find((x) => x.severity === "error") ?? d[0]!;
  return new ConfigError(first.code, first.message, {
    ...(first.file ? { file: first.file } : {}),
    ...(first.line !== undefined ? { line: first.line, col: first.col ?? 1 } : {}),
    ...(first.hint ? { hint: first.hint } : {}),
    diagnostics: d,
  });
}

export function readLock(libraryRoot: string): LockFile {
  const file = join(libraryRoot, LOCK_FILE);
  if (!existsSync(file)) return emptyLock();
  const { lock, diagnostics } = parseLock(readFileSync(file, "utf8"), file);
  if (!lock) throw diagnosticsError(diagnostics);
  return lock;
}

export function writeLock(libraryRoot: string, lock: LockFile, specs: readonly LayerSpec[]): void {
  atomicWrite(
    join(libraryRoot, LOCK_FILE),
    serializeLock(
      lock,
      specs.map((s) => s.name),
    ),
  );
}

// ----- the mirror -----------------------------------------------------------------------------------------

async function ensureMirror(mirror: string): Promise<void> {
  if (existsSync(join(mirror, "HEAD"))) return;
  mkdirSync(dirname(mirror), { recursive: true, mode: 0o700 });
  // Initialised aside and renamed, so a crash never leaves a half-made repository where a mirror is expected.
  const tmp = `${mirror}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const r = await git(["init", "--bare", "--quiet", "--", tmp], { cwd: dirname(mirror) });
  if (r.code !== 0) throw new LayerError("layer-mirror-failed", `cannot create the mirror ${mirror}: ${firstLines(r.stderr)}`);
  try {
    renameSync(tmp, mirror);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process made it first
  }
}

function readFetchRecord(mirror: string): { fetchedAt: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(mirror, FETCH_RECORD), "utf8")) as { fetchedAt: string };
  } catch {
    return undefined;
  }
}

async function hasRefs(mirror: string): Promise<boolean> {
  if (!existsSync(join(mirror, "HEAD"))) return false;
  const r = await git(["for-each-ref", "--count=1", "--format=%(refname)"], { cwd: mirror });
  return r.code === 0 && r.stdout.trim() !== "";
}

/**
 * Fetches every branch and tag of the layer's remote into its mirror (forced, pruned: the mirror shows what the
 * remote has now; the pins under refs/aicfg/pins keep every locked commit). Unreachable with a mirror to fall
 * back on: `offline`, not an error.
 */
async function fetchMirror(ctx: LayerContext, spec: LayerSpec): Promise<{ mirror: string; offline?: Offline }> {
  const { url, allowFile } = remoteOf(spec, ctx.libraryRoot);
  const mirror = mirrorDir(ctx.stateDir, spec, ctx.libraryRoot);
  await ensureMirror(mirror);
  const o: GitOptions = { cwd: mirror, allowFile, ...(ctx.signal ? { signal: ctx.signal } : {}), timeoutMs: 600_000 };
  const r = await git(["fetch", "--prune", "--no-tags", "--quiet", "--", url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], o);
  if (r.code === 0) {
    writeFileSync(join(mirror, FETCH_RECORD), JSON.stringify({ fetchedAt: now(ctx).toISOString(), url }) + "\n");
    await hold(ctx, "fetched");
    return { mirror };
  }
  const reason = firstLines(r.stderr, 1) || `git fetch exited with ${r.code}`;
  if (await hasRefs(mirror)) {
    const last = readFetchRecord(mirror)?.fetchedAt;
    return { mirror, offline: { reason, ...(last ? { lastFetch: last } : {}) } };
  }
  throw new LayerError("layer-fetch-failed", `layer '${spec.name}': cannot fetch ${spec.url}, and there is no earlier fetch to work from: ${reason}`, {
    hint: "check the URL and your access to it (git ls-remote URL)",
  });
}

const FULL_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The commit `ref` names in the mirror: a tag, then a branch, then a full commit id. */
async function resolveRef(mirror: string, spec: LayerSpec): Promise<{ commit: string; kind: "tag" | "branch" | "commit" }> {
  const o: GitOptions = { cwd: mirror };
  // The ref was checked by the schema; prefixing refs/ also means git can never read it as an option.
  for (const [kind, full] of [
    ["tag", `refs/tags/${spec.ref}`],
    ["branch", `refs/heads/${spec.ref}`],
  ] as const) {
    const r = await git(["rev-parse", "--verify", "--quiet", `${full}^{commit}`], o);
    if (r.code === 0) return { commit: checkSha(r.stdout.trim()), kind };
  }
  if (FULL_SHA.test(spec.ref)) {
    const r = await git(["cat-file", "-e", `${spec.ref}^{commit}`], o);
    if (r.code === 0) return { commit: spec.ref, kind: "commit" };
  }
  throw new LayerError("layer-ref-not-found", `layer '${spec.name}': ${spec.url} has no branch, tag or commit '${spec.ref}'`, {
    hint:
      FULL_SHA.test(spec.ref) || !/^[0-9a-f]{4,39}$/.test(spec.ref)
        ? "check the ref in aicfg.yaml (git ls-remote URL lists them)"
        : "give a commit as its full 40-character id",
  });
}

async function hasCommit(mirror: string, commit: string): Promise<boolean> {
  if (!existsSync(join(mirror, "HEAD"))) return false;
  return (await git(["cat-file", "-e", `${commit}^{commit}`], { cwd: mirror })).code === 0;
}

async function isAncestor(mirror: string, older: string, newer: string): Promise<boolean> {
  return (await git(["merge-base", "--is-ancestor", older, newer], { cwd: mirror })).code === 0;
}

/** Keeps a locked commit in the mirror even after the remote rewrote history (it is the merge base). */
async function pin(mirror: string, commit: string): Promise<void> {
  const r = await git(["update-ref", `refs/aicfg/pins/${checkSha(commit)}`, commit], { cwd: mirror });
  if (r.code !== 0) throw new LayerError("layer-mirror-failed", `cannot pin ${commit} in ${mirror}: ${firstLines(r.stderr)}`);
}

/** The bytes of `path` (relative to the layer folder) at a locked commit: the merge base for a 3-way merge. */
export async function readBaseFile(stateDir: string, libraryRoot: string, spec: LayerSpec, commit: string, path: string): Promise<Buffer | undefined> {
  const mirror = mirrorDir(stateDir, spec, libraryRoot);
  const full = toPosix(spec.path ? join(spec.path, path) : path);
  resolveInside("/", full, "layer file");
  const r = await gitBytes(["cat-file", "--batch"], `${checkSha(commit)}:${full}\n`, { cwd: mirror });
  if (r.code !== 0) return undefined;
  const nl = r.stdout.indexOf(10);
  const header = r.stdout.subarray(0, nl).toString("utf8");
  const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
  return m ? r.stdout.subarray(nl + 1, nl + 1 + Number(m[1])) : undefined;
}

// ----- checkouts ------------------------------------------------------------------------------------------

type TreeMarker = { commit: string; path: string | null; files: Record<string, string> };

/**
 * Checks out `path` of `commit` from the mirror into its content-addressed folder (or finds it there) and
 * returns the sha256 of every file. Regular files only: symbolic links and submodules are skipped (a link in
 * a fetched repository could point anywhere on this machine), names are checked, and the caps hold.
 */
async function materialise(
  ctx: LayerContext,
  mirror: string,
  spec: LayerSpec,
  commit: string,
): Promise<{ root: string; files: Record<string, string>; skipped: string[] }> {
  const dir = treeDir(ctx.stateDir, commit, spec.path);
  const known = readMarker(dir);
  if (known && known.commit === commit) return { root: dir, files: known.files, skipped: [] };
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // no marker: an incomplete or foreign folder
  const treeish = spec.path ? `${commit}:${spec.path.replace(/\/+$/, "")}` : `${commit}^{tree}`;
  const ls = await gitBytes(["ls-tree", "-r", "-z", "--full-tree", treeish], "", { cwd: mirror });
  if (ls.code !== 0) {
    throw new LayerError(
      "layer-path-missing",
      `layer '${spec.name}': ${spec.path ? `folder '${spec.path}' does not exist` : "cannot read the tree"} at ${commit.slice(0, 12)}: ${firstLines(ls.stderr, 1)}`,
      {
        hint: spec.path ? "check 'path' in aicfg.yaml against the repository" : "the mirror may be damaged: delete it under the state folder and fetch again",
      },
    );
  }
  const blobs: { name: string; sha: string; mode: string }[] = [];
  const skipped: string[] = [];
  for (const entry of ls.stdout.toString("utf8").split("\0")) {
    if (!entry) continue;
    const m = /^(\d{6}) (\w+) ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (!m) continue;
    const [, mode, type, sha, name] = m as unknown as [string, string, string, string, string];
    if (type !== "blob" || (mode !== "100644" && mode !== "100755")) {
      skipped.push(name);
      continue;
    }
    const segments = name.split("/");
    if (segments.some((s) => s === ".." || s === "" || s.toLowerCase() === ".git") || name === TREE_MARKER) {
      skipped.push(name);
      continue;
    }
    blobs.push({ name, sha, mode });
  }
  if (blobs.length > MAX_LAYER_FILES)
    throw new LayerError("layer-too-large", `layer '${spec.name}' has ${blobs.length} files at ${commit.slice(0, 12)}, over the cap of ${MAX_LAYER_FILES}`, {
      hint: "point 'path' at the folder that holds the library",
    });
  const cat = await gitBytes(["cat-file", "--batch"], blobs.map((b) => b.sha).join("\n") + "\n", {
    cwd: mirror,
    maxBytes: MAX_LAYER_BYTES + blobs.length * 64,
  });
  if (cat.code !== 0)
    throw new LayerError(
      cat.code === 125 ? "layer-too-large" : "layer-checkout-failed",
      `layer '${spec.name}': cannot read the files at ${commit.slice(0, 12)}: ${firstLines(cat.stderr, 1)}`,
      { hint: `a layer may hold at most ${MAX_LAYER_BYTES} bytes` },
    );

  const treesRoot = dirname(dir);
  mkdirSync(treesRoot, { recursive: true, mode: 0o700 });
  const tmp = join(treesRoot, `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(tmp, { mode: 0o755 });
  const files: Record<string, string> = {};
  try {
    let off = 0;
    for (const b of blobs) {
      const nl = cat.stdout.indexOf(10, off);
      const header = cat.stdout.subarray(off, nl).toString("utf8");
      const hm = /^([0-9a-f]+) blob (\d+)$/.exec(header);
      if (!hm || hm[1] !== b.sha) throw new LayerError("layer-checkout-failed", `layer '${spec.name}': git returned '${header}' for ${b.name}`);
      const size = Number(hm[2]);
      const bytes = cat.stdout.subarray(nl + 1, nl + 1 + size);
      off = nl + 1 + size + 1;
      const target = resolveInside(tmp, b.name, "layer file");
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      // Read-only: personal changes belong in the personal layer, not in a pinned checkout.
      writeFileSync(target, bytes, { mode: 0o444, flag: "wx" });
      files[b.name] = fileIntegrity(bytes);
    }
    const marker: TreeMarker = { commit, path: spec.path ?? null, files };
    writeFileSync(join(tmp, TREE_MARKER), JSON.stringify(marker) + "\n", { mode: 0o444 });
    await hold(ctx, "checked-out");
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!readMarker(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true }); // another process put the same tree there first
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { root: dir, files, skipped };
}

function readMarker(dir: string): TreeMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, TREE_MARKER), "utf8")) as TreeMarker;
  } catch {
    return undefined;
  }
}

/** The sha256 of every file in a checkout as it is on disk now (to catch a hand-edited or damaged tree). */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === TREE_MARKER) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out[r] = fileIntegrity(readFileSync(join(dir, r)));
      else out[r] = "not-a-file";
    }
  };
  if (existsSync(dir)) walk("");
  return out;
}

// ----- the update lock and crash leftovers ----------------------------------------------------------------

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One layer update at a time per state folder. A lock left by a killed process is taken over, and then what
 * that process left behind is cleared: temp trees and git's own *.lock files in the mirrors (a fetch killed
 * mid-way leaves refs/heads/main.lock, which would make every later fetch fail).
 */
export async function withUpdateLock<T>(ctx: LayerContext, fn: () => Promise<T>): Promise<T> {
  const dir = layersDir(ctx.stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "update.lock");
  let fd: number | undefined;
  for (let attempt = 0; attempt < 2 && fd === undefined; attempt++) {
    try {
      fd = openSync(file, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new LayerError("layer-update-running", `another aicfg (pid ${pid}) is updating the layers in ${dir}`, { hint: "wait for it to finish" });
      }
      unlinkSync(file);
    }
  }
  if (fd === undefined) throw new LayerError("layer-update-running", `cannot take ${file}`);
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  try {
    clearLeftovers(dir);
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}

function clearLeftovers(dir: string): void {
  const trees = join(dir, "trees");
  for (const name of existsSync(trees) ? readdirSync(trees) : []) {
    const m = /^\.tmp-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(trees, name), { recursive: true, force: true });
  }
  const mirrors = join(dir, "mirrors");
  for (const name of existsSync(mirrors) ? readdirSync(mirrors) : []) {
    const m = /\.tmp-(\d+)-/.exec(name);
    if (m) {
      if (!alive(Number(m[1]))) rmSync(join(mirrors, name), { recursive: true, force: true });
      continue;
    }
    removeGitLocks(join(mirrors, name));
  }
}

/** git's lock files in a mirror no git of ours is using (we hold the update lock). */
function removeGitLocks(mirror: string): void {
  for (const f of ["packed-refs.lock", "config.lock", "shallow.lock", "HEAD.lock", "index.lock", "FETCH_HEAD.lock"]) rmSync(join(mirror, f), { force: true });
  const walk = (d: string): void => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".lock")) rmSync(p, { force: true });
    }
  };
  walk(join(mirror, "refs"));
}

/** AICFG_TEST_HOLD_AT=<point>: stop at that point for up to a minute so a test can kill -9 the process there. */
async function hold(ctx: LayerContext, point: string): Promise<void> {
  if ((ctx.env ?? process.env).AICFG_TEST_HOLD_AT !== point) return;
  process.stderr.write(`aicfg: holding at ${point}\n`);
  await new Promise((r) => setTimeout(r, 60_000));
}

function now(ctx: LayerContext): Date {
  return ctx.now ? ctx.now() : new Date();
}

// ----- the commands' work ---------------------------------------------------------------------------------

export type UpdateOptions = {
  /** Only these layers (default: all). */
  names?: readonly string[];
  /** `update`: move every selected layer to what its ref names now. `install`: lock only what the lock does not cover. */
  mode: "update" | "install";
  /** Apply a pin whose old commit is not an ancestor of the new one (history rewritten upstream). */
  acceptRewrite?: boolean;
};

export type UpdateResult = {
  reports: LayerReport[];
  lockWritten: boolean;
  lock: LockFile;
  /** Adopted copies the update left in conflict (their local version stays active). */
  conflicts: number;
  /** Library files (absolute) a merge rewrote or deleted. */
  changedFiles: string[];
};

/**
 * 3-way merges the upstream update of every file of a layer the library adopted (`adopted` in the lock):
 * the base is the file at the locked commit (or, while a conflict is open, the base that conflict was
 * found against, so local edits are never mistaken for reverts), theirs the file at the new commit.
 * The same code for `aicfg library update` and the daemon's sync step (applyLayerUpdate).
 */
async function mergeAdopted(
  ctx: LayerContext,
  manifest: LibraryManifest,
  spec: LayerSpec,
  locked: LockedLayer,
  commit: string,
  tree: { root: string; files: Record<string, string> },
  changedFiles: string[],
): Promise<AdoptedMerge[]> {
  const out: AdoptedMerge[] = [];
  const root = resolve(ctx.libraryRoot);
  const store = openConflictStore(ctx.stateDir);
  const old: LayerSpec = { ...spec, url: locked.url, ...(locked.path !== undefined ? { path: locked.path } : {}) };
  for (const path of locked.adopted ?? []) {
    const open = store.get(root, path);
    let base: string | null;
    if (open?.status === "open") base = open.base === null ? null : (store.blob(open.base) ?? null);
    else if (path in locked.files) {
      const bytes = await readBaseFile(ctx.stateDir, ctx.libraryRoot, old, locked.resolvedCommit, path);
      if (bytes === undefined)
        throw new LayerError(
          "layer-base-missing",
          `layer '${spec.name}': cannot read ${path} at the locked ${locked.resolvedCommit.slice(0, 12)} (the merge base)`,
          {
            hint: "the mirror under the state folder may be damaged: delete it and run the update again",
          },
        );
      base = bytes.toString("utf8");
    } else base = null;
    const theirs = path in tree.files ? readFileSync(resolveInside(tree.root, path, "layer file"), "utf8") : null;
    if (base === theirs && open?.status !== "open") continue; // upstream did not touch it
    const applied = await applyLayerUpdate({
      libraryRoot: root,
      library: manifest.name,
      stateDir: ctx.stateDir,
      path,
      base,
      theirs,
      ...(manifest.merge ? { rules: manifest.merge } : {}),
      upstream: { layer: spec.name, commit },
      now: now(ctx).getTime(),
    });
    if (applied.changed) changedFiles.push(join(root, path));
    const o = applied.outcome;
    if (o.status === "conflict") {
      out.push({
        path,
        result: "conflict",
        conflictFile: applied.conflict!.conflictFile,
        fields: applied.conflict!.fields,
        bodyConflicts: applied.conflict!.bodyConflicts,
        ...(o.note ? { note: o.note } : {}),
      });
    } else out.push({ path, result: applied.changed ? "merged" : "kept", decidedBy: o.decidedBy, ...(o.note ? { note: o.note } : {}) });
  }
  await hold(ctx, "merged");
  return out;
}

/**
 * Fetches, resolves, checks out and pins the layers, then writes aicfg.lock once, last. A rewritten history
 * (the locked commit is no ancestor of the new one) keeps the old pin unless acceptRewrite.
 */
export async function updateLayers(ctx: LayerContext, opts: UpdateOptions): Promise<UpdateResult> {
  const manifest = readManifest(ctx.libraryRoot);
  const specs = manifest.layers ?? [];
  const lock = readLock(ctx.libraryRoot);
  checkNames(specs, opts.names);
  return withUpdateLock(ctx, async () => {
    const next: LockFile = { lockfileVersion: lock.lockfileVersion, layers: { ...lock.layers } };
    const reports: LayerReport[] = [];
    const changedFiles: string[] = [];
    for (const spec of specs) {
      const locked = lock.layers[spec.name];
      const gap = lockGap(spec, locked);
      const selected = !opts.names?.length || opts.names.includes(spec.name);
      const move = selected && (opts.mode === "update" || gap !== undefined);
      const base = baseReport(spec, locked);
      if (!move) {
        // Not moving: make sure the pinned tree is there (a fresh clone of the library, a wiped state folder).
        if (locked) await ensurePinned(ctx, spec, locked);
        reports.push(base);
        continue;
      }
      const { mirror, offline } = await fetchMirror(ctx, spec);
      const { commit } = await resolveRef(mirror, spec);
      const report: LayerReport = { ...base, upstream: commit, ...(offline ? { offline } : {}) };
      if (locked && gap === undefined && locked.resolvedCommit === commit) {
        await ensurePinned(ctx, spec, locked, mirror);
        reports.push(report);
        continue;
      }
      if (
        locked &&
        gap === undefined &&
        !((await hasCommit(mirror, locked.resolvedCommit)) && (await isAncestor(mirror, locked.resolvedCommit, commit))) &&
        !opts.acceptRewrite
      ) {
        reports.push({
          ...report,
          status: "rewritten",
          message: `the history of ${spec.ref} was rewritten upstream: the locked ${locked.resolvedCommit.slice(0, 12)} is not an ancestor of ${commit.slice(0, 12)}; kept the locked commit`,
        });
        continue;
      }
      const tree = await materialise(ctx, mirror, spec, commit);
      await pin(mirror, commit);
      // Before the lock moves: a crash after some merges leaves the old base in the lock, and merging the
      // same update into an already merged file again is clean (both sides made the same change).
      const merges = locked?.adopted?.length ? await mergeAdopted(ctx, manifest, spec, locked, commit, tree, changedFiles) : [];
      const adopted = (locked?.adopted ?? []).filter((p) => p in tree.files || existsSync(join(ctx.libraryRoot, p)));
      next.layers[spec.name] = {
        url: spec.url,
        requestedRef: spec.ref,
        ...(spec.path !== undefined ? { path: spec.path } : {}),
        resolvedCommit: commit,
        fetchedAt: now(ctx).toISOString(),
        files: tree.files,
        ...(adopted.length ? { adopted } : {}),
      };
      reports.push({
        ...report,
        status: locked ? "updated" : "added",
        files: diffFiles(locked?.files ?? {}, tree.files),
        ...(merges.length ? { merges } : {}),
        ...(tree.skipped.length
          ? { message: `skipped ${tree.skipped.length} entries that are not regular files (links, submodules): ${tree.skipped.slice(0, 5).join(", ")}` }
          : {}),
      });
    }
    const stale = staleLockEntries(specs, next);
    const removing = !opts.names?.length ? stale : []; // a layer taken out of aicfg.yaml leaves the lock too
    for (const name of removing) {
      reports.push({ name, url: next.layers[name]!.url, ref: next.layers[name]!.requestedRef, status: "removed", locked: next.layers[name]!.resolvedCommit });
      delete next.layers[name];
    }
    const changed = serializeLock(next) !== serializeLock(lock) || !existsSync(join(ctx.libraryRoot, LOCK_FILE));
    await hold(ctx, "before-lock");
    if (changed && (specs.length || Object.keys(lock.layers).length)) writeLock(ctx.libraryRoot, next, specs);
    const conflicts = reports.reduce((n, r) => n + (r.merges ?? []).filter((m) => m.result === "conflict").length, 0);
    return { reports, lockWritten: changed, lock: next, conflicts, changedFiles };
  });
}

export type AdoptResult = { layer: string; path: string; commit: string; written: boolean };

/**
 * `aicfg library adopt LAYER FILE...`: copies files of a layer at its pinned commit into the library, at the
 * same path, and records them in aicfg.lock as adopted copies, so every later update 3-way merges them
 * (an edited copy no longer stops receiving upstream fixes). A library file already there is kept only with
 * `keepLocal` (it becomes an adopted copy with the current pin as its base); a file that is already the
 * pinned version is recorded as it is.
 */
export async function adoptLayerFiles(ctx: LayerContext, layer: string, paths: readonly string[], opts: { keepLocal?: boolean } = {}): Promise<AdoptResult[]> {
  const specs = readLayerSpecs(ctx.libraryRoot);
  checkNames(specs, [layer]);
  const spec = specs.find((s) => s.name === layer)!;
  const lock = readLock(ctx.libraryRoot);
  const locked = lock.layers[layer];
  const gap = lockGap(spec, locked);
  if (gap) throw new ConfigError("lock-out-of-date", `layer '${layer}': ${gapMessage(gap)}`, { hint: `run 'aicfg library update ${layer}' first, then adopt` });
  const root = resolve(ctx.libraryRoot);
  return withUpdateLock(ctx, async () => {
    const { root: tree } = await ensurePinned(ctx, spec, locked!);
    const results: AdoptResult[] = [];
    const plan: { rel: string; dest: string; bytes: Buffer; write: boolean }[] = [];
    for (const raw of paths) {
      const rel = toPosix(raw).replace(/^\.\//, "");
      if (!(rel in locked!.files)) {
        throw new ConfigError("not-in-layer", `layer '${layer}' has no file ${rel} at ${locked!.resolvedCommit.slice(0, 12)}`, {
          hint: "give the path relative to the layer's folder, as 'aicfg library status --json' and aicfg.lock list them",
        });
      }
      const dest = resolveInside(root, rel, "adopted file");
      const bytes = readFileSync(resolveInside(tree, rel, "layer file"));
      let write = true;
      if (existsSync(dest)) {
        const same = Buffer.compare(readFileSync(dest), bytes) === 0;
        if (!same && !opts.keepLocal)
          throw new ConfigError("adopt-exists", `${dest} already exists and differs from ${layer}'s ${rel}`, {
            hint: "--keep-local adopts the file as it is (the next update merges upstream changes into it); or move it away first",
          });
        write = false;
      }
      plan.push({ rel, dest, bytes, write });
    }
    for (const p of plan) {
      if (p.write) atomicWrite(p.dest, p.bytes, 0o644, { root });
      results.push({ layer, path: p.rel, commit: locked!.resolvedCommit, written: p.write });
    }
    // The lock last: a crash before it leaves plain copies, which the loader layers like any personal file.
    lock.layers[layer] = { ...locked!, adopted: [...new Set([...(locked!.adopted ?? []), ...plan.map((p) => p.rel)])].sort() };
    writeLock(ctx.libraryRoot, lock, specs);
    return results;
  });
}

function checkNames(specs: readonly LayerSpec[], names: readonly string[] | undefined): void {
  for (const n of names ?? []) {
    if (!specs.some((s) => s.name === n)) {
      throw new ConfigError("layer-unknown", `aicfg.yaml has no layer named '${n}'`, {
        hint: specs.length ? `layers: ${specs.map((s) => s.name).join(", ")}` : "add one with 'aicfg library add NAME URL --ref REF'",
      });
    }
  }
}

/** The locked tree of a layer, checked out from the mirror (fetching only when the mirror lacks the commit). */
async function ensurePinned(ctx: LayerContext, spec: LayerSpec, locked: LockedLayer, knownMirror?: string): Promise<{ root: string; offline?: Offline }> {
  const dir = treeDir(ctx.stateDir, locked.resolvedCommit, locked.path);
  if (readMarker(dir)?.commit === locked.resolvedCommit) return { root: dir };
  let mirror = knownMirror ?? mirrorDir(ctx.stateDir, spec, ctx.libraryRoot);
  let offline: Offline | undefined;
  if (!(await hasCommit(mirror, locked.resolvedCommit))) {
    const f = await fetchMirror(ctx, spec);
    mirror = f.mirror;
    offline = f.offline;
    if (!(await hasCommit(mirror, locked.resolvedCommit))) {
      throw new LayerError(
        "layer-commit-missing",
        `layer '${spec.name}': the locked commit ${locked.resolvedCommit.slice(0, 12)} is not in ${spec.url}${offline ? ` (offline: ${offline.reason})` : ""}`,
        {
          hint: "the remote rewrote its history or is unreachable: 'aicfg library update " + spec.name + " --accept-rewrite' pins what it has now",
        },
      );
    }
  }
  const tree = await materialise(ctx, mirror, { ...spec, ...(locked.path !== undefined ? { path: locked.path } : {}) }, locked.resolvedCommit);
  const bad = integrityMismatches(locked.files, tree.files);
  if (bad.length) {
    throw new LayerError(
      "layer-integrity",
      `layer '${spec.name}': the files at ${locked.resolvedCommit.slice(0, 12)} do not match aicfg.lock (${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", ..." : ""})`,
      {
        hint: "aicfg.lock was edited by hand or the commit is not what was locked: 'aicfg library update " + spec.name + "' locks it again",
      },
    );
  }
  await pin(mirror, locked.resolvedCommit);
  return { root: tree.root, ...(offline ? { offline } : {}) };
}

/**
 * For `outdated` and `sync --frozen`: fetch (or use the last fetch, offline) and compare, writing no lock.
 * With `verify`, every pinned checkout is hashed against the lock as well.
 */
export async function checkLayers(ctx: LayerContext, opts: { names?: readonly string[]; verify?: boolean } = {}): Promise<LayerReport[]> {
  const specs = readLayerSpecs(ctx.libraryRoot);
  const lock = readLock(ctx.libraryRoot);
  checkNames(specs, opts.names);
  const reports: LayerReport[] = [];
  for (const spec of specs) {
    if (opts.names?.length && !opts.names.includes(spec.name)) continue;
    const locked = lock.layers[spec.name];
    const gap = lockGap(spec, locked);
    const base = baseReport(spec, locked);
    if (gap) {
      reports.push(gapReport(base, gap));
      continue;
    }
    const { mirror, offline } = await fetchMirror(ctx, spec);
    const { commit } = await resolveRef(mirror, spec);
    const r: LayerReport = { ...base, upstream: commit, ...(offline ? { offline } : {}) };
    if (commit !== locked!.resolvedCommit) {
      const rewritten = !(await hasCommit(mirror, locked!.resolvedCommit)) || !(await isAncestor(mirror, locked!.resolvedCommit, commit));
      r.status = rewritten ? "rewritten" : "outdated";
      if (rewritten)
        r.message = `the history of ${spec.ref} was rewritten upstream (${locked!.resolvedCommit.slice(0, 12)} is not an ancestor of ${commit.slice(0, 12)})`;
    }
    if (opts.verify && r.status !== "rewritten") {
      const pinned = await ensurePinned(ctx, spec, locked!, mirror);
      const bad = integrityMismatches(locked!.files, hashTree(pinned.root));
      if (bad.length) {
        r.status = "damaged";
        r.message = `the checkout ${pinned.root} differs from aicfg.lock: ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", ..." : ""}`;
      }
    }
    reports.push(r);
  }
  reports.push(...staleReports(specs, lock));
  return reports;
}

/** The report of a layer before anything is looked at: its spec and, if locked, the locked commit. */
function baseReport(spec: LayerSpec, locked: LockedLayer | undefined): LayerReport {
  return { name: spec.name, url: spec.url, ref: spec.ref, status: "up-to-date", ...(locked ? { locked: locked.resolvedCommit } : {}) };
}

/** A lock that does not cover its aicfg.yaml entry, as a report. */
function gapReport(base: LayerReport, gap: NonNullable<ReturnType<typeof lockGap>>): LayerReport {
  return { ...base, status: gap === "not-locked" ? "not-locked" : "lock-mismatch", message: gapMessage(gap) };
}

/** Lock entries of layers no longer in aicfg.yaml (`outdated`, `sync --frozen` and `status` report them alike). */
function staleReports(specs: readonly LayerSpec[], lock: LockFile): LayerReport[] {
  return staleLockEntries(specs, lock).map((name) => ({
    name,
    url: lock.layers[name]!.url,
    ref: lock.layers[name]!.requestedRef,
    status: "lock-mismatch" as const,
    locked: lock.layers[name]!.resolvedCommit,
    message: "in aicfg.lock but no longer in aicfg.yaml",
  }));
}

function gapMessage(gap: NonNullable<ReturnType<typeof lockGap>>): string {
  switch (gap) {
    case "not-locked":
      return "not in aicfg.lock yet";
    case "url-changed":
      return "its url in aicfg.yaml differs from aicfg.lock";
    case "ref-changed":
      return "its ref in aicfg.yaml differs from aicfg.lock";
    case "path-changed":
      return "its path in aicfg.yaml differs from aicfg.lock";
  }
}

/** For `library status`: what the lock pins and what is on disk, with no network at all. */
export function layerStatus(ctx: LayerContext): { reports: (LayerReport & { checkout?: string; lastFetch?: string })[] } {
  const specs = readLayerSpecs(ctx.libraryRoot);
  const lock = readLock(ctx.libraryRoot);
  const reports: (LayerReport & { checkout?: string; lastFetch?: string })[] = [];
  for (const spec of specs) {
    const locked = lock.layers[spec.name];
    const gap = lockGap(spec, locked);
    const mirror = mirrorDir(ctx.stateDir, spec, ctx.libraryRoot);
    const last = readFetchRecord(mirror)?.fetchedAt;
    const base = baseReport(spec, locked);
    const r: LayerReport & { checkout?: string; lastFetch?: string } = { ...(gap ? gapReport(base, gap) : base), ...(last ? { lastFetch: last } : {}) };
    if (!gap) {
      const dir = treeDir(ctx.stateDir, locked!.resolvedCommit, locked!.path);
      if (readMarker(dir)?.commit === locked!.resolvedCommit) {
        r.checkout = dir;
        const bad = integrityMismatches(locked!.files, hashTree(dir));
        if (bad.length) {
          r.status = "damaged";
          r.message = `the checkout differs from aicfg.lock: ${bad.slice(0, 3).join(", ")}`;
        }
      } else r.message = "not checked out on this machine yet ('aicfg sync' checks it out)";
    }
    reports.push(r);
  }
  reports.push(...staleReports(specs, lock));
  return { reports };
}

/**
 * The folders of a library's git layers at their pinned commits, for loadLibrary: checked out from the
 * mirror when missing (a fetch only when the mirror lacks the commit). A layer the lock does not cover
 * yet, or that cannot be checked out, becomes a diagnostic (loadLibrary then reports it as missing), so
 * export keeps working for everything else. Never moves a pin and never writes aicfg.lock.
 */
export async function resolveLayerFolders(ctx: LayerContext): Promise<{ folders: LayerFolder[]; diagnostics: Diagnostic[]; notes: string[] }> {
  const folders: LayerFolder[] = [];
  const diagnostics: Diagnostic[] = [];
  const notes: string[] = [];
  let specs: LayerSpec[];
  let lock: LockFile;
  try {
    specs = readLayerSpecs(ctx.libraryRoot);
    if (!specs.length) return { folders, diagnostics, notes };
    lock = readLock(ctx.libraryRoot);
  } catch (e) {
    // A bad aicfg.yaml is reported by loadLibrary with every diagnostic; a bad aicfg.lock is reported here.
    if (e instanceof AicfgError && e.file?.endsWith(LOCK_FILE)) diagnostics.push(...(e.diagnostics.length ? e.diagnostics : [e.toDiagnostic()]));
    return { folders, diagnostics, notes };
  }
  for (const spec of specs) {
    const locked = lock.layers[spec.name];
    const gap = lockGap(spec, locked);
    if (gap === "not-locked") continue; // loadLibrary reports it, positioned at the layer in aicfg.yaml
    if (gap) {
      diagnostics.push({
        severity: "warning",
        code: "lock-out-of-date",
        message: `layer '${spec.name}': ${gapMessage(gap)}; using the locked ${locked!.resolvedCommit.slice(0, 12)}`,
        file: join(ctx.libraryRoot, LOCK_FILE),
        hint: "run 'aicfg library update " + spec.name + "' to lock what aicfg.yaml asks for",
      });
    }
    try {
      const dir = treeDir(ctx.stateDir, locked!.resolvedCommit, locked!.path);
      const cached = readMarker(dir)?.commit === locked!.resolvedCommit;
      const r = cached ? { root: dir } : await withUpdateLock(ctx, () => ensurePinned(ctx, spec, locked!));
      if (!cached)
        notes.push(
          `layer ${spec.name}: checked out ${locked!.resolvedCommit.slice(0, 12)} from the local mirror${"offline" in r && r.offline ? ` (offline: ${r.offline.reason})` : ""}`,
        );
      folders.push({ name: spec.name, root: r.root });
    } catch (e) {
      const err = e instanceof AicfgError ? e : asLayerError(e, spec);
      diagnostics.push({
        severity: "error",
        code: err.code,
        message: err.message,
        file: join(ctx.libraryRoot, MANIFEST_FILE),
        ...(err.hint ? { hint: err.hint } : {}),
      });
    }
  }
  return { folders, diagnostics, notes };
}

/** Loads a library with its git layers resolved to folders: what the CLI commands that read a library call. */
export async function loadLibraryWithLayers(ctx: LayerContext): Promise<{ lib: Library; notes: string[] }> {
  const { folders, diagnostics, notes } = await resolveLayerFolders(ctx);
  const lib = loadLibrary(ctx.libraryRoot, folders.length ? { layers: folders } : {});
  lib.diagnostics.push(...diagnostics);
  return { lib, notes };
}
