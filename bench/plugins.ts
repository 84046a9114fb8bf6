// Plugin benchmark (not a test): what a plugin adds to the daemon's start-up, and what one call to an
// out-of-process plugin costs compared with the same action in process. Prints figures.
//
//   node --conditions=aicfg-source bench/plugins.ts [--starts 15] [--calls 2000]   (bun, deno run -A --conditions=aicfg-source too)
//
// Start-up: each sample is a fresh process (module caches cold, as at a real start) that times
// startDaemon to ready on a one-agent library with no plugin, one in-process plugin (pinned, so its
// files are hashed), and one isolated plugin (a child process on the same runtime, JSON-RPC on stdio).
// Calls: sequential `echo` action calls (input in, output out) and `echo-write` (one ctx.fs write:
// in process the scoped writer, out of process an fs.write call back to the daemon).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { DaemonConfig } from "../src/daemon/config.ts";
import { startDaemon } from "../src/daemon/daemon.ts";
import { runtimeName } from "../src/daemon/version.ts";
import { systemClock } from "../src/workflows/clock.ts";
import { actionRegistry } from "../src/workflows/actions/index.ts";
import type { ActionContext } from "../src/workflows/actions/types.ts";
import type { PluginEntry } from "../src/library/schema.ts";
import { scopedFs } from "../src/workflows/plugins/fs.ts";
import { pinPlugins } from "../src/testing/index.ts";

const { values } = parseArgs({ options: { starts: { type: "string", default: "15" }, calls: { type: "string", default: "2000" }, child: { type: "string" } } });
const PLUGIN = fileURLToPath(new URL("./fixtures/echo-plugin.ts", import.meta.url));
const MODES = { none: [], "in-process": [PLUGIN], isolated: [{ use: PLUGIN, isolation: "process", grant: { write: ["./out"] } }] } satisfies Record<
  string,
  PluginEntry[]
>;
type Mode = keyof typeof MODES;

function library(mode: Mode): { lib: string; state: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), "aicfg-bench-plugins-"));
  const lib = join(base, "lib");
  mkdirSync(join(lib, "agents"), { recursive: true });
  const entries = MODES[mode];
  writeFileSync(join(lib, "aicfg.yaml"), `name: bench\n${entries.length ? `plugins: ${JSON.stringify(entries)}\n` : ""}`);
  writeFileSync(join(lib, "agents", "a.md"), "---\ndescription: A\n---\nHello.\n");
  if (entries.length) pinPlugins(lib, entries);
  return { lib, state: join(base, "state"), base };
}

function config(lib: string, state: string): DaemonConfig {
  return {
    libraries: [lib],
    stateDir: state,
    listen: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
    shellEnabled: false,
    allowFileRemotes: false,
    envAllowlist: [],
    keepRuns: 10,
    maxAgeMs: 86_400_000,
    sweepIntervalMs: 600_000,
    drainTimeoutMs: 1000,
    retryInterrupted: false,
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 50);

if (values.child?.startsWith("load:")) {
  // The plugin's own cost, in this fresh process with aicfg's modules loaded: pin check, import and
  // setup (in process), or spawning the child and its describe call (isolated).
  const mode = values.child.slice(5) as Mode;
  const { lib, base } = library(mode);
  const { loadPlugins } = await import("../src/daemon/plugins/host.ts");
  const t0 = performance.now();
  const host = await loadPlugins([{ configFile: join(lib, "aicfg.yaml"), entries: MODES[mode] }]);
  const ms = performance.now() - t0;
  await host.stop();
  rmSync(base, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ms, loaded: host.loaded.length }));
  process.exit(0);
}

if (values.child) {
  // One start-up sample, in this fresh process.
  const mode = values.child as Mode;
  const { lib, state, base } = library(mode);
  const t0 = performance.now();
  const d = await startDaemon({ config: config(lib, state), hotReload: false });
  const ms = performance.now() - t0;
  const loaded = d.status().checks.plugins.loaded.length;
  await d.stop({ deadlineMs: 0 });
  rmSync(base, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ms, loaded }));
  process.exit(0);
}

