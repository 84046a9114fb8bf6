// Side by side with ruler on the workload peers are built for (issue "3 of 7"): one agent that always
// loads every knowledge file, exported to every target. Generates the library with the shared
// peer-bench generator (`--layout aicfg` for us, `--layout ruler` for ruler, same bodies), then per
// size and repetition runs cold (fresh tree), no-op (again, nothing changed) and edit (one line
// appended to one knowledge file) in a new process each, and prints medians of wall time, peak RSS
// (/usr/bin/time -v), output files and bytes and the largest output file.
//   npm run bench:peer                       # N = 1,000 and 10,000, 3 repetitions
//   npm run bench:peer -- --sizes 1000 --reps 1 --with-100k
// Ours runs as the compiled build (tsc into bench/.work/peer-dist), as users run it; --source runs src/.
// PEERS_DIR (default ~/peerbench) holds ruler-inst/ (see ../shared/peer-bench/README.md); without it
// the bench prints "ruler not installed" and our figures alone.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { homedir, loadavg, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const project = fileURLToPath(new URL("..", import.meta.url));
const peerBench = resolve(project, "..", "shared", "peer-bench");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,10000" },
    reps: { type: "string", default: "3" },
    "with-100k": { type: "boolean", default: false },
    work: { type: "string" },
    // Run the TypeScript sources instead of the compiled build (Node then strips types at every start).
    source: { type: "boolean", default: false },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const reps = Number(values.reps);
const peersDir = process.env.PEERS_DIR || join(homedir(), "peerbench");
const rulerCli = join(peersDir, "ruler-inst", "node_modules", ".bin", "ruler");
const haveRuler = existsSync(rulerCli);
const work = values.work ?? join(tmpdir(), "aicfg-bench-peer");
const gen = join(peerBench, "gen-library.mjs");
if (!existsSync(gen)) throw new Error(`${gen} not found: the bench needs ../shared/peer-bench next to the project`);
mkdirSync(work, { recursive: true });

const ourTargets = (
  JSON.parse(execFileSync(process.execPath, [join(project, "bin", "aicfg.js"), "targets", "--json"], { encoding: "utf8" })) as { id: string }[]
).map((t) => t.id);

/** `coldArgs`: added to the cold run only (ours: --json, for the per-target figures). */
// Users run the compiled package (npm build output), as ruler's users run its JavaScript: so does the bench.
function ourCli(): string {
  if (values.source) return join(project, "bin", "aicfg.js");
  const out = join(project, "bench", ".work", "peer-dist");
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(join(project, "node_modules", ".bin", "tsc"), ["-p", join(project, "tsconfig.build.json"), "--outDir", join(out, "dist")], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  // The package's own launcher beside the build (no src/ there: it runs dist/), as an installed package runs.
  const launcher = join(out, "bin", "aicfg.js");
  mkdirSync(join(out, "bin"), { recursive: true });
  cpSync(join(project, "bin", "aicfg.js"), launcher);
  return launcher;
}
const cli = ourCli();

type Peer = { name: string; layout: string; cmd: string[]; sources: string[]; editDir: string; coldArgs?: string[] };
const ours: Peer = {
  name: "ours",
  layout: "aicfg",
  // OURS_CMD of the peer-bench README.
  cmd: [process.execPath, cli, "export", "--all", "--library", ".", "--root", ".", "--state-dir", "./.aicfg-state"],
  sources: ["aicfg.yaml", "agents", "knowledge", "mcp", "skills", "commands", ".aicfg-state"],
  editDir: "knowledge",
  coldArgs: ["--json"],
};
const ruler: Peer = {
  name: "ruler",
  layout: "ruler",
  cmd: [process.execPath, rulerCli, "apply", "--project-root", ".", "--local-only", "--subagents"],
  sources: [".ruler"],
  editDir: ".ruler",
};

type Run = {
  wall: number;
  cpu: number;
  rss: number;
  files: number;
  bytes: number;
  largest: number;
  largestFile: string;
  written: number;
  rc: number;
  out: string;
};

function measure(tree: string, sources: string[], since: number): Omit<Run, "wall" | "cpu" | "rss" | "rc" | "out"> {
  let files = 0;
  let bytes = 0;
  let largest = 0;
  let largestFile = "-";
  let written = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (d === tree && sources.includes(e.name)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        files++;
        bytes += st.size;
        if (st.mtimeMs >= since) written++;
        if (st.size > largest) (largest = st.size), (largestFile = relative(tree, p));
      }
    }
  };
  walk(tree);
  return { files, bytes, largest, largestFile, written };
}

