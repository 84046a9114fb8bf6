// aicfg's own triggers as trigger types of the plugin contract (workflows/triggers.ts), registered by
// aicfg's built-in plugin through the same `definePlugin` + `ctx.triggers.register` a third-party
// plugin uses, into the same registry: the daemon starts every trigger, built-in or not, through
// triggers/start.ts. They read their configuration from their own key of `on:` (`instances`) and
// use the daemon's services (run store, event bus, push router) from `ctx.host`.
import { z } from "zod";
import { definePlugin } from "../../workflows/plugins/api.ts";
import { setupPlugins } from "../../workflows/plugins/setup.ts";
import { CronOn, GitOn, WatchOn } from "../../workflows/schema.ts";
import { defineTrigger, triggerRegistry } from "../../workflows/triggers.ts";
import type { EventBus } from "../events.ts";
import type { RunStore } from "../store/types.ts";
import { runtimeName, VERSION } from "../version.ts";
import { startCronTrigger } from "./cron.ts";
import { startGitTrigger, type GitTriggerRegistry } from "./git.ts";
import { startWatchTrigger } from "./watch.ts";

/** What the daemon hands its triggers as `ctx.host`. */
export type DaemonTriggerHost = {
  store: RunStore;
  bus: EventBus;
  /** Cluster mode: the cron watermark is shared with other replicas. */
  sharedLedger: boolean;
  /** Where webhook pushes find the git triggers. */
  gitRouter: GitTriggerRegistry;
  /** A cron occurrence fired (readiness). */
  schedulerTicked: () => void;
  /** The chain of workflows that led to a run (from its trigger). */
  chainOf: (runId: string) => Promise<string[]>;
  /** Libraries/workflows whose `initial` watch run is done (once per daemon, not on hot reloads). */
  initialRunsDone: Set<string>;
  /** Runs `fn` once every trigger of the library started (so `after` dependents listen before an `initial` run). */
  whenStarted: (fn: () => void) => void;
};

const hostOf = (h: unknown) => h as DaemonTriggerHost;
const MAX_CHAIN = 16;

const cronTrigger = defineTrigger({
  id: "cron",
  description: "runs on a schedule (on.cron), with catch-up after downtime",
  with: CronOn,
  instances: (wf) => wf.crons,
  start: (ctx) => {
    const host = hostOf(ctx.host);
    const { library, name, index } = ctx.workflow;
    return startCronTrigger({
      library,
      workflow: name,
      index,
      spec: ctx.with,
      clock: ctx.clock,
      store: host.store,
      bus: host.bus,
      log: ctx.log,
      sharedLedger: host.sharedLedger,
      fire: ({ scheduledAt, runId, catchup }) => {
        host.schedulerTicked();
        return ctx.emit({ scheduled_at: new Date(scheduledAt).toISOString(), catchup }, { runId, scheduledAt, occurrence: `cron#${index}` });
      },
    });
  },
});

const watchTrigger = defineTrigger({
  id: "watch",
  description: "runs when files of the library change (on.watch), debounced",
  with: WatchOn,
  instances: (wf) => (wf.spec.on?.watch ? [wf.spec.on.watch] : []),
  start: async (ctx) => {
    const host = hostOf(ctx.host);
    const { library, name, root } = ctx.workflow;
    const background = (what: string, p: Promise<unknown>) => {
      p.catch((e: unknown) => ctx.log("error", `${what}: ${(e as Error).message}`));
    };
    const w = startWatchTrigger({
      root,
      spec: ctx.with,
      clock: ctx.clock,
      onError: (e) => ctx.log("error", `file watcher error: ${(e as Error).message}`),
      fire: (paths) => background("watch trigger", ctx.emit({ paths })),
      onDebounced: () => host.bus.publish({ type: "trigger.event", kind: "watch", workflow: name, outcome: "debounced", at: ctx.clock.now() }),
    });
    await w.ready;
    // `initial`: one run when the daemon starts (not on hot reloads), with no paths = everything.
    const key = `${library}/${name}`;
    if (ctx.with.initial && !host.initialRunsDone.has(key)) {
      host.initialRunsDone.add(key);
      host.whenStarted(() => background("initial watch run", ctx.emit({ paths: [], initial: true })));
    }
    return { stop: () => w.close(), alive: () => w.alive() };
  },
});

