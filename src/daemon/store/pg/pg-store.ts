// The run store on PostgreSQL, for several daemon replicas sharing one database. It implements the
// same RunStore contract as the file store (one conformance suite checks both) and adds what a
// cluster needs (team-scale-plugins-dashboard.md §4):
// - each schedule slot once: the run of a slot is created in the statement that inserts the slot's
//   row into the occurrence ledger (PRIMARY KEY (trigger_id, scheduled_at)); the losers get nothing;
// - the database clock: `syncClock` measures database minus process time, the daemon schedules on it;
// - leases and a fence: a live run carries lease_until and a heartbeat; its attempt number is the
//   fence, every write names it, and a replica whose run was taken over gets LeaseLostError;
// - a reaper (FOR UPDATE SKIP LOCKED) that takes over runs whose lease ran out, raising the fence;
// - leases released on shutdown, so another replica continues at once.
// All SQL is in sql.ts. The connection string is never logged (errors carry the server's message only).
import pg from "pg";
import { ConfigError } from "../../../library/diagnostics.ts";
import { createSecretRegistry, type SecretRegistry } from "../../telemetry/redact.ts";
import { TERMINAL, quotaRetryAt, refuseOverQuota, type LogLine, type OccurrenceRecord, type PruneResult, type RunRecord, type RunStore } from "../types.ts";
import type { Clock } from "../../clock.ts";
import type { TokenStore } from "../../auth/token-store.ts";
import { openPgTenancyStores, transaction, type PgTenancyStores } from "./pg-tenancy.ts";
import { openPgTokenStore } from "./pg-tokens.ts";
import * as sql from "./sql.ts";
import type { Query } from "./sql.ts";

/** A write refused by the fence: the run was taken over by another replica (or released on shutdown). */
export class LeaseLostError extends Error {
  readonly code = "lease-lost";
  constructor(runId: string, attempt: number) {
    super(
      `FENCED: run ${runId} attempt ${attempt} is no longer held by this replica (its lease ran out and another replica took it over); the write was refused`,
    );
    this.name = "LeaseLostError";
  }
}

export type PgStoreOptions = {
  url: string;
  /** This daemon's instance id: the owner of the runs it creates or takes over. */
  instance: string;
  pid?: number;
  /** How long a run's lease lasts without a heartbeat (default 15 s). */
  leaseMs?: number;
  secrets?: Pick<SecretRegistry, "scrub" | "scrubValue">;
  onError?: (message: string) => void;
  /** Connections in the pool (default 4). */
  poolSize?: number;
  /** Told about every write the fence refused (the daemon logs it). */
  onFenced?: (message: string) => void;
  /** Retries of a statement after a dropped connection (default 5, 200 ms apart). */
  retries?: number;
  /**
   * A daemon: when the database does not answer at open, open anyway (every statement fails and
   * health says why) and keep trying to migrate, with backoff from `openRetryMs` (default 500 ms)
   * doubling up to 10 s; `opened()` resolves once it did. Otherwise the open fails (a one-shot command).
   */
  waitForDatabase?: boolean;
  openRetryMs?: number;
};

type Takeover = { run: RunRecord; takeoverMs: number };

export type PgStore = RunStore & {
  readonly kind: "postgres";
  readonly leaseMs: number;
  /** Database clock minus process clock (ms), as of the last `syncClock`. */
  clockOffset: () => number;
  /** Reads the database clock; returns the new offset. Also the liveness probe of the connection. */
  syncClock: () => Promise<number>;
  /** Whether the last statement reached the database. */
  health: () => { ok: boolean; error?: string };
  /** Resolves once the schema is migrated (at once unless the database was unreachable at open). */
  opened: () => Promise<void>;
  /** Renews the leases of the runs this replica holds; returns the ids it lost (taken over by another). */
  renewLeases: () => Promise<string[]>;
  /** Takes over up to `limit` runs whose lease ran out. */
  reap: (limit?: number) => Promise<Takeover[]>;
  /** Gives up every run this replica still holds (shutdown); returns their ids. */
  releaseLeases: () => Promise<string[]>;
  /** Runs this replica holds, with their fence. */
  held: () => Map<string, number>;
  /** The tenancy and audit stores on the same database and pool (times from `clock`). */
  tenancyStores: (clock: Clock) => Promise<PgTenancyStores>;
  /** The API token store on the same database and pool (createdAt and expiry from `clock`). */
  tokenStore: (clock: Clock) => TokenStore;
};

