// The process an isolated plugin (`isolation: process`) runs in: loads the plugin, runs its setup
// into local lists, and serves its actions and triggers to the daemon over JSON-RPC on stdin/stdout.
// Everything the plugin may do to the host goes through the daemon, which checks it against the
// grant: `ctx.fs.writeFile` becomes an `fs.write` call the daemon refuses outside the grant. The
// runtime's own permission flags (Deno, Node --permission) are the second belt, set by host.ts.
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { Clock } from "../../workflows/clock.ts";
import type { Action, ActionContext } from "../../workflows/actions/types.ts";
import type { PluginContext } from "../../workflows/plugins/api.ts";
import { checkPluginDefinition } from "../../workflows/plugins/check.ts";
import type { TriggerEmitResult, TriggerHandle, TriggerType } from "../../workflows/triggers.ts";
import { createPeer, RpcError } from "./rpc.ts";
import { readFileSync } from "node:fs";

// stdout is the protocol: whatever the plugin prints goes to stderr.
for (const k of ["log", "info", "debug", "warn"] as const) console[k] = (...a: unknown[]) => console.error(...a);

const entry = process.argv[2];
if (!entry) {
  console.error("usage: child.ts PLUGIN_ENTRY");
  process.exit(2);
}

const actions = new Map<string, Action>();
const triggers = new Map<string, TriggerType>();
const adapters: string[] = [];
const running = new Map<string, { handle: TriggerHandle; ctrl: AbortController }>();
const inflight = new Map<string, AbortController>();

// The daemon's clock, over the pipe, so a test's manual clock drives an isolated plugin as it drives
// one in process: `now` is the daemon's time as of the last message that carried it (each call from
// the daemon, each timer it fires), and timers are set on the daemon's clock, which tells the child
// when one is due. `scope` says whose clock it is (a trigger's key, an action call's id).
let daemonNow = Date.now();
const seeNow = (p: Record<string, unknown>) => {
  if (typeof p.now === "number") daemonNow = p.now;
};
const dueTimers = new Map<string, () => void>();
let timerSeq = 0;
const daemonClock = (scope: Record<string, string>): Clock => ({
  now: () => daemonNow,
  setTimer: (ms, fn) => {
    const id = `t${++timerSeq}`;
    dueTimers.set(id, fn);
    peer.notify("clock.setTimer", { ...scope, id, ms });
    return () => {
      if (dueTimers.delete(id)) peer.notify("clock.cancel", { id });
    };
  },
});

const schemaOf = (s: z.ZodType): unknown => {
  try {
    return z.toJSONSchema(s, { unrepresentable: "any" });
  } catch {
    return {};
  }
};

