// Atomic, durable, symlink-refusing file writes (security goals G19, G21, G22): temp file in the
// same folder opened O_EXCL|O_NOFOLLOW with its final mode, fsync, rename, fsync(dir).
// Writes below an export root are race-free on Linux: every folder below the root is opened from the
// handle of its parent without following links (through /proc/self/fd, the portable stand-in for
// openat(2) that Node, Bun and Deno all reach), so a folder swapped for a symlink between a check and
// the write cannot redirect the write (G21).
import { closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { ExportError } from "../library/diagnostics.ts";

/**
 * @param opts.syncDir fsync the folder after the rename (default). Callers writing many files pass
 *   false and fsync each folder once at the end (the rename is atomic either way).
 */
export function atomicWrite(path: string, data: string | Uint8Array, mode = 0o644, opts: { syncDir?: boolean; root?: string; dirMode?: number } = {}): void {
  if (opts.root !== undefined && HELD_DIRS) {
    const held = openDirBeneath(opts.root, dirname(path), opts.dirMode ?? 0o755);
    try {
      writeInto(held, basename(path), path, data, mode, opts.syncDir !== false);
    } finally {
      closeSync(held);
    }
    return;
  }
  if (opts.root !== undefined) ensureDirNoSymlinks(opts.root, dirname(path), opts.dirMode ?? 0o755);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
  const fd = openSync(tmp, flags, mode);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  try {
    const existing = lstatSafe(path);
    if (existing?.isSymbolicLink()) throw new ExportError("symlink-target", `${path} is a symbolic link; refusing to write through it`);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  if (opts.syncDir !== false) fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function lstatSafe(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Creates the folders from `root` down to `dir`, refusing when any existing component below the
 * root is a symbolic link or not a folder (so a swapped-in link cannot redirect our writes).
 */
export function ensureDirNoSymlinks(root: string, dir: string, mode = 0o755): void {
  const base = resolve(root);
  const target = resolve(dir);
  const rel = relative(base, target);
  if (rel.startsWith("..") || resolve(base, rel) !== target) {
    throw new ExportError("outside-root", `${target} is outside the export root ${base}`);
  }
  let current = base;
  if (!lstatSafe(current)) mkdirSync(current, { recursive: true, mode });
  for (const part of rel.split(sep).filter(Boolean)) {
    current = join(current, part);
    const st = lstatSafe(current);
    if (!st) {
      mkdirSync(current, { mode });
      continue;
    }
    if (st.isSymbolicLink()) {
      throw new ExportError("symlink-parent", `${current} is a symbolic link; refusing to write below it`, {
        hint: "replace the link with a real folder, or export with --root elsewhere",
      });
    }
    if (!st.isDirectory()) throw new ExportError("not-a-directory", `${current} exists and is not a folder`);
  }
}

/** Linux exposes every open folder as /proc/self/fd/N: resolving a name below it starts from the held folder. */
const HELD_DIRS = process.platform === "linux" && existsSync("/proc/self/fd");
const via = (fd: number, name = ""): string => `/proc/self/fd/${fd}${name ? "/" + name : ""}`;
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);

function refuseLink(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ELOOP" || code === "ENOTDIR") {
    const st = lstatSafe(path);
    if (st?.isSymbolicLink() || code === "ELOOP") {
      throw new ExportError("symlink-parent", `${path} is a symbolic link; refusing to write below it`, {
        hint: "replace the link with a real folder, or export with --root elsewhere",
      });
    }
    throw new ExportError("not-a-directory", `${path} exists and is not a folder`);
  }
  throw e;
}

/**
 * Opens the folder `part` inside the held folder `fd` without following a link, creating it with
 * `mode` when missing (`mode` undefined: a missing folder is ENOENT). `shown` names it in errors.
 */
function openChildDir(fd: number, part: string, shown: string, mode: number | undefined): number {
  try {
    return openSync(via(fd, part), DIR_FLAGS);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") refuseLink(shown, e);
    if (mode === undefined) throw e;
  }
  try {
    mkdirSync(via(fd, part), { mode });
  } catch (m) {
    if ((m as NodeJS.ErrnoException).code !== "EEXIST") throw m;
  }
  try {
    return openSync(via(fd, part), DIR_FLAGS);
  } catch (again) {
    refuseLink(shown, again);
  }
}

/**
 * Opens the folder `dir` below `root`, one component at a time from the handle of its parent, never
 * following a link below the root; creates missing folders with `mode` unless `mode` is undefined (then
 * a missing one is ENOENT). Returns the folder's descriptor; the caller closes it.
 */
export function openDirBeneath(root: string, dir: string, mode: number | undefined = 0o755): number {
  const base = resolve(root);
  const target = resolve(dir);
  const rel = relative(base, target);
  if (rel.startsWith("..") || resolve(base, rel) !== target) {
    throw new ExportError("outside-root", `${target} is outside the export root ${base}`);
  }
  if (mode !== undefined && !lstatSafe(base)) mkdirSync(base, { recursive: true, mode });
  // The root itself is the user's choice and may be reached through links; nothing below it may.
  let fd = openSync(base, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  let shown = base;
  try {
    for (const part of rel.split(sep).filter(Boolean)) {
      shown = join(shown, part);
      const next = openChildDir(fd, part, shown, mode);
      closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The atomic write of `name` inside the held folder `dirFd` (`shown` is the path used in messages). */
function writeInto(dirFd: number, name: string, shown: string, data: string | Uint8Array, mode: number, syncDir: boolean): void {
  const tmp = via(dirFd, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  let written = false;
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) unlinkQuietly(tmp);
  }
  try {
    if (lstatSafe(via(dirFd, name))?.isSymbolicLink()) throw new ExportError("symlink-target", `${shown} is a symbolic link; refusing to write through it`);
    renameSync(tmp, via(dirFd, name));
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
  if (syncDir) {
    try {
      fsyncSync(dirFd);
    } catch {
      // Some file systems cannot fsync a folder; the rename is still atomic.
    }
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Deletes `path` below `root` without following a link in any folder on the way (race-free on Linux);
 * refuses when the file itself has become a link. A missing file is not an error.
 */
export function unlinkBeneath(root: string, path: string): void {
  if (!HELD_DIRS) {
    // Not race-free (no held handles here), but a link already in place is still refused.
    const base = resolve(root);
    let current = base;
    for (const part of relative(base, dirname(resolve(path)))
      .split(sep)
      .filter(Boolean)) {
      current = join(current, part);
      if (lstatSafe(current)?.isSymbolicLink()) throw new ExportError("symlink-parent", `${current} is a symbolic link; not deleting below it`);
    }
    const st = lstatSafe(path);
    if (st?.isSymbolicLink()) throw new ExportError("symlink-target", `${path} became a symbolic link; not deleted`);
    if (st) unlinkSync(path);
    return;
  }
  let held: number;
  try {
    held = openDirBeneath(root, dirname(path), undefined);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  try {
    const st = lstatSafe(via(held, basename(path)));
    if (st?.isSymbolicLink()) throw new ExportError("symlink-target", `${path} became a symbolic link; not deleted`);
    if (st) unlinkSync(via(held, basename(path)));
  } finally {
    closeSync(held);
  }
}

// ---------- many writes at once (an export's apply) ----------
// One fsync per file, one after the other, was most of a cold export (28 of 45 s at 1,000 knowledge
// files to every target). The same crash guarantee holds when the steps are batched: every temp is
// written first, then all temps are fsync'ed together (in parallel, through the libuv pool), and only
// a temp that is durable is renamed over its file; each folder is fsync'ed once at the end. A crash at
// any point leaves each file with its complete old or complete new content, never a partial one.

/**
 * Folders below export roots, opened once for many writes: each is opened from its parent's handle
 * without following a link (as openDirBeneath does), so a folder swapped for a link afterwards still
 * leads to the folder that was opened below the root, never to the link's target.
 */
export type HeldDirs = { fds: Map<string, number> };

export function holdDirs(): HeldDirs {
  return { fds: new Map() };
}

export function releaseDirs(h: HeldDirs): void {
  for (const fd of h.fds.values()) closeSync(fd);
  h.fds.clear();
}

/** A held folder may serve many writes; past this many the handles are closed and opened again as needed. */
const MAX_HELD = 512;

function heldDir(h: HeldDirs, root: string, dir: string, mode: number): number {
  const base = resolve(root);
  const target = resolve(dir);
  const rel = relative(base, target);
  if (rel.startsWith("..") || resolve(base, rel) !== target) throw new ExportError("outside-root", `${target} is outside the export root ${base}`);
  const parts = rel.split(sep).filter(Boolean);
  const keyOf = (n: number): string => `${base}\u0000${parts.slice(0, n).join(sep)}`;
  let n = parts.length;
  while (n >= 0 && !h.fds.has(keyOf(n))) n--;
  if (n === parts.length) return h.fds.get(keyOf(n))!;
  if (h.fds.size >= MAX_HELD) {
    releaseDirs(h);
    n = -1;
  }
  let fd: number;
  let shown = base;
  if (n < 0) {
    if (!lstatSafe(base)) mkdirSync(base, { recursive: true, mode });
    // The root itself is the user's choice and may be reached through links; nothing below it may.
    fd = openSync(base, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
    h.fds.set(keyOf(0), fd);
    n = 0;
  } else {
    fd = h.fds.get(keyOf(n))!;
    shown = join(base, ...parts.slice(0, n));
  }
  for (let i = n; i < parts.length; i++) {
    const part = parts[i]!;
    shown = join(shown, part);
    const next = openChildDir(fd, part, shown, mode);
    h.fds.set(keyOf(i + 1), next);
    fd = next;
  }
  return fd;
}

/** A temp file written (not yet durable, not yet renamed): the first half of an atomic write. */
export type StagedWrite = { fd: number | undefined; tmp: string; dest: string; shown: string };

/**
 * Writes `data` to a fresh temp file beside `path` (O_EXCL|O_NOFOLLOW, with its final mode) and keeps
 * it open for the caller to fsync; commitStaged renames it into place, abortStaged removes it.
 * With `root`, the folder is reached without following links below it (held, race-free on Linux).
 */
export function stageWrite(
  path: string,
  data: string | Uint8Array,
  mode: number,
  opts: { root?: string; dirMode?: number; held?: HeldDirs } = {},
): StagedWrite {
  let tmp: string;
  let dest: string;
  const name = basename(path);
  const tmpName = `.${name}.${randomBytes(6).toString("hex")}.tmp`;
  if (opts.root !== undefined && HELD_DIRS && opts.held) {
    const dirFd = heldDir(opts.held, opts.root, dirname(path), opts.dirMode ?? 0o755);
    tmp = via(dirFd, tmpName);
    dest = via(dirFd, name);
  } else {
    if (opts.root !== undefined) ensureDirNoSymlinks(opts.root, dirname(path), opts.dirMode ?? 0o755);
    tmp = join(dirname(path), tmpName);
    dest = path;
  }
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(tmp);
    throw e;
  }
  return { fd, tmp, dest, shown: path };
}

/** Renames a staged temp (already fsync'ed and closed by the caller) over its file; never through a link. */
export function commitStaged(s: StagedWrite): void {
  if (s.fd !== undefined) {
    closeSync(s.fd);
    s.fd = undefined;
  }
  try {
    if (lstatSafe(s.dest)?.isSymbolicLink()) throw new ExportError("symlink-target", `${s.shown} is a symbolic link; refusing to write through it`);
    renameSync(s.tmp, s.dest);
  } catch (e) {
    unlinkQuietly(s.tmp);
    throw e;
  }
}

export function abortStaged(s: StagedWrite): void {
  if (s.fd !== undefined) {
    try {
      closeSync(s.fd);
    } catch {
      /* closed already */
    }
    s.fd = undefined;
  }
  unlinkQuietly(s.tmp);
}
