// "No second path": the built-in triggers (cron, watch, git, after, manual) are registered by aicfg's
// own plugin into the same trigger registry a plugin's go into, and the daemon starts a plugin's
// trigger and a built-in the same way: the built-in cron type, registered again by a plugin under
// another id and configured through on.triggers, schedules runs on the manual clock. (cron-again is
// on.triggers[1]: cron names its occurrences and watermark by library, workflow and entry index, and
// on.cron[0] has index 0.)
import { afterEach, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { BUILTIN_OWNER } from "../../src/library/registry.ts";
import { builtinTriggersPlugin } from "../../src/daemon/triggers/builtin.ts";
import { triggerRegistry } from "../../src/workflows/triggers.ts";
import { createManualClock, startTestDaemon, type TestDaemon } from "../../src/testing/index.ts";
import { SEEN_KEY, type Seen } from "../fixtures/plugins/reuses-cron.ts";

const PLUGIN = fileURLToPath(new URL("../fixtures/plugins/reuses-cron.ts", import.meta.url));
const T0 = Date.parse("2026-06-01T10:00:10Z");

let d: TestDaemon | undefined;
afterEach(async () => {
  await d?.stop();
  d = undefined;
});

const WF = `name: both
on:
  cron: { schedule: "*/5 * * * *" }
  triggers:
    - uses: records-context
    - uses: cron-again
      with: { schedule: "*/5 * * * *" }
steps:
  - id: check
    uses: validate
`;

describe("the trigger registry", () => {
  it("lists the built-ins (owner aicfg, from aicfg's own plugin) and a plugin's triggers in one list", async () => {
    d = await startTestDaemon({ files: { "workflows/both.yaml": WF }, plugins: [PLUGIN], clock: createManualClock(T0) });
    expect(builtinTriggersPlugin).toMatchObject({ apiVersion: "aicfg/v1", name: BUILTIN_OWNER });
    expect(triggerRegistry.entries().map((e) => `${e.owner}:${e.item.id}`)).toEqual([
      "aicfg:cron",
      "aicfg:watch",
      "aicfg:git",
      "aicfg:after",
      "aicfg:manual",
      "reuses-cron:cron-again",
      "reuses-cron:records-context",
    ]);
    expect(d.daemon.getWorkflow("test", "both")?.triggers).toEqual(["cron", "manual", "plugin"]);
    // Stopping takes the plugin's triggers out; the built-ins stay.
    await d.stop();
    d = undefined;
    expect(triggerRegistry.entries().map((e) => e.item.id)).toEqual(["cron", "watch", "git", "after", "manual"]);
  });

  it("starts a built-in and a plugin's trigger through the same code: aicfg's cron type runs as a plugin trigger", async () => {
    const clock = createManualClock(T0);
    const seen: Seen = [];
    (globalThis as Record<string, unknown>)[SEEN_KEY] = seen;
    d = await startTestDaemon({ files: { "workflows/both.yaml": WF }, plugins: [PLUGIN], clock });
    // A plugin's trigger gets the context the built-ins get, with the daemon's services as `host`.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.keys).toEqual(["clock", "emit", "host", "log", "signal", "state", "with", "workflow"]);
    expect(Object.keys(seen[0]!.host as object)).toEqual(expect.arrayContaining(["store", "bus", "gitRouter", "chainOf"]));

    await clock.advance(5 * 60_000);
    await d.daemon.idle();
    const runs = await d.daemon.store.listRuns({ workflow: "both" });
    const kinds = runs
      .map((r) => ({ kind: r.trigger.kind, uses: r.trigger.uses, at: r.trigger.scheduled_at }))
      .sort((a, b) => String(a.kind).localeCompare(String(b.kind)));
    expect(kinds).toEqual([
      { kind: "cron", uses: undefined, at: "2026-06-01T10:05:00.000Z" },
      { kind: "plugin", uses: "cron-again", at: "2026-06-01T10:05:00.000Z" },
    ]);
  });
});
