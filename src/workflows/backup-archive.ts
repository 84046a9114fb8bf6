// Backup archives: a zip (fflate) of the library, the exported files we own (from the ownership
// manifest) and the daemon state, with a manifest of sha256 checksums inside and a `.sha256`
// sidecar for the whole archive. Verification and restore never trust entry names: no absolute
// paths, no `..`, no links, only entries the manifest lists, restored into a new folder.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, unlinkSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { unzipSync, zipSync, type Zippable } from "fflate";
import { atomicWrite, ensureDirNoSymlinks } from "../adapters/atomic.ts";
import { loadManifest } from "../adapters/manifest.ts";
import { AicfgError } from "../library/diagnostics.ts";
import { sha256 } from "../library/hash.ts";
import { resolveInside, toPosix } from "../library/paths.ts";

export const BACKUP_MANIFEST = "aicfg-backup.json";
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * What an archive may expand to before anything is inflated (zip bombs: 1 MB of deflate can claim
 * 1 GB). Checked against the central directory first; fflate then inflates each entry into a buffer
 * of exactly its declared size, so an entry that lies about its size is cut short and fails its
 * checksum instead of growing. Entries are never bigger than `MAX_FILE_BYTES` when we create them.
 */
export type ArchiveLimits = { maxEntries: number; maxEntryBytes: number; maxTotalBytes: number; maxRatio: number };
export const ARCHIVE_LIMITS: ArchiveLimits = { maxEntries: 100_000, maxEntryBytes: MAX_FILE_BYTES, maxTotalBytes: 1024 * 1024 * 1024, maxRatio: 200 };
/** Entries under this size are not held to the ratio (tiny files of one repeated byte are normal). */
const RATIO_FREE_BYTES = 1024 * 1024;
const SKIP_DIRS = new Set([".git", "node_modules", ".aicfg-state"]);

type BackupEntry = { path: string; sha256: string; size: number; kind: "library" | "export" | "state"; source?: string };
type BackupManifest = { format: 1; created_at: string; library: { name: string; root: string }; entries: BackupEntry[] };

class BackupError extends AicfgError {}

export type CreateBackupOptions = {
  libraryRoot: string;
  libraryName: string;
  stateDir: string;
  /** Where the archive goes; must not be inside the library. */
  dir: string;
  now: number;
  /** Skip these folders of the state dir (absolute), e.g. the backup folder itself. */
  excludeState?: string[];
};

/** `credentialsLeftOut`: state files that grant access (tokens, keys) and 0600 exports (they hold secrets), never archived. */
export type CreatedBackup = { file: string; sha256: string; bytes: number; entries: number; credentialsLeftOut: number; warnings: string[] };

/**
 * State files that are credentials: a copy of one is access to the daemon (the local admin token is
 * full admin, shell workflows included), so a backup never holds them. Token *hashes* (tokens.json)
 * stay: they grant nothing, and a restore keeps the issued tokens working. After a restore the daemon
 * makes a new local admin token.
 */
function isCredentialFile(statePath: string): boolean {
  return /(^|\/)[^/]*\.(token|key|pem|p12)$/i.test(statePath) || /(^|\/)(secrets|credentials)\//i.test(statePath);
}

function walk(root: string, skip: (abs: string) => boolean, warnings: string[]): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      warnings.push(`cannot read ${dir}: ${(e as Error).message}`);
      return;
    }
    for (const n of names) {
      const abs = join(dir, n);
      if (skip(abs)) continue;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        warnings.push(`skipped symbolic link ${abs} -> ${readlinkSync(abs)}`);
        continue;
      }
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(n)) visit(abs);
        continue;
      }
      if (!st.isFile()) continue;
      if (n.endsWith(".tmp") && n.startsWith(".")) continue;
      if (st.size > MAX_FILE_BYTES) {
        warnings.push(`skipped ${abs}: ${st.size} bytes is over the ${MAX_FILE_BYTES}-byte limit`);
        continue;
      }
      out.push(abs);
    }
  };
  if (existsSync(root)) visit(root);
  return out;
}

export function backupFileName(libraryName: string, now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `aicfg-backup-${libraryName.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}.zip`;
}

