// Starts a daemon on a temporary library with a manual clock, for deterministic engine,
// scheduler and trigger tests.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { createManualClock, type ManualClock } from "../../src/daemon/clock.ts";
import type { DaemonConfig } from "../../src/daemon/config.ts";
import { startDaemon, type DaemonHandle, type StartDaemonOptions } from "../../src/daemon/daemon.ts";
import { testDaemonConfig } from "../../src/testing/index.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { writeLibrary } from "./lib-fixture.ts";

/** The test kit's daemon configuration, with the port and shell steps the daemon tests expect. */
export function testConfig(libRoot: string, stateDir: string, over: Partial<DaemonConfig> = {}): DaemonConfig {
  return testDaemonConfig(libRoot, stateDir, { listen: { host: "127.0.0.1", port: 7411, text: "127.0.0.1:7411" }, shellEnabled: true, ...over });
}

export type Harness = { d: DaemonHandle; clock: ManualClock; lib: string; state: string; base: string; cleanup: () => Promise<void> };

export const T0 = Date.parse("2026-06-01T10:00:10Z");

export async function startHarness(
  workflows: Record<string, string>,
  o: { config?: Partial<DaemonConfig>; start?: number; daemon?: Partial<StartDaemonOptions>; extra?: Record<string, string> } = {},
): Promise<Harness> {
  const dir = tempDir("aicfg-daemon-");
  const lib = join(dir.path, "lib");
  const state = join(dir.path, "state");
  writeLibrary(lib, workflows, o.extra);
  const clock = createManualClock(o.start ?? T0);
  const d = await startDaemon({ config: testConfig(lib, state, o.config), clock, hotReload: false, random: () => 0.5, ...o.daemon });
  return {
    d,
    clock,
    lib,
    state,
    base: dir.path,
    cleanup: async () => {
      await d.stop({ deadlineMs: 0 });
      dir.cleanup();
    },
  };
}

/** A real `node` binary (tests may run under Bun or Deno, whose execPath is not node). */
export function nodeBin(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, "node");
    if (dir && existsSync(p)) return p;
  }
  return "node";
}

/** A shell step that waits until the file named by $GATE exists (released by the test). */
export function gateStep(id = "work", extra = ""): string {
  const code = "const fs=require('fs');const t=setInterval(()=>{if(fs.existsSync(process.env.GATE)){clearInterval(t);process.exit(0)}},5)";
  return `  - id: ${id}\n    uses: shell\n    with:\n      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(code)}]\n      env: { GATE: "\${{ inputs.gate }}" }\n${extra}`;
}

/** Polls until `cond` holds (real time; for events that come from child processes or the file system). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
