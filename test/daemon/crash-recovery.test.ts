// Crash recovery with a real daemon process: SIGKILL mid-run, restart, and the run is recorded as
// `interrupted` (not failed, never stuck running); the interrupted run can be retried by config.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";
import { alive, gateWorkflow, spawnDaemon, type DaemonProcess } from "./process-helpers.ts";

let dir: ReturnType<typeof tempDir> | undefined;
const procs: DaemonProcess[] = [];
const gates: string[] = [];
afterEach(async () => {
  for (const g of gates) writeFileSync(g, "");
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  procs.length = 0;
  gates.length = 0;
  dir?.cleanup();
});

describe("crash recovery (real process, SIGKILL)", () => {
  it("marks the run that was in flight as interrupted at the next start, and retries it when configured", async () => {
    dir = tempDir("aicfg-crash-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    const gate = join(dir.path, "gate");
    const pidFile = join(dir.path, "step.pid");
    gates.push(gate);
    writeLibrary(lib, { slow: gateWorkflow("slow", "agents/**", gate, pidFile) });
    const config = join(dir.path, "daemon.yaml");
    writeFileSync(config, `libraries: [lib]\nstate_dir: state\nactions: { shell: { enabled: true } }\nrecovery: { retry_interrupted: true }\n`);

    const first = spawnDaemon(["--config", config]);
    procs.push(first);
    expect((await first.ready).ready).toBe(true);
    const rival = spawnDaemon(["--config", config]);
    procs.push(rival);
    rival.ready.catch(() => {});
    expect(await rival.exited).toEqual({ code: 1, signal: null });
    expect(JSON.parse(rival.stdout()).error).toEqual({
      code: "state-dir-locked",
      message: expect.stringMatching(
        new RegExp(
          `^another daemon \\(pid ${first.child.pid}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\) is using the state folder ${state.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
        ),
      ),
      hint: "stop it first, or pass a different --state-dir",
    });
    writeFileSync(join(lib, "agents", "new.md"), "---\ndescription: New\n---\nHi.\n");
    await until(() => existsSync(pidFile), "the step's process to start");
    const [running] = await openFileStore(state).listRuns();
    expect([running!.workflow, running!.status, running!.owner!.pid]).toEqual(["slow", "running", first.child.pid]);
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const stepPid = Number(readFileSync(pidFile, "utf8"));

    const second = spawnDaemon(["--config", config]);
    procs.push(second);
    await second.ready;
    const store = openFileStore(state);
    const old = (await store.getRun(running!.id))!;
    expect([old.status, old.reason]).toEqual(["interrupted", `the process that ran it (pid ${first.child.pid}) stopped before the run finished`]);
    const retry = (await store.listRuns()).find((r) => r.retryOf === running!.id)!;
    expect([retry.attempt, retry.trigger.kind, retry.trigger.paths]).toEqual([2, "watch", [join(lib, "agents", "new.md")]]);
    writeFileSync(gate, "");
    await until(async () => (await openFileStore(state).getRun(retry.id))!.status === "success", "the retry to finish");
    process.kill(second.child.pid!, "SIGTERM"); // not child.kill: Deno then reports the signal instead of the exit code
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await until(() => !alive(stepPid), "the orphaned step of the killed daemon to exit once its gate opened");
  });
});
