// A cron trigger wired to a real file store, a manual clock and a recording `fire`.
import { createManualClock, type ManualClock } from "../../src/daemon/clock.ts";
import { createEventBus, type DaemonEvent } from "../../src/daemon/events.ts";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import type { RunStore } from "../../src/daemon/store/types.ts";
import { startCronTrigger, type CronTriggerHandle } from "../../src/daemon/triggers/cron.ts";
import type { CronOn } from "../../src/workflows/schema.ts";

export type Fired = { at: string; catchup: boolean; runId: string };

export async function cronAt(
  stateDir: string,
  spec: CronOn,
  start: number,
  opts: { skip?: boolean } = {},
): Promise<{ clock: ManualClock; store: RunStore; fired: Fired[]; events: DaemonEvent[]; handle: CronTriggerHandle }> {
  const clock = createManualClock(start);
  const store = openFileStore(stateDir);
  const bus = createEventBus();
  const events: DaemonEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const fired: Fired[] = [];
  const handle = await startCronTrigger({
    library: "lib",
    workflow: "w",
    index: 0,
    spec,
    clock,
    store,
    bus,
    log: () => {},
    fire: async ({ scheduledAt, runId, catchup }) => {
      fired.push({ at: new Date(scheduledAt).toISOString(), catchup, runId });
      return opts.skip ? { runId, status: "skipped", reason: "overlap: busy" } : { runId, status: "running" };
    },
  });
  return { clock, store, fired, events, handle };
}

export const iso = (ms: number) => new Date(ms).toISOString();
