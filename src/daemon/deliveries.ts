// Webhook deliveries as promises (security goals G07, G09): a 202 means the delivery is claimed on
// disk and its runs are queued (each run carries `trigger.delivery`). What a redelivery of the same
// X-GitHub-Delivery does is decided from those records: still going or done → duplicate; a run failed
// → processed once more; a claim cut off by a crash before anything was queued → processed. Runs of
// a delivery that a crash interrupted are run again at the next start, up to a bound.
import type { DeliveryRecord, RunRecord, RunStore } from "./store/types.ts";

/** Attempts at processing one delivery id: the first receipt plus re-processed redeliveries. */
const DELIVERY_ATTEMPTS = 3;
/** Attempts at a delivery's run when crashes keep interrupting it; then it is reported failed. */
export const DELIVERY_RUN_ATTEMPTS = 3;

/** Outcomes after which a redelivery is processed again (once). Skipped and cancelled runs were decisions, not failures. */
const FAILED: ReadonlySet<string> = new Set(["failure", "timed_out", "interrupted"]);

export type DeliveryClaim =
  /** Process it: run `retryRunIds` again, or (when empty) feed the push to the git triggers. */
  { process: true; attempt: number; retryRunIds: string[] } | { process: false; reason: string };

type RedeliveryVerdict = { process: true; cause: "failure" | "crash"; retryRunIds: string[] } | { process: false; reason: string };

/** The delivery a run was started by, if any. */
export function deliveryOf(run: RunRecord): string | undefined {
  return typeof run.trigger.delivery === "string" ? run.trigger.delivery : undefined;
}

/** The latest attempt of each run: the runs no other run retried. */
function currentRuns(runs: readonly RunRecord[]): RunRecord[] {
  const retried = new Set(runs.flatMap((r) => (r.retryOf ? [r.retryOf] : [])));
  return runs.filter((r) => !retried.has(r.id));
}

/** What a redelivery does, from the attempts recorded so far (at least one), the delivery's runs and our instance id. */
function judgeRedelivery(id: string, attempts: readonly DeliveryRecord[], runs: readonly RunRecord[], self: string): RedeliveryVerdict {
  const last = attempts[attempts.length - 1]!;
  const current = currentRuns(runs);
  if ((last.state === "claimed" && last.instance === self) || current.some((r) => r.status === "queued" || r.status === "running"))
    return { process: false, reason: `delivery ${id} is being processed` };
  const done = { process: false as const, reason: `delivery ${id} was already processed` };
  if (attempts.length >= DELIVERY_ATTEMPTS) return done;
  if (runs.length === 0) {
    // Claimed by a process that died before it queued anything: GitHub got no 202, so nothing was promised yet.
    if (last.state === "claimed") return { process: true, cause: "crash", retryRunIds: [] };
    // Queued, and nothing needed to run (or its runs were pruned since).
    return done;
  }
  const failed = current.filter((r) => FAILED.has(r.status));
  if (failed.length === 0) return done;
  if (attempts.some((a) => a.cause === "failure")) return { process: false, reason: `delivery ${id} was already processed again after a failure` };
  return { process: true, cause: "failure", retryRunIds: failed.map((r) => r.id) };
}

/**
 * Claims a delivery: the first receipt, or a redelivery that is to be processed again. Every attempt
 * is its own O_EXCL claim, so concurrent identical deliveries process it at most once per attempt.
 */
export async function claimDelivery(store: RunStore, id: string, self: string, now: number): Promise<DeliveryClaim> {
  const claim = (attempt: number, cause?: "failure" | "crash") =>
    store.claimDelivery({ id, at: now, attempt, instance: self, state: "claimed", ...(cause ? { cause } : {}), runIds: [] });
  if (await claim(1)) return { process: true, attempt: 1, retryRunIds: [] };
  const attempts = await store.getDelivery(id);
  // Forgotten in between (its runs could not be queued): the next redelivery claims it afresh.
  if (attempts.length === 0) return { process: false, reason: `delivery ${id} is being processed` };
  const verdict = judgeRedelivery(id, attempts, await store.listRuns({ delivery: id }), self);
  if (!verdict.process) return verdict;
  const attempt = attempts.length + 1;
  if (!(await claim(attempt, verdict.cause))) return { process: false, reason: `delivery ${id} is being processed` };
  return { process: true, attempt, retryRunIds: verdict.retryRunIds };
}

/** Records the runs an attempt queued (the claim said `claimed` until now). */
export async function deliveryQueued(store: RunStore, id: string, attempt: number, runIds: string[]): Promise<void> {
  const record = (await store.getDelivery(id)).find((a) => a.attempt === attempt);
  if (record) await store.updateDelivery({ ...record, state: "queued", runIds });
}

/** The id of the crash retry of a delivery's run: fixed, so recovery creates it at most once (O_EXCL). */
export function deliveryRetryId(run: RunRecord): string {
  return `${run.id.replace(/-retry\d+$/, "")}-retry${run.attempt + 1}`;
}

/**
 * Interrupted runs of deliveries that nothing retried yet: `retry` are run again (an acknowledged
 * delivery is a promise, whatever `recovery.retry_interrupted` says), `exhausted` used up their attempts.
 */
export function planDeliveryRetries(runs: readonly RunRecord[]): { retry: RunRecord[]; exhausted: RunRecord[] } {
  const retry: RunRecord[] = [];
  const exhausted: RunRecord[] = [];
  for (const r of currentRuns(runs)) {
    if (r.status !== "interrupted" || !deliveryOf(r)) continue;
    (r.attempt < DELIVERY_RUN_ATTEMPTS ? retry : exhausted).push(r);
  }
  return { retry, exhausted };
}
