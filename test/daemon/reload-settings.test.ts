// Workflows that appear by hot reload obey the saved enable/disable state like those read at start:
// with the settings lost (no last-good copy) a new workflow file starts disabled (fail closed), and
// a workflow disabled before its file went away comes back disabled.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import { openFileStore, SETTINGS_FILE, SETTINGS_LAST_GOOD, STORE_DIR } from "../../src/daemon/store/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { testConfig, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

const wf = (name: string) => `name: ${name}\non: { manual: true }\nsteps:\n  - uses: validate\n`;

let dir: ReturnType<typeof tempDir> | undefined;
let d: DaemonHandle | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  d = undefined;
  dir?.cleanup();
  dir = undefined;
});

const enabledOf = (h: DaemonHandle) => Object.fromEntries(h.listWorkflows().map((w) => [w.name, w.enabled]));

describe("hot-reloaded workflows and the saved settings", () => {
  it("with the settings lost, a workflow added while the daemon runs starts disabled", async () => {
    dir = tempDir("aicfg-reload-settings-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    writeLibrary(lib, { check: wf("check") });
    await openFileStore(state).setWorkflowEnabled("lib", "check", true);
    rmSync(join(state, STORE_DIR, SETTINGS_LAST_GOOD));
    writeFileSync(join(state, STORE_DIR, SETTINGS_FILE), "{ torn");
    d = await startDaemon({ config: testConfig(lib, state), reloadDebounceMs: 20 });
    expect(enabledOf(d)).toEqual({ check: false });

    writeFileSync(join(lib, "workflows", "late.yaml"), wf("late"));
    await until(() => d!.listWorkflows().length === 2, "the new workflow to load");
    expect(enabledOf(d)).toEqual({ check: false, late: false });
    await expect(d.triggerRun("lib", "late")).rejects.toThrow("workflow 'late' is disabled");
    expect(await d.store.listRuns()).toEqual([]);
    await d.setWorkflowEnabled("lib", "late", true);
    expect(enabledOf(d)).toEqual({ check: false, late: true });
    expect(JSON.parse(readFileSync(join(state, STORE_DIR, SETTINGS_FILE), "utf8"))).toEqual({ workflows: { "lib/late": { enabled: true } } });
  });

  it("a workflow disabled before its file went away comes back disabled; a new one comes enabled", async () => {
    dir = tempDir("aicfg-reload-settings-");
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    writeLibrary(lib, { check: wf("check") });
    // Saved by an earlier daemon for a workflow file that is not there at this start.
    await openFileStore(state).setWorkflowEnabled("lib", "push", false);
    d = await startDaemon({ config: testConfig(lib, state), reloadDebounceMs: 20 });
    expect(enabledOf(d)).toEqual({ check: true });
    writeFileSync(join(lib, "workflows", "push.yaml"), wf("push"));
    writeFileSync(join(lib, "workflows", "fresh.yaml"), wf("fresh"));
    await until(() => d!.listWorkflows().length === 3, "the new workflows to load");
    expect(enabledOf(d)).toEqual({ check: true, fresh: true, push: false });
    await expect(d.triggerRun("lib", "push")).rejects.toThrow("workflow 'push' is disabled");
    const run = await d.waitForRun(await d.triggerRun("lib", "fresh"));
    expect(run.status).toBe("success");
  });
});
