// The conflict records of layer merges, in the state folder: one JSON index (0600, written
// atomically) plus the three versions of each conflicted file as content-addressed blobs, so
// `aicfg resolve --theirs` works offline and `aicfg status` and GET /v1/.../conflicts can list
// them without reading the library.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { atomicWrite } from "../adapters/atomic.ts";
import { sha256 } from "../library/hash.ts";
import type { MergePolicy } from "../library/merge.ts";

export type ConflictResolution = "ours" | "theirs" | "edited" | "superseded";

export type ConflictRecord = {
  /** Stable per library root and path. */
  id: string;
  library: string;
  libraryRoot: string;
  /** The live file, relative to the library root (posix). */
  path: string;
  /** The file with the conflict markers, relative to the library root. */
  conflictFile: string;
  policy: MergePolicy;
  /** Frontmatter fields in conflict, dotted (`model`, `tools.allow`). */
  fields: string[];
  bodyConflicts: number;
  /** sha256 of each version (null: the file did not exist on that side); the blobs are kept until resolved. */
  base: string | null;
  ours: string | null;
  theirs: string | null;
  /** Where the upstream version came from (layer name and commit), when the caller knows. */
  upstream?: { layer?: string; commit?: string };
  note?: string;
  status: "open" | "resolved";
  createdAt: string;
  updatedAt: string;
  resolution?: ConflictResolution;
  resolvedAt?: string;
};

type Index = { version: 1; records: ConflictRecord[] };

export type ConflictStore = {
  list: (q?: { library?: string; libraryRoot?: string; status?: "open" | "resolved" | "all" }) => ConflictRecord[];
  get: (libraryRoot: string, path: string) => ConflictRecord | undefined;
  /** Creates or replaces the record of (libraryRoot, path) and stores the three versions. */
  put: (
    r: Omit<ConflictRecord, "id" | "base" | "ours" | "theirs" | "status" | "createdAt" | "updatedAt">,
    versions: { base: string | null; ours: string | null; theirs: string | null },
    now: number,
  ) => ConflictRecord;
  /** The content of a stored version (undefined when the blob is gone). */
  blob: (hash: string) => string | undefined;
  /** Marks the record resolved and drops its blobs. */
  resolve: (libraryRoot: string, path: string, how: ConflictResolution, now: number) => ConflictRecord | undefined;
};

const CONFLICTS_DIR = "conflicts";

function conflictId(libraryRoot: string, path: string): string {
  return sha256(`${libraryRoot}\u0000${path}`).slice(0, 16);
}

export function openConflictStore(stateDir: string): ConflictStore {
  const dir = join(stateDir, CONFLICTS_DIR);
  const indexFile = join(dir, "index.json");
  const blobDir = join(dir, "blobs");
  const read = (): Index => {
    if (!existsSync(indexFile)) return { version: 1, records: [] };
    const parsed = JSON.parse(readFileSync(indexFile, "utf8")) as Index;
    return parsed && Array.isArray(parsed.records) ? parsed : { version: 1, records: [] };
  };
  const write = (ix: Index) => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    atomicWrite(indexFile, JSON.stringify(ix, null, 1) + "\n", 0o600);
  };
  const putBlob = (text: string | null): string | null => {
    if (text === null) return null;
    const h = sha256(text);
    mkdirSync(blobDir, { recursive: true, mode: 0o700 });
    const file = join(blobDir, h);
    if (!existsSync(file)) atomicWrite(file, text, 0o600, { syncDir: false });
    return h;
  };
  const dropBlobs = (ix: Index, r: ConflictRecord) => {
    const used = new Set(ix.records.filter((x) => x.status === "open" && x.id !== r.id).flatMap((x) => [x.base, x.ours, x.theirs]));
    for (const h of [r.base, r.ours, r.theirs]) if (h && !used.has(h)) rmSync(join(blobDir, h), { force: true });
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  return {
    list: (q = {}) =>
      read().records.filter(
        (r) =>
          (q.library === undefined || r.library === q.library) &&
          (q.libraryRoot === undefined || r.libraryRoot === q.libraryRoot) &&
          (q.status === "all" || r.status === (q.status ?? "open")),
      ),
    get: (libraryRoot, path) => read().records.find((r) => r.id === conflictId(libraryRoot, path)),
    put: (r, versions, now) => {
      const ix = read();
      const id = conflictId(r.libraryRoot, r.path);
      const prev = ix.records.find((x) => x.id === id);
      const rec: ConflictRecord = {
        ...r,
        id,
        base: putBlob(versions.base),
        ours: putBlob(versions.ours),
        theirs: putBlob(versions.theirs),
        status: "open",
        createdAt: prev?.status === "open" ? prev.createdAt : iso(now),
        updatedAt: iso(now),
      };
      if (prev) dropBlobs(ix, prev);
      ix.records = [...ix.records.filter((x) => x.id !== id), rec];
      write(ix);
      return rec;
    },
    blob: (hash) => {
      if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
      try {
        return readFileSync(join(blobDir, hash), "utf8");
      } catch {
        return undefined;
      }
    },
    resolve: (libraryRoot, path, how, now) => {
      const ix = read();
      const rec = ix.records.find((x) => x.id === conflictId(libraryRoot, path) && x.status === "open");
      if (!rec) return undefined;
      dropBlobs(ix, rec);
      rec.status = "resolved";
      rec.resolution = how;
      rec.resolvedAt = iso(now);
      rec.updatedAt = iso(now);
      write(ix);
      return rec;
    },
  };
}
