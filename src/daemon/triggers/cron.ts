// Cron trigger: croner computes occurrences (per-trigger time zone; DST rule of croner 11 / Vixie
// cron: a fixed time in a spring-forward gap runs at the first valid time after it, a fixed time
// repeated at fall-back runs once, interval patterns run through the repeated hour). Timers are
// capped at 30 s and the wall clock is re-read on every tick, so sleep/wake and clock steps are
// noticed. Every planned occurrence gets a recorded outcome (started, skipped, missed, caught_up),
// and catch-up after downtime follows the policy (none | latest | all) within a window and a cap,
// with run ids derived from the scheduled time so a replay can never start the same slot twice.
import { Cron } from "croner";
import { sha256 } from "../../library/hash.ts";
import { parseDuration } from "../../workflows/duration.ts";
import type { CronOn } from "../../workflows/schema.ts";
import type { Clock } from "../clock.ts";
import type { SubmitResult } from "../dispatcher.ts";
import type { EventBus, OccurrenceOutcome } from "../events.ts";
import type { RunStore } from "../store/types.ts";

/** Longest a timer may sleep before the wall clock is read again (croner uses the same 30 s). */
export const MAX_TIMER_MS = 30_000;
/** An occurrence noticed later than this after its time was not "live": the daemon was down, asleep or the clock jumped. */
const LIVE_TOLERANCE_MS = 60_000;
/** At most this many past occurrences are listed one by one after a long downtime. */
const MAX_REPLAY = 1000;
const DEFAULT_CATCHUP_WINDOW = "24h";
const DEFAULT_CATCHUP_MAX = 10;

export type CronTriggerOptions = {
  library: string;
  workflow: string;
  /** Index of this cron entry in the workflow's `on.cron`. */
  index: number;
  spec: CronOn;
  clock: Clock;
  store: RunStore;
  bus: EventBus;
  /** Starts (or queues, or skips) a run for an occurrence. */
  fire: (o: { scheduledAt: number; runId: string; catchup: boolean }) => Promise<SubmitResult>;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /**
   * Several replicas share the watermark (cluster mode): a slot of the last minute that the shared
   * watermark has not passed is another replica's live slot, so it is fired (the ledger lets one
   * replica win), never recorded as missed, which would claim the slot with no run.
   */
  sharedLedger?: boolean;
};

export type CronTriggerHandle = {
  stop: () => void;
  /** The next `n` occurrence times (ms). */
  nextRuns: (n: number) => number[];
  /** Wall-clock time of the last tick (for readiness). */
  lastTick: () => number;
  /** Resolves when the tick in progress (if any) is done. */
  settled: () => Promise<void>;
};

function makeCron(spec: CronOn): Cron {
  return new Cron(spec.schedule, {
    paused: true,
    timezone: spec.timezone ?? "UTC",
    mode: "5-or-6-parts",
    ...(spec.dom_and_dow !== undefined ? { domAndDow: spec.dom_and_dow } : {}),
  });
}

function cronFingerprint(spec: CronOn): string {
  return sha256(JSON.stringify([spec.schedule, spec.timezone ?? "UTC", spec.dom_and_dow ?? false])).slice(0, 16);
}

export function cronKey(library: string, workflow: string, index: number): string {
  return `cron:${library}/${workflow}#${index}`;
}

/** The run id of an occurrence: the same slot always gets the same id. */
export function occurrenceRunId(library: string, workflow: string, index: number, scheduledAt: number): string {
  const stamp = new Date(scheduledAt)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `cron-${sha256(`${library}/${workflow}#${index}`).slice(0, 10)}-${stamp}`;
}

/** Occurrences strictly after `from` and at or before `to`, oldest first; `dropped` counts the ones beyond MAX_REPLAY. */
function occurrencesBetween(cron: Cron, from: number, to: number): { times: number[]; dropped: number } {
  const times: number[] = [];
  let dropped = 0;
  let prev = new Date(from);
  for (let guard = 0; guard < 1_000_000; guard++) {
    const next = cron.nextRun(prev);
    if (!next || next.getTime() > to) break;
    times.push(next.getTime());
    if (times.length > MAX_REPLAY) {
      times.shift();
      dropped++;
    }
    prev = next;
  }
  return { times, dropped };
}

