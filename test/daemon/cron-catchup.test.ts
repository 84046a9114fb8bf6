// Catch-up after downtime (none | latest | all, window, cap), with a recorded outcome for every
// planned occurrence, and deterministic run ids so a replay never starts a slot twice.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { createManualClock } from "../../src/daemon/clock.ts";
import { cronKey, occurrenceRunId } from "../../src/daemon/triggers/cron.ts";
import type { CronOn } from "../../src/workflows/schema.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { cronAt, iso } from "./cron-helpers.ts";
import { testConfig } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const T0 = Date.parse("2026-06-01T10:00:10Z");
const DOWN_UNTIL = Date.parse("2026-06-01T15:10:10Z");

/** Runs the trigger live until 11:00 (one occurrence), then "restarts" at 15:10:10 with `spec`. */
async function downtime(spec: CronOn) {
  const first = await cronAt(dir.path, spec, T0);
  await first.clock.advance(Date.parse("2026-06-01T11:00:00Z") - T0);
  first.handle.stop();
  expect(first.fired).toEqual([{ at: "2026-06-01T11:00:00.000Z", catchup: false, runId: occurrenceRunId("lib", "w", 0, Date.parse("2026-06-01T11:00:00Z")) }]);
  const second = await cronAt(dir.path, spec, DOWN_UNTIL);
  second.handle.stop();
  const occ = (await second.store.listOccurrences({ library: "lib", workflow: "w" })).reverse();
  return { fired: second.fired.map((f) => [f.at, f.catchup]), outcomes: occ.map((o) => [iso(o.scheduledAt), o.outcome, o.reason ?? ""]) };
}

describe("cron catch-up after downtime", () => {
  it("none: every missed occurrence is recorded as missed, nothing runs", async () => {
    const r = await downtime({ schedule: "0 * * * *" });
    expect(r.fired).toEqual([]);
    expect(r.outcomes).toEqual([
      ["2026-06-01T11:00:00.000Z", "started", ""],
      ["2026-06-01T12:00:00.000Z", "missed", "the daemon was not running (catchup: none)"],
      ["2026-06-01T13:00:00.000Z", "missed", "the daemon was not running (catchup: none)"],
      ["2026-06-01T14:00:00.000Z", "missed", "the daemon was not running (catchup: none)"],
      ["2026-06-01T15:00:00.000Z", "missed", "the daemon was not running (catchup: none)"],
    ]);
  });

  it("latest: only the most recent occurrence is caught up", async () => {
    const r = await downtime({ schedule: "0 * * * *", catchup: { policy: "latest" } });
    expect(r.fired).toEqual([["2026-06-01T15:00:00.000Z", true]]);
    expect(r.outcomes.slice(1)).toEqual([
      ["2026-06-01T12:00:00.000Z", "missed", "a later occurrence was caught up instead (catchup: latest)"],
      ["2026-06-01T13:00:00.000Z", "missed", "a later occurrence was caught up instead (catchup: latest)"],
      ["2026-06-01T14:00:00.000Z", "missed", "a later occurrence was caught up instead (catchup: latest)"],
      ["2026-06-01T15:00:00.000Z", "caught_up", ""],
    ]);
  });

  it("all: caught up oldest first, up to the cap", async () => {
    const r = await downtime({ schedule: "0 * * * *", catchup: { policy: "all", max: 2 } });
    expect(r.fired).toEqual([
      ["2026-06-01T14:00:00.000Z", true],
      ["2026-06-01T15:00:00.000Z", true],
    ]);
    expect(r.outcomes.slice(1).map((o) => o[1] + " " + o[2])).toEqual([
      "missed over the catch-up cap (2)",
      "missed over the catch-up cap (2)",
      "caught_up ",
      "caught_up ",
    ]);
  });

  it("all within a window: older occurrences are missed", async () => {
    const r = await downtime({ schedule: "0 * * * *", catchup: { policy: "all", window: "2h" } });
    expect(r.fired).toEqual([
      ["2026-06-01T14:00:00.000Z", true],
      ["2026-06-01T15:00:00.000Z", true],
    ]);
    expect(r.outcomes[1]).toEqual(["2026-06-01T12:00:00.000Z", "missed", "older than the catch-up window (2h)"]);
    expect(r.outcomes[2]).toEqual(["2026-06-01T13:00:00.000Z", "missed", "older than the catch-up window (2h)"]);
  });

  it("a changed schedule starts fresh: nothing counts as missed", async () => {
    const first = await cronAt(dir.path, { schedule: "0 * * * *" }, T0);
    first.handle.stop();
    const second = await cronAt(dir.path, { schedule: "30 * * * *", catchup: { policy: "all" } }, DOWN_UNTIL);
    second.handle.stop();
    expect(second.fired).toEqual([]);
    expect(await second.store.listOccurrences()).toEqual([]);
  });

  it("an occurrence skipped by the overlap policy is recorded as skipped", async () => {
    const c = await cronAt(dir.path, { schedule: "0 * * * *" }, T0, { skip: true });
    await c.clock.advance(3600_000);
    c.handle.stop();
    const [o] = await c.store.listOccurrences();
    expect([iso(o!.scheduledAt), o!.outcome, o!.reason, o!.lagMs]).toEqual(["2026-06-01T11:00:00.000Z", "skipped", "overlap: busy", 0]);
  });

  it("through the daemon: run ids come from the scheduled time, and a replay after a crash starts nothing twice", async () => {
    const lib = `${dir.path}/lib`;
    const state = `${dir.path}/state`;
    writeLibrary(lib, {
      hourly:
        "name: hourly\non:\n  cron: { schedule: '0 * * * *', catchup: { policy: all, max: 5 } }\nconcurrency: { overlap: buffer_all }\nsteps:\n  - uses: validate\n",
    });
    const boot = async (at: number) => {
      const d = await startDaemon({ config: testConfig(lib, state), clock: createManualClock(at), hotReload: false });
      await d.idle();
      return d;
    };
    const d1 = await boot(T0);
    await d1.stop();
    const before = await d1.store.getWatermark(cronKey("lib", "hourly", 0));
    const d2 = await boot(Date.parse("2026-06-01T12:30:00Z"));
    await d2.stop();
    const runs = await d2.store.listRuns({ workflow: "hourly" });
    expect(runs.map((r) => [r.id, r.status, r.trigger.catchup, r.trigger.scheduled_at]).reverse()).toEqual([
      [occurrenceRunId("lib", "hourly", 0, Date.parse("2026-06-01T11:00:00Z")), "success", true, "2026-06-01T11:00:00.000Z"],
      [occurrenceRunId("lib", "hourly", 0, Date.parse("2026-06-01T12:00:00Z")), "success", true, "2026-06-01T12:00:00.000Z"],
    ]);
    expect(runs[0]!.id).toBe("cron-" + runs[0]!.id.slice(5, 15) + "-20260601T120000Z");
    // Crash before the watermark was saved: the next start replays the same slots.
    await d2.store.setWatermark(cronKey("lib", "hourly", 0), before!);
    const d3 = await boot(Date.parse("2026-06-01T12:30:00Z"));
    await d3.stop();
    expect((await d3.store.listRuns({ workflow: "hourly" })).length).toBe(2);
    expect((await d3.store.listOccurrences({ workflow: "hourly" })).map((o) => o.outcome)).toEqual(["caught_up", "caught_up"]);
  });
});

