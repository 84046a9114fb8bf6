// File-watch trigger with real chokidar events: globs, debounce, changed paths passed to the run,
// and an editor's burst of saves making one run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import type { DaemonEvent } from "../../src/daemon/events.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { testConfig, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let d: DaemonHandle | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  dir?.cleanup();
  d = undefined;
});

describe("watch trigger", () => {
  it("turns a burst of saves into one run with every changed path, and ignores other files", async () => {
    dir = tempDir();
    const lib = join(dir.path, "lib");
    writeLibrary(lib, {
      onchange: "name: onchange\non:\n  watch: { paths: ['agents/**'], ignore: ['**/*.tmp'], debounce: 800ms }\nsteps:\n  - uses: health\n",
    });
    d = await startDaemon({ config: testConfig(lib, join(dir.path, "state")), hotReload: false });
    const events: DaemonEvent[] = [];
    d.bus.subscribe((e) => events.push(e));
    const burst = Array.from({ length: 20 }, (_, i) => join(lib, "agents", `a${String(i).padStart(2, "0")}.md`));
    for (const f of burst) writeFileSync(f, `---\ndescription: agent ${f}\n---\nHello.\n`);
    writeFileSync(join(lib, "knowledge", "other.md"), "not watched\n");
    writeFileSync(join(lib, "agents", "scratch.tmp"), "ignored\n");
    await until(async () => (await d!.store.listRuns()).length === 1 && (await d!.store.listRuns())[0]!.status === "success", "the first run");
    writeFileSync(join(lib, "agents", "writer.md"), "---\ndescription: Writes docs\n---\nWrite better docs.\n");
    await until(async () => (await d!.store.listRuns()).length === 2, "the second run");
    await d.idle();
    const [second, first] = await d.store.listRuns();
    expect(first!.trigger).toEqual({ kind: "watch", paths: burst });
    expect(second!.trigger).toEqual({ kind: "watch", paths: [join(lib, "agents", "writer.md")] });
    expect(first!.steps[0]!.outputs.agents).toBe(22);
    const triggerEvents = events.filter((e) => e.type === "trigger.event");
    expect(triggerEvents.filter((e) => e.outcome === "accepted").map((e) => [e.kind, e.workflow])).toEqual([
      ["watch", "onchange"],
      ["watch", "onchange"],
    ]);
    expect(triggerEvents.filter((e) => e.outcome === "debounced").length).toBeGreaterThanOrEqual(19);
    expect(events.some((e) => e.type === "library.stats" && e.agents === 22)).toBe(true);
    expect(d.status().checks.watchers).toEqual({ ok: true, count: 1, dead: 0 });
  });
});
