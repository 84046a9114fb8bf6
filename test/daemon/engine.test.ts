// Engine behaviour: step order, if:, outputs, retries with backoff, timeouts and cancellation,
// driven by a manual clock (no real waiting on timers).
import { createServer, type Server } from "node:http";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/daemon/engine.ts";
import type { DaemonEvent } from "../../src/daemon/events.ts";
import { gateStep, nodeBin, startHarness, until, type Harness } from "./harness.ts";

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const node = JSON.stringify(nodeBin());

async function httpServer(statuses: number[]): Promise<{ url: string; hits: () => number; bodies: string[] }> {
  let n = 0;
  const bodies: string[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(body);
      res.statusCode = statuses[Math.min(n, statuses.length - 1)]!;
      n++;
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, hits: () => n, bodies };
}

describe("backoff", () => {
  const r = { attempts: 5, backoff: "exponential" as const, delayMs: 1000, maxDelayMs: 5000, jitter: false };
  it("doubles, caps and jitters between half and all of the delay", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(r, n, () => 0))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoffDelay({ ...r, backoff: "fixed" }, 3, () => 0)).toBe(1000);
    expect(backoffDelay({ ...r, jitter: true }, 2, () => 0)).toBe(1000);
    expect(backoffDelay({ ...r, jitter: true }, 2, () => 0.999999)).toBe(2000);
  });
});