describe("catch-up with overlap: skip", () => {
  // Skip is about a run that is already going when a new one would start; the slots of one catch-up
  // are a backlog replayed oldest first, so each waits for the one before instead of being dropped.
  it("runs every caught-up slot, one after the other", async () => {
    const lib = `${dir.path}/lib`;
    const state = `${dir.path}/state`;
    writeLibrary(lib, {
      hourly:
        "name: hourly\non:\n  cron: { schedule: '0 * * * *', catchup: { policy: all, max: 5 } }\nconcurrency: { overlap: skip }\nsteps:\n  - uses: validate\n",
    });
    const d1 = await startDaemon({ config: testConfig(lib, state), clock: createManualClock(T0), hotReload: false });
    await d1.idle();
    await d1.stop();
    const d2 = await startDaemon({ config: testConfig(lib, state), clock: createManualClock(Date.parse("2026-06-01T13:30:00Z")), hotReload: false });
    await d2.idle();
    await d2.stop();
    const runs = (await d2.store.listRuns({ workflow: "hourly" })).sort((a, b) => (a.scheduledAt ?? 0) - (b.scheduledAt ?? 0));
    expect(runs.map((r) => [r.trigger.scheduled_at, r.status])).toEqual([
      ["2026-06-01T11:00:00.000Z", "success"],
      ["2026-06-01T12:00:00.000Z", "success"],
      ["2026-06-01T13:00:00.000Z", "success"],
    ]);
    // One after the other: no two of them overlapped.
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt!).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt!);
    expect((await d2.store.listOccurrences({ workflow: "hourly" })).map((o) => o.outcome)).toEqual(["caught_up", "caught_up", "caught_up"]);
  });
});