/** An archive built in memory: what `createBackup` writes to a folder and the S3 destination uploads. */
export type BuiltBackup = { name: string; zip: Uint8Array; sha256: string; entries: number; createdAt: string; credentialsLeftOut: number; warnings: string[] };

export type BuildBackupOptions = Omit<CreateBackupOptions, "dir"> & {
  /** Folders never archived (absolute), e.g. a local backup folder. */
  skip?: string[];
};

export function buildBackup(opts: BuildBackupOptions): BuiltBackup {
  const libRoot = resolve(opts.libraryRoot);
  const warnings: string[] = [];
  const files: Zippable = {};
  const entries: BackupEntry[] = [];
  const add = (path: string, data: Uint8Array, kind: BackupEntry["kind"], source?: string) => {
    files[path] = [data, { level: 6, mtime: new Date(opts.now) }];
    entries.push({ path, sha256: sha256(data), size: data.length, kind, ...(source ? { source } : {}) });
  };
  const skip = new Set((opts.skip ?? []).map((p) => resolve(p)));
  for (const abs of walk(libRoot, (p) => skip.has(p), warnings)) add("library/" + toPosix(relative(libRoot, abs)), readFileSync(abs), "library");
  const manifest = loadManifest(opts.stateDir);
  const seen = new Set<string>();
  let secretExports = 0;
  for (const e of Object.values(manifest.entries)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(e.path);
    } catch {
      warnings.push(`exported file ${e.path} is missing`);
      continue;
    }
    if (!st.isFile()) continue;
    // The writer makes an export that holds literal secrets 0600 (a decrypted `{ secret: NAME }` for a tool
    // without env-var references): such a file stays out of the archive, and an export makes it again.
    if ((st.mode & 0o077) === 0) {
      secretExports++;
      continue;
    }
    add(
      "exports/" +
        toPosix(e.path)
          .replace(/^\/+/, "")
          .replace(/^([A-Za-z]):/, "$1"),
      readFileSync(e.path),
      "export",
      e.path,
    );
  }
  const stateRoot = resolve(opts.stateDir);
  const exclude = new Set([...skip, ...(opts.excludeState ?? []).map((p) => resolve(p))]);
  let credentials = 0;
  const skipState = (p: string): boolean => {
    if (exclude.has(p) || p.endsWith(".lock")) return true;
    if (!isCredentialFile(toPosix(relative(stateRoot, p)))) return false;
    credentials++;
    return true;
  };
  for (const abs of walk(stateRoot, skipState, warnings)) add("state/" + toPosix(relative(stateRoot, abs)), readFileSync(abs), "state");
  const createdAt = new Date(opts.now).toISOString();
  const m: BackupManifest = { format: 1, created_at: createdAt, library: { name: opts.libraryName, root: libRoot }, entries };
  files[BACKUP_MANIFEST] = [new TextEncoder().encode(JSON.stringify(m, null, 1)), { level: 6, mtime: new Date(opts.now) }];
  const zip = zipSync(files);
  return {
    name: backupFileName(opts.libraryName, opts.now),
    zip,
    sha256: sha256(zip),
    entries: entries.length,
    createdAt,
    credentialsLeftOut: credentials + secretExports,
    warnings,
  };
}

export function createBackup(opts: CreateBackupOptions): CreatedBackup {
  const libRoot = resolve(opts.libraryRoot);
  const dir = resolve(opts.dir);
  if (dir === libRoot || dir.startsWith(libRoot + sep)) {
    throw new BackupError("backup-inside-library", `backup folder ${dir} is inside the library`, {
      hint: "keep backups outside the library (the default is the daemon's state folder)",
    });
  }
  const built = buildBackup({ ...opts, skip: [dir] });
  ensureDirNoSymlinks(dirname(dir), dir, 0o700);
  const file = join(dir, built.name);
  atomicWrite(file, built.zip, 0o600);
  atomicWrite(file + ".sha256", `${built.sha256}  ${basename(file)}\n`, 0o600);
  return {
    file,
    sha256: built.sha256,
    bytes: built.zip.length,
    entries: built.entries,
    credentialsLeftOut: built.credentialsLeftOut,
    warnings: built.warnings,
  };
}

export type VerifyResult = { ok: boolean; problems: string[]; manifest?: BackupManifest; files?: Record<string, Uint8Array> };

