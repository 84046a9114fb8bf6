// Runs plugins' `setup` in their order and registers what they provide; a plugin whose setup throws
// (or registers a clashing id) is taken out whole and reported, the others go on. Also checks the
// shape of a plugin object (apiVersion first), with the file and the field in the error.
import { adapterRegistry } from "../../adapters/registry.ts";
import { ConfigError } from "../../library/diagnostics.ts";
import { actionRegistry } from "../actions/index.ts";
import type { Action } from "../actions/types.ts";
import { triggerRegistry } from "../triggers.ts";
import { ORDER_RANK, type Hook, type HookHandler, type HookOrder, type PluginContext, type PluginDefinition } from "./api.ts";

type PluginProvides = { adapters: string[]; actions: string[]; triggers: string[] };
export type PluginFailure = { name: string; spec: string; file?: string; code: string; error: string; hint?: string };

type OrderedHook = { pluginRank: number; pluginIndex: number; hookRank: number; seq: number; plugin: string; handler: HookHandler };

export type SetupInput = { def: PluginDefinition; spec: string; file?: string };

export type SetupResult = {
  loaded: { name: string; version: string; spec: string; provides: PluginProvides }[];
  failed: PluginFailure[];
  /** Runs the start hooks in order; a hook that throws is reported and its plugin's other hooks still run. */
  start: () => Promise<PluginFailure[]>;
  /** Runs the stop hooks in reverse order and takes every plugin's registrations out again. */
  stop: () => Promise<void>;
};

function hookOf(h: Hook): { order: HookOrder; handler: HookHandler } {
  if (typeof h === "function") return { order: "normal", handler: h };
  return { order: h.order ?? "normal", handler: h.handler };
}

/** Sets the plugins up in their order: `order` first ("pre", "normal", "post"), then as listed. */
export function setupPlugins(inputs: readonly SetupInput[], host: PluginContext["host"]): SetupResult {
  const ordered = inputs.map((x, i) => ({ ...x, i })).sort((a, b) => ORDER_RANK[a.def.order ?? "normal"] - ORDER_RANK[b.def.order ?? "normal"] || a.i - b.i);
  const loaded: SetupResult["loaded"] = [];
  const failed: PluginFailure[] = [];
  const starts: OrderedHook[] = [];
  const stops: OrderedHook[] = [];
  let seq = 0;
  for (const { def, spec, file, i } of ordered) {
    const provides: PluginProvides = { adapters: [], actions: [], triggers: [] };
    const mine: { starts: OrderedHook[]; stops: OrderedHook[] } = { starts: [], stops: [] };
    const hook = (list: OrderedHook[]) => (h: Hook) => {
      const { order, handler } = hookOf(h);
      list.push({ pluginRank: ORDER_RANK[def.order ?? "normal"], pluginIndex: i, hookRank: ORDER_RANK[order], seq: seq++, plugin: def.name, handler });
    };
    const ctx: PluginContext = {
      plugin: def.name,
      host,
      adapters: {
        register: (a) => {
          adapterRegistry.register(a, def.name);
          provides.adapters.push(a.id);
        },
      },
      actions: {
        register: (a) => {
          actionRegistry.register(a as Action, def.name);
          provides.actions.push(a.name);
        },
      },
      triggers: {
        register: (t) => {
          triggerRegistry.register(t, def.name);
          provides.triggers.push(t.id);
        },
      },
      onStart: hook(mine.starts),
      onStop: hook(mine.stops),
    };
    try {
      const r: unknown = def.setup(ctx);
      if (r instanceof Promise) {
        r.catch(() => {});
        throw new ConfigError("plugin-setup-async", "setup returned a promise: setup only registers, synchronously", {
          hint: "do I/O in the action or trigger itself, or in ctx.onStart(…)",
        });
      }
      loaded.push({ name: def.name, version: def.version, spec, provides });
      starts.push(...mine.starts);
      stops.push(...mine.stops);
    } catch (e) {
      unregister(def.name);
      const err = e as { code?: unknown; message?: unknown; hint?: unknown };
      failed.push({
        name: def.name,
        spec,
        ...(file ? { file } : {}),
        code: typeof err.code === "string" && e instanceof ConfigError ? err.code : "plugin-setup-failed",
        error: `setup failed: ${String(err.message ?? e)}`,
        hint: typeof err.hint === "string" ? err.hint : "fix the plugin, or remove it from plugins: (the rest of aicfg runs without it)",
      });
    }
  }
  const byOrder = (a: OrderedHook, b: OrderedHook) => a.hookRank - b.hookRank || a.pluginRank - b.pluginRank || a.pluginIndex - b.pluginIndex || a.seq - b.seq;
  starts.sort(byOrder);
  stops.sort(byOrder).reverse();
  return {
    loaded,
    failed,
    start: async () => {
      const problems: PluginFailure[] = [];
      for (const h of starts) {
        try {
          await h.handler();
        } catch (e) {
          problems.push({ name: h.plugin, spec: h.plugin, code: "plugin-start-failed", error: `start hook failed: ${String((e as Error)?.message ?? e)}` });
        }
      }
      return problems;
    },
    stop: async () => {
      for (const h of stops) {
        try {
          await h.handler();
        } catch {
          /* a stop hook that fails must not keep the others from running */
        }
      }
      for (const l of loaded) unregister(l.name);
    },
  };
}

function unregister(owner: string): void {
  adapterRegistry.removeOwner(owner);
  actionRegistry.removeOwner(owner);
  triggerRegistry.removeOwner(owner);
}
