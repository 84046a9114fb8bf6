// JSON-RPC 2.0 over a pair of byte streams, one message per line: what the daemon and an
// out-of-process plugin (child.ts) speak over the child's stdin and stdout. Both sides are peers:
// each can call the other and answer calls.
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export type RpcErrorData = { code?: string; hint?: string; retryable?: boolean; path?: string };

export class RpcError extends Error {
  readonly data: RpcErrorData;
  constructor(message: string, data: RpcErrorData = {}) {
    super(message);
    this.name = "RpcError";
    this.data = data;
  }
}

type Handler = (params: Record<string, unknown>) => unknown;

export type RpcPeer = {
  call: <T = unknown>(method: string, params: Record<string, unknown>) => Promise<T>;
  notify: (method: string, params: Record<string, unknown>) => void;
  /** Resolves when the other side closes its stream; pending calls are rejected then. */
  closed: Promise<void>;
};

type Message = {
  jsonrpc: "2.0";
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: RpcErrorData };
};

export function createPeer(input: Readable, output: Writable, handlers: Record<string, Handler>): RpcPeer {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const send = (m: Message) => {
    output.write(`${JSON.stringify(m)}\n`);
  };
  const answer = async (m: Message) => {
    const h = m.method ? handlers[m.method] : undefined;
    if (!h) {
      if (m.id !== undefined) send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: `no method ${m.method}` } });
      return;
    }
    try {
      const result = await h(m.params ?? {});
      if (m.id !== undefined) send({ jsonrpc: "2.0", id: m.id, result: result ?? null });
    } catch (e) {
      const err = e as { message?: unknown; code?: unknown; hint?: unknown; retryable?: unknown; path?: unknown; data?: RpcErrorData };
      const data: RpcErrorData = err.data ?? {
        ...(typeof err.code === "string" ? { code: err.code } : {}),
        ...(typeof err.hint === "string" ? { hint: err.hint } : {}),
        ...(typeof err.retryable === "boolean" ? { retryable: err.retryable } : {}),
        ...(typeof err.path === "string" ? { path: err.path } : {}),
      };
      if (m.id !== undefined) send({ jsonrpc: "2.0", id: m.id, error: { code: -32000, message: String(err.message ?? e), data } });
    }
  };
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const closed = new Promise<void>((resolve) => {
    lines.on("close", () => {
      for (const p of pending.values()) p.reject(new RpcError("the plugin process closed the connection", { code: "plugin-exited" }));
      pending.clear();
      resolve();
    });
  });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    let m: Message;
    try {
      m = JSON.parse(line) as Message;
    } catch {
      return; // not a protocol line: ignored (stdout belongs to the protocol, logs go to stderr)
    }
    if (m.method !== undefined) void answer(m);
    else if (m.id !== undefined) {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new RpcError(m.error.message, m.error.data ?? {}));
      else p.resolve(m.result);
    }
  });
  return {
    call: (method, params) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        send({ jsonrpc: "2.0", id, method, params });
      }),
    notify: (method, params) => send({ jsonrpc: "2.0", method, params }),
    closed,
  };
}
