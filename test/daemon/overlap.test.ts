// Overlap policies per concurrency group: skip, buffer_one, buffer_all, cancel_other, allow_all,
// and a group shared by two workflows. Steps wait on gate files the test opens.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gateStep, startHarness, until, type Harness } from "./harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const wf = (name: string, overlap: string, group = name) =>
  `name: ${name}\nconcurrency: { group: ${group}, overlap: ${overlap} }\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}`;

async function setup(overlap: string) {
  h = await startHarness({ w: wf("w", overlap) });
  const gate = (n: string) => join(h!.base, `gate-${n}`);
  const open = (n: string) => writeFileSync(gate(n), "");
  const trigger = (n: string) => h!.d.triggerRun("lib", "w", { inputs: { gate: gate(n) } });
  const status = async (id: string) => (await h!.d.store.getRun(id))!.status;
  return { open, trigger, status };
}

describe("overlap policies", () => {
  it("skip: a run while the group is busy is recorded as skipped", async () => {
    const { open, trigger, status } = await setup("skip");
    const a = await trigger("a");
    const b = await trigger("b");
    expect(await status(a)).toBe("running");
    const skipped = (await h!.d.store.getRun(b))!;
    expect([skipped.status, skipped.reason]).toEqual(["skipped", `overlap: group 'w' is busy with run ${a}`]);
    open("a");
    expect((await h!.d.waitForRun(a)).status).toBe("success");
  });

  it("buffer_one: one waits, more are skipped", async () => {
    const { open, trigger, status } = await setup("buffer_one");
    const a = await trigger("a");
    const b = await trigger("b");
    const c = await trigger("c");
    expect([await status(a), await status(b), await status(c)]).toEqual(["running", "queued", "skipped"]);
    open("a");
    await h!.d.waitForRun(a);
    await until(async () => (await status(b)) === "running", "b to start");
    open("b");
    expect((await h!.d.waitForRun(b)).status).toBe("success");
  });

  it("buffer_all: every run waits its turn, in order", async () => {
    const { open, trigger, status } = await setup("buffer_all");
    const started: string[] = [];
    h!.d.bus.subscribe((e) => {
      if (e.type === "run.started") started.push(e.runId);
    });
    const ids = [await trigger("a"), await trigger("b"), await trigger("c")];
    expect(await Promise.all(ids.map(status))).toEqual(["running", "queued", "queued"]);
    for (const n of ["c", "b", "a"]) open(n);
    const runs = await Promise.all(ids.map((id) => h!.d.waitForRun(id)));
    expect(runs.map((r) => r.status)).toEqual(["success", "success", "success"]);
    expect(started).toEqual(ids);
  });

  it("cancel_other: the newer run cancels the running one and starts after it", async () => {
    const { open, trigger } = await setup("cancel_other");
    const a = await trigger("a");
    const b = await trigger("b");
    const first = await h!.d.waitForRun(a);
    expect([first.status, first.reason]).toEqual(["cancelled", `cancelled by newer run ${b} (cancel_other)`]);
    open("b");
    expect((await h!.d.waitForRun(b)).status).toBe("success");
  });

  it("allow_all: runs overlap freely", async () => {
    const { open, trigger, status } = await setup("allow_all");
    const a = await trigger("a");
    const b = await trigger("b");
    expect([await status(a), await status(b)]).toEqual(["running", "running"]);
    open("a");
    open("b");
    expect((await h!.d.waitForRun(a)).status).toBe("success");
    expect((await h!.d.waitForRun(b)).status).toBe("success");
  });

  it("a group shared by two workflows applies across them", async () => {
    h = await startHarness({ one: wf("one", "skip", "library"), two: wf("two", "skip", "library") });
    const a = await h.d.triggerRun("lib", "one", { inputs: { gate: join(h.base, "g1") } });
    const b = await h.d.triggerRun("lib", "two", { inputs: { gate: join(h.base, "g2") } });
    expect((await h.d.store.getRun(b))!.reason).toBe(`overlap: group 'library' is busy with run ${a}`);
    writeFileSync(join(h.base, "g1"), "");
    expect((await h.d.waitForRun(a)).status).toBe("success");
  });
});
