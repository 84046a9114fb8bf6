// Starts one instance of a trigger type from the registry, built-in (cron, watch, git, after,
// manual) or a plugin's (`on.triggers: [{ uses, with }]`), the same way: its `with` checked against
// the type's schema, a state store in the state folder (survives restarts, so a poller does not fire
// again for what it saw before), the daemon's clock, a stop signal and the daemon's services. A
// trigger that fails to start, or throws while firing, is logged; it never takes the daemon down.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { atomicWrite } from "../../adapters/atomic.ts";
import { sha256 } from "../../library/hash.ts";
import type { Clock } from "../../workflows/clock.ts";
import type { TriggerEmitResult, TriggerHandle, TriggerRunOptions, TriggerType } from "../../workflows/triggers.ts";

export type StartTriggerOptions = {
  type: TriggerType;
  library: string;
  root: string;
  workflow: string;
  index: number;
  /** The instance's configuration (`with:` of a plugin trigger, `on.<key>` of a built-in). */
  with: unknown;
  /** How errors name it: `on.triggers[0] (http-poll)`, `on.cron[1]`. */
  where: string;
  stateDir: string;
  clock: Clock;
  host: unknown;
  log: (level: "info" | "warn" | "error", message: string) => void;
  fire: (data: Record<string, unknown>, run?: TriggerRunOptions) => Promise<TriggerEmitResult>;
};

/** Where a trigger's state lives: one file per library, workflow, entry and trigger type. */
function triggerStateFile(stateDir: string, library: string, workflow: string, index: number, uses: string): string {
  return join(stateDir, "plugin-triggers", `${sha256(`${library}/${workflow}#${index}/${uses}`).slice(0, 24)}.json`);
}

export async function startTrigger(o: StartTriggerOptions): Promise<TriggerHandle | undefined> {
  const { type } = o;
  const where = `${o.workflow}: ${o.where}`;
  const parsed = type.with.safeParse(o.with ?? {});
  if (!parsed.success) {
    o.log("error", `${where}: with: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`);
    return undefined;
  }
  const file = triggerStateFile(o.stateDir, o.library, o.workflow, o.index, type.id);
  const ctrl = new AbortController();
  let handle: TriggerHandle;
  try {
    handle = await type.start({
      with: parsed.data,
      emit: async (data, run) => {
        if (ctrl.signal.aborted) return { runId: "", status: "skipped", reason: "trigger stopped" };
        try {
          return await o.fire(JSON.parse(JSON.stringify(data ?? {})) as Record<string, unknown>, run);
        } catch (e) {
          // Logged, and thrown on to the trigger: a webhook push answers 500 so the sender retries.
          o.log("error", `${where}: could not start a run: ${(e as Error).message}`);
          throw e;
        }
      },
      state: {
        get: async () => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : undefined),
        set: async (value) => atomicWrite(file, `${JSON.stringify(value)}\n`, 0o600, { root: o.stateDir, dirMode: 0o700 }),
      },
      clock: o.clock,
      signal: ctrl.signal,
      log: (level, m) => o.log(level, `${where}: ${m}`),
      workflow: { library: o.library, name: o.workflow, root: o.root, index: o.index },
      host: o.host,
    });
  } catch (e) {
    o.log("error", `${where}: the trigger failed to start: ${(e as Error).message}`);
    return undefined;
  }
  return {
    ...handle,
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
