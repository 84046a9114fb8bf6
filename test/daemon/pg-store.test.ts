// The PostgreSQL run store: the shared RunStore conformance suite, then what only a cluster needs:
// each slot once across replicas, the fence on every write, the reaper, leases released on
// shutdown, migrations under a lock, the database clock, and recovery from dropped connections.
// Each test gets a database of its own on the local PostgreSQL; lease expiry is injected in SQL,
// never waited for.
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaseLostError, openPgStore, type PgStore } from "../../src/daemon/store/pg/pg-store.ts";
import { MIGRATIONS } from "../../src/daemon/store/pg/sql.ts";
import { createTestDatabase, queryDb, type TestDatabase } from "../helpers/pg.ts";
import { run, runStoreConformance } from "./store/conformance.ts";

let db: TestDatabase;
const opened: PgStore[] = [];
const open = async (instance = "replica-a", leaseMs = 60_000): Promise<PgStore> => {
  const s = await openPgStore({ url: db.url, instance, pid: 1, leaseMs, retries: 20 });
  opened.push(s);
  return s;
};
beforeEach(async () => {
  db = await createTestDatabase("pgstore");
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  await db.drop();
});
afterAll(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

runStoreConformance("postgres store", { open: () => open("conformance"), reopen: () => open("conformance-2") });

const expireLeases = (id: string) => queryDb(db.url, "UPDATE runs SET lease_until = now() - interval '1 second' WHERE id = $1", [id]);

describe("postgres store: cluster", () => {
  it("runs migrations once when replicas start together, and refuses a schema newer than it knows", async () => {
    const stores = await Promise.all([open("a"), open("b"), open("c")]);
    expect(stores.length).toBe(3);
    const rows = await queryDb<{ version: number }>(db.url, "SELECT version FROM aicfg_schema");
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await queryDb(db.url, "INSERT INTO aicfg_schema (version, name) VALUES (999, 'from the future')");
    await expect(open("d")).rejects.toThrow("the database schema is at version 999, newer than this aicfg knows");
  });

  it("counts an org's runs-per-hour quota in the database: three replicas creating runs at once pass it exactly up to its limit", async () => {
    const replicas = await Promise.all([open("a"), open("b"), open("c")]);
    const quota = { org: "acme", libraries: ["lib"], limit: 4, windowMs: 3_600_000, now: 5_000 };
    const runs = Array.from({ length: 12 }, (_, i) => run(`q-${i}`, { status: "queued", createdAt: 5_000, owner: { instance: "x", pid: 1 } }));
    await Promise.all(runs.map((r, i) => replicas[i % 3]!.createRun(r, { ...quota })));
    expect(runs.filter((r) => !r.overQuota).length).toBe(4);
    const rows = await queryDb<{ status: string; n: number }>(db.url, "SELECT status, count(*)::int AS n FROM runs GROUP BY status ORDER BY status");
    expect(rows).toEqual([
      { status: "queued", n: 4 },
      { status: "skipped", n: 8 },
    ]);
  });

  it("gives each schedule slot to exactly one replica: one ledger row, one run", async () => {
    const [a, b, c] = await Promise.all([open("a"), open("b"), open("c")]);
    const slotRun = (owner: string) =>
      run("cron-x-20310101T000000Z", { status: "queued", occurrence: "cron#0", scheduledAt: 1_924_992_000_000, owner: { instance: owner, pid: 1 } });
    const wins = await Promise.all([a!.createRun(slotRun("a")), b!.createRun(slotRun("b")), c!.createRun(slotRun("c"))]);
    expect(wins.filter(Boolean).length).toBe(1);
    const winner = ["a", "b", "c"][wins.indexOf(true)]!;
    const ledger = await queryDb<{ trigger_id: string; claimed_by: string; run_id: string; outcome: string }>(db.url, "SELECT * FROM occurrences");
    expect(ledger.map((r) => [r.trigger_id, r.claimed_by, r.run_id, r.outcome])).toEqual([["lib/w/cron#0", winner, "cron-x-20310101T000000Z", "started"]]);
    expect((await a!.listRuns()).map((r) => r.owner?.instance)).toEqual([winner]);
    // A replica that believed the slot missed cannot replace the claim; the owner can record its outcome.
    await b!.recordOccurrence({ library: "lib", workflow: "w", trigger: "cron#0", scheduledAt: 1_924_992_000_000, outcome: "missed", recordedAt: 1 });
    await a!.recordOccurrence({
      library: "lib",
      workflow: "w",
      trigger: "cron#0",
      scheduledAt: 1_924_992_000_000,
      outcome: "skipped",
      runId: "cron-x-20310101T000000Z",
      reason: "overlap",
      recordedAt: 2,
    });
    expect((await c!.listOccurrences()).map((o) => [o.outcome, o.runId])).toEqual([["skipped", "cron-x-20310101T000000Z"]]);
  });

  it("fences every write: a replica whose lease ran out cannot update the run another one took over", async () => {
    const a = await open("a");
    const b = await open("b");
    const mine = run("r1", { status: "running", owner: { instance: "a", pid: 1 }, startedAt: 5 });
    expect(await a.createRun(mine)).toBe(true);
    expect([...a.held()]).toEqual([["r1", 1]]);
    expect(await b.reap()).toEqual([]); // the lease is live: nothing to take over
    await expireLeases("r1");
    const [taken, ...more] = await b.reap();
    expect(more).toEqual([]);
    expect([taken!.run.id, taken!.run.attempt, taken!.run.status, taken!.run.owner?.instance]).toEqual(["r1", 2, "queued", "b"]);
    // Measured on the database clock from the old owner's last heartbeat (here: its create, just now).
    expect(taken!.takeoverMs).toBeGreaterThanOrEqual(0);
    expect(taken!.takeoverMs).toBeLessThan(5000);
    // The paused replica wakes up: its heartbeat finds the run lost, its completion is refused.
    expect(await a.renewLeases()).toEqual(["r1"]);
    const late = a.updateRun({ ...mine, status: "success", finishedAt: 9 });
    await expect(late).rejects.toBeInstanceOf(LeaseLostError);
    await expect(late).rejects.toThrow("FENCED: run r1 attempt 1 is no longer held by this replica");
    await b.updateRun({ ...taken!.run, status: "success", finishedAt: 10 });
    const final = await a.getRun("r1");
    expect([final!.status, final!.attempt, final!.owner?.instance, final!.finishedAt]).toEqual(["success", 2, "b", 10]);
    // A finished run has no lease any more: the reaper never takes it.
    await expireLeases("r1");
    expect(await a.reap()).toEqual([]);
  });

  it("renews the leases it holds, so a live run is never reaped", async () => {
    const a = await open("a", 200);
    const b = await open("b");
    await a.createRun(run("r1", { status: "queued", owner: { instance: "a", pid: 1 } }));
    const before = await queryDb<{ lease_until: Date }>(db.url, "SELECT lease_until FROM runs");
    await queryDb(db.url, "SELECT pg_sleep(0.05)");
    expect(await a.renewLeases()).toEqual([]);
    const after = await queryDb<{ lease_until: Date }>(db.url, "SELECT lease_until FROM runs");
    expect(after[0]!.lease_until.getTime()).toBeGreaterThan(before[0]!.lease_until.getTime());
    const stillLive = await queryDb<{ live: boolean }>(db.url, "SELECT lease_until > now() AS live FROM runs");
    if (stillLive[0]!.live) expect(await b.reap()).toEqual([]);
  });

  it("releases its leases on shutdown: another replica takes the runs at once and the old fence is refused", async () => {
    const a = await open("a");
    const b = await open("b");
    const r1 = run("r1", { status: "running", owner: { instance: "a", pid: 1 } });
    await a.createRun(r1);
    await a.createRun(run("r2", { status: "queued", owner: { instance: "a", pid: 1 } }));
    expect((await a.releaseLeases()).sort()).toEqual(["r1", "r2"]);
    await expect(a.updateRun({ ...r1, status: "interrupted" })).rejects.toBeInstanceOf(LeaseLostError);
    const taken = await b.reap();
    expect(taken.map((t) => [t.run.id, t.run.attempt, t.run.owner?.instance]).sort()).toEqual([
      ["r1", 3, "b"],
      ["r2", 3, "b"],
    ]);
  });

  it("two reapers never take the same run (FOR UPDATE SKIP LOCKED)", async () => {
    const a = await open("a");
    const [b, c] = await Promise.all([open("b"), open("c")]);
    for (let i = 0; i < 20; i++) await a.createRun(run(`r${i}`, { status: "running", owner: { instance: "a", pid: 1 }, createdAt: i }));
    await queryDb(db.url, "UPDATE runs SET lease_until = now() - interval '1 second'");
    const rounds = await Promise.all([b.reap(5), c.reap(5), b.reap(5), c.reap(5), b.reap(5), c.reap(5)]);
    const ids = rounds.flat().map((t) => t.run.id);
    expect(ids.length).toBe(20);
    expect(new Set(ids).size).toBe(20);
    const attempts = await queryDb<{ attempt: number }>(db.url, "SELECT DISTINCT attempt FROM runs");
    expect(attempts.map((r) => r.attempt)).toEqual([2]);
  });

  it("reads the database clock, whatever the process clock says", async () => {
    const a = await open("a");
    const offset = await a.syncClock();
    const [row] = await queryDb<{ now: number }>(db.url, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now");
    const measured = row!.now - Date.now();
    expect(Math.abs(offset - measured)).toBeLessThan(1000);
    expect(a.clockOffset()).toBe(offset);
  });

  it("survives its connections being terminated, and reports the database unreachable while it is", async () => {
    const a = await open("a");
    await a.createRun(run("r1"));
    await queryDb(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [db.name]);
    expect((await a.getRun("r1"))!.id).toBe("r1");
    expect(a.health()).toEqual({ ok: true });
    // A database that is gone: the store says so (no URL in the message) and recovers when it is back.
    await queryDb(db.url.replace(`/${db.name}`, "/postgres"), `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await queryDb(db.url.replace(`/${db.name}`, "/postgres"), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [db.name]);
    const down = await openPgStore({ url: db.url, instance: "x", retries: 0 }).catch((e: Error) => e);
    expect(String(down)).toContain("cannot open the PostgreSQL store");
    expect(String(down)).not.toContain(db.url);
    const failing = await a.syncClock().catch((e: Error) => e);
    expect(failing).toBeInstanceOf(Error);
    expect(a.health().ok).toBe(false);
    expect(a.problems!()[0]).toMatch(/^database (unreachable|connection lost)/);
    await queryDb(db.url.replace(`/${db.name}`, "/postgres"), `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await a.syncClock();
    expect(a.health()).toEqual({ ok: true });
  });

  it("a connection the server drops while a transaction holds it fails that call, not the process", async () => {
    const a = await open("a");
    // Another session holds the org's quota lock: createRun's transaction waits on it, checked out of the pool.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["quota:runs:acme"]);
    const quota = { org: "acme", libraries: ["lib"], limit: 10, windowMs: 3_600_000, now: 5_000 };
    const pending = a.createRun(run("q1"), quota).then(
      () => "created",
      (e: Error) => e,
    );
    const waiting = async () =>
      queryDb<{ pid: number }>(db.url, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()", [
        db.name,
      ]);
    let pids: { pid: number }[] = [];
    for (let i = 0; i < 100 && !pids.length; i++) {
      pids = await waiting();
      if (!pids.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids.length).toBe(1);
    await queryDb(db.url, "SELECT pg_terminate_backend($1)", [pids[0]!.pid]);
    // The dropped connection is a transient failure: the store retries on a fresh connection, which
    // waits on the lock again until the other session lets it go.
    await new Promise((r) => setTimeout(r, 300));
    await holder.query("ROLLBACK");
    await holder.end();
    expect(await pending).toBe("created");
    expect((await a.getRun("q1"))!.id).toBe("q1");
    expect(await a.createRun(run("q2"), quota)).toBe(true);
    expect((await a.getRun("q2"))!.id).toBe("q2");
  });

  it("rejects a run id that exists already without a ledger row as a duplicate slot", async () => {
    const a = await open("a");
    await a.createRun(run("cron-y", { status: "success" }));
    expect(await a.createRun(run("cron-y", { status: "queued", occurrence: "cron#0", scheduledAt: 5 }))).toBe(false);
    expect(await queryDb(db.url, "SELECT * FROM occurrences")).toEqual([]);
  });
});
