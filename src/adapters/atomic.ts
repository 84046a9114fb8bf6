// Atomic, durable, symlink-refusing file writes (security goals G19, G21, G22): temp file in the
// same folder opened O_EXCL|O_NOFOLLOW with its final mode, fsync, rename, fsync(dir).
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { ExportError } from "../library/diagnostics.ts";

/**
 * @param opts.syncDir fsync the folder after the rename (default). Callers writing many files pass
 *   false and fsync each folder once at the end (the rename is atomic either way).
 */
export function atomicWrite(path: string, data: string | Uint8Array, mode = 0o644, opts: { syncDir?: boolean } = {}): void {
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
