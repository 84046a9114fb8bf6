// The plugin contract: one entry point, `definePlugin({ apiVersion: "aicfg/v1", name, version, setup(ctx) })`.
// `setup` only registers (no I/O): adapters, workflow actions and trigger types go into the same
// registries the built-ins are in (adapters/registry.ts, workflows/actions/index.ts, workflows/triggers.ts).
// Lifecycle hooks (`ctx.onStart`, `ctx.onStop`) run in a fixed order: the plugins' `order` ("pre",
// default, "post"), then the order they are listed in `plugins:`; each hook may also carry its own
// `order` (Rollup's object hooks). Stop hooks run in the reverse order.
import type { Adapter } from "../../adapters/types.ts";
import type { Action } from "../actions/types.ts";
import type { TriggerType } from "../triggers.ts";

/** The plugin API versions this aicfg loads; the first is the current one. */
export const SUPPORTED_API_VERSIONS = ["aicfg/v1"] as const;
type PluginApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

export type HookOrder = "pre" | "normal" | "post";
export type HookHandler = () => void | Promise<void>;
export type Hook = HookHandler | { order?: HookOrder; handler: HookHandler };

export type PluginContext = {
  /** The plugin's own name (owner of everything it registers). */
  plugin: string;
  /** The aicfg version and the runtime loading the plugin. */
  host: { version: string; runtime: "node" | "bun" | "deno" };
  adapters: { register: (adapter: Adapter) => void };
  // biome-ignore lint/suspicious/noExplicitAny: an action's `with` schema is any zod type
  actions: { register: (action: Action<any>) => void };
  // biome-ignore lint/suspicious/noExplicitAny: a trigger's `with` schema is any zod type
  triggers: { register: (trigger: TriggerType<any>) => void };
  /** After every plugin is set up, when the daemon starts (not in one-shot CLI commands). */
  onStart: (hook: Hook) => void;
  /** When the daemon stops, in the reverse order of the start hooks. */
  onStop: (hook: Hook) => void;
};

/** What a plugin may do when it runs out of process (`isolation: process`); in process it is a statement. */
export type PluginCapabilities = {
  /** Folders it writes into through `ctx.fs` (relative to the config file that lists it). */
  write?: readonly string[];
  net?: boolean;
};

export type PluginDefinition = {
  apiVersion: PluginApiVersion;
  /** The npm package name (aicfg-plugin-*) or a short name for a local plugin. */
  name: string;
  version: string;
  description?: string;
  /** The aicfg versions it works with (semver range), when it has no package.json saying `engines.aicfg`. */
  engines?: { aicfg?: string };
  /** Where its setup runs among the plugins (default "normal"). */
  order?: HookOrder;
  setup: (ctx: PluginContext) => void;
};

/** The one entry point of a plugin module: `export default definePlugin({...})`. */
export function definePlugin<P extends PluginDefinition>(plugin: P): P {
  return plugin;
}

export const ORDER_RANK: Record<HookOrder, number> = { pre: 0, normal: 1, post: 2 };
