// An acknowledged GitHub push is a promise (security goals G07, G09), with the real daemon as a child
// process and signed deliveries over loopback HTTP: kill -9 right after the 202 and a restart still run
// the push's workflow, exactly once more, with `recovery.retry_interrupted` off; a redelivery after a
// failed run is processed once more, later ones are duplicates; ten concurrent copies start one run.
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import type { RunRecord } from "../../src/daemon/store/types.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";
import { spawnDaemon, type DaemonProcess } from "./process-helpers.ts";

const SECRET = "crash-test-webhook-secret-" + randomBytes(8).toString("hex");
/** Counts its starts in $COUNT, waits for $GATE, then fails when $FAIL exists. */
const STEP =
  "const fs=require('fs');fs.appendFileSync(process.env.COUNT,'x');const t=setInterval(()=>{if(fs.existsSync(process.env.GATE)){clearInterval(t);process.exit(fs.existsSync(process.env.FAIL)?1:0)}},5)";

let dir: ReturnType<typeof tempDir> | undefined;
const procs: DaemonProcess[] = [];
afterEach(async () => {
  if (dir) writeFileSync(join(dir.path, "gate"), "");
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  procs.length = 0;
  dir?.cleanup();
  dir = undefined;
});

type Setup = { state: string; config: string; gate: string; count: string; fail: string };

