// The embedded, crash-safe run store: plain files in the daemon's state folder. Run records are
// whole JSON files replaced atomically (temp, fsync, rename); logs and occurrence ledgers are
// append-only JSON lines whose torn last line is ignored; each attempt at a webhook delivery is
// claimed with O_EXCL (fsynced before the 202), then rewritten atomically with the runs it queued.
// A corrupt record is moved to quarantine/ instead of crashing the daemon (goal G27).
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { atomicWrite, fsyncDir } from "../../adapters/atomic.ts";
import { ConfigError } from "../../library/diagnostics.ts";
import { sha256 } from "../../library/hash.ts";
import { safeName } from "../../library/paths.ts";
import { systemClock, type Clock } from "../clock.ts";
import { createSecretRegistry, type SecretRegistry } from "../telemetry/redact.ts";
import {
  TERMINAL,
  type DeliveryRecord,
  type LogLine,
  type OccurrenceRecord,
  type PruneOptions,
  type PruneResult,
  type RunQuery,
  type RunRecord,
  type RunStore,
  type Watermark,
  quotaRetryAt,
  refuseOverQuota,
} from "./types.ts";

export const STORE_DIR = "daemon";

const Settings = z.object({ workflows: z.record(z.string(), z.object({ enabled: z.boolean() })) });
type Settings = z.infer<typeof Settings>;
export const SETTINGS_FILE = "settings.json";
/** A second copy of the last settings written, so a corrupted settings.json does not lose them. */
export const SETTINGS_LAST_GOOD = "settings.last-good.json";

function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A line torn by a crash mid-append: skip it.
    }
  }
  return out;
}

