// The RunStore contract, as one suite every implementation passes: the file store and the
// PostgreSQL store run it unchanged (store.test.ts, pg-store.test.ts). `open` gives a store on a
// fresh backing (a folder, a database); `reopen` a second handle on the same backing (a restart, or
// another replica), so every assertion is on what was durably stored, not on a cache.
import { describe, expect, it } from "vitest";
import type { RunQuota, RunRecord, RunStore } from "../../../src/daemon/store/types.ts";

export type StoreFactory = {
  open: () => Promise<RunStore>;
  reopen: () => Promise<RunStore>;
};

export const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id,
  library: "lib",
  workflow: "w",
  workflowHash: "h",
  trigger: { kind: "manual" },
  inputs: {},
  status: "success",
  createdAt: 1000,
  attempt: 1,
  steps: [],
  ...over,
});

export function runStoreConformance(name: string, f: StoreFactory): void {
  describe(`RunStore conformance: ${name}`, () => {
    it("claims a run id once, updates it, and reads runs back newest first from another handle", async () => {
      const s = await f.open();
      expect(await s.createRun(run("a", { createdAt: 1, status: "queued", owner: { instance: "me", pid: 1 } }))).toBe(true);
      expect(await s.createRun(run("a"))).toBe(false);
      expect(await s.createRun(run("b", { createdAt: 2, workflow: "other" }))).toBe(true);
      await s.updateRun(run("a", { createdAt: 1, status: "success", owner: { instance: "me", pid: 1 }, finishedAt: 9, steps: [] }));
      const again = await f.reopen();
      expect((await again.listRuns()).map((r) => r.id)).toEqual(["b", "a"]);
      expect((await again.listRuns({ workflow: "w" })).map((r) => r.id)).toEqual(["a"]);
      expect((await again.listRuns({ status: ["success"], limit: 1 })).map((r) => r.id)).toEqual(["b"]);
      expect((await again.getRun("a"))!.finishedAt).toBe(9);
      expect(await again.getRun("nope")).toBe(undefined);
    });

    it("keeps a run's steps, inputs and trigger exactly", async () => {
      const s = await f.open();
      const full = run("full", {
        status: "failure",
        trigger: { kind: "cron", scheduled_at: "2031-01-01T00:00:00.000Z", catchup: false },
        inputs: { n: 3, flag: true, text: "ünïcødé" },
        steps: [{ id: "s1", uses: "shell", status: "failure", attempts: 2, startedAt: 5, finishedAt: 6, outputs: { code: 1 }, error: "boom", warnings: ["w"] }],
        error: "s1: boom",
        scheduledAt: 1234,
        actor: "alice",
        retryOf: "prev",
      });
      await s.createRun(full);
      expect(await (await f.reopen()).getRun("full")).toEqual(full);
    });

    it("appends log lines and numbers them in order", async () => {
      const s = await f.open();
      await s.appendLog("a", { at: 1, level: "info", message: "one" });
      await s.appendLog("a", { at: 3, level: "warn", message: "three", step: "s" });
      await s.appendLog("b", { at: 2, level: "error", message: "other run" });
      expect(await (await f.reopen()).readLog("a")).toEqual([
        { at: 1, level: "info", message: "one", seq: 1 },
        { at: 3, level: "warn", message: "three", step: "s", seq: 2 },
      ]);
      expect(await s.readLog("none")).toEqual([]);
    });

    it("claims each attempt of a webhook delivery once, rewrites it with its runs, and forgets it on request", async () => {
      const s = await f.open();
      const first = { id: "d-1", at: 5, attempt: 1, instance: "me", state: "claimed" as const, runIds: [] };
      expect(await s.claimDelivery(first)).toBe(true);
      expect(await s.claimDelivery({ ...first, instance: "rival" })).toBe(false);
      expect(await (await f.reopen()).claimDelivery(first)).toBe(false);
      expect(await (await f.reopen()).getDelivery("d-1")).toEqual([first]);
      await s.updateDelivery({ ...first, state: "queued", runIds: ["r1", "r2"] });
      const second = { id: "d-1", at: 9, attempt: 2, instance: "me", state: "claimed" as const, cause: "failure" as const, runIds: [] };
      expect(await s.claimDelivery(second)).toBe(true);
      expect(await s.claimDelivery(second)).toBe(false);
      expect(await (await f.reopen()).getDelivery("d-1")).toEqual([{ ...first, state: "queued", runIds: ["r1", "r2"] }, second]);
      await s.forgetDelivery("d-1", 2);
      expect((await s.getDelivery("d-1")).map((a) => a.attempt)).toEqual([1]);
      await s.forgetDelivery("d-1", 1);
      expect(await s.getDelivery("d-1")).toEqual([]);
      expect(await s.claimDelivery(first)).toBe(true);
      expect(await s.getDelivery("never")).toEqual([]);
    });

    it("lists the runs of one webhook delivery", async () => {
      const s = await f.open();
      await s.createRun(run("a", { trigger: { kind: "git", delivery: "d-1" } }));
      await s.createRun(run("b", { trigger: { kind: "git", delivery: "d-2" } }));
      await s.createRun(run("c", { trigger: { kind: "git", delivery: "d-1" }, retryOf: "a", attempt: 2, createdAt: 2000 }));
      await s.createRun(run("d"));
      expect((await (await f.reopen()).listRuns({ delivery: "d-1" })).map((r) => r.id)).toEqual(["c", "a"]);
    });

    it("keeps N finished runs per workflow and N days, leaves live runs, and drops their logs", async () => {
      const s = await f.open();
      const day = 86_400_000;
      for (let i = 1; i <= 5; i++) {
        await s.createRun(run(`r${i}`, { createdAt: i * day, finishedAt: i * day }));
        await s.appendLog(`r${i}`, { at: i, level: "info", message: "x" });
      }
      await s.createRun(run("live", { status: "running", createdAt: 0, owner: { instance: "me", pid: 1 } }));
      const dry = await s.prune({ now: 6 * day, keepRuns: 3, maxAgeMs: 10 * day, dryRun: true });
      expect(dry.runs.sort()).toEqual(["r1", "r2"]);
      expect((await s.listRuns()).length).toBe(6);
      const r = await s.prune({ now: 6 * day, keepRuns: 3, maxAgeMs: 1.5 * day });
      expect(r.runs.sort()).toEqual(["r1", "r2", "r3", "r4"]);
      const again = await f.reopen();
      expect((await again.listRuns()).map((x) => x.id)).toEqual(["r5", "live"]);
      expect(await again.readLog("r1")).toEqual([]);
      expect((await again.readLog("r5")).length).toBe(1);
    });

    it("ages webhook deliveries by the time they were claimed (the daemon's clock)", async () => {
      const s = await f.open();
      const day = 86_400_000;
      const now = Date.UTC(2031, 0, 10);
      expect(await s.claimDelivery({ id: "old", at: now - 9 * day, attempt: 1, instance: "i", state: "queued", runIds: [] })).toBe(true);
      expect(await s.claimDelivery({ id: "recent", at: now - day, attempt: 1, instance: "i", state: "queued", runIds: [] })).toBe(true);
      const r = await s.prune({ now, keepRuns: 3 });
      expect(r.deliveries).toBe(1);
      expect((await s.getDelivery("old")).length).toBe(0);
      expect((await s.getDelivery("recent")).length).toBe(1);
      expect(await s.claimDelivery({ id: "skewed", at: Date.UTC(2020, 0, 1), attempt: 1, instance: "i", state: "queued", runIds: [] })).toBe(true);
      expect((await s.prune({ now: Date.UTC(2020, 0, 2), keepRuns: 3 })).deliveries).toBe(0);
    });

    it("records occurrence outcomes and lists them newest first", async () => {
      const s = await f.open();
      await s.recordOccurrence({
        library: "lib",
        workflow: "w",
        trigger: "cron#0",
        scheduledAt: 1000,
        outcome: "started",
        runId: "r1",
        lagMs: 5,
        recordedAt: 1005,
      });
      await s.recordOccurrence({ library: "lib", workflow: "w", trigger: "cron#0", scheduledAt: 2000, outcome: "missed", reason: "down", recordedAt: 2500 });
      await s.recordOccurrence({ library: "lib", workflow: "v", trigger: "cron#0", scheduledAt: 1500, outcome: "skipped", runId: "r2", recordedAt: 1501 });
      const again = await f.reopen();
      expect((await again.listOccurrences({ library: "lib", workflow: "w" })).map((o) => [o.scheduledAt, o.outcome, o.runId, o.reason])).toEqual([
        [2000, "missed", undefined, "down"],
        [1000, "started", "r1", undefined],
      ]);
      expect((await again.listOccurrences()).map((o) => o.scheduledAt)).toEqual([2000, 1500, 1000]);
      expect((await again.listOccurrences({ limit: 1 })).length).toBe(1);
    });

    it("persists watermarks and workflow settings", async () => {
      const s = await f.open();
      await s.setWatermark("cron:lib/w#0", { fingerprint: "f", lastScheduledAt: 5, updatedAt: 6 });
      await s.setWatermark("cron:lib/w#0", { fingerprint: "f", lastScheduledAt: 7, updatedAt: 8 });
      await s.setWorkflowEnabled("lib", "w", false);
      const again = await f.reopen();
      expect(await again.getWatermark("cron:lib/w#0")).toEqual({ fingerprint: "f", lastScheduledAt: 7, updatedAt: 8 });
      expect(await again.getWatermark("__proto__")).toBe(undefined);
      expect(await again.getWorkflowEnabled("lib", "w")).toBe(false);
      expect(await again.getWorkflowEnabled("lib", "x")).toBe(undefined);
      await again.setWorkflowEnabled("lib", "w", true);
      expect(await (await f.reopen()).getWorkflowEnabled("lib", "w")).toBe(true);
    });

    it("scrubs known secret shapes from run records and log lines", async () => {
      const s = await f.open();
      const token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
      await s.createRun(run("sec", { error: `failed with ${token}` }));
      await s.appendLog("sec", { at: 1, level: "error", message: `token ${token}` });
      const again = await f.reopen();
      expect(JSON.stringify(await again.getRun("sec"))).not.toContain(token);
      expect(JSON.stringify(await again.readLog("sec"))).not.toContain(token);
    });

    it("refuses a run over the org's runs-per-hour quota as it creates it: counted over the org's libraries and window, refused runs not counted, never passed by concurrent creators", async () => {
      const s = await f.open();
      const HOUR = 3_600_000;
      const now = 10 * HOUR;
      const quota = (limit: number, at = now): RunQuota => ({ org: "acme", libraries: ["lib", "lib2"], limit, windowMs: HOUR, now: at });
      // Outside the window, or of another org's library: not counted.
      expect(await s.createRun(run("old", { createdAt: now - HOUR }), quota(2))).toBe(true);
      expect(await s.createRun(run("foreign", { library: "elsewhere", createdAt: now - 5 }), quota(2))).toBe(true);
      const a = run("a", { createdAt: now - 1000, status: "queued" });
      const b = run("b", { library: "lib2", createdAt: now - 500, status: "queued", trigger: { kind: "cron" }, occurrence: "cron#0", scheduledAt: now - 500 });
      expect(await s.createRun(a, quota(2))).toBe(true);
      expect(await s.createRun(b, quota(2))).toBe(true);
      expect([a.status, b.status, a.overQuota, b.overQuota]).toEqual(["queued", "queued", undefined, undefined]);
      const c = run("c", { createdAt: now, status: "queued", trigger: { kind: "watch" } });
      expect(await s.createRun(c, quota(2))).toBe(true);
      // The oldest counted run (a) leaves the window first: then a run could start again.
      const refusal = { org: "acme", limit: 2, retryAt: now - 1000 + HOUR };
      expect([c.status, c.reason, c.finishedAt, c.overQuota]).toEqual(["skipped", "quota: org acme is over its quota of 2 runs per hour", now, refusal]);
      const again = await f.reopen();
      expect(await again.getRun("c")).toMatchObject({ status: "skipped", reason: "quota: org acme is over its quota of 2 runs per hour", overQuota: refusal });
      // The refused run does not count: with a limit of 3 one more run fits, the next does not.
      const d = run("d", { createdAt: now + 1 });
      expect(await again.createRun(d, quota(3, now + 1))).toBe(true);
      expect(d.overQuota).toBe(undefined);
      const e = run("e", { createdAt: now + 2 });
      await again.createRun(e, quota(3, now + 2));
      expect(e.status).toBe("skipped");
      // An hour after a, the window holds b and d only.
      const later = run("later", { createdAt: now - 1000 + HOUR + 1 });
      await again.createRun(later, quota(3, now - 1000 + HOUR + 1));
      expect(later.overQuota).toBe(undefined);
      // Concurrent creators pass the quota exactly up to its limit (pg-store.test.ts races two replicas).
      const race = Array.from({ length: 8 }, (_, i) => run(`race-${i}`, { library: "other", createdAt: now + 10 }));
      const q = (): RunQuota => ({ org: "other", libraries: ["other"], limit: 3, windowMs: HOUR, now: now + 10 });
      expect((await Promise.all(race.map((r) => again.createRun(r, q())))).every(Boolean)).toBe(true);
      expect(race.filter((r) => !r.overQuota).length).toBe(3);
      const stored = await (await f.reopen()).listRuns({ library: "other" });
      expect(stored.filter((r) => r.status !== "skipped").length).toBe(3);
    });
  });
}