describe("engine", () => {
  it("runs steps in order with if:, outputs and continue_on_error", async () => {
    h = await startHarness({
      flow: [
        "name: flow",
        "steps:",
        "  - id: first",
        "    uses: shell",
        `    with: { command: [${node}, "-e", "process.stdout.write('hello')"] }`,
        "  - id: second",
        "    uses: shell",
        "    if: steps.first.outputs.stdout == 'hello'",
        `    with: { command: [${node}, "-e", "process.exit(3)"] }`,
        "    continue_on_error: true",
        "  - id: third",
        "    uses: validate",
        "  - id: broken",
        "    uses: shell",
        `    with: { command: [${node}, "-e", "process.exit(4)"] }`,
        "  - id: skipped",
        "    uses: validate",
        "  - id: cleanup",
        "    uses: validate",
        "    if: failure()",
        "",
      ].join("\n"),
    });
    const events: DaemonEvent[] = [];
    h.d.bus.subscribe((e) => events.push(e));
    const id = await h.d.triggerRun("lib", "flow");
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("failure");
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ["first", "success"],
      ["second", "failure"],
      ["third", "success"],
      ["broken", "failure"],
      ["skipped", "skipped"],
      ["cleanup", "success"],
    ]);
    expect(run.steps[0]!.outputs.stdout).toBe("hello");
    expect(run.steps[1]!.error).toBe(`${nodeBin()} exited with 3`);
    expect(run.error).toBe(`second: ${nodeBin()} exited with 3`);
    expect(events.filter((e) => e.type === "step.finished").map((e) => (e as { stepId: string }).stepId)).toEqual([
      "first",
      "second",
      "third",
      "broken",
      "skipped",
      "cleanup",
    ]);
    expect(events.filter((e) => e.type === "run.started" || e.type === "run.finished").map((e) => e.type)).toEqual(["run.started", "run.finished"]);
  });

  it("retries with exponential backoff and jitter on the clock, then succeeds", async () => {
    const srv = await httpServer([500, 503, 200]);
    h = await startHarness({
      ping: `name: ping\nsteps:\n  - uses: notify\n    with: { url: "${srv.url}" }\n    retry: { attempts: 3, backoff: exponential, delay: 1s }\n`,
    });
    const id = await h.d.triggerRun("lib", "ping");
    await until(() => srv.hits() === 1, "first attempt");
    await until(async () => (await h!.d.store.readLog(id)).some((l) => l.message === "step notify: retrying in 750 ms"), "retry log");
    await h.clock.advance(749);
    expect(srv.hits()).toBe(1);
    await h.clock.advance(1);
    await until(() => srv.hits() === 2, "second attempt");
    await until(async () => (await h!.d.store.readLog(id)).some((l) => l.message === "step notify: retrying in 1500 ms"), "second retry log");
    await h.clock.advance(1500);
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("success");
    expect(run.steps[0]!.attempts).toBe(3);
    expect(srv.hits()).toBe(3);
    expect(JSON.parse(srv.bodies[2]!)).toMatchObject({ library: "lib", workflow: "ping", run_id: id, status: "success", trigger: "manual", steps: [] });
  });

  it("does not retry an error that is not retryable", async () => {
    const srv = await httpServer([400]);
    h = await startHarness({ ping: `name: ping\nsteps:\n  - uses: notify\n    with: { url: "${srv.url}" }\n    retry: { attempts: 5 }\n` });
    const run = await h.d.waitForRun(await h.d.triggerRun("lib", "ping"));
    expect(run.status).toBe("failure");
    expect(run.steps[0]!.attempts).toBe(1);
    expect(run.steps[0]!.error).toBe(`POST ${srv.url.replace("/hook", "")} answered 400`);
  });

  it("times a step out on the clock and kills its process", async () => {
    h = await startHarness({
      slow: `name: slow\ninputs: { gate: { type: string } }\nsteps:\n${gateStep("work", "    timeout: 5s\n")}  - uses: validate\n    if: always()\n`,
    });
    const gate = join(h.base, "never");
    const id = await h.d.triggerRun("lib", "slow", { inputs: { gate } });
    await h.clock.advance(4999);
    expect((await h.d.store.getRun(id))!.status).toBe("running");
    await h.clock.advance(1);
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("failure");
    expect(run.steps.map((s) => [s.id, s.status, s.error ?? ""])).toEqual([
      ["work", "timed_out", "step work timed out"],
      ["validate", "success", ""],
    ]);
  });

  it("times the whole run out and still runs always() steps", async () => {
    h = await startHarness({
      slow: `name: slow\ntimeout: 2s\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}  - id: after\n    uses: validate\n  - id: finally\n    uses: validate\n    if: always()\n`,
    });
    const id = await h.d.triggerRun("lib", "slow", { inputs: { gate: join(h.base, "never") } });
    await h.clock.advance(2000);
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("timed_out");
    expect(run.reason).toBe("the run did not finish within 2s");
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ["work", "timed_out"],
      ["after", "skipped"],
      ["finally", "success"],
    ]);
  });

  it("cancels a run: the step stops, cancelled() steps run", async () => {
    h = await startHarness({
      slow: `name: slow\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}  - id: on-cancel\n    uses: validate\n    if: cancelled()\n  - id: next\n    uses: validate\n`,
    });
    const id = await h.d.triggerRun("lib", "slow", { inputs: { gate: join(h.base, "never") } });
    expect(await h.d.cancelRun(id)).toBe(true);
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("cancelled");
    expect(run.reason).toBe("cancelled by request");
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ["work", "cancelled"],
      ["on-cancel", "success"],
      ["next", "skipped"],
    ]);
    expect(await h.d.cancelRun(id)).toBe(false);
  });

  it("gives cleanup steps after a cancel a grace period on the daemon's clock (default 30 s), then stops them", async () => {
    const hang = "require('fs').writeFileSync('cleanup-started', ''); setInterval(() => {}, 1000)";
    h = await startHarness({
      slow: `name: slow\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}  - id: cleanup\n    uses: shell\n    if: always()\n    with: { command: [${node}, "-e", ${JSON.stringify(hang)}] }\n`,
    });
    const id = await h.d.triggerRun("lib", "slow", { inputs: { gate: join(h.base, "never") } });
    expect(await h.d.cancelRun(id)).toBe(true);
    await until(() => existsSync(join(h!.lib, "cleanup-started")), "the cleanup step to start");
    await h.clock.advance(29_999);
    expect((await h.d.store.getRun(id))!.status).toBe("running");
    await h.clock.advance(1);
    const run = await h.d.waitForRun(id);
    expect(run.status).toBe("cancelled");
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ["work", "cancelled"],
      ["cleanup", "cancelled"],
    ]);
  });

  it("stop() drains until the deadline, then interrupts without running cleanup steps; queued runs stay queued", async () => {
    h = await startHarness({
      slow: `name: slow\nconcurrency: { overlap: buffer_all }\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}  - id: finally\n    uses: validate\n    if: always()\n`,
    });
    const id = await h.d.triggerRun("lib", "slow", { inputs: { gate: join(h.base, "never") } });
    const waiting = await h.d.triggerRun("lib", "slow", { inputs: { gate: join(h.base, "never") } });
    const stopped = h.d.stop({ deadlineMs: 1000 });
    await expect(h.d.triggerRun("lib", "slow", { inputs: { gate: "x" } })).rejects.toThrow("the daemon is shutting down and accepts no new runs");
    await h.clock.advance(999);
    expect((await h.d.store.getRun(id))!.status).toBe("running");
    await h.clock.advance(1);
    expect(await stopped).toEqual({ finished: [], interrupted: [id] });
    const run = (await h.d.store.getRun(id))!;
    expect([run.status, run.reason]).toEqual(["interrupted", "the daemon stopped; the run did not finish within the 1000 ms drain deadline"]);
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ["work", "cancelled"],
      ["finally", "skipped"],
    ]);
    expect((await h.d.store.getRun(waiting))!.status).toBe("queued");
  });

  it("checks inputs and reruns with the same inputs", async () => {
    h = await startHarness({ flow: `name: flow\ninputs:\n  gate: { type: string, required: true }\n  n: { type: number, default: 2 }\nsteps:\n${gateStep()}` });
    await expect(h.d.triggerRun("lib", "flow")).rejects.toThrow("workflow 'flow' needs input 'gate'");
    await expect(h.d.triggerRun("lib", "flow", { inputs: { gate: "x", n: "many" } })).rejects.toThrow("input 'n' of workflow 'flow' must be a number");
    await expect(h.d.triggerRun("lib", "flow", { inputs: { gate: "x", other: 1 } })).rejects.toThrow("workflow 'flow' has no input 'other'");
    const gate = join(h.base, "open");
    writeFileSync(gate, "");
    const first = await h.d.waitForRun(await h.d.triggerRun("lib", "flow", { inputs: { gate, n: "5" } }));
    expect(first.inputs).toEqual({ gate, n: 5 });
    const again = await h.d.waitForRun(await h.d.rerun(first.id));
    expect([again.status, again.attempt, again.retryOf, again.inputs]).toEqual(["success", 2, first.id, { gate, n: 5 }]);
  });
});
