// The per-runtime server on its own: client address and port reach the app, requests in flight
// finish during a graceful close, and a request that never finishes cannot block the close.
import { afterEach, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { createServer } from "node:net";
import { ConfigError } from "../../../src/library/diagnostics.ts";
import { findPortOwner, listeningInodes } from "../../../src/daemon/runtime/port-owner.ts";
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

describe("a port already in use", () => {
  it("is a ConfigError naming the address, who holds it (Linux) and what to do", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as { port: number }).port;
    try {
      const err = await serve(new Hono(), { host: "127.0.0.1", port }).then(
        (s) => {
          served = s;
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.code).toBe("address-in-use");
      expect(e.message).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
      expect(e.hint).toContain("--listen 127.0.0.1:PORT");
      // This process holds the port, and /proc says so.
      if (process.platform === "linux") expect(e.message).toContain(` by pid ${process.pid} (`);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it("finds listening sockets by port in a /proc/net/tcp table", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:1CF3 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0",
      "   1: 0100007F:1CF3 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 515151 1 0000000000000000 20 4 30 10 -1",
      "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0",
    ].join("\n");
    expect(listeningInodes(table, 7411)).toEqual(["424242"]);
    expect(listeningInodes(table, 22)).toEqual(["999"]);
    expect(listeningInodes(table, 80)).toEqual([]);
    expect(findPortOwner(7411, "/nonexistent-proc")).toBeUndefined();
  });
});
