// Serves a Hono app natively on the current runtime: Bun.serve, Deno.serve or @hono/node-server,
// on TCP or a unix socket. Each passes the client address and local port to the app as its
// bindings (c.env), which the API uses for the Host check and loopback-only probes. An address
// already in use is a ConfigError naming the address and, when it can be found, who holds it.
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../library/diagnostics.ts";
import { runtimeName } from "../version.ts";
import { findPortOwner } from "./port-owner.ts";

export type Bindings = { remoteAddress?: string; localPort?: number; transport: "tcp" | "unix" };

/** Anything with a fetch(request, bindings): a Hono app. */
export type FetchApp = { fetch: (req: Request, env: Bindings) => Response | Promise<Response> };

export type ListenOptions = { host: string; port: number } | { unixSocket: string };

export type Served = {
  /** `http://host:port` for TCP, `unix:/path` for a socket. */
  url: string;
  address: { host: string; port: number } | { unixSocket: string };
  runtime: "node" | "bun" | "deno";
  /**
   * Stops accepting connections and lets requests in flight finish; after `graceMs` (default 5 s)
   * the remaining connections are closed.
   */
  close: (opts?: { graceMs?: number }) => Promise<void>;
};

const DEFAULT_GRACE_MS = 5000;

/** Resolves when `done` settles or after `ms`, whichever is first (then runs `force`). */
async function withDeadline(done: Promise<unknown>, ms: number, force: () => unknown): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const outcome = await Promise.race([
    done.then(
      () => "done" as const,
      () => "done" as const,
    ),
    deadline,
  ]);
  clearTimeout(timer);
  if (outcome === "late") {
    await force();
    // Forced: give the runtime a moment to tear the connections down, but never hang on them.
    await Promise.race([done.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

type BunServer = { port: number; hostname: string; stop: (force?: boolean) => Promise<void> | void; requestIP: (r: Request) => { address: string } | null };
type BunGlobal = { serve: (o: Record<string, unknown>) => BunServer };
type DenoAddr = { transport: string; hostname?: string; port?: number; path?: string };
type DenoServer = { addr: DenoAddr; shutdown: () => Promise<void>; finished: Promise<void> };
type DenoGlobal = { serve: (o: Record<string, unknown>, h: (req: Request, info: { remoteAddr: DenoAddr }) => Response | Promise<Response>) => DenoServer };

function tcpUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Node and Bun say EADDRINUSE; Deno throws Deno.errors.AddrInUse. */
function isAddressInUse(e: unknown): boolean {
  const err = e as { code?: string; name?: string; message?: string } | undefined;
  return err?.code === "EADDRINUSE" || err?.name === "AddrInUse" || /address already in use|EADDRINUSE/i.test(err?.message ?? "");
}

function addressInUseError(opts: ListenOptions, cause: unknown): ConfigError {
  if ("unixSocket" in opts) {
    return new ConfigError("address-in-use", `cannot listen on ${opts.unixSocket}: the socket is in use`, {
      hint: "stop the other daemon, or set api.unixSocket to another path",
      cause,
    });
  }
  const where = tcpUrl(opts.host, opts.port).slice("http://".length);
  const owner = findPortOwner(opts.port);
  const by = owner ? ` by pid ${owner.pid} (${owner.command})` : "";
  const other =
    owner && /\baicfg(\.js)?\b.*\bdaemon\b/.test(owner.command) ? `stop the other aicfg daemon (pid ${owner.pid}), or ` : "stop the program that holds it, or ";
  return new ConfigError("address-in-use", `cannot listen on ${where}: the port is already in use${by}`, {
    hint: `${other}choose another port with --listen ${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:PORT (or 'listen:' in daemon.yaml)`,
    cause,
  });
}

export async function serve(app: FetchApp, opts: ListenOptions): Promise<Served> {
  const runtime = runtimeName();
  try {
    if (runtime === "bun") return serveBun(app, opts);
    if (runtime === "deno") return await serveDeno(app, opts);
    return await serveNode(app, opts);
  } catch (e) {
    throw isAddressInUse(e) ? addressInUseError(opts, e) : e;
  }
}

function serveBun(app: FetchApp, opts: ListenOptions): Served {
  const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const unix = "unixSocket" in opts;
  let port = 0;
  const server = Bun.serve({
    ...(unix ? { unix: opts.unixSocket } : { hostname: opts.host, port: opts.port }),
    // Bun's own cap is far above ours; the app enforces the real limits before handlers run.
    maxRequestBodySize: 64 * 1024 * 1024,
    fetch: (req: Request, srv: BunServer) =>
      app.fetch(req, unix ? { transport: "unix" } : { transport: "tcp", remoteAddress: srv.requestIP(req)?.address, localPort: port }),
  });
  port = unix ? 0 : server.port;
  return {
    runtime: "bun",
    url: unix ? `unix:${opts.unixSocket}` : tcpUrl(opts.host, port),
    address: unix ? { unixSocket: opts.unixSocket } : { host: opts.host, port },
    close: async (o) => {
      await withDeadline(Promise.resolve(server.stop(false)), o?.graceMs ?? DEFAULT_GRACE_MS, () => server.stop(true));
    },
  };
}

function serveDeno(app: FetchApp, opts: ListenOptions): Promise<Served> {
  const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
  const unix = "unixSocket" in opts;
  let release = () => {};
  const forced = { promise: new Promise<void>((r) => (release = r)), resolve: () => release() };
  const unavailable = () =>
    new Response("the server is shutting down\n", { status: 503, headers: { connection: "close", "content-type": "text/plain; charset=utf-8" } });
  return new Promise((resolve) => {
    let port = 0;
    const server = Deno.serve(
      {
        ...(unix ? { path: opts.unixSocket, transport: "unix" } : { hostname: opts.host, port: opts.port }),
        onListen: (addr: DenoAddr) => {
          port = addr.port ?? 0;
          resolve({
            runtime: "deno",
            url: unix ? `unix:${opts.unixSocket}` : tcpUrl(opts.host, port),
            address: unix ? { unixSocket: opts.unixSocket } : { host: opts.host, port },
            close: async (o) => {
              // Deno's shutdown waits for every response; past the grace period the requests still
              // running are answered 503 so it can finish.
              await withDeadline(server.shutdown(), o?.graceMs ?? DEFAULT_GRACE_MS, () => forced.resolve());
            },
          });
        },
      },
      (req, info) =>
        Promise.race([
          Promise.resolve(app.fetch(req, unix ? { transport: "unix" } : { transport: "tcp", remoteAddress: info.remoteAddr.hostname, localPort: port })),
          forced.promise.then(unavailable),
        ]),
    );
  });
}

async function serveNode(app: FetchApp, opts: ListenOptions): Promise<Served> {
  const { createAdaptorServer } = await import("@hono/node-server");
  const unix = "unixSocket" in opts;
  const server = createAdaptorServer({
    fetch: (req, env) => {
      const socket = (env as { incoming: { socket: { remoteAddress?: string; localPort?: number } } }).incoming.socket;
      return app.fetch(req, unix ? { transport: "unix" } : { transport: "tcp", remoteAddress: socket.remoteAddress, localPort: socket.localPort });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (unix) server.listen(opts.unixSocket, done);
    else server.listen(opts.port, opts.host, done);
  });
  const addr = server.address() as AddressInfo | string;
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    runtime: "node",
    url: unix ? `unix:${opts.unixSocket}` : tcpUrl(opts.host, port),
    address: unix ? { unixSocket: opts.unixSocket } : { host: opts.host, port },
    close: async (o) => {
      const s = server as unknown as { close: (cb: () => void) => void; closeIdleConnections?: () => void; closeAllConnections?: () => void };
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections?.();
      await withDeadline(closed, o?.graceMs ?? DEFAULT_GRACE_MS, () => s.closeAllConnections?.());
    },
  };
}
