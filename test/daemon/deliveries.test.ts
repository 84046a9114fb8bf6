// Webhook delivery transitions on the real file store (G07, G09): the first receipt is claimed once;
// a redelivery is a duplicate while its runs go on or after they succeeded, is processed once more
// after a failure, and is processed when a crash cut the first receipt off before anything was queued.
// Crash retries of a delivery's interrupted runs get a fixed id and stop after a bound.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimDelivery, DELIVERY_RUN_ATTEMPTS, deliveryQueued, deliveryRetryId, planDeliveryRetries } from "../../src/daemon/deliveries.ts";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import type { RunRecord, RunStatus, RunStore } from "../../src/daemon/store/types.ts";
import { tempDir } from "../helpers/fixtures.ts";

let dir: ReturnType<typeof tempDir>;
let store: RunStore;
beforeEach(() => {
  dir = tempDir();
  store = openFileStore(dir.path);
});
afterEach(() => dir.cleanup());

const ME = "me-1";
const run = (id: string, status: RunStatus, over: Partial<RunRecord> = {}): RunRecord => ({
  id,
  library: "lib",
  workflow: "w",
  workflowHash: "h",
  trigger: { kind: "git", delivery: "d" },
  inputs: {},
  status,
  createdAt: 1000,
  attempt: 1,
  steps: [],
  ...over,
});

async function firstReceipt(runs: RunRecord[]): Promise<void> {
  expect(await claimDelivery(store, "d", ME, 1)).toEqual({ process: true, attempt: 1, retryRunIds: [] });
  for (const r of runs) await store.createRun(r);
  await deliveryQueued(
    store,
    "d",
    1,
    runs.map((r) => r.id),
  );
}

const setStatus = async (id: string, status: RunStatus) => store.updateRun({ ...(await store.getRun(id))!, status });

describe("redelivery of a webhook delivery", () => {
  it("is in progress while the first receipt is being queued or its runs go on, and a duplicate once they succeeded", async () => {
    expect(await claimDelivery(store, "d", ME, 1)).toEqual({ process: true, attempt: 1, retryRunIds: [] });
    expect(await claimDelivery(store, "d", ME, 2)).toEqual({ process: false, reason: "delivery d is being processed" });
    await store.createRun(run("r1", "running"));
    await deliveryQueued(store, "d", 1, ["r1"]);
    expect(await store.getDelivery("d")).toEqual([{ id: "d", at: 1, attempt: 1, instance: ME, state: "queued", runIds: ["r1"] }]);
    // After a restart (another instance), a running run of the delivery is still "in progress".
    expect(await claimDelivery(store, "d", "me-2", 3)).toEqual({ process: false, reason: "delivery d is being processed" });
    await setStatus("r1", "success");
    expect(await claimDelivery(store, "d", "me-2", 4)).toEqual({ process: false, reason: "delivery d was already processed" });
    expect(await store.getDelivery("d")).toHaveLength(1);
  });

  it("after a failure is processed once more (the failed runs only), then is a duplicate whatever happens", async () => {
    await firstReceipt([run("ok", "success"), run("bad", "failure", { workflow: "w2" })]);
    expect(await claimDelivery(store, "d", ME, 2)).toEqual({ process: true, attempt: 2, retryRunIds: ["bad"] });
    const [, second] = await store.getDelivery("d");
    expect([second!.attempt, second!.cause, second!.state]).toEqual([2, "failure", "claimed"]);
    expect(await claimDelivery(store, "d", ME, 3)).toEqual({ process: false, reason: "delivery d is being processed" });
    await store.createRun(run("bad-again", "failure", { workflow: "w2", retryOf: "bad", attempt: 2 }));
    await deliveryQueued(store, "d", 2, ["bad-again"]);
    expect(await claimDelivery(store, "d", ME, 4)).toEqual({ process: false, reason: "delivery d was already processed again after a failure" });
  });

  it("treats a timed-out run and one whose crash retries ran out as failed, a skipped or cancelled one as done", async () => {
    await firstReceipt([run("slow", "timed_out")]);
    expect((await claimDelivery(store, "d", ME, 2)).process).toBe(true);
    for (const [status, process] of [
      ["interrupted", true],
      ["skipped", false],
      ["cancelled", false],
    ] as const) {
      const id = `d-${status}`;
      expect((await claimDelivery(store, id, ME, 1)).process).toBe(true);
      await store.createRun(run(`r-${status}`, status, { trigger: { kind: "git", delivery: id } }));
      await deliveryQueued(store, id, 1, [`r-${status}`]);
      expect((await claimDelivery(store, id, ME, 2)).process, status).toBe(process);
    }
  });

  it("is processed when a crash came between the claim and the queueing (nothing was promised), once", async () => {
    expect((await claimDelivery(store, "d", "dead-instance", 1)).process).toBe(true);
    expect(await claimDelivery(store, "d", ME, 2)).toEqual({ process: true, attempt: 2, retryRunIds: [] });
    expect((await store.getDelivery("d"))[1]!.cause).toBe("crash");
    expect(await claimDelivery(store, "d", ME, 3)).toEqual({ process: false, reason: "delivery d is being processed" });
  });

  it("is a duplicate when the first receipt queued nothing (the commit was known) or its runs were pruned since", async () => {
    await firstReceipt([]);
    expect(await claimDelivery(store, "d", "me-2", 2)).toEqual({ process: false, reason: "delivery d was already processed" });
    expect((await claimDelivery(store, "e", ME, 1)).process).toBe(true);
    await deliveryQueued(store, "e", 1, ["pruned-run"]);
    expect(await claimDelivery(store, "e", "me-2", 2)).toEqual({ process: false, reason: "delivery e was already processed" });
  });

  it("processes ten concurrent copies at most once, for the first receipt and for the re-processing after a failure", async () => {
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => claimDelivery(store, "d", ME, i)));
    expect(first.filter((c) => c.process)).toHaveLength(1);
    await store.createRun(run("bad", "failure"));
    await deliveryQueued(store, "d", 1, ["bad"]);
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => claimDelivery(openFileStore(dir.path), "d", ME, i)));
    expect(again.filter((c) => c.process)).toEqual([{ process: true, attempt: 2, retryRunIds: ["bad"] }]);
  });
});

describe("crash retries of a delivery's runs", () => {
  it("retries interrupted runs of deliveries that nothing retried yet, with a fixed id, up to the bound", () => {
    const first = run("20260101T000000000Z-a1b2c3d4", "interrupted");
    const retried = run("r-old", "interrupted");
    const retry = run(deliveryRetryId(retried), "running", { retryOf: "r-old", attempt: 2 });
    const last = run("r-last-retry3", "interrupted", { attempt: DELIVERY_RUN_ATTEMPTS });
    const notADelivery = run("manual", "interrupted", { trigger: { kind: "manual" } });
    const plan = planDeliveryRetries([first, retried, retry, last, notADelivery, run("done", "success")]);
    expect(plan.retry.map((r) => r.id)).toEqual([first.id]);
    expect(plan.exhausted.map((r) => r.id)).toEqual(["r-last-retry3"]);
    expect(deliveryRetryId(first)).toBe("20260101T000000000Z-a1b2c3d4-retry2");
    expect(deliveryRetryId(run(`${first.id}-retry2`, "interrupted", { attempt: 2 }))).toBe(`${first.id}-retry3`);
  });
});
