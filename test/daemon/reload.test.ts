// Hot reload of workflow files: a change is picked up, a broken file keeps its last good version
// running and is reported, a new file appears; enabling/disabling survives a restart.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import type { DaemonEvent } from "../../src/daemon/events.ts";
import { formatDiagnostic } from "../../src/library/diagnostics.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { startHarness, testConfig, until, type Harness } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let d: DaemonHandle | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  await h?.cleanup();
  dir?.cleanup();
  d = undefined;
  h = undefined;
  dir = undefined;
});

describe("hot reload", () => {
  it("picks up changes, keeps the last good version of a broken file, and reports it", async () => {
    dir = tempDir();
    const lib = join(dir.path, "lib");
    writeLibrary(lib, { w: "name: w\nsteps:\n  - uses: validate\n" });
    d = await startDaemon({ config: testConfig(lib, join(dir.path, "state")), reloadDebounceMs: 20 });
    const loaded: DaemonEvent[] = [];
    d.bus.subscribe((e) => e.type === "workflows.loaded" && loaded.push(e));
    const file = join(lib, "workflows", "w.yaml");
    const firstHash = d.getWorkflow("lib", "w")!.workflow.hash;

    writeFileSync(file, "name: w\nsteps:\n  - uses: validate\n  - uses: health\n");
    await until(() => d!.getWorkflow("lib", "w")!.workflow.hash !== firstHash, "the change to load");
    const good = d.getWorkflow("lib", "w")!.workflow;
    expect(good.steps.map((s) => s.id)).toEqual(["validate", "health"]);

    writeFileSync(file, "name: w\nsteps:\n  - uses: validate\n    retry: { attempts: 0 }\n");
    await until(() => d!.status().checks.config.broken === 1, "the broken file to be reported");
    const info = d.getWorkflow("lib", "w")!;
    expect(info.workflow).toBe(good);
    expect(info.stale!.map((x) => formatDiagnostic(x, lib))).toEqual([
      "workflows/w.yaml:4:24  error: steps.0.retry.attempts: Too small: expected number to be >=1  (at least 1)",
    ]);
    expect(loaded.at(-1)).toMatchObject({ type: "workflows.loaded", library: "lib", total: 1, enabled: 1, broken: 1 });
    const run = await d.waitForRun(await d.triggerRun("lib", "w"));
    expect(run.steps.map((s) => s.id)).toEqual(["validate", "health"]);

    writeFileSync(join(lib, "workflows", "second.yaml"), "name: second\nsteps:\n  - uses: validate\n");
    writeFileSync(file, "name: w\nsteps:\n  - uses: health\n");
    await until(() => d!.listWorkflows().length === 2 && d!.status().checks.config.broken === 0, "the fixed and the new file");
    expect(d.listWorkflows().map((w) => [w.name, w.stale === undefined])).toEqual([
      ["second", true],
      ["w", true],
    ]);
    rmSync(join(lib, "workflows", "second.yaml"));
    await until(() => d!.listWorkflows().length === 1, "the removed file");
    expect(d.status().ready).toBe(true);
  });

  it("reload() (SIGHUP) re-reads files; disabling persists across restarts", async () => {
    h = await startHarness({ w: "name: w\non:\n  cron: { schedule: '0 * * * *' }\nsteps:\n  - uses: validate\n" });
    expect(h.d.getWorkflow("lib", "w")!.nextRuns.slice(0, 2)).toEqual([Date.parse("2026-06-01T11:00:00Z"), Date.parse("2026-06-01T12:00:00Z")]);
    writeFileSync(join(h.lib, "workflows", "w.yaml"), "name: w\non:\n  cron: { schedule: '30 * * * *' }\nsteps:\n  - uses: validate\n");
    const report = await h.d.reload();
    expect(report).toEqual({ libraries: [{ name: "lib", total: 1, enabled: 1, broken: [] }] });
    expect(h.d.getWorkflow("lib", "w")!.nextRuns[0]).toBe(Date.parse("2026-06-01T10:30:00Z"));
    await h.d.setWorkflowEnabled("lib", "w", false);
    expect(h.d.getWorkflow("lib", "w")!).toMatchObject({ enabled: false, nextRuns: [] });
    await expect(h.d.triggerRun("lib", "w")).rejects.toThrow("workflow 'w' is disabled");
    await h.clock.advance(3600_000);
    expect(await h.d.store.listRuns()).toEqual([]);
    await h.d.stop();
    const again = await startDaemon({ config: testConfig(h.lib, h.state), hotReload: false });
    expect(again.getWorkflow("lib", "w")!.enabled).toBe(false);
    await again.setWorkflowEnabled("lib", "w", true);
    expect(again.getWorkflow("lib", "w")!.enabled).toBe(true);
    await again.stop();
  });
});
