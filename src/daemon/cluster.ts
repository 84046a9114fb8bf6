// Cluster mode (several replicas on one PostgreSQL store): the loop every replica runs beside its
// scheduler. On each beat it reads the database clock (the daemon schedules on it; the skew is
// reported), renews the leases of the runs it holds (a run whose fence moved was taken over: it is
// stopped here, and its writes are refused by the store anyway), and reaps runs whose lease ran out,
// running them again under the raised fence. A database that does not answer is reported by the
// store's health and retried on the next beat: the replica recovers by itself.
import type { Clock } from "./clock.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { EventBus } from "./events.ts";
import type { PgStore } from "./store/pg/pg-store.ts";

/** A skew this large is logged as a warning (schedules are unaffected: they follow the database clock). */
const SKEW_WARN_MS = 5000;

export type ClusterOptions = {
  store: PgStore;
  dispatcher: Dispatcher;
  bus: EventBus;
  /** The daemon's clock (already on database time); its timers pace the loop. */
  clock: Clock;
  /** Beat interval (default a third of the lease). */
  intervalMs?: number;
  /** Whether to take over runs of dead replicas now (never for a one-shot `aicfg run`, nor while the daemon stops). */
  reap: () => boolean;
  log: (level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** Called when a beat succeeds after failed ones (the database is back). */
  onRecovered?: () => void;
};

export type ClusterHandle = { stop: () => Promise<void> };

/** A clock on database time: the process clock plus the offset the store measured last. */
export function databaseClock(base: Clock, store: Pick<PgStore, "clockOffset">): Clock {
  return { now: () => base.now() + store.clockOffset(), setTimer: base.setTimer };
}

export function startCluster(o: ClusterOptions): ClusterHandle {
  const interval = o.intervalMs ?? Math.max(100, Math.floor(o.store.leaseMs / 3));
  let stopped = false;
  let cancel = () => {};
  let current: Promise<void> = Promise.resolve();
  let skewWarned = false;
  let failing: string | undefined;

  const beat = async () => {
    const offset = await o.store.syncClock();
    const skewMs = -offset;
    o.bus.publish({ type: "cluster.clock", skewMs, at: o.clock.now() });
    if (Math.abs(skewMs) >= SKEW_WARN_MS && !skewWarned) {
      o.log("warn", `this process's clock is ${(skewMs / 1000).toFixed(1)} s off the database clock; schedules follow the database clock`, { skewMs });
    }
    skewWarned = Math.abs(skewMs) >= SKEW_WARN_MS;
    for (const id of await o.store.renewLeases()) {
      o.log("warn", `FENCED: run ${id} was taken over by another replica (this replica's lease ran out); stopping it here`, { runId: id });
      await o.dispatcher.cancel(id, "the lease was lost: another replica took the run over");
    }
    if (o.reap() && !stopped) {
      for (const { run, takeoverMs } of await o.store.reap()) {
        o.log("warn", `took over run ${run.id} of ${run.library}/${run.workflow} (attempt ${run.attempt}) ${takeoverMs} ms after its owner's last heartbeat`, {
          runId: run.id,
          takeoverMs,
        });
        o.bus.publish({ type: "run.takeover", runId: run.id, workflow: run.workflow, library: run.library, takeoverMs, at: o.clock.now() });
        await o.dispatcher.resume(run).catch((e: unknown) => o.log("error", `running taken-over run ${run.id} failed: ${(e as Error).message}`));
      }
    }
  };

  const loop = () => {
    if (stopped) return;
    current = beat().then(
      () => {
        if (failing) {
          o.log("info", "the database answers again");
          o.onRecovered?.();
        }
        failing = undefined;
      },
      (e: unknown) => {
        const message = (e as Error).message;
        if (failing !== message) o.log("error", `cluster heartbeat failed: ${message}; retrying`);
        failing = message;
      },
    );
    void current.then(() => {
      if (!stopped) cancel = o.clock.setTimer(interval, loop);
    });
  };
  loop();

  return {
    stop: async () => {
      stopped = true;
      cancel();
      await current;
    },
  };
}
