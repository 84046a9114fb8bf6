// A replica that starts while PostgreSQL is unreachable: it starts anyway, /readyz fails on the
// store check, workflows stay disabled (their saved settings cannot be read: fail closed), it keeps
// trying with backoff, and once the database answers (here a TCP proxy to the real PostgreSQL that
// the test starts on the port the daemon was pointed at) it migrates, turns ready and runs workflows
// by itself. A database lost later is reported and recovered from the same way.
import { readFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { apiExtension } from "../../src/daemon/api-bridge.ts";
import type { CliIO } from "../../src/daemon/cli/command.ts";
import { createDaemonLogging } from "../../src/daemon/cli/commands/daemon.ts";
import { API_URL_FILE } from "../../src/daemon/config.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { createTestDatabase } from "../helpers/pg.ts";
import { testConfig, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Forwards `port` to the local PostgreSQL until stopped (which also cuts every open connection). */
function proxy(port: number): { start: () => Promise<void>; stop: () => Promise<void> } {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    start: () =>
      new Promise((resolve) => {
        server = createServer((client) => {
          const upstream = connect(5432, "127.0.0.1");
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on("error", () => {});
            s.on("close", () => sockets.delete(s));
          }
          client.pipe(upstream).pipe(client);
          client.on("close", () => upstream.destroy());
          upstream.on("close", () => client.destroy());
        });
        server.listen(port, "127.0.0.1", () => resolve());
      }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      server = undefined;
    },
  };
}

it("starts while PostgreSQL is down, is not ready, and becomes ready and runs workflows once the database answers", async () => {
  const db = await createTestDatabase("downstart");
  cleanups.push(() => db.drop());
  const dir = tempDir("aicfg-pgdown-");
  cleanups.push(() => dir.cleanup());
  const lib = join(dir.path, "lib");
  const state = join(dir.path, "state");
  writeLibrary(lib, { w: "name: w\nsteps:\n  - uses: validate\n" });
  const port = await freePort();
  const pg = proxy(port);
  cleanups.push(() => pg.stop());
  const logs: string[] = [];
  const io: CliIO = { out: () => {}, err: (t) => logs.push(t), color: false, tty: false, cwd: dir.path, env: {} };
  const logging = createDaemonLogging(io, { viaIo: true, format: "json" });
  const config = testConfig(lib, state, {
    listen: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
    store: { kind: "postgres", urlFrom: { url: `postgres://postgres@127.0.0.1:${port}/${db.name}` }, leaseMs: 900 },
  });
  const handle = await startDaemon({ config, log: logging.log, hotReload: false });
  cleanups.push(async () => void (await handle.stop({ deadlineMs: 0 })));
  const stopApi = await apiExtension(handle, io, logging, Promise.resolve());
  cleanups.push(async () => {
    if (stopApi) await stopApi();
  });
  const url = readFileSync(join(state, API_URL_FILE), "utf8").trim();
  const readyz = async () => {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as { checks: Record<string, { status: string; output?: string }[]> };
    return { status: res.status, store: body.checks["store:connection"]![0]! };
  };

  // Down: started, not ready, the store check says why; the workflow is disabled until its settings can be read.
  const down = await readyz();
  expect(down.status).toBe(503);
  expect([down.store.status, down.store.output]).toEqual(["fail", expect.stringContaining("database unreachable")]);
  expect(handle.listWorkflows().map((w) => [w.name, w.enabled])).toEqual([["w", false]]);
  expect(logs.join("\n")).toContain("starting without it, not ready, retrying with backoff");
  await expect(handle.triggerRun("lib", "w")).rejects.toThrow("workflow 'w' is disabled");

  // Back: it migrates, turns ready, reads the settings and runs the workflow.
  await pg.start();
  await until(async () => (await readyz()).status === 200, "/readyz to pass", 20_000);
  await until(() => handle.listWorkflows()[0]!.enabled, "the workflow to be enabled", 10_000);
  const run = await handle.waitForRun(await handle.triggerRun("lib", "w"));
  expect(run.status).toBe("success");
  expect(logs.join("\n")).toContain("the database answers again");

  // Lost again later (every connection cut): not ready, then ready by itself when it is back.
  await pg.stop();
  await until(async () => (await readyz()).status === 503, "/readyz to fail", 10_000);
  await pg.start();
  await until(async () => (await readyz()).status === 200, "/readyz to pass again", 20_000);
  expect((await handle.waitForRun(await handle.triggerRun("lib", "w"))).status).toBe("success");
}, 60_000);
