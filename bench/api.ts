// API throughput benchmark (not a test): req/s and latency percentiles of GET /livez, GET /metrics
// and GET /v1/runs, next to a bare Hono hello-world served the same way on the same runtime.
// Each server runs in a child process of the current runtime; a bounded keep-alive load
// generator on loopback drives it. Run: `node bench/api.ts` (or `bun bench/api.ts`,
// `deno run -A bench/api.ts`). Options: --seconds N (default 3), --rounds N (default 3),
// --connections N (default 32), --only 1,3 (indexes of the targets to run next to the bare one).
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SELF = fileURLToPath(import.meta.url);

type Target = { name: string; server: "hello" | "api"; path: string; auth?: boolean };
const TARGETS: Target[] = [
  { name: "bare Hono hello-world", server: "hello", path: "/" },
  { name: "GET /livez", server: "api", path: "/livez" },
  { name: "GET /metrics", server: "api", path: "/metrics" },
  { name: "GET /v1/runs (50 of 200, token)", server: "api", path: "/v1/runs", auth: true },
];

async function serveMode(kind: "hello" | "api"): Promise<void> {
  const { serve } = await import("../src/daemon/runtime/serve.ts");
  if (kind === "hello") {
    const { Hono } = await import("hono");
    const app = new Hono();
    app.get("/", (c) => c.text("Hello Hono!"));
    const s = await serve(app as never, { host: "127.0.0.1", port: 0 });
    process.stderr.write(`READY ${(s.address as { port: number }).port}\n`);
    return;
  }
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { createApi } = await import("../src/daemon/api/app.ts");
  const { parseApiConfig } = await import("../src/daemon/api/config.ts");
  const { openTokenStore } = await import("../src/daemon/auth/token-store.ts");
  const { startApiDaemon } = await import("../test/daemon/api/api-daemon.ts");
  const stateDir = mkdtempSync(join(tmpdir(), "aicfg-bench-"));
  // A real daemon behind the API bridge, with 200 finished runs in its file store.
  const daemon = await startApiDaemon(stateDir);
  const deps = daemon.deps;
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) ids.push(await daemon.trigger(i % 2 ? "team" : "other", i % 2 ? "sync" : "export"));
  for (let n = 1; ; n++) {
    daemon.hold.release(n % 7 ? 200 : 500);
    const open = (await daemon.runs()).filter((r) => r.status === "queued" || r.status === "running").length;
    if (open === 0) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const token = openTokenStore(stateDir).create({ role: "viewer", name: "bench" }).token;
  const config = parseApiConfig({ port: 0, limits: { requestsPerMinutePerToken: 100_000_000 } });
  // Logs go to stdout, which the parent discards: the access-log cost is part of the figures.
  const api = createApi(deps, config, { env: {}, clock: daemon.clock });
  const s = await serve(api.app, { host: "127.0.0.1", port: 0 });
  process.stderr.write(`READY ${(s.address as { port: number }).port} ${token}\n`);
}

function startServer(kind: "hello" | "api"): Promise<{ port: number; token: string; stop: () => void }> {
  const g = globalThis as { Deno?: unknown };
  const args = g.Deno ? ["run", "-A", SELF, "--serve", kind] : [SELF, "--serve", kind];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /READY (\d+)(?: (\S+))?/.exec(err);
      if (m) resolve({ port: Number(m[1]), token: m[2] ?? "", stop: () => child.kill("SIGTERM") });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited (${code}): ${err}`)));
  });
}

type Result = { requests: number; errors: number; seconds: number; p50: number; p99: number; max: number };

async function load(port: number, path: string, headers: Record<string, string>, seconds: number, connections: number): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ host: "127.0.0.1", port, path, agent, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end();
    });
  // Warm-up (JIT, connections), not measured.
  const warmEnd = performance.now() + 500;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < warmEnd) await one();
    }),
  );
  latencies.length = 0;
  errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, errors, seconds: elapsed, p50: pct(0.5), p99: pct(0.99), max: latencies[latencies.length - 1] ?? NaN };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { serve: { type: "string" }, seconds: { type: "string" }, rounds: { type: "string" }, connections: { type: "string" }, only: { type: "string" } },
    allowPositionals: false,
  });
  if (values.serve === "hello" || values.serve === "api") return serveMode(values.serve);
  const seconds = Number(values.seconds ?? 3);
  const rounds = Number(values.rounds ?? 3);
  const connections = Number(values.connections ?? 32);
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  const runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.versions.node}`;
  console.log(
    `aicfg API benchmark on ${runtime}: ${connections} keep-alive connections, ${rounds} interleaved rounds of ${seconds}s per target (median round shown), loopback`,
  );
  const servers = { hello: await startServer("hello"), api: await startServer("api") };
  // Targets are interleaved over several rounds and the median round is reported, so a burst of
  // other load on the machine does not land on one target only.
  const only = values.only ? new Set(values.only.split(",").map(Number)) : undefined;
  const targets = TARGETS.filter((_t, i) => i === 0 || !only || only.has(i));
  const runs = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) {
        const s = servers[t.server];
        runs.get(t.name)!.push(await load(s.port, t.path, t.auth ? { authorization: `Bearer ${s.token}` } : {}, seconds, connections));
      }
    }
  } finally {
    servers.hello.stop();
    servers.api.stop();
  }
  const rows = targets.map((t) => {
    const sorted = runs
      .get(t.name)!
      .map((r) => ({ r, rps: r.requests / r.seconds }))
      .sort((a, b) => a.rps - b.rps);
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    return { name: t.name, rps: mid.rps, r: mid.r };
  });
  const base = rows[0]!.rps;
  console.log(
    `${"target".padEnd(34)}${"req/s".padStart(10)}${"vs bare".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"max ms".padStart(9)}${"errors".padStart(8)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(34)}${row.rps.toFixed(0).padStart(10)}${`${((row.rps / base) * 100).toFixed(0)}%`.padStart(9)}${row.r.p50.toFixed(2).padStart(9)}${row.r.p99.toFixed(2).padStart(9)}${row.r.max.toFixed(2).padStart(9)}${String(row.r.errors).padStart(8)}`,
    );
  }
}

await main();