function safeEntryName(name: string): boolean {
  if (!name || name.length > 4096 || name.includes("\0") || name.includes("\\")) return false;
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return false;
  return !name.split("/").some((s) => s === ".." || s === ".");
}

/** Problems with the archive's declared sizes (central directory), found without inflating anything. */
function sizeProblems(data: Uint8Array, limits: ArchiveLimits): string[] {
  const problems: string[] = [];
  let count = 0;
  let total = 0;
  unzipSync(data, {
    filter: (f) => {
      count++;
      total += f.originalSize;
      if (f.originalSize > limits.maxEntryBytes)
        problems.push(`${f.name} would expand to ${f.originalSize} bytes, over the ${limits.maxEntryBytes}-byte limit per file`);
      else if (f.originalSize > RATIO_FREE_BYTES && f.originalSize > Math.max(f.size, 1) * limits.maxRatio) {
        problems.push(
          `${f.name} would expand ${Math.round(f.originalSize / Math.max(f.size, 1))}-fold (${f.size} -> ${f.originalSize} bytes), over the ${limits.maxRatio}:1 limit`,
        );
      }
      return false;
    },
  });
  if (count > limits.maxEntries) problems.unshift(`the archive has ${count} entries, over the limit of ${limits.maxEntries}`);
  if (total > limits.maxTotalBytes) problems.unshift(`the archive would expand to ${total} bytes, over the ${limits.maxTotalBytes}-byte limit (a zip bomb?)`);
  return problems;
}

/** Checks the archive's own checksum (when the sidecar exists) and every entry's. */
export function verifyBackup(file: string, limits: ArchiveLimits = ARCHIVE_LIMITS): VerifyResult {
  let data: Uint8Array;
  try {
    data = readFileSync(file);
  } catch (e) {
    return { ok: false, problems: [`cannot read ${file}: ${(e as Error).message}`] };
  }
  const sidecar = file + ".sha256";
  if (!existsSync(sidecar)) return verifyArchive(data, undefined, limits, [`checksum file ${basename(sidecar)} is missing`]);
  return verifyArchive(data, readFileSync(sidecar, "utf8").trim().split(/\s+/)[0], limits);
}

/**
 * Checks archive bytes: their sha256 against `expected` (when given), the declared sizes, then every
 * entry against the manifest inside.
 */
function verifyArchive(data: Uint8Array, expected: string | undefined, limits: ArchiveLimits = ARCHIVE_LIMITS, problemsSoFar: string[] = []): VerifyResult {
  const problems = [...problemsSoFar];
  if (expected !== undefined) {
    const got = sha256(data);
    if (expected !== got) problems.push(`archive checksum mismatch: expected ${expected}, got ${got}`);
  }
  let files: Record<string, Uint8Array>;
  try {
    const tooBig = sizeProblems(data, limits);
    if (tooBig.length) return { ok: false, problems: [...problems, ...tooBig] };
    files = unzipSync(data);
  } catch (e) {
    return { ok: false, problems: [...problems, `not a readable zip archive: ${(e as Error).message}`] };
  }
  const raw = files[BACKUP_MANIFEST];
  if (!raw) return { ok: false, problems: [...problems, `${BACKUP_MANIFEST} is missing from the archive`] };
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(raw)) as BackupManifest;
    if (manifest.format !== 1 || !Array.isArray(manifest.entries)) throw new Error("unknown format");
  } catch (e) {
    return { ok: false, problems: [...problems, `${BACKUP_MANIFEST} is unreadable: ${(e as Error).message}`] };
  }
  const listed = new Set<string>();
  for (const e of manifest.entries) {
    if (typeof e.path !== "string" || !safeEntryName(e.path)) {
      problems.push(`unsafe entry name ${JSON.stringify(e.path)}`);
      continue;
    }
    listed.add(e.path);
    const body = files[e.path];
    if (!body) {
      problems.push(`${e.path} is listed but missing`);
      continue;
    }
    if (body.length !== e.size || sha256(body) !== e.sha256) problems.push(`${e.path} is corrupt (checksum mismatch)`);
  }
  for (const name of Object.keys(files)) {
    if (name === BACKUP_MANIFEST || name.endsWith("/")) continue;
    if (!safeEntryName(name)) {
      const msg = `unsafe entry name ${JSON.stringify(name)}`;
      if (!problems.includes(msg)) problems.push(msg);
    } else if (!listed.has(name)) problems.push(`${name} is in the archive but not in its manifest`);
  }
  return { ok: problems.length === 0, problems, manifest, files };
}

