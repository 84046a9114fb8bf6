// The per-runtime server on its own: client address and port reach the app, requests in flight
// finish during a graceful close, and a request that never finishes cannot block the close.
import { afterEach, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { serve, type Bindings, type Served } from "../../../src/daemon/runtime/serve.ts";

let served: Served | undefined;
afterEach(async () => {
  await served?.close({ graceMs: 100 });
  served = undefined;
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("serve", () => {
  it("passes the client address, local port and transport to the app", async () => {
    const app = new Hono<{ Bindings: Bindings }>();
    app.get("/who", (c) => c.json({ remote: c.env.remoteAddress, port: c.env.localPort, transport: c.env.transport }));
    served = await serve(app, { host: "127.0.0.1", port: 0 });
    const port = (served.address as { port: number }).port;
    expect(served.url).toBe(`http://127.0.0.1:${port}`);
    const body = (await (await fetch(`http://127.0.0.1:${port}/who`)).json()) as { remote: string; port: number; transport: string };
    expect(body.remote.replace(/^::ffff:/, "")).toBe("127.0.0.1");
    expect(body.port).toBe(port);
    expect(body.transport).toBe("tcp");
  });

  it("lets a request in flight finish during a graceful close, then refuses new connections", async () => {
    const entered = deferred();
    const release = deferred();
    const app = new Hono();
    app.get("/slow", async (c) => {
      entered.resolve();
      await release.promise;
      return c.text("finished");
    });
    served = await serve(app, { host: "127.0.0.1", port: 0 });
    const port = (served.address as { port: number }).port;
    const inflight = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => `${r.status} ${await r.text()}`);
    await entered.promise;
    const closing = served.close({ graceMs: 10_000 });
    release.resolve();
    expect(await inflight).toBe("200 finished");
    await closing;
    served = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/slow`)).rejects.toThrow();
  });

  it("does not hang on a request that never finishes: the grace period ends it", async () => {
    const entered = deferred();
    const app = new Hono();
    app.get("/stuck", async () => {
      entered.resolve();
      return new Promise<Response>(() => {});
    });
    served = await serve(app, { host: "127.0.0.1", port: 0 });
    const port = (served.address as { port: number }).port;
    const stuck = fetch(`http://127.0.0.1:${port}/stuck`).then(
      (r) => r.status,
      () => "connection closed",
    );
    await entered.promise;
    await served.close({ graceMs: 50 });
    served = undefined;
    expect(["connection closed", 503, 500]).toContain(await stuck);
  });
});
