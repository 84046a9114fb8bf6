// End to end, as a user runs it: the real `aicfg daemon` as a child process of the runtime running
// this suite (Node, Bun or Deno) on a copy of the sample library; workflows triggered by the API,
// by a file change and by a signed GitHub webhook; exported files, run history and /metrics checked;
// then SIGTERM and the drain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aicfgArgs, waitFor as poll, spawnDaemon, type DaemonChild } from "../helpers/daemon-child.ts";
import { tempDir } from "../helpers/fixtures.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const SECRET = "e2e-webhook-secret-" + randomBytes(8).toString("hex");

let dir: { path: string; cleanup: () => void };
let lib: string;
let state: string;
let sandbox: string;
let daemon: DaemonChild;
let base = "";
let token = "";
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) =>
  poll(what, fn, { ...(timeoutMs ? { timeoutMs } : {}), context: () => daemon?.stderr() ?? "" });
const logLines = () => daemon.logLines();
let slow: Server;
let slowHits = 0;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
}

async function waitForRun(id: string): Promise<{ status: string; trigger: string; steps: { action: string; status: string }[] }> {
  return waitFor(`run ${id} to finish`, async () => {
    const r = await api(`/v1/runs/${id}`);
    if (r.status !== 200) return undefined;
    const run = (await r.json()) as { status: string; trigger: string; steps: { action: string; status: string }[] };
    return run.status === "queued" || run.status === "running" ? undefined : run;
  });
}

