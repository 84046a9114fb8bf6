// Daemon benchmark (not a test): start-to-ready on the sample library, watch event to export
// done (p50/p95), idle CPU and RSS, and cron firing lateness (p50/p99). Prints figures.
//
//   node bench/daemon.ts [--idle-seconds 60] [--cron-seconds 30] [--events 30]
//
// Targets (issue "3 of 5"): ready < 0.5 s, event-to-export p95 < 150 ms plus the debounce,
// idle CPU < 1 %, cron lateness p99 < 50 ms.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { DaemonConfig } from "../src/daemon/config.ts";
import { startDaemon } from "../src/daemon/daemon.ts";
import type { DaemonEvent } from "../src/daemon/events.ts";
import { runtimeName } from "../src/daemon/version.ts";

const { values } = parseArgs({
  options: {
    "idle-seconds": { type: "string", default: "60" },
    "cron-seconds": { type: "string", default: "30" },
    events: { type: "string", default: "30" },
    "start-runs": { type: "string", default: "5" },
  },
});
const IDLE_S = Number(values["idle-seconds"]);
const CRON_S = Number(values["cron-seconds"]);
const EVENTS = Number(values.events);
const STARTS = Number(values["start-runs"]);
const DEBOUNCE_MS = 300;

const base = mkdtempSync(join(tmpdir(), "aicfg-bench-daemon-"));
const sample = join(import.meta.dirname, "../examples/library");

function config(lib: string, state: string): DaemonConfig {
  return {
    libraries: [lib],
    stateDir: state,
    listen: { host: "127.0.0.1", port: 7411, text: "127.0.0.1:7411" },
    shellEnabled: false,
    allowFileRemotes: false,
    envAllowlist: [],
    keepRuns: 1000,
    maxAgeMs: 30 * 86_400_000,
    sweepIntervalMs: 600_000,
    drainTimeoutMs: 5000,
    retryInterrupted: false,
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;

function copySample(name: string): string {
  const dir = join(base, name, "lib");
  cpSync(sample, dir, { recursive: true });
  return dir;
}

const results: Record<string, string> = {};
console.log(`aicfg daemon bench on ${runtimeName()} ${process.version} (${process.platform} ${process.arch})`);

// 1. Start to ready on the sample library (cold state folder each time).
{
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const lib = copySample(`start-${i}`);
    const t0 = performance.now();
    const d = await startDaemon({ config: config(lib, join(base, `start-${i}`, "state")) });
    times.push(performance.now() - t0);
    if (!d.status().ready) throw new Error("daemon not ready after start");
    await d.stop({ deadlineMs: 1000 });
  }
  results["in-process start to ready (median)"] = ms(pct(times, 50));
  results["in-process start to ready (first, cold)"] = ms(times[0]!);
}

// 1b. The same as a process: `aicfg daemon` spawned until it prints its ready line (includes
// runtime start-up and module loading), and the idle daemon's resident memory.
{
  const times: number[] = [];
  let rss = "n/a";
  for (let i = 0; i < STARTS; i++) {
    const lib = copySample(`proc-${i}`);
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, "../bin/aicfg.js"), "daemon", "--json", "--library", lib, "--state-dir", join(base, `proc-${i}`, "state")],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        if (b.toString().includes('"ready":true')) resolve();
      });
      child.on("exit", (code) => reject(new Error(`daemon exited with ${code}`)));
    });
    times.push(performance.now() - t0);
    if (i === 0 && existsSync(`/proc/${child.pid}/status`)) {
      await new Promise((r) => setTimeout(r, 2000));
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) rss = `${(Number(m[1]) / 1024).toFixed(1)} MiB`;
    }
    const exited = new Promise((r) => child.on("exit", r));
    process.kill(child.pid!, "SIGTERM");
    await exited;
  }
  results["process start to ready line (median)"] = ms(pct(times, 50));
  results["idle daemon process RSS (2 s after ready)"] = rss;
}

// 2. Watch event to export done, and 3. idle CPU/RSS, on one daemon.
{
  const lib = copySample("watch");
  const state = join(base, "watch", "state");
  const d = await startDaemon({ config: config(lib, state) });
  const latencies: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const done = new Promise<number>((resolve) => {
      const off = d.bus.subscribe((e: DaemonEvent) => {
        if (e.type === "run.finished" && e.workflow === "export-on-change") {
          off();
          resolve(performance.now());
        }
      });
    });
    const t0 = performance.now();
    writeFileSync(join(lib, "agents", "docs-writer.md"), `---\ndescription: Writes docs (edit ${i})\n---\nWrite clear documentation. Edit ${i}.\n`);
    latencies.push((await done) - t0);
    await d.idle();
    await new Promise((r) => setTimeout(r, 50));
  }
  const minusDebounce = latencies.map((x) => x - DEBOUNCE_MS);
  results["watch event to export done p50 (incl. 300 ms debounce)"] = ms(pct(latencies, 50));
  results["watch event to export done p95 (incl. 300 ms debounce)"] = ms(pct(latencies, 95));
  results["  of which after the debounce: p50 / p95"] = `${ms(pct(minusDebounce, 50))} / ${ms(pct(minusDebounce, 95))}`;

  // Idle: let the export/health runs settle, then measure.
  await d.idle();
  await new Promise((r) => setTimeout(r, 1000));
  if (typeof globalThis.gc === "function") globalThis.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  results[`idle CPU over ${IDLE_S} s`] = `${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(3)} %`;
  results["bench process RSS after the watch runs"] = `${(process.memoryUsage().rss / 1024 / 1024).toFixed(1)} MiB`;
  await d.stop({ deadlineMs: 1000 });
}

// 4. Cron firing lateness: a every-second schedule (6-field pattern), lag recorded per occurrence.
{
  const lib = copySample("cron");
  writeFileSync(
    join(lib, "workflows", "tick.yaml"),
    "name: tick\non:\n  cron: { schedule: '* * * * * *' }\nconcurrency: { overlap: allow_all }\nsteps:\n  - uses: health\n",
  );
  const d = await startDaemon({ config: config(lib, join(base, "cron", "state")) });
  const lags: number[] = [];
  d.bus.subscribe((e) => {
    if (e.type === "occurrence" && e.workflow === "tick" && e.lagMs !== undefined && e.outcome !== "missed") lags.push(e.lagMs);
  });
  await new Promise((r) => setTimeout(r, CRON_S * 1000));
  await d.stop({ deadlineMs: 2000 });
  results[`cron lateness over ${lags.length} occurrences: p50 / p99 / max`] = `${ms(pct(lags, 50))} / ${ms(pct(lags, 99))} / ${ms(Math.max(...lags))}`;
}

rmSync(base, { recursive: true, force: true });
const width = Math.max(...Object.keys(results).map((k) => k.length));
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(width)}  ${v}`);