function runOnce(peer: Peer, tree: string, extra: string[] = []): Run {
  const since = Date.now() - 1;
  const r = spawnSync("/usr/bin/time", ["-v", ...peer.cmd, ...extra], { cwd: tree, encoding: "utf8", maxBuffer: 1 << 30 });
  const err = r.stderr ?? "";
  const wallText = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)/.exec(err)?.[1] ?? "0";
  const wall = wallText.split(":").reduce((s, x) => s * 60 + Number(x), 0);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? 0) * 1024;
  // CPU time (user + system): on a shared machine wall time also counts the waits for other processes.
  const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(err)?.[1] ?? 0) + Number(/System time \(seconds\): ([\d.]+)/.exec(err)?.[1] ?? 0);
  return { wall, cpu, rss, rc: r.status ?? -1, out: r.stdout ?? "", ...measure(tree, peer.sources, since) };
}

function prepare(peer: Peer, n: number): string {
  const src = join(work, `src-${peer.layout}-${n}`);
  if (!existsSync(src)) {
    const args = ["--layout", peer.layout, "--n", String(n), "--flat", "--out", src, ...(peer.layout === "aicfg" ? ["--targets", ourTargets.join(",")] : [])];
    execFileSync(process.execPath, [gen, ...args], { cwd: peerBench, stdio: "ignore" });
  }
  return src;
}

/** The 2nd markdown file of the peer's rule folder in sorted order, as bench.sh edits it. */
function editTarget(tree: string, peer: Peer): string {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && e.name !== "agents" && e.name !== "skills") walk(p);
      else if (e.name.endsWith(".md")) found.push(relative(tree, p));
    }
  };
  walk(join(tree, peer.editDir));
  return join(tree, found.sort()[1]!);
}

type ExportJson = {
  files: { path: string; targets: string[] }[];
  targets: { target: string; budget?: { chars: number; tokens: number; used: number; over: boolean; budget: { max: number; unit: string; per: string } } }[];
};
const perTargetTables: string[] = [];

/** Bytes of the library the peer reads (its sources, without our state folder). */
function librarySize(tree: string, peer: Peer): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  for (const s of peer.sources)
    if (s !== ".aicfg-state" && existsSync(join(tree, s)))
      statSync(join(tree, s)).isDirectory() ? walk(join(tree, s)) : (bytes += statSync(join(tree, s)).size);
  return bytes;
}

/**
 * Output files and bytes per target after a cold export (from its --json report; a file shared by
 * several targets counts for each, and once in the total), and the largest always-loaded context.
 */