beforeAll(async () => {
  dir = tempDir("aicfg-e2e-");
  // The sample's export root is ../../.aicfg-state/sandbox relative to the library: keep that shape.
  lib = join(dir.path, "examples", "library");
  state = join(dir.path, ".aicfg-state");
  sandbox = join(state, "sandbox");
  cpSync(join(repo, "examples", "library"), lib, { recursive: true });
  // A slow HTTP endpoint for the notify step of a long workflow (to see SIGTERM drain it).
  slow = createServer((req, res) => {
    slowHits++;
    req.resume();
    setTimeout(() => res.end("ok"), 1500);
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  const slowPort = (slow.address() as { port: number }).port;
  writeFileSync(
    join(lib, "workflows", "on-push.yaml"),
    "name: on-push\ndescription: Export when the library's main branch is pushed\non:\n  git: { branches: [main] }\nsteps:\n  - uses: export\n    with: { targets: [claude-code], root: ../../.aicfg-state/pushed }\n",
  );
  writeFileSync(
    join(lib, "workflows", "slow-notify.yaml"),
    `name: slow-notify\ndescription: Takes a moment (drain test)\non:\n  manual: true\nsteps:\n  - uses: notify\n    with: { url: "http://127.0.0.1:${slowPort}/hook" }\n`,
  );
  // The library is a git checkout whose origin is a GitHub repository: pushes there feed it.
  const git = (...args: string[]) => spawnSync("git", ["-C", lib, ...args], { encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("-c", "user.email=e2e@example.com", "-c", "user.name=e2e", "add", "-A");
  git("-c", "user.email=e2e@example.com", "-c", "user.name=e2e", "commit", "-qm", "sample");
  git("remote", "add", "origin", "https://github.com/acme/agents.git");

  daemon = await spawnDaemon(["--library", lib, "--state-dir", state, "--listen", "127.0.0.1:0"], {
    cwd: dir.path,
    env: { AICFG_GITHUB_WEBHOOK_SECRET: SECRET },
  });
  base = daemon.base;
  token = readFileSync(join(state, "local-admin.token"), "utf8").trim();
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill("SIGKILL");
  await new Promise<void>((r) => slow.close(() => r()));
  dir.cleanup();
});

describe("the daemon, end to end", () => {
  it("becomes ready and exports the sample library at start-up", async () => {
    const ready = await waitFor("readiness", async () => {
      const r = await fetch(base + "/readyz");
      return r.status === 200 ? ((await r.json()) as { status: string; checks: Record<string, unknown> }) : undefined;
    });
    // The webhook secret is set and on-push's git trigger uses it: nothing to warn about.
    expect(ready.status).toBe("pass");
    expect(Object.keys(ready.checks)).toContain("scheduler:tick");
    expect((await fetch(base + "/livez")).status).toBe(200);
    await waitFor("the initial export", () => existsSync(join(sandbox, ".claude", "agents", "code-reviewer.md")));
    expect(readFileSync(join(sandbox, ".kiro", "agents", "software-engineer.json"), "utf8")).toContain('"name": "software-engineer"');
  });

  it("runs a workflow triggered through the API and lists it", async () => {
    const r = await api("/v1/workflows/acme-engineering/health-report/runs", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(r.status).toBe(202);
    const { runId } = (await r.json()) as { runId: string };
    const run = await waitForRun(runId);
    expect(run.status).toBe("success");
    expect(run.trigger).toBe("api");
    expect(run.steps.map((s) => s.action)).toEqual(["health"]);
    const viewerless = await fetch(base + "/v1/runs");
    expect(viewerless.status).toBe(401);
  });

  it("queues a run in the running daemon from the CLI (aicfg trigger, local admin token)", () => {
    const r = spawnSync(process.execPath, [...aicfgArgs(), "trigger", "health-report", "--state-dir", state, "--wait", "--json"], {
      encoding: "utf8",
      cwd: dir.path,
    });
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as { status: string; trigger: string; actor: string };
    expect(run).toMatchObject({ status: "success", trigger: "api" });
    expect(run.actor).toContain("local-admin");
  });

  it("re-exports when a library file changes", async () => {
    const file = join(lib, "agents", "docs-writer.md");
    writeFileSync(file, readFileSync(file, "utf8").replace("Writes and updates user-facing documentation", "Writes user documentation (edited)"));
    await waitFor("the changed agent to be exported", () =>
      readFileSync(join(sandbox, ".claude", "agents", "docs-writer.md"), "utf8").includes("Writes user documentation (edited)"),
    );
    const runs = (await (await api("/v1/runs?workflow=export-on-change&trigger=watch")).json()) as { items: { status: string }[] };
    expect(runs.items.length).toBeGreaterThanOrEqual(1);
  });

  it("starts one run per signed GitHub push delivery and refuses unsigned ones", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: randomBytes(20).toString("hex"), repository: { full_name: "acme/agents" } });
    const sig = "sha256=" + createHmac("sha256", SECRET).update(body).digest("hex");
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-hub-signature-256": sig,
      "x-github-delivery": "e2e-" + randomBytes(6).toString("hex"),
    };
    const unsigned = await fetch(base + "/v1/webhooks/github", {
      method: "POST",
      headers: { ...headers, "x-hub-signature-256": "sha256=" + "0".repeat(64) },
      body,
    });
    expect(unsigned.status).toBe(401);
    const first = await fetch(base + "/v1/webhooks/github", { method: "POST", headers, body });
    expect(first.status).toBe(202);
    const again = await fetch(base + "/v1/webhooks/github", { method: "POST", headers, body });
    expect(again.status).toBeLessThan(300);
    await waitFor("the push export", () => existsSync(join(state, "pushed", ".claude", "agents", "code-reviewer.md")));
    const runs = (await (await api("/v1/runs?workflow=on-push")).json()) as { items: { trigger: string }[] };
    expect(runs.items).toHaveLength(1);
  });

  it("keeps the run history readable by the CLI and counts runs in /metrics", async () => {
    const r = spawnSync(process.execPath, [...aicfgArgs(), "runs", "--state-dir", state, "--json"], { encoding: "utf8", cwd: dir.path });
    expect(r.status).toBe(0);
    const runs = JSON.parse(r.stdout) as { workflow: string; status: string }[] | { runs: { workflow: string; status: string }[] };
    const list = Array.isArray(runs) ? runs : runs.runs;
    expect(list.some((x) => x.workflow === "health-report" && x.status === "success")).toBe(true);
    const metrics = await (await fetch(base + "/metrics")).text();
    expect(metrics).toMatch(/aicfg_runs_finished_total\{org="default",library="acme-engineering",workflow="health-report",result="success"\} [1-9]/);
    expect(metrics).toMatch(/aicfg_runs_started_total\{org="default",library="acme-engineering",workflow="export-on-change",trigger="watch"\} [1-9]/);
    expect(metrics).toMatch(/aicfg_export_files_written_total\{org="default",library="acme-engineering",target="claude-code"\} [1-9]/);
    expect(metrics).toContain('aicfg_workflows{org="default",library="acme-engineering",state="enabled"}');
    expect(metrics).not.toContain(SECRET);
  });

  it("logs one line per finished run; a failure names the step, the reason and the file", async () => {
    const file = join(lib, "agents", "code-reviewer.md");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace("\nmodel: ", "\nmodel: [unclosed "));
    const failed = await waitFor("the failed run's log line", () => logLines().find((l) => l.workflow === "export-on-change" && l.outcome === "failure"));
    expect(failed).toMatchObject({
      level: "error",
      step: "validate",
      file: join(lib, "agents", "code-reviewer.md") + ":4:1",
      runId: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(failed.msg).toMatch(
      /^run export-on-change failed after [\d.]+ s at step validate \(validate\): the library has 1 error\(s\).*agents\/code-reviewer\.md:4:1/,
    );
    writeFileSync(file, good);
    await waitFor("the fixed library's export", () =>
      logLines().some((l) => l.workflow === "export-on-change" && l.outcome === "success" && Date.parse(String(l.time)) > Date.parse(String(failed.time))),
    );
    const lines = logLines();
    // One logger, one format: every line is a pino JSON line; each start-up event is said once.
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(["level", "time", "msg"]));
    expect(lines.filter((l) => l.msg === "api listening")).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "aicfg daemon ready")).toHaveLength(1);
    const outcomes = lines.filter((l) => l.outcome !== undefined && l.runId !== undefined);
    expect(new Set(outcomes.map((l) => l.runId)).size).toBe(outcomes.length);
  });

  it("drains an in-flight run on SIGTERM and exits 0", async () => {
    const r = await api("/v1/workflows/acme-engineering/slow-notify/runs", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const { runId } = (await r.json()) as { runId: string };
    await waitFor("the slow step to start", () => slowHits > 0);
    // process.kill, not child.kill: Deno then reports the signal instead of the exit code.
    process.kill(daemon.child.pid!, "SIGTERM");
    expect(await daemon.exited).toBe(0);
    const runFile = spawnSync(process.execPath, [...aicfgArgs(), "runs", "--state-dir", state, "--json"], { encoding: "utf8", cwd: dir.path });
    const list = JSON.parse(runFile.stdout) as { id: string; status: string }[] | { runs: { id: string; status: string }[] };
    const run = (Array.isArray(list) ? list : list.runs).find((x) => x.id === runId);
    expect(run?.status).toBe("success");
    expect(daemon.stderr()).toContain("SIGTERM: draining");
    expect(daemon.stderr()).not.toContain(SECRET);
  });
});