/** Restores a verified archive into `dest`, which must not exist or be empty. */
export function restoreBackup(file: string, dest: string, limits: ArchiveLimits = ARCHIVE_LIMITS): { dest: string; files: number } {
  return restoreVerified(verifyBackup(file, limits), file, dest);
}

/** Restores archive bytes (e.g. downloaded from S3) whose sha256 must be `expected`. */
export function restoreArchive(
  data: Uint8Array,
  expected: string,
  label: string,
  dest: string,
  limits: ArchiveLimits = ARCHIVE_LIMITS,
): { dest: string; files: number } {
  return restoreVerified(verifyArchive(data, expected, limits), label, dest);
}

function restoreVerified(v: VerifyResult, label: string, dest: string): { dest: string; files: number } {
  if (!v.ok || !v.manifest || !v.files) {
    throw new BackupError("backup-invalid", `${label} failed verification: ${v.problems.slice(0, 3).join("; ")}`, {
      hint: label.startsWith("s3://")
        ? "restore another backup (aicfg restore --from s3://BUCKET/PREFIX --list)"
        : "run 'aicfg backup verify' for the full list",
    });
  }
  const root = resolve(dest);
  if (existsSync(root)) {
    const st = lstatSync(root);
    if (!st.isDirectory() || st.isSymbolicLink() || readdirSync(root).length > 0) {
      throw new BackupError("restore-target-exists", `${root} already exists and is not an empty folder`, {
        hint: "restore into a new folder (--to DIR), then copy what you need",
      });
    }
  } else mkdirSync(root, { recursive: true, mode: 0o700 });
  for (const e of v.manifest.entries) {
    const target = resolveInside(root, e.path, "backup entry");
    ensureDirNoSymlinks(root, dirname(target), 0o700);
    atomicWrite(target, v.files[e.path]!, 0o600);
  }
  return { dest: root, files: v.manifest.entries.length };
}

const STAMP = /-(\d{8}T\d{6}Z)\.zip$/;

/** The archive names of `libraryName` among `names` (file names, no folders). */
export function backupNamesOf(libraryName: string, names: readonly string[]): string[] {
  const prefix = backupFileName(libraryName, 0).replace(/19700101T000000Z\.zip$/, "");
  return names.filter((n) => n.startsWith(prefix) && STAMP.test(n) && !n.slice(prefix.length).includes("/"));
}

/** When an archive was made, from the stamp in its name (the daemon's clock, not the storage's). */
export function backupTime(name: string): number {
  const m = STAMP.exec(name);
  if (!m) return NaN;
  const s = m[1]!;
  return Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);
}

/** Which of a library's archive names retention removes: beyond the newest `keep`, or older than `maxAgeMs`; the newest always stays. */
export function expiredBackups(names: readonly string[], now: number, keep: number, maxAgeMs?: number): string[] {
  const sorted = [...names].sort().reverse();
  return sorted.filter((n, i) => {
    if (i === 0) return false;
    const at = backupTime(n);
    const tooOld = maxAgeMs !== undefined && Number.isFinite(at) && now - at > maxAgeMs;
    return i >= keep || tooOld;
  });
}

/** Deletes old archives of a library: beyond the newest `keep`, or older than `maxAgeMs` (the newest always stays). */
export function pruneBackups(dir: string, libraryName: string, now: number, keep: number, maxAgeMs?: number): string[] {
  let names: string[];
  try {
    names = backupNamesOf(libraryName, readdirSync(dir));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of expiredBackups(names, now, keep, maxAgeMs)) {
    for (const f of [n, n + ".sha256"]) {
      try {
        rmFile(join(dir, f));
      } catch {
        /* already gone */
      }
    }
    removed.push(join(dir, n));
  }
  return removed;
}

function rmFile(p: string): void {
  if (lstatSync(p).isFile()) unlinkSync(p);
}
