// The run store contract: runs, step results, per-run logs, occurrence outcomes, trigger
// watermarks, webhook delivery ids and workflow settings. The embedded file store implements it
// today; a PostgreSQL store implements the same interface for several replicas.
import type { RunResult, OccurrenceOutcome, TriggerKind } from "../events.ts";
import type { TriggerInfo } from "../../workflows/actions/types.ts";

export type RunStatus = "queued" | "running" | RunResult;
export const TERMINAL: readonly RunStatus[] = ["success", "failure", "cancelled", "timed_out", "interrupted", "skipped"];

export type StepStatus = "success" | "failure" | "skipped" | "cancelled" | "timed_out";

export type StepRecord = {
  id: string;
  uses: string;
  status: StepStatus;
  attempts: number;
  startedAt: number;
  finishedAt: number;
  outputs: Record<string, unknown>;
  error?: string;
  warnings: string[];
};

export type RunRecord = {
  id: string;
  library: string;
  workflow: string;
  workflowHash: string;
  trigger: TriggerInfo & { kind: TriggerKind };
  inputs: Record<string, unknown>;
  actor?: string;
  status: RunStatus;
  /** Why a run was skipped, cancelled or interrupted. */
  reason?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** The process that runs it (crash recovery checks it is alive). */
  owner?: { instance: string; pid: number };
  /** 1 for the first attempt; a rerun or an interrupted-run retry counts up. */
  attempt: number;
  retryOf?: string;
  steps: StepRecord[];
  error?: string;
  /** Cron occurrence time (ms) when started by the scheduler. */
  scheduledAt?: number;
  /** Which schedule entry of the workflow the slot belongs to (`cron#0`), with scheduledAt the slot's ledger key. */
  occurrence?: string;
  /** Set on a run the store refused (written `skipped`) because its org was over its runs-per-hour quota. */
  overQuota?: { org: string; limit: number; retryAt: number };
};

/**
 * An org's runs-per-hour quota, checked by `createRun` against the runs the store holds (every
 * trigger's, every replica's): the runs of the org's libraries created in the window before `now`,
 * not counting the ones it refused.
 */
export type RunQuota = { org: string; libraries: string[]; limit: number; windowMs: number; now: number };

/** When a refused run could have started: once the oldest of the `limit` newest counted runs leaves the window. */
export function quotaRetryAt(q: RunQuota, counted: readonly number[]): number {
  const newest = [...counted].sort((a, b) => b - a);
  return (newest[q.limit - 1] ?? q.now) + q.windowMs;
}

/** Lays the refusal over a run about to be written: `skipped`, with the reason and when a run could start again. */
export function refuseOverQuota(run: RunRecord, q: RunQuota, retryAt: number): void {
  run.status = "skipped";
  run.reason = `quota: org ${q.org} is over its quota of ${q.limit} runs per hour`;
  run.finishedAt = run.createdAt;
  run.overQuota = { org: q.org, limit: q.limit, retryAt };
}

export type LogLine = { at: number; level: "info" | "warn" | "error"; step?: string; message: string /** 1-based line number, set when read. */; seq?: number };

export type OccurrenceRecord = {
  library: string;
  workflow: string;
  /** Which cron trigger of the workflow (`cron#0`). */
  trigger: string;
  scheduledAt: number;
  outcome: OccurrenceOutcome;
  runId?: string;
  lagMs?: number;
  reason?: string;
  recordedAt: number;
};

/** Derived scheduler state, keyed by a definition fingerprint so a changed schedule starts fresh. */
export type Watermark = { fingerprint: string; lastScheduledAt?: number; lastSeen?: Record<string, string>; updatedAt: number };

export type RunQuery = {
  library?: string;
  workflow?: string;
  status?: RunStatus[] /** Runs started by this webhook delivery (`trigger.delivery`). */;
  delivery?: string;
  limit?: number;
};

/**
 * One attempt at processing a webhook delivery: attempt 1 is the first receipt, a later attempt is a
 * redelivery that was processed again (after a failed run, or after a crash that queued nothing).
 * Each attempt is claimed once (O_EXCL), then rewritten atomically with the runs it queued.
 */