/** A library whose origin is a GitHub repository (so pushes to acme/agents main match), with a git-triggered shell workflow. */
function setup(): Setup {
  dir = tempDir("aicfg-webhook-crash-");
  const lib = join(dir.path, "lib");
  const s: Setup = {
    state: join(dir.path, "state"),
    config: join(dir.path, "daemon.yaml"),
    gate: join(dir.path, "gate"),
    count: join(dir.path, "count"),
    fail: join(dir.path, "fail"),
  };
  const workflow = [
    "name: on-push",
    "on:",
    "  git: { branches: [main] }",
    "steps:",
    "  - id: work",
    "    uses: shell",
    "    with:",
    `      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(STEP)}]`,
    `      env: { GATE: ${JSON.stringify(s.gate)}, COUNT: ${JSON.stringify(s.count)}, FAIL: ${JSON.stringify(s.fail)} }`,
    "",
  ].join("\n");
  writeLibrary(lib, { "on-push": workflow });
  const git = (...args: string[]) => {
    const r = spawnSync("git", ["-C", lib, "-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  };
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "library");
  git("remote", "add", "origin", "https://github.com/acme/agents.git");
  // retry_interrupted stays off: an acknowledged delivery is retried anyway.
  writeFileSync(s.config, "libraries: [lib]\nstate_dir: state\nlisten: 127.0.0.1:0\nactions: { shell: { enabled: true } }\n");
  return s;
}

async function start(s: Setup): Promise<{ proc: DaemonProcess; url: string }> {
  const proc = spawnDaemon(["--config", s.config], { AICFG_GITHUB_WEBHOOK_SECRET: SECRET });
  procs.push(proc);
  expect((await proc.ready).ready).toBe(true);
  return { proc, url: readFileSync(join(s.state, "api-url"), "utf8").trim() };
}

function pushBody(): string {
  return JSON.stringify({ ref: "refs/heads/main", before: "0".repeat(40), after: randomBytes(20).toString("hex"), repository: { full_name: "acme/agents" } });
}

async function deliver(url: string, delivery: string, body: string): Promise<{ status: number; body: { status: string; runIds?: string[]; reason?: string } }> {
  const res = await fetch(`${url}/v1/webhooks/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": delivery,
      "x-hub-signature-256": "sha256=" + createHmac("sha256", SECRET).update(body).digest("hex"),
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as { status: string; runIds?: string[]; reason?: string } };
}

const runsOf = async (s: Setup): Promise<RunRecord[]> => (await openFileStore(s.state).listRuns({ workflow: "on-push" })).sort((a, b) => a.attempt - b.attempt);
const finished = (r: RunRecord | undefined) => !!r && r.status !== "queued" && r.status !== "running";
const starts = (s: Setup) => (existsSync(s.count) ? readFileSync(s.count, "utf8").length : 0);

describe("an acknowledged push survives a crash (real process, SIGKILL)", () => {
  it("runs the push's workflow again exactly once after kill -9 right after the 202, and then answers its redelivery duplicate", async () => {
    const s = setup();
    const first = await start(s);
    const body = pushBody();
    const accepted = await deliver(first.url, "crash-1", body);
    expect([accepted.status, accepted.body.status]).toEqual([202, "queued"]);
    const [runId] = accepted.body.runIds!;
    // The step has started (the run is `running`, not merely queued), and cannot finish: its gate is shut.
    await until(() => starts(s) === 1, "the push's step to start");
    first.proc.child.kill("SIGKILL");
    expect((await first.proc.exited).signal).toBe("SIGKILL");
    expect((await openFileStore(s.state).getRun(runId!))!.status).toBe("running");

    const second = await start(s);
    // Recovery marks the run interrupted and, because a delivery was acknowledged, queues one retry.
    expect((await runsOf(s)).map((r) => [r.id === runId, r.status, r.attempt])).toEqual([
      [true, "interrupted", 1],
      [false, "running", 2],
    ]);
    const [old, retry] = await runsOf(s);
    expect([old!.trigger.delivery, old!.actor]).toEqual(["crash-1", "github:crash-1"]);
    expect([retry!.retryOf, retry!.trigger.delivery, retry!.actor]).toEqual([runId, "crash-1", "github:crash-1"]);
    // While the retry runs, GitHub's redelivery starts nothing.
    expect(await deliver(second.url, "crash-1", body)).toEqual({ status: 200, body: { status: "duplicate", reason: "delivery crash-1 is being processed" } });
    writeFileSync(s.gate, "");
    await until(async () => finished(await openFileStore(s.state).getRun(retry!.id)), "the retry to finish");
    expect((await openFileStore(s.state).getRun(retry!.id))!.status).toBe("success");
    expect(await deliver(second.url, "crash-1", body)).toEqual({
      status: 200,
      body: { status: "duplicate", reason: "delivery crash-1 was already processed" },
    });
    // A second restart (a clean one) does not run it again either.
    process.kill(second.proc.child.pid!, "SIGTERM");
    expect(await second.proc.exited).toEqual({ code: 0, signal: null });
    await start(s);
    expect((await runsOf(s)).map((r) => [r.attempt, r.status])).toEqual([
      [1, "interrupted"],
      [2, "success"],
    ]);
    expect(starts(s)).toBe(2);
  }, 60_000);

  it("runs it again after each crash up to 3 attempts, then reports it failed; a redelivery then processes it once more", async () => {
    const s = setup();
    let proc = (await start(s)).proc;
    const body = pushBody();
    const first = await deliver(readFileSync(join(s.state, "api-url"), "utf8").trim(), "again-and-again", body);
    expect(first.status).toBe(202);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(() => starts(s) === attempt, `attempt ${attempt} to start`);
      proc.child.kill("SIGKILL");
      await proc.exited;
      proc = (await start(s)).proc;
    }
    expect((await runsOf(s)).map((r) => [r.attempt, r.status])).toEqual([
      [1, "interrupted"],
      [2, "interrupted"],
      [3, "interrupted"],
    ]);
    const last = (await runsOf(s))[2]!;
    await until(
      () => proc.stderr().includes(`webhook delivery again-and-again: run ${last.id} of lib/on-push was interrupted 3 times; it failed`),
      "the failure to be reported",
    );
    const url = readFileSync(join(s.state, "api-url"), "utf8").trim();
    const again = await deliver(url, "again-and-again", body);
    expect([again.status, again.body.status]).toEqual([202, "queued"]);
    writeFileSync(s.gate, "");
    await until(async () => finished(await openFileStore(s.state).getRun(again.body.runIds![0]!)), "the re-processed run to finish");
    expect((await runsOf(s)).map((r) => [r.attempt, r.status])).toEqual([
      [1, "interrupted"],
      [2, "interrupted"],
      [3, "interrupted"],
      [4, "success"],
    ]);
    expect((await deliver(url, "again-and-again", body)).body.status).toBe("duplicate");
  }, 90_000);

  it("processes a redelivery after a failed run once more (the failed run, as attempt 2); the third delivery is a duplicate", async () => {
    const s = setup();
    writeFileSync(s.gate, "");
    writeFileSync(s.fail, "");
    const { url } = await start(s);
    const body = pushBody();
    const first = await deliver(url, "fail-1", body);
    expect(first.status).toBe(202);
    await until(async () => finished(await openFileStore(s.state).getRun(first.body.runIds![0]!)), "the first run to finish");
    expect((await runsOf(s)).map((r) => r.status)).toEqual(["failure"]);
    rmSync(s.fail);
    const again = await deliver(url, "fail-1", body);
    expect([again.status, again.body.status, again.body.runIds!.length]).toEqual([202, "queued", 1]);
    await until(async () => finished(await openFileStore(s.state).getRun(again.body.runIds![0]!)), "the re-processed run to finish");
    const [failed, retried] = await runsOf(s);
    expect([retried!.id, retried!.status, retried!.retryOf, retried!.attempt, retried!.actor]).toEqual([
      again.body.runIds![0],
      "success",
      failed!.id,
      2,
      "github:fail-1",
    ]);
    expect(await deliver(url, "fail-1", body)).toEqual({ status: 200, body: { status: "duplicate", reason: "delivery fail-1 was already processed" } });
    expect(await runsOf(s)).toHaveLength(2);
  }, 60_000);

  it("starts one run for ten concurrent copies of a delivery", async () => {
    const s = setup();
    writeFileSync(s.gate, "");
    const { url } = await start(s);
    const body = pushBody();
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(url, "same-guid", body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(results.filter((r) => r.status === 200).every((r) => r.body.status === "duplicate")).toBe(true);
    const [only, ...rest] = await runsOf(s);
    expect(rest).toEqual([]);
    await until(async () => finished(await openFileStore(s.state).getRun(only!.id)), "the run to finish");
    expect(starts(s)).toBe(1);
  }, 60_000);
});
