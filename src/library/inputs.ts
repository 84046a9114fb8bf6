// The files a library is loaded from, listed and stat'ed without reading or parsing them: what lets
// an export with nothing changed cost one stat per input (size, mtime, inode, ctime) and no parse.
// Deliberately free of zod and YAML, so a no-op export does not even load them.
import type * as Crypto from "node:crypto";
import { lstatSync, readdirSync, readFileSync, type Dirent } from "node:fs";
import { createRequire } from "node:module";
import { join, sep } from "node:path";

/** size, mtimeMs, inode, ctimeMs, content hash ("" until hashed). */
export type InputStat = [number, number, number, number, string];

/** What a scan found besides content changes: stats that moved, files it had to hash. */
export type ScanReport = { restat: boolean; hashed: number };

/** mtimeMs, inode, ctimeMs of a folder: unchanged, its list of entries is unchanged. */
type DirStat = [number, number, number];

/** Every input file (and folder) of each layer root, by path relative to that root. */
export type InputScan = { at: number; layers: { root: string; files: Record<string, InputStat>; dirs?: Record<string, DirStat> }[] };

/** The folders of a layer that loadLibrary reads (workflows are not export inputs). */
const INPUT_DIRS = ["agents", "knowledge", "mcp", "templates", "skills", "commands"];

/**
 * Timestamps are only as fine as the filesystem keeps them (2 s on FAT, 1 s on ext3/HFS+, a clock
 * tick elsewhere): a file whose mtime is this close to the moment we recorded it may change again
 * without its stat changing, so it is hashed instead of trusted ("racy", as git calls it).
 */
export const MTIME_GRANULARITY_MS = 2000;

// node:crypto takes longer to load than a no-op export takes to stat a thousand files, and a no-op
// hashes nothing: load it on the first hash only.
let crypto: typeof Crypto | undefined;

function hashBytes(data: string | Uint8Array): string {
  crypto ??= createRequire(import.meta.url)("node:crypto") as typeof Crypto;
  return crypto.createHash("sha256").update(data).digest("base64url").slice(0, 22); // 128 bits
}

/**
 * Lists and stats the input files of the given layer roots. `previous` supplies hashes: a file whose
 * stats equal the recorded ones (and is not racy) keeps its hash; a recorded file whose stats moved
 * is hashed (a touch is no change); a file new to the record is hashed only when it is too recent to
 * be trusted by its stat next time (so a first export reads no input twice). A
 * folder whose stats equal the recorded ones (and is not racy) has the same entries, so it is not
 * listed again: only its files are stat'ed. `changed` receives the absolute paths that were added,
 * removed or whose content hash differs. `at` is when the scan starts, by the clock that stamps the
 * files' mtimes (pass the file system's own time: Date.now() may run ahead or behind it).
 */
export function scanInputs(roots: readonly string[], previous?: InputScan, changed?: Set<string>, report?: ScanReport, at: number = Date.now()): InputScan {
  const trustBefore = previous ? previous.at - MTIME_GRANULARITY_MS : -Infinity;
  const layers: InputScan["layers"] = [];
  for (const root of roots) {
    const prevLayer = previous?.layers.find((l) => l.root === root);
    const before = prevLayer?.files;
    const beforeDirs = prevLayer?.dirs;
    // The recorded entries of each folder, for folders that did not change.
    let children: Map<string, { files: string[]; dirs: string[] }> | undefined;
    const childrenOf = (rel: string) => {
      if (!children) {
        children = new Map();
        const slot = (d: string) => {
          let c = children!.get(d);
          if (!c) children!.set(d, (c = { files: [], dirs: [] }));
          return c;
        };
        for (const f of Object.keys(before ?? {})) slot(f.slice(0, Math.max(0, f.lastIndexOf(sep)))).files.push(f);
        for (const d of Object.keys(beforeDirs ?? {})) if (d.includes(sep)) slot(d.slice(0, d.lastIndexOf(sep))).dirs.push(d);
      }
      return children.get(rel) ?? { files: [], dirs: [] };
    };
    const files: Record<string, InputStat> = {};
    const dirs: Record<string, DirStat> = {};
    const add = (rel: string) => {
      const abs = root + sep + rel; // join() costs more than the stat at 10k files; rel is already normal
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st || !(st.isFile() || st.isSymbolicLink())) return;
      const old = before?.[rel];
      const same = old !== undefined && old[0] === st.size && old[1] === st.mtimeMs && old[2] === st.ino && old[3] === st.ctimeMs;
      if (!same && report) report.restat = true;
      let hash: string;
      // ctime too: it cannot be set back by hand, but some runtimes report it in whole seconds (Deno).
      const newest = Math.max(st.mtimeMs, st.ctimeMs);
      if (same && newest < trustBefore) hash = old[4];
      else if (!old) {
        // New to the record: changed by definition. Its hash is only needed later if its stat cannot
        // be trusted then (too recent now); a stat that moves later means changed anyway.
        if (before) changed?.add(abs);
        hash = newest >= at - MTIME_GRANULARITY_MS ? hashOf(abs, st.isSymbolicLink(), report) : "";
      } else {
        hash = hashOf(abs, st.isSymbolicLink(), report);
        if (old[4] === "" || old[4] !== hash) changed?.add(abs);
      }
      files[rel] = [st.size, st.mtimeMs, st.ino, st.ctimeMs, hash];
    };
    const walk = (rel: string) => {
      const abs = root + sep + rel;
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st?.isDirectory()) {
        if (st) add(rel); // a file where a folder was expected (or a link): still an input
        return;
      }
      dirs[rel] = [st.mtimeMs, st.ino, st.ctimeMs];
      const old = beforeDirs?.[rel];
      const same = old !== undefined && old[0] === st.mtimeMs && old[1] === st.ino && old[2] === st.ctimeMs;
      if (!same && report) report.restat = true;
      if (same && Math.max(st.mtimeMs, st.ctimeMs) < trustBefore) {
        const c = childrenOf(rel);
        for (const f of c.files) add(f);
        for (const d of c.dirs) walk(d);
        return;
      }
      let entries: Dirent[];
      try {
        entries = readdirSync(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const child = rel + sep + e.name;
        if (e.isDirectory()) walk(child);
        else add(child);
      }
    };
    add("aicfg.yaml");
    add("aicfg.lock"); // a moved layer pin is a changed input, though no file of this layer changed
    for (const dir of INPUT_DIRS) walk(dir);
    if (before) {
      for (const rel of Object.keys(before)) {
        if (rel in files) continue;
        changed?.add(join(root, rel));
        if (report) report.restat = true;
      }
    }
    layers.push({ root, files, dirs });
  }
  return { at, layers };
}

function hashOf(path: string, link: boolean, report: ScanReport | undefined): string {
  if (report) report.hashed++;
  return link ? "link" : safeHash(path);
}

function safeHash(path: string): string {
  try {
    return hashBytes(readFileSync(path));
  } catch {
    return "unreadable";
  }
}
