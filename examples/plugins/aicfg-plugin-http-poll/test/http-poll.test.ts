// http-poll against a real HTTP server on loopback, in a real daemon with a manual clock: the first
// poll records the ETag, a changed ETag starts one run (the server sees If-None-Match), an unchanged
// one (304) starts none, and a restarted daemon with the same state folder does not fire again.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createManualClock, startTestDaemon, type TestDaemon } from "ai-configurator/testing";
import { httpPollTrigger, intervalMs } from "../index.ts";

const PLUGIN = fileURLToPath(new URL("..", import.meta.url));
const T0 = Date.parse("2026-03-01T12:00:00Z");

type Origin = { url: string; etag: string | undefined; body: string; seen: (string | undefined)[]; server: Server };

async function startOrigin(): Promise<Origin> {
  const o = { etag: '"v1"' as string | undefined, body: "one", seen: [] as (string | undefined)[] } as Origin;
  o.server = createServer((req, res) => {
    const inm = req.headers["if-none-match"];
    o.seen.push(typeof inm === "string" ? inm : undefined);
    if (o.etag && inm === o.etag) return void res.writeHead(304).end();
    res.writeHead(200, { "content-type": "text/plain", ...(o.etag ? { etag: o.etag } : {}) }).end(o.body);
  });
  await new Promise<void>((r) => o.server.listen(0, "127.0.0.1", r));
  o.url = `http://127.0.0.1:${(o.server.address() as { port: number }).port}/feed`;
  return o;
}

/** Waits (real time, bounded) until `check` holds: the poll's HTTP round trip is real I/O. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Lets the poll interval pass on the manual clock until `check` holds. The poll's HTTP round trip is
 * real I/O, so the trigger may not be asleep yet when an interval passes: then the next one catches it.
 */
async function advanceUntil(clock: ReturnType<typeof createManualClock>, check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The one trigger state file in a state folder. */
function stateFileOf(stateDir: string): string {
  const dir = join(stateDir, "plugin-triggers");
  const [file] = readdirSync(dir);
  return join(dir, file!);
}

describe("http-poll", () => {
  let origin: Origin;
  let d: TestDaemon | undefined;
  let state: string;
  beforeEach(async () => {
    origin = await startOrigin();
    state = mkdtempSync(join(tmpdir(), "http-poll-state-"));
  });
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    await new Promise<void>((r) => origin.server.close(() => r()));
    rmSync(state, { recursive: true, force: true });
  });

  const files = () => ({
    "workflows/on-change.yaml": `name: on-change\non:\n  triggers:\n    - uses: http-poll\n      with: { url: "${origin.url}", every: 10s }\nsteps:\n  - id: check\n    uses: validate\n`,
  });
  const runs = async (t: TestDaemon) => ((await (await t.request("/v1/runs?workflow=on-change")).json()) as { items: { id: string; trigger: string }[] }).items;

  it("fires once per new ETag, sends If-None-Match, and does not fire again after a restart", async () => {
    const clock = createManualClock(T0);
    d = await startTestDaemon({ files: files(), plugins: [PLUGIN], clock, config: { stateDir: state } });
    await until(() => origin.seen.length === 1, "the first poll");
    expect(origin.seen[0]).toBeUndefined();
    expect(await runs(d)).toEqual([]);

    origin.etag = '"v2"';
    origin.body = "two";
    await advanceUntil(clock, async () => (await runs(d!)).length === 1, "a run for the new ETag");
    expect(origin.seen[1]).toBe('"v1"');
    const [run] = await runs(d);
    const record = await d.daemon.waitForRun(run!.id);
    expect(record.trigger).toMatchObject({ kind: "plugin", uses: "http-poll", etag: '"v2"', previous: '"v1"', url: origin.url });

    const polled = origin.seen.length;
    await advanceUntil(clock, () => origin.seen.length > polled, "another poll");
    expect(origin.seen.slice(2)).toEqual(origin.seen.slice(2).map(() => '"v2"'));
    await d.daemon.idle();
    expect((await runs(d)).length).toBe(1);
    await d.stop();
    const beforeRestart = origin.seen.length;

    // Same state folder: the stored ETag goes out with the first poll, the 304 fires nothing.
    d = await startTestDaemon({ files: files(), plugins: [PLUGIN], clock: createManualClock(T0 + 60_000), config: { stateDir: state } });
    await until(() => origin.seen.length > beforeRestart, "the first poll after the restart");
    expect(origin.seen[beforeRestart]).toBe('"v2"');
    await d.daemon.idle();
    expect((await runs(d)).filter((r) => r.trigger === "plugin")).toHaveLength(1);
  });

  it("out of process (isolation: process): its timers run on the daemon's clock over JSON-RPC, so the manual clock drives it", async () => {
    const clock = createManualClock(T0);
    const plugins = [{ use: PLUGIN, isolation: "process" as const, grant: { net: true } }];
    d = await startTestDaemon({ files: files(), plugins, clock, config: { stateDir: state } });
    expect(d.daemon.status().checks.plugins.loaded).toEqual(["aicfg-plugin-http-poll@1.0.0"]);
    await until(() => origin.seen.length === 1, "the first poll");
    // No time passes on the daemon's clock: the child's 10s sleep never ends, however long we wait.
    await new Promise((r) => setTimeout(r, 300));
    expect(origin.seen).toHaveLength(1);

    origin.etag = '"v2"';
    await advanceUntil(clock, async () => (await runs(d!)).length === 1, "a run for the new ETag");
    const [run] = await runs(d);
    const record = await d.daemon.waitForRun(run!.id);
    expect(record.trigger).toMatchObject({ kind: "plugin", uses: "http-poll", etag: '"v2"', previous: '"v1"' });
    // The child's clock.now() is the daemon's: the stored state says when, in manual-clock time.
    const seenAt = Date.parse(String((JSON.parse(readFileSync(stateFileOf(state), "utf8")) as { seenAt: string }).seenAt));
    expect(seenAt).toBeGreaterThan(T0);
    expect(seenAt).toBeLessThanOrEqual(clock.now());
  });

  it("falls back to the body's digest when the server sends no ETag", async () => {
    origin.etag = undefined;
    const clock = createManualClock(T0);
    d = await startTestDaemon({ files: files(), plugins: [PLUGIN], clock, config: { stateDir: state } });
    await until(() => origin.seen.length === 1, "the first poll");
    await advanceUntil(clock, () => origin.seen.length >= 2, "the second poll");
    await d.daemon.idle();
    expect(await runs(d)).toEqual([]);
    origin.body = "changed";
    await advanceUntil(clock, async () => (await runs(d!)).length === 1, "a run for the new body");
    expect(origin.seen.every((h) => h === undefined)).toBe(true);
  });

  it("checks its inputs: an interval, an http(s) URL", () => {
    expect(intervalMs("5m")).toBe(300_000);
    expect(httpPollTrigger.with.safeParse({ url: "file:///etc/passwd" }).success).toBe(false);
    expect(httpPollTrigger.with.safeParse({ url: "http://127.0.0.1/", every: "10ms" }).success).toBe(false);
    expect(httpPollTrigger.with.parse({ url: "http://127.0.0.1/" })).toMatchObject({ every: "60s", fire_on_start: false });
  });
});