function perTarget(tree: string, peer: Peer, out: string, n: number): void {
  let report: ExportJson;
  try {
    report = JSON.parse(out) as ExportJson;
  } catch {
    perTargetTables.push(`(N = ${n.toLocaleString("en")}: no --json report from the cold run)`);
    return;
  }
  const rows = new Map<string, { files: number; bytes: number }>();
  const seen = new Map<string, number>();
  for (const f of report.files) {
    const size = existsSync(f.path) ? statSync(f.path).size : 0;
    seen.set(f.path, size);
    for (const t of f.targets) {
      const row = rows.get(t) ?? { files: 0, bytes: 0 };
      row.files++;
      row.bytes += size;
      rows.set(t, row);
    }
  }
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  const lib = librarySize(tree, peer);
  const lines = [
    `Per target after the cold export, N = ${n.toLocaleString("en")}: library ${mb(lib)}, output ${seen.size} files ${mb(total)} = ${(total / lib).toFixed(2)}x the library`,
    "| target | files | bytes | largest always-loaded (chars, ~tokens) | budget |",
    "|---|---|---|---|---|",
  ];
  for (const t of [...report.targets].sort((a, b) => a.target.localeCompare(b.target))) {
    const row = rows.get(t.target) ?? { files: 0, bytes: 0 };
    const b = t.budget;
    const loaded = b ? `${b.chars.toLocaleString("en")} chars, ~${b.tokens.toLocaleString("en")} tokens${b.over ? " OVER" : ""}` : "-";
    const budget = b ? `${b.budget.max.toLocaleString("en")} ${b.budget.unit}${b.budget.per === "total" ? "" : ` per ${b.budget.per}`}` : "-";
    lines.push(`| ${t.target} | ${row.files} | ${mb(row.bytes)} | ${loaded} | ${budget} |`);
  }
  perTargetTables.push(lines.join("\n"));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (b: number): string => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;
const phases = ["cold", "noop", "edit"] as const;

function bench(peer: Peer, n: number, repetitions: number): Record<(typeof phases)[number], Run[]> {
  const src = prepare(peer, n);
  const runs = { cold: [] as Run[], noop: [] as Run[], edit: [] as Run[] };
  for (let rep = 0; rep < repetitions; rep++) {
    const tree = join(work, `run-${peer.name}`);
    rmSync(tree, { recursive: true, force: true });
    cpSync(src, tree, { recursive: true });
    runs.cold.push(runOnce(peer, tree, peer.coldArgs));
    if (rep === repetitions - 1 && peer.coldArgs) perTarget(tree, peer, runs.cold.at(-1)!.out, n);
    runs.noop.push(runOnce(peer, tree));
    appendFileSync(editTarget(tree, peer), `- edited at ${Date.now()} rep ${rep}\n`);
    runs.edit.push(runOnce(peer, tree));
    rmSync(tree, { recursive: true, force: true });
  }
  return runs;
}

function line(peer: string, n: number, runs: Record<(typeof phases)[number], Run[]>): string {
  const fails = phases.flatMap((p) => runs[p].filter((r) => r.rc !== 0 && r.rc !== 3).map((r) => `${p} exit ${r.rc}`));
  const cold = runs.cold.at(-1)!;
  const rendered = /(\d+) of (\d+) output\(s\) rendered again/.exec(runs.edit.at(-1)!.out);
  const cells = phases.map((p) => `${median(runs[p].map((r) => r.wall)).toFixed(2)} s`).join(" / ");
  const cpu = phases.map((p) => `${median(runs[p].map((r) => r.cpu)).toFixed(2)} s`).join(" / ");
  const rss = phases.map((p) => mb(median(runs[p].map((r) => r.rss)))).join(" / ");
  return `| ${peer} | ${n.toLocaleString("en")} | ${cells} | ${cpu} | ${rss} | ${cold.files} files, ${mb(cold.bytes)} (largest ${mb(cold.largest)}: ${cold.largestFile}) | ${median(runs.edit.map((r) => r.written))}${rendered ? ` (${rendered[1]} of ${rendered[2]} outputs rendered)` : ""} |${fails.length ? " " + fails.join(", ") : ""}`;
}

console.log(
  `bench:peer on ${process.platform} ${process.arch}, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} at start; medians of ${reps}`,
);
if (!haveRuler) console.log(`ruler not installed (looked for ${rulerCli}; see ../shared/peer-bench/README.md): our figures alone`);
console.log(
  "| tool | N | cold / no-op / edit | CPU (user + sys) cold / no-op / edit | peak RSS cold / no-op / edit | output after cold | files rewritten by the edit |",
);
console.log("|---|---|---|---|---|---|---|");
const all = [...sizes, ...(values["with-100k"] ? [100_000] : [])];
for (const n of all) {
  console.log(line("ours", n, bench(ours, n, n >= 100_000 ? 1 : reps)));
  if (haveRuler && n < 100_000) console.log(line("ruler 0.3.44", n, bench(ruler, n, reps)));
}
for (const t of perTargetTables) console.log(`\n${t}`);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} at the end`,
);