export async function startCronTrigger(o: CronTriggerOptions): Promise<CronTriggerHandle> {
  const cron = makeCron(o.spec);
  const key = cronKey(o.library, o.workflow, o.index);
  const fingerprint = cronFingerprint(o.spec);
  const triggerName = `cron#${o.index}`;
  const policy = o.spec.catchup?.policy ?? "none";
  const windowMs = parseDuration(o.spec.catchup?.window ?? DEFAULT_CATCHUP_WINDOW);
  const cap = o.spec.catchup?.max ?? DEFAULT_CATCHUP_MAX;
  let stopped = false;
  let cancelTimer: () => void = () => {};
  let lastTick = o.clock.now();
  let chain: Promise<void> = Promise.resolve();

  const record = async (scheduledAt: number, outcome: OccurrenceOutcome, extra: { runId?: string; lagMs?: number; reason?: string } = {}) => {
    const at = o.clock.now();
    await o.store.recordOccurrence({ library: o.library, workflow: o.workflow, trigger: triggerName, scheduledAt, outcome, recordedAt: at, ...extra });
    o.bus.publish({
      type: "occurrence",
      workflow: o.workflow,
      library: o.library,
      scheduledAt,
      outcome,
      ...(extra.lagMs !== undefined ? { lagMs: extra.lagMs } : {}),
      at,
    });
  };

  const fire = async (scheduledAt: number, catchup: boolean) => {
    const runId = occurrenceRunId(o.library, o.workflow, o.index, scheduledAt);
    const lagMs = o.clock.now() - scheduledAt;
    let r: SubmitResult;
    try {
      r = await o.fire({ scheduledAt, runId, catchup });
    } catch (e) {
      o.log("error", `${o.workflow}: occurrence ${new Date(scheduledAt).toISOString()} could not start: ${(e as Error).message}`);
      await record(scheduledAt, "missed", { reason: `could not start: ${(e as Error).message}` });
      return;
    }
    if (r.status === "duplicate") return; // Already claimed (and recorded) by an earlier pass.
    if (r.status === "skipped") await record(scheduledAt, "skipped", { runId, lagMs, reason: r.reason ?? "overlap" });
    else await record(scheduledAt, catchup ? "caught_up" : "started", { runId, lagMs });
  };

  /** Applies the catch-up policy to occurrences that were not seen live. */
  const catchUp = async (times: number[], dropped: number, now: number) => {
    if (dropped > 0) {
      await record(times[0] ?? now, "missed", { reason: `${dropped} earlier occurrence(s) were missed and are not listed one by one` });
    }
    const eligible = times.filter((t) => now - t <= windowMs);
    const chosen = new Set(policy === "none" ? [] : policy === "latest" ? eligible.slice(-1) : eligible.slice(-cap));
    for (const t of times) {
      if (chosen.has(t)) await fire(t, true);
      else {
        const reason =
          policy === "none"
            ? "the daemon was not running (catchup: none)"
            : !eligible.includes(t)
              ? `older than the catch-up window (${o.spec.catchup?.window ?? DEFAULT_CATCHUP_WINDOW})`
              : policy === "latest"
                ? "a later occurrence was caught up instead (catchup: latest)"
                : `over the catch-up cap (${cap})`;
        await record(t, "missed", { reason });
      }
    }
  };

  const saveWatermark = (at: number) => o.store.setWatermark(key, { fingerprint, lastScheduledAt: at, updatedAt: o.clock.now() });

  let watermark: number;
  const wm = await o.store.getWatermark(key);
  const startNow = o.clock.now();
  if (!wm || wm.fingerprint !== fingerprint || wm.lastScheduledAt === undefined) {
    // New or changed schedule: derived state starts fresh, nothing before now counts as missed.
    watermark = startNow;
    await saveWatermark(watermark);
  } else {
    watermark = wm.lastScheduledAt;
    if (watermark < startNow) {
      const { times, dropped } = occurrencesBetween(cron, watermark, startNow);
      const recent = o.sharedLedger ? times.filter((t) => startNow - t <= LIVE_TOLERANCE_MS) : [];
      await catchUp(
        times.filter((t) => !recent.includes(t)),
        dropped,
        startNow,
      );
      for (const t of recent) await fire(t, false);
      watermark = Math.max(watermark, startNow);
      await saveWatermark(watermark);
    }
  }

  const tick = async () => {
    if (stopped) return;
    const now = o.clock.now();
    lastTick = now;
    if (now > watermark) {
      const { times, dropped } = occurrencesBetween(cron, watermark, now);
      const live = times.filter((t) => now - t <= LIVE_TOLERANCE_MS);
      const late = times.filter((t) => now - t > LIVE_TOLERANCE_MS);
      if (late.length > 0 || dropped > 0) {
        o.log(
          "warn",
          `${o.workflow}: ${late.length + dropped} occurrence(s) passed while the daemon was asleep or the clock jumped; applying catch-up policy '${policy}'`,
        );
        await catchUp(late, dropped, now);
      }
      for (const t of live) await fire(t, false);
      watermark = now;
      if (times.length > 0) await saveWatermark(watermark);
    }
    // When the clock went backwards, `watermark` stays ahead of it: no occurrence is fired twice.
    schedule();
  };

  const schedule = () => {
    if (stopped) return;
    cancelTimer();
    const now = o.clock.now();
    const next = cron.nextRun(new Date(Math.max(watermark, now)));
    o.bus.publish({ type: "schedule.next", workflow: o.workflow, library: o.library, nextAt: next?.getTime() });
    const delay = next ? Math.min(Math.max(0, next.getTime() - now), MAX_TIMER_MS) : MAX_TIMER_MS;
    cancelTimer = o.clock.setTimer(delay, () => {
      chain = chain.then(tick).catch((e: unknown) => {
        // Background loops never throw: log, and keep ticking.
        o.log("error", `${o.workflow}: cron tick failed: ${(e as Error).message}`);
        schedule();
      });
    });
  };
  schedule();

  return {
    stop: () => {
      stopped = true;
      cancelTimer();
    },
    nextRuns: (n) => {
      const from = new Date(Math.max(watermark, o.clock.now()));
      return cron.nextRuns(n, from).map((d) => d.getTime());
    },
    lastTick: () => lastTick,
    settled: () => chain,
  };
}