const gitTrigger = defineTrigger({
  id: "git",
  description: "runs when a branch of the library's repository moves (on.git), polled or pushed by a webhook",
  with: GitOn,
  instances: (wf) => (wf.spec.on?.git ? [wf.spec.on.git] : []),
  start: async (ctx) => {
    const host = hostOf(ctx.host);
    const { library, name, root } = ctx.workflow;
    const g = await startGitTrigger({
      library,
      workflow: name,
      root,
      spec: ctx.with,
      clock: ctx.clock,
      store: host.store,
      log: ctx.log,
      fire: async (e) => {
        // A run started by a webhook delivery carries it, so recovery and redeliveries can find it.
        const r = await ctx.emit(
          {
            branch: e.branch,
            after: e.after,
            ...(e.before ? { before: e.before } : {}),
            source: e.source,
            ...(e.delivery ? { delivery: e.delivery } : {}),
          },
          e.actor ? { actor: e.actor } : {},
        );
        return r.status === "running" || r.status === "queued" ? r.runId : undefined;
      },
    });
    host.gitRouter.triggers.add(g);
    return {
      stop: () => {
        g.stop();
        host.gitRouter.triggers.delete(g);
      },
    };
  },
});

// When a workflow run succeeds, start this one if it lists that workflow under `on.after`. The chain
// of workflows is carried along so a cycle (a after b after a) stops instead of looping forever.
const afterTrigger = defineTrigger({
  id: "after",
  description: "runs when one of the listed workflows of the same library succeeds (on.after)",
  with: z.array(z.string()).min(1),
  instances: (wf) => (wf.spec.on?.after ? [wf.spec.on.after] : []),
  start: (ctx) => {
    const host = hostOf(ctx.host);
    const { library, name } = ctx.workflow;
    const unsubscribe = host.bus.subscribe((e) => {
      if (e.type !== "run.finished" || e.result !== "success" || e.library !== library || !ctx.with.includes(e.workflow)) return;
      void (async () => {
        const chain = [...(await host.chainOf(e.runId)), e.workflow];
        if (chain.includes(name) || chain.length >= MAX_CHAIN) {
          ctx.log("warn", `not started after ${e.workflow}: the chain ${[...chain, name].join(" -> ")} loops or is too long`);
          return;
        }
        await ctx.emit({ workflow: e.workflow, run_id: e.runId, chain });
      })().catch((err: unknown) => ctx.log("error", `after-trigger failed: ${(err as Error).message}`));
    });
    return { stop: unsubscribe };
  },
});

// Manual runs are asked for (`aicfg run`, the API: daemon.triggerRun through triggers/manual.ts), so
// there is nothing to start; the type says which workflows accept them (on.manual, default true).
const manualTrigger = defineTrigger({
  id: "manual",
  description: "runs asked for by 'aicfg run' or the API (on.manual, default true)",
  with: z.object({}),
  instances: (wf) => (wf.spec.on?.manual === false ? [] : [{}]),
  start: () => ({ stop: () => {} }),
});

/** aicfg's own plugin: what it provides goes in through the plugin API like anyone's. */
export const builtinTriggersPlugin = definePlugin({
  apiVersion: "aicfg/v1",
  name: "aicfg",
  version: VERSION,
  setup(ctx) {
    for (const t of [cronTrigger, watchTrigger, gitTrigger, afterTrigger, manualTrigger]) ctx.triggers.register(t);
  },
});

/** Registers the built-in triggers once per process, before any plugin's (they come first in the registry). */
export function ensureBuiltinTriggers(): void {
  if (triggerRegistry.ownerOf(cronTrigger.id) !== undefined) return;
  const r = setupPlugins([{ def: builtinTriggersPlugin, spec: "aicfg" }], { version: VERSION, runtime: runtimeName() });
  const f = r.failed[0];
  if (f) throw new Error(`the built-in triggers did not register: ${f.error}`);
}
