// Sleep/wake and clock steps: timers are capped at 30 s and the wall clock is re-read, so a sleep
// is noticed (and handled by the catch-up policy, not replayed as live runs) and a clock stepped
// backwards never fires an occurrence twice.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_TIMER_MS } from "../../src/daemon/triggers/cron.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { cronAt, iso } from "./cron-helpers.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const T0 = Date.parse("2026-06-01T10:00:10Z");

describe("cron and the wall clock", () => {
  it("never sleeps longer than 30 s, even for a daily schedule", async () => {
    const c = await cronAt(dir.path, { schedule: "0 3 * * *" }, T0);
    expect(MAX_TIMER_MS).toBe(30_000);
    await c.clock.advance(29_999);
    expect(c.handle.lastTick()).toBe(T0);
    await c.clock.advance(1);
    expect(c.handle.lastTick()).toBe(T0 + 30_000);
    c.handle.stop();
  });

  it("fires live occurrences with their lateness", async () => {
    const c = await cronAt(dir.path, { schedule: "0 * * * *" }, T0);
    await c.clock.advance(Date.parse("2026-06-01T12:00:00Z") - T0);
    c.handle.stop();
    expect(c.fired.map((f) => [f.at, f.catchup])).toEqual([
      ["2026-06-01T11:00:00.000Z", false],
      ["2026-06-01T12:00:00.000Z", false],
    ]);
    const occ = c.events.filter((e) => e.type === "occurrence");
    expect(occ.map((e) => (e.type === "occurrence" ? [e.outcome, e.lagMs] : []))).toEqual([
      ["started", 0],
      ["started", 0],
    ]);
    expect(c.events.some((e) => e.type === "schedule.next" && e.nextAt === Date.parse("2026-06-01T13:00:00Z"))).toBe(true);
  });

  it("a machine sleep is noticed on wake and follows the catch-up policy", async () => {
    const c = await cronAt(dir.path, { schedule: "0 * * * *", catchup: { policy: "latest" } }, T0);
    c.clock.jump(5 * 3600_000 + 600_000); // suspended until 15:10: the wall clock moved, timers did not
    await c.clock.advance(MAX_TIMER_MS);
    c.handle.stop();
    expect(c.fired.map((f) => [f.at, f.catchup])).toEqual([["2026-06-01T15:00:00.000Z", true]]);
    const occ = (await c.store.listOccurrences()).reverse().map((o) => [iso(o.scheduledAt), o.outcome]);
    expect(occ).toEqual([
      ["2026-06-01T11:00:00.000Z", "missed"],
      ["2026-06-01T12:00:00.000Z", "missed"],
      ["2026-06-01T13:00:00.000Z", "missed"],
      ["2026-06-01T14:00:00.000Z", "missed"],
      ["2026-06-01T15:00:00.000Z", "caught_up"],
    ]);
  });

  it("a clock stepped backwards does not fire the same occurrence twice", async () => {
    const c = await cronAt(dir.path, { schedule: "0 * * * *" }, T0);
    await c.clock.advance(Date.parse("2026-06-01T11:00:00Z") - T0);
    c.clock.jump(-3600_000);
    await c.clock.advance(2 * 3600_000);
    c.handle.stop();
    expect(c.fired.map((f) => f.at)).toEqual(["2026-06-01T11:00:00.000Z", "2026-06-01T12:00:00.000Z"]);
  });
});
