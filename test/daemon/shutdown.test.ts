// Graceful shutdown of a real daemon process (goal G26): SIGTERM drains in-flight runs until the
// deadline, runs past it are recorded `interrupted` and their step processes are stopped, exit 0.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";
import { alive, gateWorkflow, spawnDaemon, type DaemonProcess } from "./process-helpers.ts";

let dir: ReturnType<typeof tempDir> | undefined;
let proc: DaemonProcess | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  if (proc) await proc.exited;
  // Never leave a step process behind, even when an assertion failed half-way.
  for (const f of ["slow.pid", "quick.pid"]) {
    const file = join(dir!.path, f);
    if (existsSync(file) && alive(Number(readFileSync(file, "utf8")))) process.kill(Number(readFileSync(file, "utf8")), "SIGKILL");
  }
  dir?.cleanup();
});

describe("signals (real process)", () => {
  it("SIGHUP reloads; SIGTERM finishes what it can within the deadline, interrupts the rest, stops their processes and exits 0", async () => {
    dir = tempDir("aicfg-term-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    const p = (n: string) => join(dir!.path, n);
    writeLibrary(lib, {
      slow: gateWorkflow("slow", "agents/**", p("never"), p("slow.pid")),
      quick: gateWorkflow("quick", "knowledge/**", p("quick-gate"), p("quick.pid")),
    });
    const config = p("daemon.yaml");
    writeFileSync(config, `libraries: [lib]\nstate_dir: state\nactions: { shell: { enabled: true } }\ndrain_timeout: 1500ms\n`);
    proc = spawnDaemon(["--config", config]);
    await proc.ready;
    process.kill(proc.child.pid!, "SIGHUP");
    await until(() => proc!.stderr().includes('"msg":"reloaded on SIGHUP"'), "the SIGHUP reload");
    writeFileSync(join(lib, "agents", "a.md"), "---\ndescription: A\n---\nA.\n");
    writeFileSync(join(lib, "knowledge", "k.md"), "k\n");
    await until(() => existsSync(p("slow.pid")) && existsSync(p("quick.pid")), "both steps to start");
    process.kill(proc.child.pid!, "SIGTERM"); // not child.kill: Deno then reports the signal instead of the exit code
    writeFileSync(p("quick-gate"), "");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    const runs = await openFileStore(state).listRuns();
    const by = Object.fromEntries(runs.map((r) => [r.workflow, r]));
    expect(by.quick!.status).toBe("success");
    expect([by.slow!.status, by.slow!.reason]).toEqual(["interrupted", "the daemon stopped; the run did not finish within the 1500 ms drain deadline"]);
    expect(by.slow!.steps.map((s) => s.status)).toEqual(["cancelled"]);
    const slowPid = Number(readFileSync(p("slow.pid"), "utf8"));
    await until(() => !alive(slowPid), "the interrupted step's process to be stopped");
    expect(proc.stderr()).toContain('"msg":"SIGTERM: draining (deadline 1500 ms)"');
  });
});