const TRANSIENT_CODES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "53300",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/** A connection-level failure (the statement may or may not have run), as opposed to an SQL error. */
function isTransient(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | undefined;
  if (err?.code && TRANSIENT_CODES.has(err.code)) return true;
  return /Connection terminated|connection error|Client has encountered a connection error|timeout exceeded when trying to connect|terminating connection|ECONNREFUSED|ECONNRESET/i.test(
    err?.message ?? "",
  );
}

const LIVE: ReadonlySet<string> = new Set(["queued", "running"]);

/** jsonb cannot hold U+0000. */
const toJson = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll("\\u0000", "\\ufffd")) as T;

type RunRow = { record: RunRecord; attempt: number; owner: string | null; owner_pid: number | null };

/** The stored record with what the database decides laid over it: the fence, the owner and a reaper's status. */
function fromRow(r: RunRow): RunRecord {
  const run: RunRecord = { ...r.record, attempt: r.attempt };
  if (r.owner) run.owner = { instance: r.owner, pid: r.owner_pid ?? 0 };
  else delete run.owner;
  return run;
}

/** The ledger key of a slot: one row per (trigger, scheduled time). */
const triggerId = (library: string, workflow: string, trigger: string): string => `${library}/${workflow}/${trigger}`;

export async function openPgStore(o: PgStoreOptions): Promise<PgStore> {
  const leaseMs = o.leaseMs ?? 15_000;
  const pid = o.pid ?? process.pid;
  const onError = o.onError ?? (() => {});
  const secrets = o.secrets ?? createSecretRegistry();
  const retries = o.retries ?? 5;
  // allowExitOnIdle: a one-shot command (`aicfg runs --config`) exits without closing it; the daemon closes it on stop.
  const pool = new pg.Pool({ connectionString: o.url, max: o.poolSize ?? 4, connectionTimeoutMillis: 3000, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
  // An idle connection the server dropped (pg_terminate_backend, a restart) is reported here; without
  // a listener it would crash the process. The pool opens a new one on the next query.
  pool.on("error", (e) => {
    healthy = { ok: false, error: `database connection lost: ${e.message}` };
    onError(`database connection lost: ${e.message}`);
  });
  let healthy: { ok: boolean; error?: string } = { ok: true };
  let offset = 0;
  let closed = false;
  const held = new Map<string, number>();

  const exec = async <R extends Record<string, unknown>>(query: Query, attempts = retries): Promise<R[]> => {
    // Not migrated yet (the database was down at open): fail at once, the way a dropped connection does.
    if (!open) throw Object.assign(new Error(healthy.error ?? "database unreachable"), { code: "ECONNREFUSED" });
    for (let i = 0; ; i++) {
      try {
        const r = await pool.query(query.text, query.values);
        healthy = { ok: true };
        return r.rows as R[];
      } catch (e) {
        if (!isTransient(e) || closed) throw e;
        healthy = { ok: false, error: `database unreachable: ${(e as Error).message}` };
        if (i >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  // ---- migrations: versioned, in one transaction under a lock, so replicas starting together do not race ----
  const migrate = () =>
    transaction(pool, async (tx) => {
      await tx(sql.migrationLock());
      await tx(sql.createSchemaTable());
      const done = new Set((await tx<{ version: number }>(sql.appliedVersions())).map((r) => r.version));
      for (const m of sql.MIGRATIONS) {
        if (done.has(m.version)) continue;
        await tx({ text: m.sql, values: [] });
        await tx(sql.recordVersion(m.version, m.name));
      }
      const newest = Math.max(...done, 0);
      const known = sql.MIGRATIONS.at(-1)!.version;
      if (newest > known) {
        throw new ConfigError("store-schema-newer", `the database schema is at version ${newest}, newer than this aicfg knows (${known})`, {
          hint: "upgrade aicfg on this replica to the version the other replicas run",
        });
      }
    });
  let open = false;
  let markOpened = () => {};
  const openedPromise = new Promise<void>((r) => {
    markOpened = r;
  });
  const opened = () => {
    open = true;
    healthy = { ok: true };
    markOpened();
  };
  /** Keeps migrating until it works (the daemon started while the database was down), backing off to 10 s. */
  const retryOpen = async (firstError: string) => {
    let delay = o.openRetryMs ?? 500;
    let last = firstError;
    while (!closed) {
      await new Promise((r) => setTimeout(r, delay));
      if (closed) return;
      try {
        await migrate();
        opened();
        onError(`the database answers again (was: ${last}); the store is open`);
        return;
      } catch (e) {
        const message = (e as Error).message;
        if (message !== last) onError(`the database is still unreachable: ${message}; retrying`);
        last = message;
        healthy = { ok: false, error: `database unreachable: ${message}` };
        delay = Math.min(delay * 2, 10_000);
      }
    }
  };
  try {
    await migrate();
    opened();
  } catch (e) {
    if (o.waitForDatabase && isTransient(e)) {
      const message = (e as Error).message;
      healthy = { ok: false, error: `database unreachable: ${message}` };
      onError(`cannot open the PostgreSQL store: ${message}; starting without it, not ready, retrying with backoff`);
      void retryOpen(message);
    } else {
      await pool.end().catch(() => {});
      if (e instanceof ConfigError) throw e;
      throw new ConfigError("store-unreachable", `cannot open the PostgreSQL store: ${(e as Error).message}`, {
        hint: "check that PostgreSQL runs and store.url (or the environment variable it names) is right; the URL itself is not printed",
        cause: e,
      });
    }
  }

  const scrubRun = (run: RunRecord): RunRecord => toJson(secrets.scrubValue(run));
  const track = (run: RunRecord) => {
    if (LIVE.has(run.status) && run.owner?.instance === o.instance) held.set(run.id, run.attempt);
    else held.delete(run.id);
  };

  const store: PgStore = {
    kind: "postgres",
    leaseMs,
    createRun: async (run, quota) => {
      const insertQuery = (): Query => {
        const clean = scrubRun(run);
        return run.occurrence !== undefined && run.scheduledAt !== undefined
          ? sql.claimSlotAndInsertRun(run, clean, leaseMs, {
              triggerId: triggerId(run.library, run.workflow, run.occurrence),
              trigger: run.occurrence,
              outcome: run.trigger.catchup === true ? "caught_up" : "started",
            })
          : sql.insertRun(run, clean, leaseMs);
      };
      // Under a quota: the org's lock, the count and the insert in one transaction, so replicas creating runs of one org at once take turns.
      const insert = (): Promise<{ id: string }[]> =>
        quota
          ? transaction(pool, async (tx) => {
              await tx(sql.lockOrgQuota(quota.org));
              const counted = await tx<{ created_at: string }>(sql.quotaCountedRuns(quota.libraries, quota.now - quota.windowMs, quota.now, quota.limit));
              if (counted.length >= quota.limit)
                refuseOverQuota(
                  run,
                  quota,
                  quotaRetryAt(
                    quota,
                    counted.map((r) => Number(r.created_at)),
                  ),
                );
              return tx<{ id: string }>(insertQuery());
            })
          : exec<{ id: string }>(insertQuery(), 0);
      for (let i = 0; ; i++) {
        try {
          const rows = await insert();
          if (rows.length === 0 && i > 0) {
            // The first try may have committed before its connection dropped: then the run is ours.
            const [cur] = await exec<{ owner: string | null; attempt: number; status: string }>(sql.runOwner(run.id));
            if (cur && cur.owner === o.instance && cur.attempt === run.attempt && LIVE.has(cur.status)) {
              track(run);
              return true;
            }
          }
          if (rows.length === 0) return false;
          track(run);
          return true;
        } catch (e) {
          if ((e as { code?: string }).code === "23505") return false; // the id exists (a slot ledger row was lost by retention)
          if (!isTransient(e) || i >= retries) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    updateRun: async (run) => {
      const rows = await exec(sql.updateRunFenced(run, scrubRun(run), leaseMs));
      if (rows.length === 0) {
        held.delete(run.id);
        const e = new LeaseLostError(run.id, run.attempt);
        o.onFenced?.(e.message);
        throw e;
      }
      track(run);
    },
    claimGroup: async (run, group) =>
      transaction(pool, async (tx) => {
        await tx(sql.lockGroup(group));
        const [other] = await tx<{ id: string }>(sql.groupHolder(group, run.id));
        if (other) return other.id;
        if (!(await tx(sql.holdGroup(group, run.id, run.attempt))).length) throw new LeaseLostError(run.id, run.attempt);
        return undefined;
      }),
    cancelGroup: async (run, group, reason, at) =>
      transaction(pool, async (tx) => {
        await tx(sql.lockGroup(group));
        return (await tx<{ id: string }>(sql.cancelGroupHolders(group, run.id, reason, at))).map((r) => r.id);
      }),
    getRun: async (id) => {
      const [row] = await exec<RunRow>(sql.getRun(id));
      return row ? fromRow(row) : undefined;
    },
    listRuns: async (query = {}) => (await exec<RunRow>(sql.listRuns(query))).map(fromRow),
    appendLog: async (runId, line) => {
      await exec(sql.appendLog(runId, toJson(secrets.scrubValue(line))), 0);
    },
    readLog: async (runId) => (await exec<{ line: LogLine }>(sql.readLog(runId))).map((r, i) => ({ ...r.line, seq: i + 1 })),
    recordOccurrence: async (occ) => {
      await exec(sql.recordOccurrence(triggerId(occ.library, occ.workflow, occ.trigger), occ, o.instance));
    },
    listOccurrences: async (query = {}) =>
      (
        await exec<{
          library: string;
          workflow: string;
          trigger: string;
          scheduled_at: string;
          outcome: OccurrenceRecord["outcome"];
          run_id: string | null;
          lag_ms: number | null;
          reason: string | null;
          recorded_at: string;
        }>(sql.listOccurrences(query))
      ).map((r) => ({
        library: r.library,
        workflow: r.workflow,
        trigger: r.trigger,
        scheduledAt: Number(r.scheduled_at),
        outcome: r.outcome,
        ...(r.run_id !== null ? { runId: r.run_id } : {}),
        ...(r.lag_ms !== null ? { lagMs: r.lag_ms } : {}),
        ...(r.reason !== null ? { reason: r.reason } : {}),
        recordedAt: Number(r.recorded_at),
      })),
    getWatermark: async (key) => (await exec<{ value: NonNullable<Awaited<ReturnType<RunStore["getWatermark"]>>> }>(sql.getWatermark(key)))[0]?.value,
    setWatermark: async (key, w) => {
      await exec(sql.setWatermark(key, w));
    },
    claimDelivery: async (r) => (await exec(sql.claimDelivery({ ...r, id: r.id.slice(0, 200) }))).length === 1,
    updateDelivery: async (r) => {
      await exec(sql.updateDelivery({ ...r, id: r.id.slice(0, 200) }));
    },
    getDelivery: async (id) =>
      (await exec<{ record: Awaited<ReturnType<RunStore["getDelivery"]>>[number] }>(sql.getDelivery(id.slice(0, 200)))).map((r) => r.record),
    forgetDelivery: async (id, attempt) => {
      await exec(sql.forgetDelivery(id.slice(0, 200), attempt));
    },
    getWorkflowEnabled: async (library, workflow) => (await exec<{ enabled: boolean }>(sql.getWorkflowEnabled(library, workflow)))[0]?.enabled,
    setWorkflowEnabled: async (library, workflow, enabled) => {
      await exec(sql.setWorkflowEnabled(library, workflow, enabled));
    },
    heartbeat: async (instance, p, now) => {
      await exec(sql.heartbeat(instance, p, now));
    },
    // Runs of a crashed or frozen replica are not marked interrupted here: their lease runs out and
    // the reaper (`reap`) takes them over, so another replica runs them to completion.
    recoverInterrupted: async () => ({ interrupted: [], queued: [] }),
    prune: async (opts): Promise<PruneResult> => {
      const result: PruneResult = { runs: [], logs: [], orphans: [], occurrences: 0, deliveries: 0 };
      const finished = await exec<{ id: string; library: string; workflow: string; created_at: string; finished_at: string | null }>(
        sql.finishedRuns(TERMINAL),
      );
      const perWorkflow = new Map<string, number>();
      for (const r of finished) {
        const k = `${r.library}/${r.workflow}`;
        const n = (perWorkflow.get(k) ?? 0) + 1;
        perWorkflow.set(k, n);
        const at = Number(r.finished_at ?? r.created_at);
        if (n > opts.keepRuns || (opts.maxAgeMs !== undefined && opts.now - at > opts.maxAgeMs)) result.runs.push(r.id);
      }
      const orphans = (await exec<{ run_id: string }>(sql.orphanLogs())).map((r) => r.run_id);
      result.orphans = orphans.map((id) => `run_logs/${id}`);
      if (!opts.dryRun) {
        await exec(sql.deleteLogs([...result.runs, ...orphans]));
        await exec(sql.deleteRuns(result.runs));
        await exec(sql.forgetInstances(opts.now, 7 * 86_400_000));
      }
      result.occurrences = (await exec<{ n: number }>(sql.pruneOccurrences(opts.now, opts.maxAgeMs ?? null, opts.keepRuns * 10, !!opts.dryRun)))[0]!.n;
      result.deliveries = (await exec<{ n: number }>(sql.pruneDeliveries(opts.now, opts.deliveryMaxAgeMs ?? 7 * 86_400_000, !!opts.dryRun)))[0]!.n;
      return result;
    },
    problems: () => (healthy.ok ? [] : [healthy.error ?? "database unreachable"]),
    clockOffset: () => offset,
    syncClock: async () => {
      const t0 = Date.now();
      const [row] = await exec<{ now: number }>(sql.dbNow(), 0);
      const t1 = Date.now();
      offset = Math.round(row!.now - (t0 + t1) / 2);
      return offset;
    },
    health: () => healthy,
    opened: () => openedPromise,
    renewLeases: async () => {
      if (held.size === 0) return [];
      const ids = [...held.keys()];
      const attempts = ids.map((id) => held.get(id)!);
      const kept = new Set((await exec<{ id: string }>(sql.renewLeases(o.instance, ids, attempts, leaseMs), 0)).map((r) => r.id));
      const lost: string[] = [];
      for (const [i, id] of ids.entries()) {
        // A run that reached a terminal state meanwhile left `held` already; one whose fence moved is lost.
        if (!kept.has(id) && held.get(id) === attempts[i]) {
          held.delete(id);
          lost.push(id);
        }
      }
      return lost;
    },
    reap: async (limit = 10) => {
      const rows = await exec<RunRow & { takeover_ms: number }>(sql.reapExpired(o.instance, pid, leaseMs, limit), 0);
      return rows.map((r) => {
        const run = { ...fromRow(r), status: "queued" as const };
        held.set(run.id, run.attempt);
        return { run, takeoverMs: r.takeover_ms };
      });
    },
    releaseLeases: async () => {
      const rows = await exec<{ id: string }>(sql.releaseLeases(o.instance), 1);
      held.clear();
      return rows.map((r) => r.id);
    },
    held: () => new Map(held),
    tenancyStores: (clock) => openPgTenancyStores(pool, (query) => exec(query), clock, open ? undefined : openedPromise),
    tokenStore: (clock) => openPgTokenStore((query) => exec(query), clock),
    close: async () => {
      closed = true;
      await pool.end();
    },
  };
  return store;
}
