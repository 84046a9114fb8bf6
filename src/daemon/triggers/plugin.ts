// A trigger type a plugin provides (`on.triggers: [{ uses, with }]`): started with its inputs, a
// state store in the state folder (survives restarts, so a poller does not fire again for what it
// saw before), the daemon's clock and a stop signal. A trigger that fails to start, or throws while
// firing, is logged; it never takes the daemon down.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { atomicWrite } from "../../adapters/atomic.ts";
import { sha256 } from "../../library/hash.ts";
import type { Clock } from "../../workflows/clock.ts";
import { triggerRegistry, type TriggerHandle } from "../../workflows/triggers.ts";

export type PluginTriggerHandle = { stop: () => Promise<void> };

export type PluginTriggerOptions = {
  library: string;
  workflow: string;
  index: number;
  spec: { uses: string; with?: Record<string, unknown> };
  stateDir: string;
  clock: Clock;
  log: (level: "info" | "warn" | "error", message: string) => void;
  fire: (data: Record<string, unknown>) => Promise<void>;
};

/** Where a trigger's state lives: one file per library, workflow, entry and trigger type. */
function pluginTriggerStateFile(stateDir: string, library: string, workflow: string, index: number, uses: string): string {
  return join(stateDir, "plugin-triggers", `${sha256(`${library}/${workflow}#${index}/${uses}`).slice(0, 24)}.json`);
}

export async function startPluginTrigger(o: PluginTriggerOptions): Promise<PluginTriggerHandle | undefined> {
  const type = triggerRegistry.get(o.spec.uses);
  const where = `${o.workflow}: on.triggers[${o.index}] (${o.spec.uses})`;
  if (!type) {
    o.log("error", `${where}: no plugin provides this trigger; it does not run`);
    return undefined;
  }
  const parsed = type.with.safeParse(o.spec.with ?? {});
  if (!parsed.success) {
    o.log("error", `${where}: with: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`);
    return undefined;
  }
  const file = pluginTriggerStateFile(o.stateDir, o.library, o.workflow, o.index, o.spec.uses);
  const ctrl = new AbortController();
  let handle: TriggerHandle;
  try {
    handle = await type.start({
      with: parsed.data,
      emit: async (data) => {
        if (ctrl.signal.aborted) return;
        try {
          await o.fire(JSON.parse(JSON.stringify(data ?? {})) as Record<string, unknown>);
        } catch (e) {
          o.log("error", `${where}: could not start a run: ${(e as Error).message}`);
        }
      },
      state: {
        get: async () => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : undefined),
        set: async (value) => atomicWrite(file, `${JSON.stringify(value)}\n`, 0o600, { root: o.stateDir, dirMode: 0o700 }),
      },
      clock: o.clock,
      signal: ctrl.signal,
      log: (level, m) => o.log(level, `${where}: ${m}`),
    });
  } catch (e) {
    o.log("error", `${where}: the trigger failed to start: ${(e as Error).message}`);
    return undefined;
  }
  return {
    stop: async () => {
      ctrl.abort();
      try {
        await handle.stop();
      } catch (e) {
        o.log("warn", `${where}: stop failed: ${(e as Error).message}`);
      }
    },
  };
}
