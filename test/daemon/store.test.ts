// The embedded file store: the RunStore conformance suite (shared with the PostgreSQL store), and
// what only files have: crash-torn lines, quarantine, orphan files, recovery of runs whose owner died.
import { appendFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import { sha256 } from "../../src/library/hash.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin } from "./harness.ts";
import { run, runStoreConformance } from "./store/conformance.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

runStoreConformance("file store", { open: async () => openFileStore(dir.path), reopen: async () => openFileStore(dir.path) });

function deadPid(): number {
  const r = spawnSync(nodeBin(), ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("file store", () => {
  it("claims a run id once and reads runs back after reopening", async () => {
    const s = openFileStore(dir.path);
    expect(await s.createRun(run("a", { createdAt: 1 }))).toBe(true);
    expect(await s.createRun(run("a"))).toBe(false);
    expect(await s.createRun(run("b", { createdAt: 2, workflow: "other" }))).toBe(true);
    const again = openFileStore(dir.path);
    expect((await again.listRuns()).map((r) => r.id)).toEqual(["b", "a"]);
    expect((await again.listRuns({ workflow: "w" })).map((r) => r.id)).toEqual(["a"]);
    await expect(s.getRun("../etc")).resolves.toBe(undefined);
    await expect(s.createRun(run("../x"))).rejects.toThrow('run id "../x" is not a safe name');
  });

  it("skips a log line torn by a crash and numbers the rest", async () => {
    const s = openFileStore(dir.path);
    await s.appendLog("a", { at: 1, level: "info", message: "one" });
    appendFileSync(join(dir.path, "daemon/logs/a.jsonl"), '{"at":2,"lev');
    appendFileSync(join(dir.path, "daemon/logs/a.jsonl"), "\n");
    await s.appendLog("a", { at: 3, level: "warn", message: "three" });
    expect(await s.readLog("a")).toEqual([
      { at: 1, level: "info", message: "one", seq: 1 },
      { at: 3, level: "warn", message: "three", seq: 2 },
    ]);
  });

  it("quarantines a corrupt run record instead of failing to open", async () => {
    const s = openFileStore(dir.path);
    await s.createRun(run("good"));
    writeFileSync(join(dir.path, "daemon/runs/bad.json"), "{not json");
    const errors: string[] = [];
    const again = openFileStore(dir.path, { onError: (m) => errors.push(m) });
    expect((await again.listRuns()).map((r) => r.id)).toEqual(["good"]);
    expect(errors.length).toBe(1);
    expect(errors[0]!.startsWith(`quarantined unreadable run record ${join(dir.path, "daemon/runs/bad.json")}`)).toBe(true);
    expect(readdirSync(join(dir.path, "daemon/quarantine")).length).toBe(1);
  });

  it("reads a delivery claim torn by a crash as claimed by nobody, and one written by an older version as processed", async () => {
    const s = openFileStore(dir.path);
    await s.claimDelivery({ id: "torn", at: 1, attempt: 1, instance: "me", state: "claimed", runIds: [] });
    await s.claimDelivery({ id: "old", at: 1, attempt: 1, instance: "me", state: "claimed", runIds: [] });
    const files = readdirSync(join(dir.path, "daemon/deliveries"));
    expect(files).toHaveLength(2);
    writeFileSync(join(dir.path, "daemon/deliveries", sha256("torn").slice(0, 40)), "");
    writeFileSync(join(dir.path, "daemon/deliveries", sha256("old").slice(0, 40)), JSON.stringify({ id: "old", at: 7 }));
    const [torn] = await s.getDelivery("torn");
    expect([torn!.state, torn!.instance, torn!.runIds]).toEqual(["claimed", "", []]);
    expect(await s.getDelivery("old")).toEqual([{ id: "old", at: 7, attempt: 1, instance: "", state: "queued", runIds: [] }]);
  });

  it("keeps N runs per workflow and N days, and removes orphans", async () => {
    const s = openFileStore(dir.path);
    const day = 86_400_000;
    for (let i = 1; i <= 5; i++) {
      await s.createRun(run(`r${i}`, { createdAt: i * day, finishedAt: i * day }));
      await s.appendLog(`r${i}`, { at: i, level: "info", message: "x" });
    }
    await s.createRun(run("live", { status: "running", createdAt: 0 }));
    writeFileSync(join(dir.path, "daemon/logs/ghost.jsonl"), "{}\n");
    writeFileSync(join(dir.path, "daemon/runs/.zz.claim"), "");
    const dry = await s.prune({ now: 6 * day, keepRuns: 3, maxAgeMs: 10 * day, dryRun: true });
    expect(dry.runs.sort()).toEqual(["r1", "r2"]);
    expect((await s.listRuns()).length).toBe(6);
    const r = await s.prune({ now: 6 * day, keepRuns: 3, maxAgeMs: 1.5 * day });
    expect(r.runs.sort()).toEqual(["r1", "r2", "r3", "r4"]);
    expect(r.orphans.map((p) => p.slice(dir.path.length))).toEqual(["/daemon/logs/ghost.jsonl", "/daemon/runs/.zz.claim"]);
    expect((await openFileStore(dir.path).listRuns()).map((x) => x.id)).toEqual(["r5", "live"]);
    expect(existsSync(join(dir.path, "daemon/logs/r1.jsonl"))).toBe(false);
    expect(existsSync(join(dir.path, "daemon/logs/r5.jsonl"))).toBe(true);
  });

  it("marks runs of a dead owner interrupted and leaves a live owner's runs alone", async () => {
    const s = openFileStore(dir.path);
    const dead = deadPid();
    await s.createRun(run("crashed", { status: "running", owner: { instance: "old", pid: dead }, startedAt: 5 }));
    await s.createRun(run("waiting", { status: "queued", owner: { instance: "old", pid: dead } }));
    await s.heartbeat("other", process.pid, 1000);
    await s.createRun(run("elsewhere", { status: "running", owner: { instance: "other", pid: process.pid } }));
    const r = await s.recoverInterrupted({ instance: "me", now: 2000, staleMs: 60_000 });
    expect(r.interrupted.map((x) => [x.id, x.status, x.reason])).toEqual([
      ["crashed", "interrupted", `the process that ran it (pid ${dead}) stopped before the run finished`],
    ]);
    expect(r.queued.map((x) => x.id)).toEqual(["waiting"]);
    expect((await openFileStore(dir.path).getRun("crashed"))!.status).toBe("interrupted");
    expect((await s.getRun("elsewhere"))!.status).toBe("running");
    const stale = await s.recoverInterrupted({ instance: "me", now: 1000 + 60_001, staleMs: 60_000 });
    expect(stale.interrupted.map((x) => x.id)).toEqual(["elsewhere"]);
  });
});
