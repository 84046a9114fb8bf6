// The contract of a trigger type a plugin provides (a workflow's `on.triggers: [{ uses, with }]`): a
// typed `with:` schema and a start function that gets the inputs, a way to fire a run, a small state
// store that survives restarts (the last value it saw), the daemon's clock and a stop signal. The
// daemon starts and stops them (daemon/plugins/triggers.ts); the type and the registry live here
// because the workflow schema checks `uses` and `with` against them.
import type { z } from "zod";
import { createRegistry, type Registry } from "../library/registry.ts";
import type { Clock } from "./clock.ts";

type TriggerState = {
  get: () => Promise<Record<string, unknown> | undefined>;
  /** Written atomically into the daemon's state folder; read back by `get` after a restart. */
  set: (value: Record<string, unknown>) => Promise<void>;
};

export type TriggerStartContext<W> = {
  with: W;
  /** Starts a run of the workflow; `data` becomes `trigger.*` in its expressions (plain JSON only). */
  emit: (data: Record<string, unknown>) => Promise<void>;
  state: TriggerState;
  clock: Clock;
  signal: AbortSignal;
  log: (level: "info" | "warn" | "error", message: string) => void;
};

export type TriggerHandle = { stop: () => void | Promise<void> };

export type TriggerType<S extends z.ZodType = z.ZodType> = {
  id: string;
  description: string;
  with: S;
  start: (ctx: TriggerStartContext<z.infer<S>>) => TriggerHandle | Promise<TriggerHandle>;
};

export function defineTrigger<S extends z.ZodType>(t: TriggerType<S>): TriggerType<S> {
  return t;
}

/**
 * Trigger types plugins provide. The built-in triggers (cron, watch, git, after, manual) are keys of
 * `on:` with their own schemas and scheduling code, so this registry starts empty.
 */
export const triggerRegistry: Registry<TriggerType> = createRegistry<TriggerType>("trigger", (t) => t.id);