function keyFile(library: string, workflow: string): string {
  const readable = `${library}--${workflow}`.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
  return `${readable}-${sha256(`${library}\u0000${workflow}`).slice(0, 8)}`;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** When a delivery file was claimed: its `at`, or its mtime for a torn or unreadable file. */
function deliveryAt(file: string): number {
  try {
    const at = (JSON.parse(readFileSync(file, "utf8")) as { at?: unknown }).at;
    if (typeof at === "number" && Number.isFinite(at)) return at;
  } catch {
    /* torn by a crash, or not ours */
  }
  return statSync(file).mtimeMs;
}

function deliveryRecord(r: DeliveryRecord): DeliveryRecord {
  return {
    id: r.id.slice(0, 200),
    at: r.at,
    attempt: r.attempt,
    instance: r.instance,
    state: r.state,
    ...(r.cause ? { cause: r.cause } : {}),
    runIds: r.runIds,
  };
}

/**
 * A delivery file as written by this version, by an older one (`{id, at}`: it was processed) or torn
 * by a crash between the claim and its first write (a claim of nobody alive that queued nothing).
 */
function parseDelivery(id: string, attempt: number, text: string, mtime: () => number): DeliveryRecord {
  let v: Partial<DeliveryRecord> | undefined;
  try {
    v = JSON.parse(text) as Partial<DeliveryRecord>;
  } catch {
    v = undefined;
  }
  if (!v || typeof v !== "object") return { id, at: mtime(), attempt, instance: "", state: "claimed", runIds: [] };
  return {
    id,
    at: typeof v.at === "number" ? v.at : mtime(),
    attempt,
    instance: typeof v.instance === "string" ? v.instance : "",
    state: v.state === "claimed" ? "claimed" : "queued",
    ...(v.cause === "failure" || v.cause === "crash" ? { cause: v.cause } : {}),
    runIds: Array.isArray(v.runIds) ? v.runIds.filter((x): x is string => typeof x === "string") : [],
  };
}

export type FileStoreOptions = {
  onError?: (message: string) => void;
  /** The daemon's clock: delivery timestamps and quarantine file names. */
  clock?: Clock;
  /**
   * Secret values to scrub from everything the store writes (run records: inputs, step outputs,
   * errors; log lines), so run history never keeps a secret in plain text (G18). Without one,
   * known token shapes (ours, GitHub, API keys) are still scrubbed.
   */
  secrets?: Pick<SecretRegistry, "scrub" | "scrubValue">;
};

/** Opens (and creates) the file store under `<stateDir>/daemon`. */
export function openFileStore(stateDir: string, opts: FileStoreOptions = {}): RunStore {
  const clock = opts.clock ?? systemClock;
  const root = join(stateDir, STORE_DIR);
  const dirs = {
    runs: join(root, "runs"),
    logs: join(root, "logs"),
    occ: join(root, "occurrences"),
    deliveries: join(root, "deliveries"),
    owners: join(root, "owners"),
    quarantine: join(root, "quarantine"),
  };
  for (const d of [stateDir, root, ...Object.values(dirs)]) {
    try {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "EEXIST" || code === "ENOTDIR"
          ? "a file is in the way of a folder"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : code === "EROFS"
              ? "the file system is read-only"
              : (e as Error).message;
      throw new ConfigError("state-dir-unusable", `cannot use the state folder ${stateDir}: ${why} (${d})`, {
        file: d,
        hint: "point --state-dir (or AICFG_STATE_DIR) at a folder this user can write, or move the file out of the way",
      });
    }
  }
  const watermarkFile = join(root, "watermarks.json");
  const settingsFile = join(root, SETTINGS_FILE);
  const onError = opts.onError ?? (() => {});

  const cache = new Map<string, RunRecord>();
  for (const name of readdirSync(dirs.runs)) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const file = join(dirs.runs, name);
    try {
      const run = JSON.parse(readFileSync(file, "utf8")) as RunRecord;
      if (typeof run.id !== "string" || typeof run.status !== "string" || run.id + ".json" !== name) throw new Error("unexpected shape");
      cache.set(run.id, run);
    } catch (e) {
      try {
        renameSync(file, join(dirs.quarantine, `${name}.${clock.now()}`));
      } catch {
        /* best effort */
      }
      onError(`quarantined unreadable run record ${file}: ${(e as Error).message}`);
    }
  }
  const readJson = <T>(file: string, fallback: T): T => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as T;
    } catch (e) {
      if (existsSync(file)) onError(`ignoring unreadable ${file}: ${(e as Error).message}`);
      return fallback;
    }
  };
  let watermarks = readJson<Record<string, Watermark>>(watermarkFile, {});
  const problems: string[] = [];
  let { settings, unknown } = loadSettings();
  /**
   * Which workflows were disabled must survive a corrupt settings.json: reading it as "nothing is
   * disabled" would quietly re-enable a workflow someone switched off (say, one that pushes). So the
   * unreadable file is quarantined and the last-good copy is used; without one, the state is unknown
   * and every workflow not set since counts as disabled (fail closed) until someone enables it.
   */
  function loadSettings(): { settings: Settings; unknown: boolean } {
    const read = (file: string): Settings | string | undefined => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === "ENOENT" ? undefined : (e as Error).message;
      }
      try {
        const r = Settings.safeParse(JSON.parse(text));
        return r.success ? r.data : `unexpected shape at ${r.error.issues[0]!.path.join(".") || "(root)"}`;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const main = read(settingsFile);
    if (typeof main === "object") return { settings: main, unknown: false };
    const lastGoodFile = join(root, SETTINGS_LAST_GOOD);
    const lastGood = read(lastGoodFile);
    if (main === undefined) {
      if (typeof lastGood !== "object") return { settings: { workflows: {} }, unknown: false };
      problems.push(`workflow settings ${settingsFile} are missing: using the last-good copy ${lastGoodFile}`);
      atomicWrite(settingsFile, JSON.stringify(lastGood, null, 1) + "\n", 0o600);
      return { settings: lastGood, unknown: false };
    }
    const moved = join(dirs.quarantine, `${SETTINGS_FILE}.${clock.now()}`);
    try {
      renameSync(settingsFile, moved);
    } catch {
      /* best effort: it is rewritten on the next change anyway */
    }
    const what = `workflow settings ${settingsFile} are unreadable (${main}); moved to ${moved}`;
    if (typeof lastGood === "object") {
      problems.push(`${what}: using the last-good copy ${lastGoodFile}`);
      atomicWrite(settingsFile, JSON.stringify(lastGood, null, 1) + "\n", 0o600);
      return { settings: lastGood, unknown: false };
    }
    problems.push(`${what} and no last-good copy exists: every workflow counts as disabled until it is enabled again (POST /v1/workflows/LIBRARY/NAME/enable)`);
    return { settings: { workflows: {} }, unknown: true };
  }
  for (const p of problems) onError(p);
  const runFile = (id: string) => join(dirs.runs, `${safeName(id, "run id")}.json`);
  const logFile = (id: string) => join(dirs.logs, `${safeName(id, "run id")}.jsonl`);
  const deliveryFile = (id: string, attempt: number) => join(dirs.deliveries, sha256(id).slice(0, 40) + (attempt > 1 ? `.${attempt}` : ""));
  const secrets = opts.secrets ?? createSecretRegistry();
  /** Writes the scrubbed record and returns it (the cache keeps what is on disk, not the original). */
  const writeRun = (run: RunRecord): RunRecord => {
    const clean = secrets.scrubValue(run);
    atomicWrite(runFile(run.id), JSON.stringify(clean) + "\n", 0o600);
    return clean;
  };

  const store: RunStore = {
    kind: "file",
    createRun: async (run, quota) => {
      if (cache.has(run.id) || existsSync(runFile(run.id))) return false;
      // One process holds the state folder and this body does not yield: the count and the write are one step.
      if (quota) {
        const libs = new Set(quota.libraries);
        const counted = [...cache.values()]
          .filter((r) => libs.has(r.library) && !r.overQuota && r.createdAt > quota.now - quota.windowMs && r.createdAt <= quota.now)
          .map((r) => r.createdAt);
        if (counted.length >= quota.limit) refuseOverQuota(run, quota, quotaRetryAt(quota, counted));
      }
      // O_EXCL claim first, so two processes cannot both create the same run id.
      const claim = join(dirs.runs, `.${run.id}.claim`);
      let fd: number;
      try {
        fd = openSync(claim, "wx", 0o600);
      } catch {
        return false;
      }
      closeSync(fd);
      try {
        if (existsSync(runFile(run.id))) return false;
        cache.set(run.id, writeRun(run));
        return true;
      } finally {
        try {
          unlinkSync(claim);
        } catch {
          /* gone */
        }
      }
    },
    updateRun: async (run) => {
      cache.set(run.id, writeRun(run));
    },
    getRun: async (id) => {
      const r = cache.get(id);
      return r ? structuredClone(r) : undefined;
    },
    listRuns: async (q: RunQuery = {}) => {
      let list = [...cache.values()];
      if (q.library) list = list.filter((r) => r.library === q.library);
      if (q.workflow) list = list.filter((r) => r.workflow === q.workflow);
      if (q.status) list = list.filter((r) => q.status!.includes(r.status));
      if (q.delivery) list = list.filter((r) => r.trigger.delivery === q.delivery);
      list.sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1));
      return structuredClone(q.limit ? list.slice(0, q.limit) : list);
    },
    appendLog: async (runId, line) => {
      appendFileSync(logFile(runId), JSON.stringify(secrets.scrubValue(line)) + "\n", { mode: 0o600 });
    },
    readLog: async (runId) => readJsonLines<LogLine>(logFile(runId)).map((l, i) => ({ ...l, seq: i + 1 })),
    recordOccurrence: async (o) => {
      appendFileSync(join(dirs.occ, keyFile(o.library, o.workflow) + ".jsonl"), JSON.stringify(o) + "\n", { mode: 0o600 });
    },
    listOccurrences: async (q = {}) => {
      const files = q.library && q.workflow ? [keyFile(q.library, q.workflow) + ".jsonl"] : readdirSync(dirs.occ).filter((n) => n.endsWith(".jsonl"));
      let all: OccurrenceRecord[] = [];
      for (const f of files) all.push(...readJsonLines<OccurrenceRecord>(join(dirs.occ, f)));
      if (q.library) all = all.filter((o) => o.library === q.library);
      if (q.workflow) all = all.filter((o) => o.workflow === q.workflow);
      all.sort((a, b) => b.scheduledAt - a.scheduledAt || b.recordedAt - a.recordedAt);
      return q.limit ? all.slice(0, q.limit) : all;
    },
    getWatermark: async (key) => (Object.hasOwn(watermarks, key) ? structuredClone(watermarks[key]) : undefined),
    setWatermark: async (key, w) => {
      watermarks = { ...watermarks, [key]: w };
      atomicWrite(watermarkFile, JSON.stringify(watermarks, null, 1) + "\n", 0o600);
    },
    claimDelivery: async (record) => {
      const fd = (() => {
        try {
          return openSync(deliveryFile(record.id, record.attempt), "wx", 0o600);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EEXIST") return undefined;
          throw e;
        }
      })();
      if (fd === undefined) return false;
      try {
        writeSync(fd, JSON.stringify(deliveryRecord(record)));
        // The claim is what makes the 202 a promise: on disk before the answer.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(dirs.deliveries);
      return true;
    },
    updateDelivery: async (record) => {
      atomicWrite(deliveryFile(record.id, record.attempt), JSON.stringify(deliveryRecord(record)), 0o600);
    },
    getDelivery: async (id) => {
      const out: DeliveryRecord[] = [];
      for (let attempt = 1; attempt <= 100; attempt++) {
        const file = deliveryFile(id, attempt);
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch {
          break;
        }
        out.push(parseDelivery(id, attempt, text, () => statSync(file).mtimeMs));
      }
      return out;
    },
    forgetDelivery: async (id, attempt) => {
      rmSync(deliveryFile(id, attempt), { force: true });
    },
    getWorkflowEnabled: async (library, workflow) => settings.workflows[`${library}/${workflow}`]?.enabled ?? (unknown ? false : undefined),
    setWorkflowEnabled: async (library, workflow, enabled) => {
      settings = { workflows: { ...settings.workflows, [`${library}/${workflow}`]: { enabled } } };
      const text = JSON.stringify(settings, null, 1) + "\n";
      atomicWrite(settingsFile, text, 0o600);
      atomicWrite(join(root, SETTINGS_LAST_GOOD), text, 0o600);
    },
    problems: () => [...problems],
    heartbeat: async (instance, pid, now) => {
      atomicWrite(join(dirs.owners, `${safeName(instance, "instance")}.json`), JSON.stringify({ instance, pid, at: now }) + "\n", 0o600);
    },
    recoverInterrupted: async ({ instance, now, staleMs }) => {
      const interrupted: RunRecord[] = [];
      const queued: RunRecord[] = [];
      const ownerAlive = (owner: RunRecord["owner"]): boolean => {
        if (!owner) return false;
        if (owner.instance === instance) return true;
        if (!pidAlive(owner.pid)) return false;
        const hb = readJson<{ at?: number } | undefined>(join(dirs.owners, `${owner.instance}.json`), undefined);
        return !!hb?.at && now - hb.at < staleMs;
      };
      for (const run of cache.values()) {
        if (run.status === "running" && !ownerAlive(run.owner)) {
          const fixed: RunRecord = {
            ...structuredClone(run),
            status: "interrupted",
            reason: `the process that ran it (pid ${run.owner?.pid ?? "?"}) stopped before the run finished`,
            finishedAt: now,
          };
          const clean = writeRun(fixed);
          cache.set(fixed.id, clean);
          interrupted.push(structuredClone(clean));
        } else if (run.status === "queued" && !ownerAlive(run.owner)) {
          queued.push(structuredClone(run));
        }
      }
      for (const name of readdirSync(dirs.owners)) {
        const hb = readJson<{ instance?: string; pid?: number; at?: number }>(join(dirs.owners, name), {});
        if (hb.instance !== instance && !pidAlive(hb.pid ?? -1)) rmSync(join(dirs.owners, name), { force: true });
      }
      return { interrupted, queued };
    },
    prune: async (o: PruneOptions): Promise<PruneResult> => {
      const result: PruneResult = { runs: [], logs: [], orphans: [], occurrences: 0, deliveries: 0 };
      const finished = [...cache.values()].filter((r) => TERMINAL.includes(r.status)).sort((a, b) => b.createdAt - a.createdAt);
      const perWorkflow = new Map<string, number>();
      for (const r of finished) {
        const k = `${r.library}/${r.workflow}`;
        const n = (perWorkflow.get(k) ?? 0) + 1;
        perWorkflow.set(k, n);
        const tooOld = o.maxAgeMs !== undefined && o.now - (r.finishedAt ?? r.createdAt) > o.maxAgeMs;
        if (n > o.keepRuns || tooOld) result.runs.push(r.id);
      }
      if (!o.dryRun) {
        for (const id of result.runs) {
          rmSync(runFile(id), { force: true });
          rmSync(logFile(id), { force: true });
          cache.delete(id);
        }
      }
      // Orphans: logs without a run, and claim files left by a crash.
      for (const name of readdirSync(dirs.logs)) {
        const id = name.replace(/\.jsonl$/, "");
        if (!cache.has(id) || result.runs.includes(id)) {
          if (!result.runs.includes(id)) result.orphans.push(join(dirs.logs, name));
        }
      }
      for (const name of readdirSync(dirs.runs)) {
        if (name.endsWith(".claim") || name.endsWith(".tmp")) result.orphans.push(join(dirs.runs, name));
      }
      if (!o.dryRun) for (const p of result.orphans) rmSync(p, { force: true });
      // Occurrence ledgers: keep the same age window (and at most keepRuns*10 lines per workflow).
      for (const name of readdirSync(dirs.occ)) {
        if (!name.endsWith(".jsonl")) continue;
        const file = join(dirs.occ, name);
        const all = readJsonLines<OccurrenceRecord>(file);
        const keep = all.filter((x) => o.maxAgeMs === undefined || o.now - x.scheduledAt <= o.maxAgeMs).slice(-o.keepRuns * 10);
        result.occurrences += all.length - keep.length;
        if (!o.dryRun && keep.length !== all.length) atomicWrite(file, keep.map((x) => JSON.stringify(x) + "\n").join(""), 0o600);
      }
      const dMax = o.deliveryMaxAgeMs ?? 7 * 86_400_000;
      for (const name of readdirSync(dirs.deliveries)) {
        const file = join(dirs.deliveries, name);
        try {
          // Aged by the time the record carries (the daemon's clock), not by the file's mtime: the two
          // clocks need not agree (a clock set in tests, a skewed or network file system).
          const at = deliveryAt(file);
          if (o.now - at > dMax) {
            result.deliveries++;
            if (!o.dryRun) rmSync(file, { force: true });
          }
        } catch {
          /* raced */
        }
      }
      return result;
    },
    close: async () => {
      cache.clear();
    },
  };
  return store;
}
