// A corrupt `settings.json` must not re-enable workflows someone disabled: the daemon quarantines
// the file, uses the last-good copy, and without one keeps every workflow disabled (fail closed);
// either way the problem is in the log and in the daemon's status.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/daemon/clock.ts";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import { openFileStore, SETTINGS_FILE, SETTINGS_LAST_GOOD, STORE_DIR } from "../../src/daemon/store/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { T0, testConfig } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

const wf = (name: string) => `name: ${name}\non: { manual: true }\nsteps:\n  - uses: validate\n`;

let dir: ReturnType<typeof tempDir> | undefined;
let d: DaemonHandle | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  d = undefined;
  dir?.cleanup();
});

async function boot(lib: string, state: string, logs: string[]): Promise<DaemonHandle> {
  d = await startDaemon({
    config: testConfig(lib, state),
    clock: createManualClock(T0),
    hotReload: false,
    random: () => 0.5,
    log: (level, m) => void logs.push(`${level}: ${m}`),
  });
  return d;
}

const enabledOf = (h: DaemonHandle) => Object.fromEntries(h.listWorkflows().map((w) => [w.name, w.enabled]));

describe("a corrupt settings.json", () => {
  it("keeps a disabled workflow disabled (last-good copy), quarantines the file and reports it", async () => {
    dir = tempDir("aicfg-settings-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    writeLibrary(lib, { push: wf("push"), check: wf("check") });
    const first = await boot(lib, state, []);
    await first.setWorkflowEnabled("lib", "push", false);
    expect(enabledOf(first)).toEqual({ check: true, push: false });
    await first.stop({ deadlineMs: 0 });

    const file = join(state, STORE_DIR, SETTINGS_FILE);
    writeFileSync(file, readFileSync(file, "utf8").slice(0, 20)); // torn by a full disk or a bad edit
    const logs: string[] = [];
    const again = await boot(lib, state, logs);
    expect(enabledOf(again)).toEqual({ check: true, push: false });
    const quarantined = readdirSync(join(state, STORE_DIR, "quarantine")).filter((n) => n.startsWith(SETTINGS_FILE + "."));
    expect(quarantined.length).toBe(1);
    const problem = logs.find((l) => l.includes("workflow settings"))!;
    expect(problem).toMatch(
      /^error: workflow settings .*settings\.json are unreadable \(.*\); moved to .*quarantine\/settings\.json\.\d+: using the last-good copy .*settings\.last-good\.json$/,
    );
    expect(again.status().checks.store.error).toBe(problem.slice("error: ".length));
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ workflows: { "lib/push": { enabled: false } } });
  });

  it("without a last-good copy every workflow counts as disabled until enabled again", async () => {
    dir = tempDir("aicfg-settings-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    writeLibrary(lib, { push: wf("push"), check: wf("check") });
    const store = openFileStore(state);
    await store.setWorkflowEnabled("lib", "push", false);
    rmSync(join(state, STORE_DIR, SETTINGS_LAST_GOOD));
    writeFileSync(join(state, STORE_DIR, SETTINGS_FILE), '{"workflows": {"lib/push": {"enabled": "no"}}}');
    const logs: string[] = [];
    const h = await boot(lib, state, logs);
    expect(enabledOf(h)).toEqual({ check: false, push: false });
    expect(
      logs.some(
        (l) =>
          l.startsWith("error: workflow settings ") &&
          l.includes("(unexpected shape at workflows.lib/push.enabled)") &&
          l.endsWith("and no last-good copy exists: every workflow counts as disabled until it is enabled again (POST /v1/workflows/LIBRARY/NAME/enable)"),
      ),
    ).toBe(true);
    await expect(h.triggerRun("lib", "check")).rejects.toThrow("workflow 'check' is disabled");
    await h.setWorkflowEnabled("lib", "check", true);
    expect(enabledOf(h)).toEqual({ check: true, push: false });
    expect(existsSync(join(state, STORE_DIR, SETTINGS_LAST_GOOD))).toBe(true);
  });

  it("a missing settings.json next to a last-good copy is restored from it", async () => {
    dir = tempDir("aicfg-settings-");
    const state = join(dir.path, "state");
    const store = openFileStore(state);
    await store.setWorkflowEnabled("lib", "push", false);
    rmSync(join(state, STORE_DIR, SETTINGS_FILE));
    const errors: string[] = [];
    const again = openFileStore(state, { onError: (m) => errors.push(m) });
    expect(await again.getWorkflowEnabled("lib", "push")).toBe(false);
    expect(await again.getWorkflowEnabled("lib", "other")).toBe(undefined);
    expect(errors).toEqual([
      `workflow settings ${join(state, STORE_DIR, SETTINGS_FILE)} are missing: using the last-good copy ${join(state, STORE_DIR, SETTINGS_LAST_GOOD)}`,
    ]);
  });
});
