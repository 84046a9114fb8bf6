// The files a library is loaded from, listed and stat'ed without reading or parsing them: what lets
// an export with nothing changed cost one stat per input (size, mtime, inode, ctime) and no parse.
// Deliberately free of zod and YAML, so a no-op export does not even load them.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, type Dirent } from "node:fs";
import { join } from "node:path";

/** size, mtimeMs, inode, ctimeMs, content hash ("" until hashed). */
export type InputStat = [number, number, number, number, string];

/** Every input file of each layer root, by path relative to that root. */
export type InputScan = { at: number; layers: { root: string; files: Record<string, InputStat> }[] };

/** The folders of a layer that loadLibrary reads (workflows are not export inputs). */
const INPUT_DIRS = ["agents", "knowledge", "mcp", "templates", "skills", "commands"];

/**
 * Timestamps are only as fine as the filesystem keeps them (2 s on FAT, 1 s on ext3/HFS+, a clock
 * tick elsewhere): a file whose mtime is this close to the moment we recorded it may change again
 * without its stat changing, so it is hashed instead of trusted ("racy", as git calls it).
 */
export const MTIME_GRANULARITY_MS = 2000;

export function hashBytes(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64url").slice(0, 32);
}

/**
 * Lists and stats the input files of the given layer roots. `previous` supplies hashes: a file whose
 * stats equal the recorded ones (and is not racy) keeps its hash; every other file is hashed.
 * `changed` receives the absolute paths that were added, removed or whose content hash differs.
 */
export function scanInputs(roots: readonly string[], previous?: InputScan, changed?: Set<string>): InputScan {
  const at = Date.now();
  const layers: InputScan["layers"] = [];
  for (const root of roots) {
    const before = previous?.layers.find((l) => l.root === root)?.files;
    const files: Record<string, InputStat> = {};
    const add = (rel: string) => {
      const abs = join(root, rel);
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st || !(st.isFile() || st.isSymbolicLink())) return;
      const old = before?.[rel];
      const same = old !== undefined && old[0] === st.size && old[1] === st.mtimeMs && old[2] === st.ino && old[3] === st.ctimeMs;
      const racy = old !== undefined && st.mtimeMs >= previous!.at - MTIME_GRANULARITY_MS;
      let hash = same && !racy ? old[4] : "";
      if (!hash) {
        hash = st.isSymbolicLink() ? "link" : safeHash(abs);
        if (!old || old[4] !== hash) changed?.add(abs);
      }
      files[rel] = [st.size, st.mtimeMs, st.ino, st.ctimeMs, hash];
    };
    add("aicfg.yaml");
    for (const dir of INPUT_DIRS) {
      let entries: Dirent[];
      try {
        entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
      } catch {
        continue; // no such folder in this layer
      }
      for (const e of entries) {
        if (e.isDirectory()) continue;
        const parent = e.parentPath ?? (e as { path?: string }).path ?? join(root, dir);
        const rel = join(parent.slice(root.length + 1), e.name);
        add(rel);
      }
    }
    if (before && changed) for (const rel of Object.keys(before)) if (!(rel in files)) changed.add(join(root, rel));
    layers.push({ root, files });
  }
  return { at, layers };
}

function safeHash(path: string): string {
  try {
    return hashBytes(readFileSync(path));
  } catch {
    return "unreadable";
  }
}
