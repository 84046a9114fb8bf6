// `after` trigger: when a workflow run succeeds, start the workflows of the same library that list
// it under `on.after`. The chain of workflows is carried along so a cycle (a after b after a)
// stops instead of looping forever.
import type { LoadedWorkflow } from "../../workflows/schema.ts";
import type { EventBus } from "../events.ts";

const MAX_CHAIN = 16;

export type AfterTriggerOptions = {
  bus: EventBus;
  /** Workflows of a library (enabled ones only). */
  workflowsOf: (library: string) => LoadedWorkflow[];
  /** The chain that led to a run (from its trigger). */
  chainOf: (runId: string) => Promise<string[]>;
  fire: (library: string, workflow: string, source: { workflow: string; runId: string; chain: string[] }) => Promise<void>;
  log: (level: "info" | "warn" | "error", message: string) => void;
};

export function startAfterTrigger(o: AfterTriggerOptions): () => void {
  return o.bus.subscribe((e) => {
    if (e.type !== "run.finished" || e.result !== "success") return;
    const dependents = o.workflowsOf(e.library).filter((w) => w.spec.on?.after?.includes(e.workflow));
    if (dependents.length === 0) return;
    void (async () => {
      const chain = [...(await o.chainOf(e.runId)), e.workflow];
      for (const wf of dependents) {
        if (chain.includes(wf.name) || chain.length >= MAX_CHAIN) {
          o.log("warn", `${wf.name}: not started after ${e.workflow}: the chain ${[...chain, wf.name].join(" -> ")} loops or is too long`);
          continue;
        }
        await o.fire(e.library, wf.name, { workflow: e.workflow, runId: e.runId, chain });
      }
    })().catch((err: unknown) => o.log("error", `after-trigger failed: ${(err as Error).message}`));
  });
}
