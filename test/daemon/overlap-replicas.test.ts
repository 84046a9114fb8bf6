// The overlap policy of a concurrency group holds across replicas: two daemons on one PostgreSQL
// never run the same group at once under `skip` (the second is skipped, naming the run of the
// other replica), `buffer_all` waits for the other replica's run to finish, and `cancel_other`
// cancels it there (its fence raised, so that replica stops it and its writes are refused). The
// org's runs-per-hour quota is one count over both replicas too.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import type { QuotaError } from "../../src/daemon/dispatcher.ts";
import type { PgStore } from "../../src/daemon/store/pg/pg-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.ts";
import { gateStep, testConfig, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let db: TestDatabase;
let dir: ReturnType<typeof tempDir>;
const daemons: DaemonHandle[] = [];
beforeEach(async () => {
  db = await createTestDatabase("overlap");
  dir = tempDir("aicfg-overlap-");
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop({ deadlineMs: 0 });
  await db.drop();
  dir.cleanup();
});

const wf = (overlap: string) => `name: w\nconcurrency: { group: g, overlap: ${overlap} }\ninputs: { gate: { type: string } }\nsteps:\n${gateStep()}`;

/** Two replicas of one library on one database, each with its own state folder. */
async function replicas(overlap: string) {
  const lib = join(dir.path, "lib");
  writeLibrary(lib, { w: wf(overlap) });
  const start = async (name: string) => {
    const d = await startDaemon({
      config: testConfig(lib, join(dir.path, name), { store: { kind: "postgres", urlFrom: { url: db.url }, leaseMs: 1500 } }),
      hotReload: false,
    });
    daemons.push(d);
    return d;
  };
  const [a, b] = [await start("a"), await start("b")];
  const gate = (n: string) => join(dir.path, `gate-${n}`);
  const trigger = (d: DaemonHandle, n: string) => d.triggerRun("lib", "w", { inputs: { gate: gate(n) } });
  const open = (n: string) => writeFileSync(gate(n), "");
  return { a: a!, b: b!, trigger, open };
}

describe("overlap policies across replicas (PostgreSQL)", () => {
  it("skip: a run on the second replica while the first runs the group is skipped, naming the other replica's run", async () => {
    const { a, b, trigger, open } = await replicas("skip");
    const first = await trigger(a, "1");
    expect((await a.store.getRun(first))!.status).toBe("running");
    const second = await trigger(b, "2");
    const skipped = (await b.store.getRun(second))!;
    expect([skipped.status, skipped.reason]).toEqual(["skipped", `overlap: group 'g' is busy with run ${first} on another replica`]);
    expect(b.status().runs.inFlight).toBe(0);
    open("1");
    expect((await a.waitForRun(first)).status).toBe("success");
    // The group is free again: the second replica runs it now, and the first skips meanwhile.
    const third = await trigger(b, "3");
    expect((await b.store.getRun(third))!.status).toBe("running");
    const fourth = await trigger(a, "4");
    expect((await a.store.getRun(fourth))!.reason).toBe(`overlap: group 'g' is busy with run ${third} on another replica`);
    open("3");
    expect((await b.waitForRun(third)).status).toBe("success");
    // Never two at once: the successful runs' spans do not overlap.
    const done = (await a.store.listRuns({ status: ["success"] })).sort((x, y) => x.startedAt! - y.startedAt!);
    expect(done.map((r) => r.id)).toEqual([first, third]);
    expect(done[0]!.finishedAt!).toBeLessThanOrEqual(done[1]!.startedAt!);
  });

  it("buffer_all: the second replica's run waits until the first replica's run finished, then runs", async () => {
    const { a, b, trigger, open } = await replicas("buffer_all");
    const first = await trigger(a, "1");
    const second = await trigger(b, "2");
    expect((await b.store.getRun(second))!.status).toBe("queued");
    open("2");
    // Its gate is open, yet it waits for the other replica's run.
    await new Promise((r) => setTimeout(r, 800));
    expect((await b.store.getRun(second))!.status).toBe("queued");
    open("1");
    const [x, y] = [await a.waitForRun(first), await b.waitForRun(second)];
    expect([x.status, y.status]).toEqual(["success", "success"]);
    expect(x.finishedAt!).toBeLessThanOrEqual(y.startedAt!);
  });

  it("the runs-per-hour quota of an org is one count over both replicas' runs (kept in the database)", async () => {
    const { a, b, trigger, open } = await replicas("allow_all");
    const store = a.store as PgStore;
    await (await store.tenancyStores(a.clock)).tenancy.updateQuotas("default", { runsPerHour: 2 });
    open("x");
    await a.waitForRun(await trigger(a, "x"));
    await b.waitForRun(await trigger(b, "x"));
    const err = (await trigger(a, "x").catch((e: unknown) => e)) as QuotaError;
    expect([err.code, err.message]).toEqual(["org-quota", "quota: org default is over its quota of 2 runs per hour"]);
    await expect(trigger(b, "x")).rejects.toThrow("over its quota of 2 runs per hour");
    const runs = await b.store.listRuns();
    expect(runs.map((r) => r.status).sort()).toEqual(["skipped", "skipped", "success", "success"]);
  });

  it("cancel_other: the newer run on the second replica cancels the first replica's run, which stops there", async () => {
    const { a, b, trigger, open } = await replicas("cancel_other");
    const first = await trigger(a, "1");
    const second = await trigger(b, "2");
    const cancelled = (await b.store.getRun(first))!;
    expect([cancelled.status, cancelled.reason]).toEqual(["cancelled", `cancelled by newer run ${second} (cancel_other)`]);
    // The first replica loses the lease on its next renewal and stops the run (its later writes are fenced).
    await until(() => a.status().runs.inFlight === 0, "the first replica to stop its run");
    expect((await a.store.getRun(first))!.status).toBe("cancelled");
    open("2");
    expect((await b.waitForRun(second)).status).toBe("success");
  });
});
