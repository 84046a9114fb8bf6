// DST rule (croner 11 / Vixie cron), per-trigger time zones: a fixed time in the spring-forward
// gap runs at the first valid time after it; a fixed time repeated at fall-back runs once; an
// interval pattern runs through the repeated hour.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixtures.ts";
import { cronAt } from "./cron-helpers.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const DAY = 86_400_000;

describe("cron across DST changes (Europe/Berlin, 2026)", () => {
  it("spring forward: 02:30 does not exist on March 29 and runs at 03:00 CEST", async () => {
    const c = await cronAt(dir.path, { schedule: "30 2 * * *", timezone: "Europe/Berlin" }, Date.parse("2026-03-28T12:00:00Z"));
    await c.clock.advance(2 * DAY);
    c.handle.stop();
    expect(c.fired.map((f) => f.at)).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
  });

  it("fall back: 02:30 happens twice on October 25 and runs once, at the first", async () => {
    const c = await cronAt(dir.path, { schedule: "30 2 * * *", timezone: "Europe/Berlin" }, Date.parse("2026-10-24T12:00:00Z"));
    await c.clock.advance(2 * DAY);
    c.handle.stop();
    expect(c.fired.map((f) => f.at)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
  });

  it("fall back: an interval pattern runs through the repeated hour", async () => {
    const c = await cronAt(dir.path, { schedule: "*/30 2 * * *", timezone: "Europe/Berlin" }, Date.parse("2026-10-24T23:00:00Z"));
    await c.clock.advance(DAY / 4);
    c.handle.stop();
    expect(c.fired.map((f) => f.at)).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T01:30:00.000Z"]);
  });

  it("the same pattern in two time zones fires at different instants", async () => {
    const ny = await cronAt(dir.path + "/ny", { schedule: "0 9 * * *", timezone: "America/New_York" }, Date.parse("2026-06-01T00:00:00Z"));
    const utc = await cronAt(dir.path + "/utc", { schedule: "0 9 * * *" }, Date.parse("2026-06-01T00:00:00Z"));
    await ny.clock.advance(DAY);
    await utc.clock.advance(DAY);
    ny.handle.stop();
    utc.handle.stop();
    expect(ny.fired.map((f) => f.at)).toEqual(["2026-06-01T13:00:00.000Z"]);
    expect(utc.fired.map((f) => f.at)).toEqual(["2026-06-01T09:00:00.000Z"]);
  });
});
