// The per-org API requests-per-minute quota on PostgreSQL is one budget for every replica: each
// request raises the org's row for the minute (org_request_counts), so two API instances on one
// database (two daemons, two pools) give an org its budget once, not twice; 429 with Retry-After
// until the minute ends on either; concurrent requests over both never pass it together; old
// minutes are pruned. Then the daemon's own API extension on PostgreSQL, over real HTTP, counts there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { apiExtension } from "../../../src/daemon/api-bridge.ts";
import type { CliIO } from "../../../src/daemon/cli/command.ts";
import { createDaemonLogging } from "../../../src/daemon/cli/commands/daemon.ts";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { API_URL_FILE } from "../../../src/daemon/config.ts";
import { startDaemon, type DaemonHandle } from "../../../src/daemon/daemon.ts";
import type { PgStore } from "../../../src/daemon/store/pg/pg-store.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { createTestDatabase, queryDb, type TestDatabase } from "../../helpers/pg.ts";
import { testConfig } from "../harness.ts";
import { writeLibrary } from "../lib-fixture.ts";
import { T0 } from "./api-daemon.ts";
import { apiReplicas } from "./pg-replicas.ts";

const MINUTE = 60_000;
const LIMITS = { limits: { authFailuresPerMinute: 1_000_000, requestsPerMinutePerToken: 1_000_000 } };

let db: TestDatabase | undefined;
const replicas = apiReplicas(() => db!.url);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await replicas.stop();
  await db?.drop();
  db = undefined;
});

const counts = async () =>
  (await queryDb<{ org: string; minute: string; n: number }>(db!.url, "SELECT org, minute, n FROM org_request_counts ORDER BY org, minute")).map((r) => [
    r.org,
    Number(r.minute) - T0,
    r.n,
  ]);

describe("API requests per minute per org on PostgreSQL: one budget over the replicas", () => {
  it("two API instances share the org's budget: 429 with Retry-After on both once it is used, the next minute frees it, old minutes are pruned", async () => {
    db = await createTestDatabase("reqquota");
    const a = await replicas.start("a", LIMITS);
    const b = await replicas.start("b", LIMITS);
    await a.tenancy.createOrg("acme", { quotas: { requestsPerMinute: 4 } });
    const viewer = (await a.tokens.create({ role: "viewer", org: "acme" })).token;
    const admin = (await b.tokens.create({ role: "admin", org: "acme" })).token;
    const other = (await a.tokens.create({ role: "viewer" })).token;
    const status = async (r: typeof a, token: string) => (await r.call("GET", "/v1/whoami", token)).status;

    // Four requests of acme over both replicas use its budget of 4 (each replica alone would allow 4).
    expect([await status(a, viewer), await status(b, viewer), await status(a, admin), await status(b, admin)]).toEqual([200, 200, 200, 200]);
    for (const r of [a, b]) {
      const over = await r.call("GET", "/v1/whoami", viewer);
      expect(over.status).toBe(429);
      expect(over.headers.get("retry-after")).toBe("60");
      expect((await over.json()).error).toMatchObject({ code: "org-quota", message: "org acme is over its quota of API requests per minute" });
    }
    // Another org's callers have their own budget.
    expect([await status(a, other), await status(b, other)]).toEqual([200, 200]);
    // Half a minute on: still over, Retry-After is the rest of the minute.
    for (const r of [a, b]) await r.daemon.clock.advance(MINUTE / 2);
    const later = await b.call("GET", "/v1/whoami", admin);
    expect([later.status, later.headers.get("retry-after")]).toEqual([429, "30"]);
    expect(await counts()).toEqual([
      ["acme", 0, 7],
      ["default", 0, 2],
    ]);
    // The next minute: room again on both.
    for (const r of [a, b]) await r.daemon.clock.advance(MINUTE / 2);
    expect([await status(a, viewer), await status(b, admin)]).toEqual([200, 200]);
    // Three minutes on, the org's first request prunes every minute before the previous one.
    for (const r of [a, b]) await r.daemon.clock.advance(2 * MINUTE);
    expect(await status(b, viewer)).toBe(200);
    expect(await counts()).toEqual([["acme", 3 * MINUTE, 1]]);
  });

  it("concurrent requests over both replicas never pass the budget together: exactly the quota is answered", async () => {
    db = await createTestDatabase("reqrace");
    const a = await replicas.start("a", LIMITS);
    const b = await replicas.start("b", LIMITS);
    await a.tenancy.createOrg("acme", { quotas: { requestsPerMinute: 10 } });
    const token = (await a.tokens.create({ role: "viewer", org: "acme" })).token;
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).call("GET", "/v1/whoami", token).then((r) => r.status)));
    expect(answers.filter((s) => s === 200).length).toBe(10);
    expect(answers.filter((s) => s === 429).length).toBe(20);
    expect(await counts()).toEqual([["acme", 0, 30]]);
  });

  it("the daemon's API extension on PostgreSQL counts in the database: two daemons over real HTTP share one budget", async () => {
    db = await createTestDatabase("reqdaemon");
    const dir = tempDir("aicfg-reqquota-");
    cleanups.push(() => dir.cleanup());
    const lib = join(dir.path, "lib");
    writeLibrary(lib, { w: "name: w\nsteps:\n  - uses: validate\n" });
    const io: CliIO = { out: () => {}, err: () => {}, color: false, tty: false, cwd: dir.path, env: {} };
    const start = async (name: string) => {
      const state = join(dir.path, name);
      const config = testConfig(lib, state, {
        listen: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
        store: { kind: "postgres", urlFrom: { url: db!.url }, leaseMs: 15_000 },
      });
      // Mid-minute on a manual clock: the database clock offset (milliseconds) cannot move a request to another minute.
      const handle: DaemonHandle = await startDaemon({ config, clock: createManualClock(T0 + MINUTE / 2), hotReload: false });
      cleanups.push(async () => void (await handle.stop({ deadlineMs: 0 })));
      const stop = await apiExtension(handle, io, createDaemonLogging(io, { viaIo: true, format: "json" }), Promise.resolve());
      cleanups.push(async () => {
        if (stop) await stop();
      });
      return { handle, url: readFileSync(join(state, API_URL_FILE), "utf8").trim() };
    };
    const a = await start("a");
    const b = await start("b");
    const pg = a.handle.store as PgStore;
    const stores = await pg.tenancyStores(a.handle.clock);
    await stores.tenancy.createOrg("acme", { quotas: { requestsPerMinute: 3 } });
    const token = (await pg.tokenStore(a.handle.clock).create({ role: "viewer", org: "acme" })).token;
    const get = async (url: string) => {
      const res = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      return [res.status, res.headers.get("retry-after")];
    };
    expect([await get(a.url), await get(b.url), await get(a.url)]).toEqual([
      [200, null],
      [200, null],
      [200, null],
    ]);
    const [status, retry] = await get(b.url);
    expect(status).toBe(429);
    expect(Number(retry)).toBeGreaterThanOrEqual(29);
    expect(Number(retry)).toBeLessThanOrEqual(31);
    expect((await get(a.url))[0]).toBe(429);
    expect((await queryDb<{ n: number }>(db.url, "SELECT n FROM org_request_counts WHERE org = 'acme'")).map((r) => r.n)).toEqual([5]);
  }, 60_000);
});
