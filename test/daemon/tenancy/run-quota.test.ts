// The per-org runs-per-hour quota counts every run of the org, whatever started it (a schedule, the
// CLI or the API, a watch, a push, an `after` chain), from the run store: a run over the quota is
// recorded `skipped` with the reason (a schedule slot's ledger row says so too), counted in
// aicfg_runs_refused_total, and a caller who asked for it gets the org-quota error.
import { afterEach, describe, expect, it } from "vitest";
import type { QuotaError } from "../../../src/daemon/dispatcher.ts";
import { createMetrics } from "../../../src/daemon/telemetry/metrics.ts";
import { openFileTenancyStore } from "../../../src/daemon/tenancy/file-store.ts";
import { startHarness, type Harness } from "../harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const MINUTE = 60_000;
const START = Date.parse("2026-06-01T10:00:30Z");

describe("runs per hour, every trigger", () => {
  it("a schedule slot over the org's quota is recorded skipped with the reason, a manual run is refused with org-quota, and the window frees them", async () => {
    h = await startHarness(
      {
        tick: "name: tick\non:\n  cron: { schedule: '* * * * *' }\nsteps:\n  - uses: validate\n",
        after: "name: after\non: { after: [tick] }\nsteps:\n  - uses: validate\n",
      },
      { start: START },
    );
    const metrics = createMetrics(h.d.bus, h.clock.now);
    await openFileTenancyStore(h.state, h.clock).updateQuotas("default", { runsPerHour: 3 });
    const reason = "quota: org default is over its quota of 3 runs per hour";
    // 1 and 2: a manual run and the `after` run it chains. 3: the 10:01 slot; its `after` run is one too many.
    const manual = await h.d.triggerRun("lib", "tick");
    await h.d.waitForRun(manual);
    await h.d.idle();
    await h.clock.advance(MINUTE);
    await h.d.idle();
    const byWorkflow = async (wf: string) => (await h!.d.store.listRuns({ workflow: wf })).map((r) => [r.trigger.kind, r.status, r.reason ?? ""]);
    expect(await byWorkflow("after")).toEqual([
      ["after", "skipped", reason],
      ["after", "success", ""],
    ]);
    // The 10:02 slot: over the quota, recorded skipped (and no `after` run chains from a skipped one).
    await h.clock.advance(MINUTE);
    await h.d.idle();
    expect(await byWorkflow("tick")).toEqual([
      ["cron", "skipped", reason],
      ["cron", "success", ""],
      ["manual", "success", ""],
    ]);
    const [slot] = await h.d.store.listOccurrences({ workflow: "tick", limit: 1 });
    expect([slot!.scheduledAt, slot!.outcome, slot!.reason]).toEqual([Date.parse("2026-06-01T10:02:00Z"), "skipped", reason]);
    // Asked for by a caller: an error, and still a record of the refused run.
    const err = (await h.d.triggerRun("lib", "tick").catch((e: unknown) => e)) as QuotaError;
    expect([err.code, err.message, err.retryAfterSeconds]).toEqual(["org-quota", reason, 3600 - 2 * 60]);
    expect((await h.d.store.getRun(err.runId))?.status).toBe("skipped");
    const text = await metrics.render();
    expect(text).toContain('aicfg_runs_refused_total{org="default",library="lib",workflow="tick",trigger="cron",quota="runs"} 1');
    expect(text).toContain('aicfg_runs_refused_total{org="default",library="lib",workflow="tick",trigger="manual",quota="runs"} 1');
    expect(text).toContain('aicfg_runs_refused_total{org="default",library="lib",workflow="after",trigger="after",quota="runs"} 1');
    // An hour after the first run, the window has room again: the slot of 11:01 runs.
    await h.clock.advance(59 * MINUTE);
    await h.d.idle();
    const [latest] = await h.d.store.listRuns({ workflow: "tick", limit: 1 });
    expect([latest!.trigger.scheduled_at, latest!.status]).toEqual(["2026-06-01T11:01:00.000Z", "success"]);
    await metrics.shutdown();
  });
});
