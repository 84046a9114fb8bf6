// The cluster proof as a test: three daemon processes on one PostgreSQL, a per-second schedule, one
// full fault cycle (kill -9 of the replica holding a run, SIGSTOP past the lease, every database
// connection terminated) with two replicas' clocks 90 s off. Bar: every slot exactly one ledger row
// and one successful run, no gap, no duplicate, takeover within lease + 2 s, the paused replica's
// late completion refused by the fence, and the skew gauge showing each replica's offset. The
// 10-minute version is `npm run bench:cluster`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeBin, until } from "../daemon/harness.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { spawnDaemon, type DaemonProcess } from "../daemon/process-helpers.ts";
import { createTestDatabase, queryDb } from "../helpers/pg.ts";
import { runClusterScenario } from "./cluster-scenario.ts";

const LEASE_MS = 3000;

describe("cluster: 3 replicas on PostgreSQL", () => {
  it("runs every slot exactly once through kill -9, SIGSTOP past the lease, dropped connections and ±90 s clocks", async () => {
    const lines: string[] = [];
    const r = await runClusterScenario({ durationMs: 24_000, leaseMs: LEASE_MS, cycleMs: 60_000, log: (l) => lines.push(l) });
    const summary = JSON.stringify({ ...r, log: lines }, null, 1);
    expect(r.slots, summary).toBeGreaterThanOrEqual(20);
    expect(r.ledgerRows, summary).toBe(r.slots);
    expect(r.completedRuns, summary).toBe(r.slots);
    expect(r.gaps, summary).toBe(0);
    expect(r.duplicates, summary).toBe(0);
    expect(r.incomplete, summary).toEqual([]);
    // One kill, one pause, and connections terminated, each hitting a run in flight.
    expect(r.kills.length, summary).toBe(1);
    expect(r.pauses.length, summary).toBe(1);
    expect(r.connectionKills, summary).toBeGreaterThan(0);
    // The runs the faults hit were taken over and finished by another replica under a raised fence.
    for (const v of r.victims) {
      expect([v.runId, v.status], summary).toEqual([v.runId, "success"]);
      expect(v.attempt, summary).toBeGreaterThanOrEqual(2);
      expect(v.owner, summary).not.toBe(v.faultedReplica);
    }
    // The paused replica noticed on waking that the run was no longer its own.
    expect(
      r.pauses.every((p) => p.fencedLogged),
      summary,
    ).toBe(true);
    expect(r.takeovers, summary).toBeGreaterThanOrEqual(2);
    expect(r.maxTakeoverMs, summary).toBeLessThanOrEqual(LEASE_MS + 2000);
    // process clock minus database clock, per replica (relative to this test's own clock)
    expect(Math.abs(r.skewGauges.a!), summary).toBeLessThan(2);
    expect(Math.abs(r.skewGauges.b! - 90), summary).toBeLessThan(2);
    expect(Math.abs(r.skewGauges.c! + 90), summary).toBeLessThan(2);
    expect(r.readyz, summary).toEqual({ a: 200, b: 200, c: 200 });
  }, 120_000);
});

