// Benchmark (not a test): `node bench/export.ts [--files 10000] [--agents 100] [--targets q-cli,kiro-cli,claude-code]`.
// Generates a synthetic library (N knowledge files of 1-5 KB, agents with globs), then times
// `aicfg export --all` as a user runs it (a fresh process each time): cold, warm with nothing
// changed (the bar: at most 25% of cold, and 150 ms at 10k files), after one knowledge file and
// after one agent file changed (with how many outputs were rendered again), with the peak RSS.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "10000" },
    agents: { type: "string", default: "100" },
    targets: { type: "string", default: "q-cli,kiro-cli,claude-code" },
    runs: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
  },
});
const N = Number(values.files);
const AGENTS = Number(values.agents);
const RUNS = Number(values.runs);
const repo = fileURLToPath(new URL("..", import.meta.url));
const work = join(repo, "bench", ".work", `export-${N}`);
mkdirSync(work, { recursive: true });
const lib = join(work, "library");
const out = join(work, "out");
const state = join(work, "state");

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function generate(): void {
  rmSync(work, { recursive: true, force: true });
  const r = rand(42);
  const areas = 20;
  mkdirSync(join(lib, "agents"), { recursive: true });
  mkdirSync(join(lib, "mcp"), { recursive: true });
  writeFileSync(join(lib, "aicfg.yaml"), `name: bench\ntargets: [${values.targets}]\n`);
  writeFileSync(join(lib, "mcp", "fetch.yaml"), "command: uvx\nargs: [mcp-server-fetch]\n");
  writeFileSync(join(lib, "mcp", "github.yaml"), "type: http\nurl: https://api.githubcopilot.com/mcp/\nheaders:\n  Authorization: Bearer ${GITHUB_TOKEN}\n");
  const para = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
  for (let i = 0; i < N; i++) {
    const dir = join(lib, "knowledge", `area-${i % areas}`, `topic-${Math.floor(i / areas) % 25}`);
    if (i < areas * 25) mkdirSync(dir, { recursive: true });
    const size = 1024 + Math.floor(r() * 4096);
    writeFileSync(join(dir, `doc-${i}.md`), `# Document ${i}\n\n${para.repeat(Math.ceil(size / para.length)).slice(0, size)}\n`);
  }
  for (let a = 0; a < AGENTS; a++) {
    const area = a % areas;
    writeFileSync(
      join(lib, "agents", `agent-${a}.md`),
      `---\ndescription: Synthetic agent ${a}\nmodel: claude-sonnet-4\nknowledge:\n  - area-${area}/topic-${a % 25}/**\n  - path: area-${(area + 1) % areas}/topic-0/*.md\n    mode: on-demand\nmcp: [fetch, github]\ntools:\n  allow: [read, write, shell, "@fetch"]\n  trusted: [read]\n---\nYou are synthetic agent ${a}. Follow the knowledge files.\n`,
    );
  }
}

type Run = { ms: number; rssMB: number; code: number; written: number; rendered?: string };

// Users run the compiled package (npm build output), so the benchmark does too.
const dist = join(repo, "bench", ".work", "dist");
function build(): void {
  const r = spawnSync(join(repo, "node_modules", ".bin", "tsc"), ["-p", join(repo, "tsconfig.build.json"), "--outDir", dist], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error("build failed");
  }
}

