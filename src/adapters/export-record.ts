// The no-op shortcut of `aicfg export` in a new process: the state folder records, per export
// (library, root, targets, options), every input's stat and hash and every output's stat. When a
// fresh list + stat of the inputs and a stat of the outputs match, the export is a no-op: nothing is
// parsed, rendered or written, and the last result is replayed. Light on purpose (no zod, YAML or
// adapters), so that a no-op does not even import them.
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Diagnostic } from "../library/diagnostics.ts";
import { scanInputs, type InputScan, type ScanReport } from "../library/inputs.ts";
import type { Roots } from "./types.ts";
import type { BudgetFigures } from "./budget.ts";

export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  if (env.AICFG_STATE_DIR) return resolve(env.AICFG_STATE_DIR);
  const base = env.XDG_STATE_HOME || resolve(homedir(), ".local", "state");
  return resolve(base, "aicfg");
}

type ReplaySummary = { target: string; agents: string[]; files: number; budget?: BudgetFigures };

/** What a no-op export reports: the last export's targets and warnings, every file unchanged. */
export type ExportReplay = {
  libraryName: string;
  libraryRoot: string;
  scope: Roots["scope"];
  roots: Roots;
  targets: ReplaySummary[];
  warnings: Diagnostic[];
  /** Distinct output files (a file several targets share counts once). */
  totalOutputs?: number;
};

type OutputStat = [number, number, number, number];
type ExportRecord = { v: 1; key: string; inputs: InputScan; outputs: Record<string, OutputStat>; replay: ExportReplay };

/** One file per export key. The name needs no cryptographic hash: the record holds its full key. */
function recordFile(stateDir: string, key: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return join(stateDir, "inputs", `${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}.json`);
}

function readRecord(stateDir: string, key: string): ExportRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordFile(stateDir, key), "utf8")) as ExportRecord;
    // A record of another shape or key is no record: the export just takes the full path.
    return r && r.v === 1 && r.key === key && r.inputs && Array.isArray(r.inputs.layers) && r.outputs && r.replay ? r : undefined;
  } catch {
    return undefined;
  }
}

export type QuickCheck = {
  /** Set when nothing changed: the export is a no-op. */
  replay?: ExportReplay;
  /** The inputs as listed before loading (hashes reused where the stats matched): recorded after a full export. */
  scan: InputScan;
  /** Inputs added, removed or with other content since the record (empty without a record). */
  changed: string[];
  /** False without a record of these options: what changed is then unknown (`changed` is empty). */
  recorded: boolean;
};

/**
 * The file system's time now: the mtime of a file written at this moment. Input mtimes are compared
 * with it (as git compares them with its index file's), never with Date.now(), which need not agree
 * with the clock that stamps files (a skewed network file system, a test's shifted clock).
 */
function fileSystemNow(stateDir: string): number {
  try {
    mkdirSync(join(stateDir, "inputs"), { recursive: true, mode: 0o700 });
    const probe = join(stateDir, "inputs", `.now.${process.pid}`);
    writeFileSync(probe, "", { mode: 0o600 });
    const at = lstatSync(probe).mtimeMs;
    rmSync(probe, { force: true });
    return at;
  } catch {
    return Date.now();
  }
}

/** Lists and stats the inputs (hashing only what moved) and the outputs; a replay when nothing changed. */
export function quickCheck(stateDir: string, key: string, libraryRoot: string): QuickCheck {
  const rec = readRecord(stateDir, key);
  const roots = rec ? rec.inputs.layers.map((l) => l.root) : [libraryRoot];
  if (!roots.includes(libraryRoot)) roots.push(libraryRoot);
  const changed = new Set<string>();
  const report: ScanReport = { restat: false, hashed: 0 };
  const scan = scanInputs(roots, rec?.inputs, changed, report, fileSystemNow(stateDir));
  if (!rec || changed.size) return { scan, changed: [...changed].sort(), recorded: !!rec };
  for (const [p, s] of Object.entries(rec.outputs)) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.size !== s[0] || st.mtimeMs !== s[1] || st.ino !== s[2] || st.ctimeMs !== s[3]) return { scan, changed: [], recorded: true };
  }
  // Every input was verified now (equal stats, or hashed equal): record the new stats and time when
  // that spares later runs hashing (a touched file, or one that was too recent to trust by its stat).
  if (report.restat || report.hashed > 0 || scan.layers.length !== rec.inputs.layers.length) writeRecord(stateDir, { ...rec, inputs: scan });
  return { replay: rec.replay, scan, changed: [], recorded: true };
}

/**
 * Records a successful export. `scan` must have been taken before the library was loaded, so a file
 * changed while it loaded has newer stats than recorded; layers it lacks are recorded unhashed.
 */
export function saveExportRecord(
  stateDir: string,
  key: string,
  scan: InputScan,
  layerRoots: readonly string[],
  outputs: readonly string[],
  replay: ExportReplay,
): void {
  const layers = layerRoots.map((root) => {
    const known = scan.layers.find((l) => l.root === root);
    if (known) return known;
    const fresh = scanInputs([root]).layers[0]!;
    for (const s of Object.values(fresh.files)) s[4] = "";
    return fresh;
  });
  const out: Record<string, OutputStat> = {};
  for (const p of [...outputs].sort()) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st) out[p] = [st.size, st.mtimeMs, st.ino, st.ctimeMs];
  }
  writeRecord(stateDir, { v: 1, key, inputs: { at: scan.at, layers }, outputs: out, replay });
}

/** Best effort: the record only spares work, so a state folder that cannot take it costs speed, not the export. */
function writeRecord(stateDir: string, rec: ExportRecord): void {
  try {
    // Rename makes it atomic; no fsync: a record lost in a crash only costs the next run the full path.
    mkdirSync(join(stateDir, "inputs"), { recursive: true, mode: 0o700 });
    const file = recordFile(stateDir, rec.key);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600, flag: "wx" });
    renameSync(tmp, file);
  } catch {
    /* the next export takes the full path */
  }
}