const peer = createPeer(process.stdin, process.stdout, {
  "clock.fire": (p) => {
    seeNow(p);
    const fn = dueTimers.get(String(p.id));
    dueTimers.delete(String(p.id));
    fn?.();
  },
  describe: async () => {
    let text: string | undefined;
    try {
      text = readFileSync(entry, "utf8");
    } catch {
      /* the import below reports it */
    }
    const mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    const def = checkPluginDefinition(mod.default, entry, text);
    const ctx: PluginContext = {
      plugin: def.name,
      host: { version: "", runtime: "node" },
      adapters: { register: (a) => adapters.push(a.id) },
      actions: { register: (a) => actions.set(a.name, a as Action) },
      triggers: { register: (t) => triggers.set(t.id, t) },
      onStart: () => {},
      onStop: () => {},
    };
    def.setup(ctx);
    return {
      plugin: {
        apiVersion: def.apiVersion,
        name: def.name,
        version: def.version,
        ...(def.order ? { order: def.order } : {}),
        ...(def.engines ? { engines: def.engines } : {}),
      },
      adapters,
      actions: [...actions.values()].map((a) => ({
        name: a.name,
        description: a.description,
        schema: schemaOf(a.with),
        ...(a.literalFields ? { literalFields: a.literalFields } : {}),
      })),
      triggers: [...triggers.values()].map((t) => ({ id: t.id, description: t.description, schema: schemaOf(t.with) })),
    };
  },
  "action.run": async (p) => {
    const a = actions.get(String(p.name));
    if (!a) throw new RpcError(`no action ${String(p.name)}`, { code: "unknown-action" });
    const parsed = a.with.safeParse(p.input);
    if (!parsed.success)
      throw new RpcError(`with: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`, {
        code: "bad-input",
        retryable: false,
      });
    seeNow(p);
    const ctrl = new AbortController();
    const callId = String(p.callId);
    const clock = daemonClock({ callId });
    inflight.set(callId, ctrl);
    const c = p.ctx as Omit<ActionContext, "signal" | "now" | "clock" | "log" | "steps" | "status" | "fs"> & {
      steps: [];
      status: "success" | "failure" | "cancelled";
    };
    const ctx: ActionContext = {
      ...c,
      signal: ctrl.signal,
      now: clock.now,
      clock,
      log: (level, message) => peer.notify("log", { level, message, callId }),
      steps: () => c.steps,
      status: () => c.status,
      fs: {
        writeFile: async (path, data) =>
          String(
            await peer.call("fs.write", {
              callId,
              path,
              ...(typeof data === "string" ? { text: data } : { base64: Buffer.from(data).toString("base64") }),
            }),
          ),
      },
    };
    try {
      const r = await a.run(parsed.data, ctx);
      return { outputs: r.outputs, ...(r.warnings ? { warnings: r.warnings } : {}) };
    } catch (e) {
      // The runtime's own permission check (Node --permission, Deno flags) refused something the
      // plugin tried behind ctx.fs's back: tell the daemon, which reports it like a refused ctx.fs write.
      const err = e as { code?: unknown; name?: unknown; message?: unknown };
      if (err.code === "ERR_ACCESS_DENIED" || err.name === "NotCapable" || err.name === "PermissionDenied") {
        peer.notify("refused", { message: String(err.message ?? e) });
        throw new RpcError(`refused by the plugin's runtime permissions: ${String(err.message ?? e)}`, {
          code: "outside-grant",
          retryable: false,
          hint: "the plugin may write only through ctx.fs into its granted folders (plugins: [{ grant: { write } }])",
        });
      }
      throw e;
    } finally {
      inflight.delete(callId);
    }
  },
  "action.cancel": (p) => {
    inflight.get(String(p.callId))?.abort(new Error("cancelled by the daemon"));
  },
  "trigger.start": async (p) => {
    const t = triggers.get(String(p.id));
    if (!t) throw new RpcError(`no trigger ${String(p.id)}`, { code: "unknown-trigger" });
    seeNow(p);
    const key = String(p.key);
    const parsed = t.with.safeParse(p.with ?? {});
    if (!parsed.success) throw new RpcError(`with: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { code: "bad-input" });
    const ctrl = new AbortController();
    const handle = await t.start({
      with: parsed.data,
      emit: (data) => peer.call<TriggerEmitResult>("trigger.emit", { key, data }),
      state: {
        get: async () => (await peer.call<Record<string, unknown> | null>("state.get", { key })) ?? undefined,
        set: async (value) => {
          await peer.call("state.set", { key, value });
        },
      },
      clock: daemonClock({ key }),
      signal: ctrl.signal,
      log: (level, message) => peer.notify("log", { level, message, key }),
      workflow: p.workflow as { library: string; name: string; root: string; index: number },
      host: undefined,
    });
    running.set(key, { handle, ctrl });
    return { started: key };
  },
  "trigger.stop": async (p) => {
    const r = running.get(String(p.key));
    if (!r) return { stopped: false };
    running.delete(String(p.key));
    r.ctrl.abort();
    await r.handle.stop();
    return { stopped: true };
  },
});

void peer.closed.then(async () => {
  for (const r of running.values()) {
    r.ctrl.abort();
    await r.handle.stop();
  }
  process.exit(0);
});
