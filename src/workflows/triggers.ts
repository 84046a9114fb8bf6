// The contract of a trigger type a plugin provides (a workflow's `on.triggers: [{ uses, with }]`): a
// typed `with:` schema and a start function that gets the inputs, a way to fire a run, a small state
// store that survives restarts (the last value it saw), the daemon's clock and a stop signal. The
// daemon starts and stops them (daemon/triggers/start.ts); the type and the registry live here
// because the workflow schema checks `uses` and `with` against them. The built-in triggers (cron,
// watch, git, after, manual: daemon/triggers/builtin.ts) are trigger types of this same shape, in
// this same registry, registered by aicfg's own plugin; they read their configuration from their
// own key of `on:` (`instances`) instead of `on.triggers`.
import type { z } from "zod";
import { createRegistry, type Registry } from "../library/registry.ts";
import type { Clock } from "./clock.ts";
import type { LoadedWorkflow } from "./schema.ts";

type TriggerState = {
  get: () => Promise<Record<string, unknown> | undefined>;
  /** Written atomically into the daemon's state folder; read back by `get` after a restart. */
  set: (value: Record<string, unknown>) => Promise<void>;
};

/** How a run an event starts is identified (the built-in cron trigger names its occurrences). */
export type TriggerRunOptions = { runId?: string; scheduledAt?: number; occurrence?: string; actor?: string };

/** What the host did with an event: the run it started or queued, or why it skipped it. */
export type TriggerEmitResult = { runId: string; status: "running" | "queued" | "skipped" | "duplicate"; reason?: string };

export type TriggerStartContext<W> = {
  with: W;
  /** Starts a run of the workflow; `data` becomes `trigger.*` in its expressions (plain JSON only). Rejects when the run could not be queued (the store failed). */
  emit: (data: Record<string, unknown>, run?: TriggerRunOptions) => Promise<TriggerEmitResult>;
  state: TriggerState;
  clock: Clock;
  signal: AbortSignal;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** The workflow this trigger belongs to, and which of its entries it is. */
  workflow: { library: string; name: string; root: string; index: number };
  /**
   * What the host offers beyond this contract (the daemon's run store, event bus, push router):
   * the built-in triggers use it; a plugin should not (its shape is the daemon's, not the API's).
   */
  host: unknown;
};

export type TriggerHandle = {
  stop: () => void | Promise<void>;
  /** Scheduling triggers: the next `n` times they fire (ms), shown by the API and the dashboard. */
  nextRuns?: (n: number) => number[];
  /** Scheduling triggers: when they last ticked (ms), for readiness. */
  lastTick?: () => number;
  /** Triggers that hold a watcher: false once it died (readiness). */
  alive?: () => boolean;
};

export type TriggerType<S extends z.ZodType = z.ZodType> = {
  id: string;
  description: string;
  with: S;
  /**
   * Where a workflow configures it: one value per instance. Without it (every plugin trigger), the
   * `with` of each `on.triggers` entry that `uses` it; the built-ins read their own key of `on:`.
   */
  instances?: (wf: LoadedWorkflow) => unknown[];
  start: (ctx: TriggerStartContext<z.infer<S>>) => TriggerHandle | Promise<TriggerHandle>;
};

export function defineTrigger<S extends z.ZodType>(t: TriggerType<S>): TriggerType<S> {
  return t;
}

/**
 * Every trigger type: the built-ins (owner `aicfg`, registered by the daemon's built-in plugin before
 * any other plugin), then those plugins registered, in their order.
 */
export const triggerRegistry: Registry<TriggerType> = createRegistry<TriggerType>("trigger", (t) => t.id);

/**
 * The configured instances of a trigger type in a workflow (see `TriggerType.instances`), each with
 * its index in the list it comes from (`on.triggers[i]`, `on.cron[i]`): it names its state.
 */
export function triggerInstances(type: TriggerType, wf: LoadedWorkflow): { index: number; with: unknown }[] {
  if (type.instances) return type.instances(wf).map((w, index) => ({ index, with: w }));
  return (wf.spec.on?.triggers ?? []).flatMap((t, index) => (t.uses === type.id ? [{ index, with: t.with ?? {} }] : []));
}
