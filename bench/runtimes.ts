// Runtime comparison (not a test): the same aicfg on Node, Bun and Deno, measured as a user runs
// it. For each runtime: `aicfg --version` start-up, `aicfg daemon` start to API ready and its RSS,
// exporting the sample library to every target, and GET /livez req/s next to a bare Hono app
// (bench/api.ts on that runtime). Run: `node bench/runtimes.ts [--runs 5] [--api-seconds 2]`.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, "api-seconds": { type: "string", default: "2" } } });
const RUNS = Number(values.runs);
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "node_modules", ".bin");
const RUNTIMES = [
  { name: "node", cmd: join(bin, "node"), pre: [] as string[] },
  { name: "bun", cmd: join(bin, "bun"), pre: [] as string[] },
  { name: "deno", cmd: join(bin, "deno"), pre: ["run", "-A"] },
];
const aicfg = join(repo, "bin", "aicfg.js");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timeRun(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: repo });
  if (r.status !== 0 && r.status !== 3) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-500)}`);
  return performance.now() - t0;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function daemonStart(rt: (typeof RUNTIMES)[number]): Promise<{ ms: number; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), "aicfg-rt-"));
  try {
    const lib = join(dir, "examples", "library");
    cpSync(join(repo, "examples", "library"), lib, { recursive: true });
    const t0 = performance.now();
    const child = spawn(rt.cmd, [...rt.pre, aicfg, "daemon", "--library", lib, "--state-dir", join(dir, "state"), "--listen", "127.0.0.1:0"], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    const ms = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${rt.name}: daemon not ready in 20 s: ${err.slice(-500)}`)), 20_000);
      child.stderr!.on("data", (b: Buffer) => {
        err += b.toString();
        if (err.includes("aicfg daemon ready")) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
    });
    await new Promise((r) => setTimeout(r, 1500));
    const rss = rssMiB(child.pid!);
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    return { ms, rss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function livez(rt: (typeof RUNTIMES)[number]): { bare: number; livez: number; p99: number } {
  const r = spawnSync(rt.cmd, [...rt.pre, join(repo, "bench", "api.ts"), "--only", "1", "--rounds", "3", "--seconds", String(values["api-seconds"])], {
    encoding: "utf8",
    cwd: repo,
  });
  const row = (name: string) => {
    const line = r.stdout.split("\n").find((l) => l.startsWith(name));
    const cols = line?.slice(34).trim().split(/\s+/) ?? [];
    return { rps: Number(cols[0]), p99: Number(cols[3]) };
  };
  const bare = row("bare Hono hello-world");
  const l = row("GET /livez");
  return { bare: bare.rps, livez: l.rps, p99: l.p99 };
}

const targets = (JSON.parse(spawnSync(join(bin, "node"), [aicfg, "targets", "--json"], { encoding: "utf8", cwd: repo }).stdout) as { id: string }[])
  .map((t) => t.id)
  .join(",");
console.log(`aicfg runtime comparison (${RUNS} runs each, medians; ${process.platform}/${process.arch})`);
console.log(
  `${"runtime".padEnd(22)}${"--version ms".padStart(13)}${"daemon ready ms".padStart(17)}${"daemon RSS MiB".padStart(16)}${"export all ms".padStart(15)}${"/livez req/s".padStart(14)}${"% of bare".padStart(11)}${"p99 ms".padStart(8)}`,
);
for (const rt of RUNTIMES) {
  const version = spawnSync(rt.cmd, rt.name === "deno" ? ["--version"] : ["--version"], { encoding: "utf8" })
    .stdout.split("\n")[0]!
    .trim();
  const startup = median(Array.from({ length: RUNS }, () => timeRun(rt.cmd, [...rt.pre, aicfg, "--version"])));
  const starts: { ms: number; rss: number }[] = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) starts.push(await daemonStart(rt));
  const exportMs = median(
    Array.from({ length: RUNS }, () => {
      const out = mkdtempSync(join(tmpdir(), "aicfg-rt-out-"));
      try {
        return timeRun(rt.cmd, [
          ...rt.pre,
          aicfg,
          "export",
          "--library",
          join(repo, "examples", "library"),
          "--target",
          targets,
          "--root",
          join(out, "p"),
          "--state-dir",
          join(out, "s"),
          "--json",
        ]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }),
  );
  const api = livez(rt);
  const label = `${rt.name} ${version.replace(/^(deno|v)\s*/, "")}`.slice(0, 21);
  console.log(
    `${label.padEnd(22)}${startup.toFixed(0).padStart(13)}${median(starts.map((s) => s.ms))
      .toFixed(0)
      .padStart(17)}${median(starts.map((s) => s.rss))
      .toFixed(0)
      .padStart(
        16,
      )}${exportMs.toFixed(0).padStart(15)}${api.livez.toFixed(0).padStart(14)}${`${((api.livez / api.bare) * 100).toFixed(0)}%`.padStart(11)}${api.p99.toFixed(2).padStart(8)}`,
  );
}