// The sample plugins import `ai-configurator/plugin`: in a checkout that is src/ under the aicfg-source condition.
const runtimeCmd = (): string[] =>
  runtimeName() === "deno" ? [process.execPath, "run", "-A", "--conditions=aicfg-source"] : [process.execPath, "--conditions=aicfg-source"];
const STARTS = Number(values.starts);
const CALLS = Number(values.calls);
console.log(
  `plugin bench on ${runtimeName()} ${process.versions.bun ?? process.versions.deno ?? process.versions.node}: ${STARTS} cold starts per mode, ${CALLS} calls per action\n`,
);

const startup: Record<string, number> = {};
for (const mode of Object.keys(MODES) as Mode[]) {
  const samples: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const [cmd, ...pre] = runtimeCmd();
    const r = spawnSync(cmd!, [...pre, fileURLToPath(import.meta.url), "--child", mode], { encoding: "utf8", timeout: 120_000 });
    const out = JSON.parse(r.stdout || "{}") as { ms?: number; loaded?: number };
    if (out.ms === undefined || (mode !== "none" && out.loaded !== 1)) throw new Error(`start sample (${mode}) failed: ${r.stderr.slice(-800)}`);
    samples.push(out.ms);
  }
  startup[mode] = median(samples);
  console.log(
    `start to ready, ${mode.padEnd(10)}  median ${median(samples).toFixed(1)} ms  (min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)})`,
  );
}
console.log(
  `=> one in-process plugin adds ${(startup["in-process"]! - startup.none!).toFixed(1)} ms, one isolated plugin ${(startup.isolated! - startup.none!).toFixed(1)} ms to start-up`,
);
for (const mode of ["in-process", "isolated"] as const) {
  const samples: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const [cmd, ...pre] = runtimeCmd();
    const r = spawnSync(cmd!, [...pre, fileURLToPath(import.meta.url), "--child", `load:${mode}`], { encoding: "utf8", timeout: 120_000 });
    const out = JSON.parse(r.stdout || "{}") as { ms?: number; loaded?: number };
    if (out.ms === undefined || out.loaded !== 1) throw new Error(`load sample (${mode}) failed: ${r.stderr.slice(-800)}`);
    samples.push(out.ms);
  }
  console.log(
    `loading the plugin alone, ${mode.padEnd(10)}  median ${median(samples).toFixed(1)} ms  (min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)})`,
  );
}
console.log("");

async function calls(mode: "in-process" | "isolated"): Promise<void> {
  const { lib, state, base } = library(mode);
  const d = await startDaemon({ config: config(lib, state), hotReload: false, schedule: false });
  try {
    const ctx: ActionContext = {
      libraryRoot: lib,
      libraryName: "bench",
      stateDir: state,
      signal: new AbortController().signal,
      trigger: { kind: "manual" },
      run: { id: "bench", workflow: "bench", startedAt: Date.now() },
      attempt: 1,
      maxAttempts: 1,
      now: systemClock.now,
      clock: systemClock,
      log: () => {},
      steps: () => [],
      status: () => "success",
      settings: { shell: { enabled: false }, git: { allowFileRemotes: false }, env: {} },
      fs: scopedFs([lib, state], lib, "bench"),
    };
    for (const name of ["echo", "echo-write"]) {
      const action = actionRegistry.get(name)!;
      for (let i = 0; i < 50; i++) await action.run({ n: i }, ctx); // warm-up
      const us: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        const r = await action.run({ n: i }, ctx);
        us.push((performance.now() - t) * 1000);
        if (name === "echo" && r.outputs.n !== i) throw new Error("echo returned the wrong value");
      }
      const total = performance.now() - t0;
      console.log(
        `${name.padEnd(10)} ${mode.padEnd(10)}  p50 ${pct(us, 50).toFixed(0).padStart(6)} µs  p99 ${pct(us, 99).toFixed(0).padStart(6)} µs  ${(CALLS / (total / 1000)).toFixed(0).padStart(7)} calls/s`,
      );
    }
  } finally {
    await d.stop({ deadlineMs: 0 });
    rmSync(base, { recursive: true, force: true });
  }
}
await calls("in-process");
await calls("isolated");
