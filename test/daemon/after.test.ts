// `after` trigger: a workflow runs when another succeeds; a cycle stops instead of looping.
import { afterEach, describe, expect, it } from "vitest";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isFinished, startDaemon } from "../../src/daemon/daemon.ts";
import type { RunRecord } from "../../src/daemon/store/types.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { startHarness, testConfig, type Harness } from "./harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await h!.d.idle();
    await h!.clock.advance(0);
  }
};

describe("after trigger", () => {
  it("starts dependents on success only, and stops a cycle", async () => {
    h = await startHarness({
      a: "name: a\non: { after: [b] }\nsteps:\n  - uses: validate\n",
      b: "name: b\non: { after: [a] }\nsteps:\n  - uses: validate\n",
      c: "name: c\non: { after: [a] }\nsteps:\n  - uses: validate\n",
      fails: "name: fails\nsteps:\n  - uses: shell\n    with: { command: [definitely-not-a-program-aicfg] }\n",
      d: "name: d\non: { after: [fails] }\nsteps:\n  - uses: validate\n",
    });
    const id = await h.d.triggerRun("lib", "a");
    await settle();
    const runs = (await h.d.store.listRuns()).sort((x, y) => x.workflow.localeCompare(y.workflow));
    expect(runs.map((r) => [r.workflow, r.trigger.kind, r.trigger.workflow ?? null, r.trigger.chain ?? null])).toEqual([
      ["a", "manual", null, null],
      ["b", "after", "a", ["a"]],
      ["c", "after", "a", ["a"]],
    ]);
    expect(runs[1]!.trigger.run_id).toBe(id);
    await h.d.triggerRun("lib", "fails");
    await settle();
    expect((await h.d.store.listRuns({ workflow: "d" })).length).toBe(0);
  });

  it("a workflow with on.manual: false cannot be started by hand, but still runs after another", async () => {
    h = await startHarness({
      first: "name: first\nsteps:\n  - uses: validate\n",
      auto: "name: auto\non: { after: [first], manual: false }\nsteps:\n  - uses: validate\n",
    });
    await expect(h.d.triggerRun("lib", "auto")).rejects.toThrow("workflow 'auto' does not allow manual runs (on.manual: false)");
    await h.d.triggerRun("lib", "first");
    await settle();
    expect((await h.d.store.listRuns({ workflow: "auto" })).map((r) => [r.status, r.trigger.kind])).toEqual([["success", "after"]]);
  });
});

describe("after trigger on the sample library", () => {
  // The sample's health-report runs after export-on-change, whose `initial` run fires while the
  // triggers start: the after listener must already be there to see that first export finish.
  it("runs health-report after the start-up export", async () => {
    const dir = tempDir("aicfg-after-");
    const lib = join(dir.path, "examples", "library");
    cpSync(fileURLToPath(new URL("../../examples/library", import.meta.url)), lib, { recursive: true });
    const d = await startDaemon({ config: testConfig(lib, join(dir.path, ".aicfg-state")), hotReload: false });
    try {
      const waitFor = async (done: (runs: RunRecord[]) => boolean, ms: number) => {
        const until = Date.now() + ms;
        let runs = await d.store.listRuns();
        while (Date.now() < until && !done(runs)) {
          await new Promise((r) => setTimeout(r, 50));
          runs = await d.store.listRuns();
        }
        return runs;
      };
      await waitFor((runs) => runs.some((r) => r.workflow === "export-on-change" && isFinished(r)), 30_000);
      const runs = await waitFor((runs) => runs.some((r) => r.workflow === "health-report" && isFinished(r)), 5000);
      const exportRun = runs.find((r) => r.workflow === "export-on-change");
      expect(exportRun).toMatchObject({ status: "success", trigger: { kind: "watch", initial: true } });
      expect(runs.find((r) => r.workflow === "health-report")).toMatchObject({
        status: "success",
        trigger: { kind: "after", workflow: "export-on-change", run_id: exportRun!.id },
      });
    } finally {
      await d.stop({ deadlineMs: 0 });
      dir.cleanup();
    }
  }, 40_000);
});