describe("cluster: readiness follows the database", () => {
  it("answers /readyz 503 while the database is unreachable, recovers by itself, and never shows the URL's password", async () => {
    const db = await createTestDatabase("readyz");
    const dir = mkdtempSync(join(tmpdir(), "aicfg-readyz-"));
    const admin = db.url.replace(`/${db.name}`, "/postgres");
    // Trust auth ignores the password: it is a canary that must appear nowhere.
    const url = db.url.replace("postgres@", "postgres:pw-canary-7f3a9@");
    let d: DaemonProcess | undefined;
    try {
      writeLibrary(join(dir, "lib"));
      writeFileSync(
        join(dir, "daemon.yaml"),
        `libraries: [lib]\nstate_dir: state\nlisten: 127.0.0.1:0\nstore: { kind: postgres, url_file: pg-url, lease: 1500ms }\n`,
      );
      writeFileSync(join(dir, "pg-url"), url + "\n");
      d = spawnDaemon(["--config", join(dir, "daemon.yaml"), "--log-format", "json"]);
      await d.ready;
      const api = readFileSync(join(dir, "state", "api-url"), "utf8").trim();
      const readyz = async () => {
        const r = await fetch(`${api}/readyz`);
        return { status: r.status, body: await r.text() };
      };
      expect((await readyz()).status).toBe(200);
      await queryDb(admin, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await queryDb(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [db.name]);
      let down = { status: 0, body: "" };
      await until(async () => (down = await readyz()).status === 503, "/readyz to fail while the database refuses connections", 20_000);
      expect(down.body).toContain("database");
      await queryDb(admin, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      await until(async () => (await readyz()).status === 200, "/readyz to pass once the database is back", 20_000);
      const metrics = await (await fetch(`${api}/metrics`)).text();
      expect(metrics).toMatch(/^aicfg_clock_skew_seconds /m);
      for (const text of [d.stderr(), d.stdout(), down.body, metrics]) expect(text).not.toContain("pw-canary-7f3a9");
      process.kill(d.child.pid!, "SIGTERM");
      expect((await d.exited).code).toBe(0);
    } finally {
      if (d && d.child.exitCode === null) process.kill(d.child.pid!, "SIGKILL");
      await queryDb(admin, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => {});
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("cluster: graceful shutdown", () => {
  it("on SIGTERM hands a run it cannot finish within the drain deadline to another replica at once, not after the lease", async () => {
    const db = await createTestDatabase("sigterm");
    const dir = mkdtempSync(join(tmpdir(), "aicfg-sigterm-"));
    const LEASE = 15_000;
    const replicas: DaemonProcess[] = [];
    try {
      // One slot every 5 s, each run working 3 s: longer than the 300 ms drain deadline.
      writeLibrary(join(dir, "lib"), {
        slow: [
          "name: slow",
          "on:",
          "  cron: { schedule: '*/5 * * * * *' }",
          "concurrency: { overlap: allow_all }",
          "steps:",
          "  - id: work",
          "    uses: shell",
          "    with:",
          `      command: [${JSON.stringify(nodeBin())}, "-e", "setTimeout(() => {}, 3000)"]`,
          "",
        ].join("\n"),
      });
      for (const name of ["a", "b"]) {
        writeFileSync(
          join(dir, `${name}.yaml`),
          `libraries: [lib]\nstate_dir: state-${name}\nlisten: 127.0.0.1:0\nactions: { shell: { enabled: true } }\ndrain_timeout: 300ms\nstore: { kind: postgres, url_env: AICFG_TEST_PG_URL, lease: ${LEASE}ms }\n`,
        );
        const d = spawnDaemon(["--config", join(dir, `${name}.yaml`), "--log-format", "json"], { AICFG_TEST_PG_URL: db.url });
        replicas.push(d);
        await d.ready;
      }
      let held: { id: string; owner: string } | undefined;
      await until(
        async () => {
          const rows = await queryDb<{ id: string; owner: string }>(db.url, "SELECT id, owner FROM runs WHERE status = 'running' AND attempt = 1");
          held = rows[0];
          return held !== undefined;
        },
        "a run in flight",
        20_000,
      );
      const holder = replicas.find((d) => held!.owner.startsWith(`${d.child.pid}-`))!;
      const other = replicas.find((d) => d !== holder)!;
      const sentAt = Date.now();
      process.kill(holder.child.pid!, "SIGTERM");
      expect((await holder.exited).code).toBe(0);
      let final: { status: string; attempt: number; owner: string | null } | undefined;
      await until(
        async () => {
          [final] = await queryDb<{ status: string; attempt: number; owner: string | null }>(db.url, "SELECT status, attempt, owner FROM runs WHERE id = $1", [
            held!.id,
          ]);
          return final?.status === "success";
        },
        "the other replica to finish the released run",
        LEASE + 10_000,
      );
      const tookMs = Date.now() - sentAt;
      expect(final!.attempt).toBeGreaterThanOrEqual(2);
      expect(final!.owner!.startsWith(`${other.child.pid}-`)).toBe(true);
      // Released: taken over on the other replica's next beat, long before the 15 s lease could have run out.
      expect(tookMs).toBeLessThan(LEASE);
      expect(holder.stderr()).toContain("released 1 run(s) to the other replicas");
      // The run history is in the database: `aicfg runs` and `aicfg logs` read it through the config.
      const cli = (...args: string[]) => {
        const r = spawnSync(nodeBin(), [join(import.meta.dirname, "../../bin/aicfg.js"), ...args, "--config", join(dir, "a.yaml"), "--json"], {
          encoding: "utf8",
          env: { ...process.env, AICFG_TEST_PG_URL: db.url },
          timeout: 30_000,
        });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as Record<string, unknown>;
      };
      const listed = (cli("runs") as { runs: { id: string; status: string; attempt: number }[] }).runs.find((x) => x.id === held!.id);
      expect([listed?.status, listed?.attempt]).toEqual(["success", final!.attempt]);
      const logs = cli("logs", held!.id) as { log: { message: string }[] };
      expect(logs.log.some((l) => l.message.startsWith(`run ${held!.id} of lib/slow started`))).toBe(true);
    } finally {
      for (const d of replicas) if (d.child.exitCode === null) process.kill(d.child.pid!, "SIGKILL");
      await Promise.all(replicas.map((d) => d.exited));
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