function exportOnce(): Run {
  const wrapper = `const m = await import(${JSON.stringify(join(dist, "daemon/cli/main.js"))});
const code = await m.runCli(["export", "--all", "--library", ${JSON.stringify(lib)}, "--root", ${JSON.stringify(out)}, "--state-dir", ${JSON.stringify(state)}, "--json"], { out: (t) => { globalThis.__out = t; }, err: () => {}, color: false, tty: false, cwd: process.cwd(), env: process.env });
const r = JSON.parse(globalThis.__out);
process.stderr.write(JSON.stringify({ rss: process.resourceUsage().maxRSS, written: r.written, rendered: r.rendered.outputs + " of " + r.rendered.totalOutputs, code }) + "\\n");
process.exit(code === 3 ? 0 : code);`;
  const t0 = performance.now();
  const p = spawnSync(process.execPath, ["--input-type=module", "-e", wrapper], { encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  const last = p.stderr.trim().split("\n").pop() ?? "{}";
  let info: { rss?: number; written?: number; code?: number; rendered?: string } = {};
  try {
    info = JSON.parse(last);
  } catch {
    process.stderr.write(p.stderr);
  }
  return {
    ms,
    rssMB: (info.rss ?? 0) / 1024,
    code: info.code ?? p.status ?? -1,
    written: info.written ?? -1,
    ...(info.rendered ? { rendered: info.rendered } : {}),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

console.log(`bench/export: ${N} knowledge files, ${AGENTS} agents, targets ${values.targets}, ${process.version} (${process.platform}/${process.arch})`);
const b0 = performance.now();
build();
console.log(`built the CLI in ${(performance.now() - b0).toFixed(0)} ms`);
const g0 = performance.now();
generate();
console.log(`generated library in ${(performance.now() - g0).toFixed(0)} ms at ${lib}`);

const cold: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  rmSync(out, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
  cold.push(exportOnce());
}
const warm: Run[] = [];
for (let i = 0; i < RUNS; i++) warm.push(exportOnce());
const changed: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const f = join(lib, "knowledge", "area-3", "topic-3", "doc-63.md");
  if (existsSync(f)) appendFileSync(f, `\nEdit ${i}.\n`);
  changed.push(exportOnce());
}
const agentChanged: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  appendFileSync(join(lib, "agents", "agent-7.md"), `\nAlso edit ${i}.\n`);
  agentChanged.push(exportOnce());
}
// The daemon's case: the library is loaded in a running process, a watch event names the changed
// file, the library is refreshed incrementally and exported.
function incremental(): Run[] {
  const script = `const { loadLibrary, refreshLibrary } = await import(${JSON.stringify(join(dist, "library/load.js"))});
const { exportLibrary } = await import(${JSON.stringify(join(dist, "adapters/export.js"))});
const { appendFileSync } = await import("node:fs");
const opts = { root: ${JSON.stringify(out)}, stateDir: ${JSON.stringify(state)} };
let lib = loadLibrary(${JSON.stringify(lib)});
exportLibrary({ ...opts, library: lib });
const f = ${JSON.stringify(join(lib, "knowledge", "area-5", "topic-5", "doc-105.md"))};
const runs = [];
for (let i = 0; i < ${Math.max(RUNS, 5)}; i++) {
  appendFileSync(f, "\\nEdit " + i + ".\\n");
  const t0 = performance.now();
  lib = refreshLibrary(lib, [f]);
  const r = exportLibrary({ ...opts, library: lib, changedPaths: [f] });
  runs.push({ ms: performance.now() - t0, rssMB: process.resourceUsage().maxRSS / 1024, code: r.errors.length ? 1 : 0, written: r.applied.written.length });
}
process.stdout.write(JSON.stringify(runs));`;
  const p = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (p.status !== 0) {
    console.error(p.stderr);
    return [{ ms: NaN, rssMB: 0, code: p.status ?? -1, written: -1 }];
  }
  return JSON.parse(p.stdout) as Run[];
}
const inc = incremental();

const row = (label: string, runs: Run[], target: number, why = "") => {
  const ms = median(runs.map((r) => r.ms));
  const rss = Math.max(...runs.map((r) => r.rssMB));
  const rendered = runs[runs.length - 1]!.rendered;
  console.log(
    `${label.padEnd(40)} median ${ms.toFixed(0).padStart(6)} ms  (runs: ${runs.map((r) => r.ms.toFixed(0)).join(", ")})  peak RSS ${rss.toFixed(0)} MB  files written ${runs[0]!.written}` +
      `${rendered ? `  outputs rendered ${rendered}` : ""}  target <= ${target.toFixed(0)} ms${why} ${ms <= target ? "OK" : "MISSED"}`,
  );
  if (runs.some((r) => r.code !== 0)) console.log(`  note: exit codes ${runs.map((r) => r.code).join(", ")}`);
  return ms;
};
const scale = N / 10000;
const coldMs = row("cold export", cold, 1500 * scale);
// The no-op bar: a quarter of the cold export measured in this same run, and 150 ms at 10k files.
const noopBar = N <= 10000 ? Math.min(0.25 * coldMs, 150) : 0.25 * coldMs;
row("warm, nothing changed", warm, noopBar, N <= 10000 ? " (25% of cold, and 150 ms)" : " (25% of cold)");
console.log(`${"".padEnd(40)} no-op / cold = ${((median(warm.map((r) => r.ms)) / coldMs) * 100).toFixed(1)} %`);
row("one knowledge file changed (new process)", changed, 300 * Math.max(1, scale));
row("one agent file changed (new process)", agentChanged, 1500 * scale);
row("one file changed (daemon, incremental)", inc, 150 * Math.max(1, scale));
if (!values.keep) rmSync(work, { recursive: true, force: true });
