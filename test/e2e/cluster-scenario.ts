// The cluster proof, shared by the e2e test (test/e2e/cluster.test.ts, about half a minute) and the
// soak (bench/cluster-soak.ts, 10 minutes by default): three real `aicfg daemon` processes on one
// PostgreSQL, a per-second schedule whose runs take 0.8 s, two replicas with their clocks skewed by
// +90 s and -90 s (libfaketime), and a fault cycle: kill -9 of the replica that holds a run (it is
// restarted once its lease ran out), SIGSTOP of the replica that holds a run for longer than the
// lease then SIGCONT, and every database connection terminated. Afterwards the ledger and the runs
// are read back: every slot must have exactly one ledger row and one successful run.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeBin } from "../daemon/harness.ts";
import { createTestDatabase, queryDb, type TestDatabase } from "../helpers/pg.ts";

const BIN = join(import.meta.dirname, "../../bin/aicfg.js");
const TRIGGER = "lib/tick/cron#0";

/** libfaketime (installed by `.ci/run` with the faketime package), or the one AICFG_LIBFAKETIME names. */
function findLibfaketime(): string | undefined {
  const candidates = [
    process.env.AICFG_LIBFAKETIME,
    ...(process.env.LD_PRELOAD ?? "").split(/[:\s]+/).filter((p) => p.includes("libfaketime")),
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

export type ScenarioOptions = {
  durationMs: number;
  leaseMs: number;
  /** One fault cycle (kill -9, SIGSTOP, terminated connections) per this long. */
  cycleMs: number;
  /** Clock skew of the second and third replica, seconds (default +90 and -90). */
  skewSeconds?: [number, number];
  log?: (line: string) => void;
};

export type ScenarioReport = {
  slots: number;
  ledgerRows: number;
  completedRuns: number;
  duplicates: number;
  gaps: number;
  /** Slots whose ledger row is there but whose run did not succeed (with their status). */
  incomplete: { scheduledAt: number; status: string }[];
  takeovers: number;
  maxTakeoverMs: number;
  leaseMs: number;
  kills: { replica: string; runId: string }[];
  pauses: { replica: string; runId: string; fencedLogged: boolean }[];
  connectionKills: number;
  /** The run a fault hit, as it ended: status, attempt, final owner replica. */
  victims: { runId: string; fault: "kill" | "pause"; status: string; attempt: number; owner: string | null; faultedReplica: string }[];
  skewGauges: Record<string, number | undefined>;
  readyz: Record<string, number>;
  durationMs: number;
};

type Replica = { name: string; skewSeconds: number; dir: string; child?: ChildProcess; pid?: number; err: string; instance?: string; exited?: Promise<void> };

/** The last lines of a replica's JSON log, as `time message`. */
function tail(text: string, n: number): string {
  return text
    .trim()
    .split("\n")
    .slice(-n)
    .map((l) => {
      try {
        const j = JSON.parse(l) as { time?: string | number; msg?: string };
        return `${typeof j.time === "number" ? new Date(j.time).toISOString() : j.time} ${j.msg}`;
      } catch {
        return l;
      }
    })
    .join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dbSkewSeconds(url: string): Promise<number> {
  const [row] = await queryDb<{ now: number }>(url, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now");
  return (Date.now() - row!.now) / 1000;
}

function workflow(): string {
  // Per-second slots; each run works 0.8 s, so at any moment some replica holds a running run.
  return [
    "name: tick",
    "on:",
    "  cron: { schedule: '* * * * * *' }",
    "concurrency: { overlap: allow_all }",
    "timeout: 60s",
    "steps:",
    "  - id: work",
    "    uses: shell",
    "    with:",
    `      command: [${JSON.stringify(nodeBin())}, "-e", "setTimeout(() => {}, 800)"]`,
    "",
  ].join("\n");
}

export async function runClusterScenario(o: ScenarioOptions): Promise<ScenarioReport> {
  const t0 = Date.now();
  const log = (line: string) => o.log?.(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`);
  const libfaketime = findLibfaketime();
  if (!libfaketime) throw new Error("libfaketime not found: install faketime (apt-get install faketime) or set AICFG_LIBFAKETIME to libfaketime.so.1");
  const db: TestDatabase = await createTestDatabase("cluster");
  const base = mkdtempSync(join(tmpdir(), "aicfg-cluster-"));
  const lib = join(base, "lib");
  mkdirSync(join(lib, "workflows"), { recursive: true });
  writeFileSync(join(lib, "aicfg.yaml"), "name: lib\ntargets: [claude-code]\nexport:\n  scope: project\n  root: ../project\n");
  writeFileSync(join(lib, "workflows", "tick.yaml"), workflow());
  // This process may itself run under faketime (CI runs the suite a year ahead): skews are relative to it.
  const parentSkew = await dbSkewSeconds(db.url);
  const [skewB, skewC] = o.skewSeconds ?? [90, -90];
  const replicas: Replica[] = [
    { name: "a", skewSeconds: 0, dir: join(base, "a"), err: "" },
    { name: "b", skewSeconds: skewB, dir: join(base, "b"), err: "" },
    { name: "c", skewSeconds: skewC, dir: join(base, "c"), err: "" },
  ];
  const started = Date.now();
  const kills: ScenarioReport["kills"] = [];
  const pauses: { replica: Replica; runId: string; fencedLogged: boolean }[] = [];
  const victims: { runId: string; fault: "kill" | "pause"; faultedReplica: string }[] = [];
  let connectionKills = 0;

  const start = async (r: Replica) => {
    mkdirSync(r.dir, { recursive: true });
    const config = join(r.dir, "daemon.yaml");
    writeFileSync(
      config,
      [
        `libraries: [${JSON.stringify(lib)}]`,
        `state_dir: ${JSON.stringify(join(r.dir, "state"))}`,
        "listen: 127.0.0.1:0",
        "actions: { shell: { enabled: true } }",
        `store: { kind: postgres, url_env: AICFG_TEST_PG_URL, lease: ${o.leaseMs}ms }`,
        "drain_timeout: 10s",
        // Every run of the soak stays for the count (the default keeps 200 per workflow).
        "retention: { keep_runs: 1000000 }",
        "",
      ].join("\n"),
    );
    rmSync(join(r.dir, "state", "api-url"), { force: true });
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: "1", AICFG_TEST_PG_URL: db.url };
    const total = parentSkew + r.skewSeconds;
    if (r.skewSeconds !== 0 || env.FAKETIME) {
      // Under a suite-wide faketime the library is preloaded already: only FAKETIME changes.
      if (!env.LD_PRELOAD?.includes("libfaketime")) env.LD_PRELOAD = [libfaketime, env.LD_PRELOAD].filter(Boolean).join(":");
      env.FAKETIME = `${total >= 0 ? "+" : "-"}${Math.abs(Math.round(total))}s`;
      env.FAKETIME_DONT_FAKE_MONOTONIC = "1";
      env.FAKETIME_NO_CACHE = "1";
    }
    const child = spawn(nodeBin(), [BIN, "daemon", "--json", "--config", config], { stdio: ["ignore", "pipe", "pipe"], env });
    r.child = child;
    r.pid = child.pid;
    r.err = "";
    child.stderr!.on("data", (b: Buffer) => (r.err += b.toString()));
    r.exited = new Promise((res) => child.on("exit", () => res()));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const line = out.split("\n").find((l) => l.startsWith('{"ready":'));
        if (line) {
          r.instance = (JSON.parse(line) as { instance: string }).instance;
          resolve();
        }
      });
      void r.exited!.then(() => reject(new Error(`replica ${r.name} exited before it was ready:\n${r.err}`)));
    });
    log(
      `replica ${r.name} ready (pid ${r.pid}, clock ${r.skewSeconds >= 0 ? "+" : ""}${r.skewSeconds} s from this process's, which is ${Math.round(parentSkew)} s off the database's)`,
    );
  };

  const apiUrl = (r: Replica) => readFileSync(join(r.dir, "state", "api-url"), "utf8").trim();
  const replicaByInstance = (instance: string | null) => replicas.find((r) => r.instance === instance);

  /** A run in flight now and the replica that holds it. */
  const heldRun = async (exclude: Replica[] = []): Promise<{ runId: string; replica: Replica } | undefined> => {
    for (let i = 0; i < 100; i++) {
      const rows = await queryDb<{ id: string; owner: string | null }>(
        db.url,
        "SELECT id, owner FROM runs WHERE status = 'running' AND attempt = 1 AND lease_until > now() ORDER BY created_at DESC",
      );
      for (const row of rows) {
        const r = replicaByInstance(row.owner);
        if (r && !exclude.includes(r) && r.child) return { runId: row.id, replica: r };
      }
      await sleep(50);
    }
    return undefined;
  };

  try {
    for (const r of replicas) await start(r);
    // A per-second schedule starts 3,600 runs an hour; the default org's quota (600 runs per hour)
    // would skip every slot after the first ten minutes. Raised the way an operator does it.
    const quota = spawnSync(nodeBin(), [BIN, "org", "quota", "default", "--runs-per-hour", "1000000", "--config", join(replicas[0]!.dir, "daemon.yaml")], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", AICFG_TEST_PG_URL: db.url },
    });
    if (quota.status !== 0) throw new Error(`aicfg org quota failed (${quota.status}):\n${quota.stderr}`);
    // The duration counts from the moment all three replicas are ready (start-up is slow on a loaded machine).
    const end = Date.now() + o.durationMs;
    // Faults stop a lease and a few seconds before the end, so every fault has been recovered from when the replicas stop.
    const faultsUntil = end - (o.leaseMs + 4000);
    let cycle = 0;
    while (Date.now() < faultsUntil) {
      const cycleStart = Date.now();
      cycle++;
      // 1. kill -9 the replica that holds a run; restart it once its lease ran out.
      const k = Date.now() + o.leaseMs + 1000 < faultsUntil ? await heldRun() : undefined;
      if (k) {
        log(`cycle ${cycle}: kill -9 replica ${k.replica.name} holding ${k.runId}`);
        process.kill(k.replica.pid!, "SIGKILL");
        await k.replica.exited;
        k.replica.child = undefined;
        kills.push({ replica: k.replica.name, runId: k.runId });
        victims.push({ runId: k.runId, fault: "kill", faultedReplica: k.replica.instance! });
        await sleep(o.leaseMs + 1000);
        await start(k.replica);
      }
      // 2. SIGSTOP a replica that holds a run, past its lease; then SIGCONT (only while there is time to recover from it).
      const p = Date.now() + o.leaseMs + 2000 < faultsUntil ? await heldRun() : undefined;
      if (p) {
        log(`cycle ${cycle}: SIGSTOP replica ${p.replica.name} holding ${p.runId} for ${o.leaseMs + 2000} ms`);
        process.kill(p.replica.pid!, "SIGSTOP");
        await sleep(o.leaseMs + 2000);
        process.kill(p.replica.pid!, "SIGCONT");
        // On waking, the replica finds the run taken over (its lease renewal or its next write is refused).
        const fencedLine = `FENCED: run ${p.runId}`;
        for (let i = 0; i < 60 && !p.replica.err.includes(fencedLine); i++) await sleep(50);
        pauses.push({ replica: p.replica, runId: p.runId, fencedLogged: p.replica.err.includes(fencedLine) });
        victims.push({ runId: p.runId, fault: "pause", faultedReplica: p.replica.instance! });
      }
      await sleep(1000);
      // 3. Terminate every connection to the database.
      const killed = await queryDb<{ n: number }>(
        db.url,
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [db.name],
      );
      connectionKills += killed[0]!.n;
      log(`cycle ${cycle}: terminated ${killed[0]!.n} database connection(s)`);
      const rest = o.cycleMs - (Date.now() - cycleStart);
      if (rest > 0) await sleep(Math.min(rest, Math.max(0, faultsUntil - Date.now())));
    }
    if (Date.now() < end) await sleep(end - Date.now());

    // Probes while everyone runs: readiness and the skew gauge of each replica.
    const skewGauges: Record<string, number | undefined> = {};
    const readyz: Record<string, number> = {};
    for (const r of replicas) {
      const url = apiUrl(r);
      // A replica that died answers nothing: 0 in the report (the bar then fails with its stderr shown), not a crash of the scenario.
      readyz[r.name] = await fetch(`${url}/readyz`).then(
        (res) => res.status,
        () => 0,
      );
      const text = await fetch(`${url}/metrics`).then(
        (res) => res.text(),
        () => "",
      );
      const m = /^aicfg_clock_skew_seconds\S* (-?[\d.e+-]+)$/m.exec(text);
      skewGauges[r.name] = m ? Number(m[1]) - parentSkew : undefined;
    }
    const fenced = pauses.map((p) => ({ replica: p.replica.name, runId: p.runId, fencedLogged: p.fencedLogged }));

    // Stop: SIGTERM drains the runs in flight.
    log("SIGTERM to every replica");
    for (const r of replicas) process.kill(r.pid!, "SIGTERM");
    await Promise.all(replicas.map((r) => r.exited!.then(() => log(`replica ${r.name} exited`))));
    log("every replica stopped");
    if (process.env.AICFG_CLUSTER_DEBUG) for (const r of replicas) log(`--- replica ${r.name} ---\n${tail(r.err, 40)}`);

    const ledger = await queryDb<{ scheduled_at: string; run_id: string | null; outcome: string }>(
      db.url,
      "SELECT scheduled_at, run_id, outcome FROM occurrences WHERE trigger_id = $1 ORDER BY scheduled_at",
      [TRIGGER],
    );
    const runs = await queryDb<{ id: string; status: string; attempt: number; owner: string | null; takeover_ms: number | null; scheduled_at: string | null }>(
      db.url,
      "SELECT id, status, attempt, owner, takeover_ms, record->>'scheduledAt' AS scheduled_at FROM runs",
    );
    const times = ledger.map((l) => Number(l.scheduled_at));
    const first = Math.min(...times);
    const last = Math.max(...times);
    const slots = times.length ? (last - first) / 1000 + 1 : 0;
    const bySlot = new Map<number, typeof runs>();
    for (const r of runs) {
      if (r.scheduled_at === null) continue;
      const t = Number(r.scheduled_at);
      bySlot.set(t, [...(bySlot.get(t) ?? []), r]);
    }
    const haveRow = new Set(times);
    const incomplete: ScenarioReport["incomplete"] = [];
    let completedRuns = 0;
    let missingRows = 0;
    for (let t = first; t <= last; t += 1000) {
      if (!haveRow.has(t)) {
        missingRows++;
        continue;
      }
      const rs = bySlot.get(t) ?? [];
      const ok = rs.filter((r) => r.status === "success").length;
      completedRuns += Math.min(ok, 1);
      if (ok === 0) incomplete.push({ scheduledAt: t, status: rs.map((r) => r.status).join(",") || "no run" });
    }
    const duplicates =
      [...bySlot.values()].filter((rs) => rs.length > 1).length + runs.filter((r) => r.scheduled_at !== null && !haveRow.has(Number(r.scheduled_at))).length;
    const takeoverTimes = runs.flatMap((r) => (r.takeover_ms === null ? [] : [r.takeover_ms]));
    const finalOf = (id: string) => runs.find((r) => r.id === id);
    return {
      slots,
      ledgerRows: ledger.length,
      completedRuns,
      duplicates,
      gaps: missingRows + incomplete.length,
      incomplete,
      takeovers: takeoverTimes.length,
      maxTakeoverMs: takeoverTimes.length ? Math.max(...takeoverTimes) : 0,
      leaseMs: o.leaseMs,
      kills,
      pauses: fenced,
      connectionKills,
      victims: victims.map((v) => {
        const f = finalOf(v.runId);
        return { ...v, status: f?.status ?? "missing", attempt: f?.attempt ?? 0, owner: f?.owner ?? null };
      }),
      skewGauges,
      readyz,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    for (const r of replicas) log(`--- replica ${r.name} ---\n${tail(r.err, 40)}`);
    throw e;
  } finally {
    for (const r of replicas) {
      if (r.child && r.child.exitCode === null && r.child.signalCode === null) {
        try {
          process.kill(r.pid!, "SIGCONT");
          process.kill(r.pid!, "SIGKILL");
        } catch {
          /* gone */
        }
        await r.exited;
      }
    }
    await db.drop();
    rmSync(base, { recursive: true, force: true });
  }
}
