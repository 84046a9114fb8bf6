// Manual trigger: a run asked for by a person or a program (`aicfg run`, the API). Checks that the
// workflow allows manual runs and builds the request; inputs are checked by the dispatcher.
import { ConfigError } from "../../library/diagnostics.ts";
import type { LoadedWorkflow } from "../../workflows/schema.ts";
import type { RunRequest } from "../dispatcher.ts";

export type ManualOptions = { inputs?: Record<string, unknown>; actor?: string; kind?: "manual" | "api"; trigger?: Record<string, unknown> };

export function manualRequest(library: string, wf: LoadedWorkflow, o: ManualOptions = {}): RunRequest {
  if (wf.spec.on?.manual === false) {
    throw new ConfigError("manual-disabled", `workflow '${wf.name}' does not allow manual runs (on.manual: false)`, { file: wf.file });
  }
  // Only plain, JSON-shaped data from the caller goes into the trigger.
  const extra = o.trigger ? (JSON.parse(JSON.stringify(o.trigger)) as Record<string, unknown>) : {};
  delete extra.kind;
  return {
    library,
    workflow: wf.name,
    trigger: { ...extra, kind: o.kind ?? "manual", ...(o.actor ? { actor: o.actor } : {}) },
    ...(o.inputs ? { inputs: o.inputs } : {}),
    ...(o.actor ? { actor: o.actor } : {}),
  };
}