export type DeliveryRecord = {
  id: string;
  at: number;
  attempt: number;
  /** The daemon instance that claimed it: a `claimed` record of another instance was cut off by a crash. */
  instance: string;
  /** `claimed` until its runs are durably queued, then `queued` (runIds may be empty: nothing needed to run). */
  state: "claimed" | "queued";
  /** Why a later attempt was made. */
  cause?: "failure" | "crash";
  runIds: string[];
};

export type PruneOptions = { now: number; keepRuns: number; maxAgeMs?: number; deliveryMaxAgeMs?: number; dryRun?: boolean };
export type PruneResult = { runs: string[]; logs: string[]; orphans: string[]; occurrences: number; deliveries: number };

export type RunStore = {
  readonly kind: string;
  /**
   * Writes a new run; false when a run with this id already exists (the claim for an occurrence).
   * With a quota, a run over it is written `skipped` instead (`refuseOverQuota`, the record is
   * changed in place), atomically with the count: concurrent creators never pass it together.
   */
  createRun: (run: RunRecord, quota?: RunQuota) => Promise<boolean>;
  updateRun: (run: RunRecord) => Promise<void>;
  getRun: (id: string) => Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns: (q?: RunQuery) => Promise<RunRecord[]>;
  appendLog: (runId: string, line: LogLine) => Promise<void>;
  readLog: (runId: string) => Promise<LogLine[]>;
  recordOccurrence: (o: OccurrenceRecord) => Promise<void>;
  /** Newest first. */
  listOccurrences: (q?: { library?: string; workflow?: string; limit?: number }) => Promise<OccurrenceRecord[]>;
  getWatermark: (key: string) => Promise<Watermark | undefined>;
  setWatermark: (key: string, w: Watermark) => Promise<void>;
  /** Claims one attempt of a webhook delivery, durably; false when that attempt was claimed before (a duplicate). */
  claimDelivery: (record: DeliveryRecord) => Promise<boolean>;
  /** Replaces the record of an attempt claimed before (atomically): the runs it queued. */
  updateDelivery: (record: DeliveryRecord) => Promise<void>;
  /** Every attempt of a delivery, first first; empty when the id was never seen. */
  getDelivery: (id: string) => Promise<DeliveryRecord[]>;
  /** Forgets an attempt whose runs could not be queued, so a redelivery is processed. */
  forgetDelivery: (id: string, attempt: number) => Promise<void>;
  /** A workflow's enabled switch set through the API; false for every unset one when the settings were lost (fail closed). */
  getWorkflowEnabled: (library: string, workflow: string) => Promise<boolean | undefined>;
  setWorkflowEnabled: (library: string, workflow: string, enabled: boolean) => Promise<void>;
  /**
   * A store shared by replicas: makes `run` the holder of its concurrency group `group`
   * (`library/group`) unless another live run, on any replica, holds it; returns that run's id.
   * Runs give the group back by reaching a terminal state. Without it, groups are per process.
   */
  claimGroup?: (run: RunRecord, group: string) => Promise<string | undefined>;
  /** cancel_other across replicas: cancels the group's other live runs (fence raised: their owners stop them); returns their ids. */
  cancelGroup?: (run: RunRecord, group: string, reason: string, at: number) => Promise<string[]>;
  /** Heartbeat of a process that owns runs; runs of an owner without a fresh heartbeat are dead. */
  heartbeat: (instance: string, pid: number, now: number) => Promise<void>;
  /** What the store found wrong when it opened (and recovered from), for the daemon's status. */
  problems?: () => string[];
  /** Marks runs owned by dead processes `interrupted`; returns them. Queued runs are returned separately to resume. */
  recoverInterrupted: (self: { instance: string; now: number; staleMs: number }) => Promise<{ interrupted: RunRecord[]; queued: RunRecord[] }>;
  prune: (o: PruneOptions) => Promise<PruneResult>;
  close: () => Promise<void>;
};
