// The engine runs one workflow run: steps in order with `if:` conditions, per-step and per-run
// timeouts, retries with exponential backoff and jitter, cancellation through an AbortSignal,
// step outputs for later expressions, a durable record after every step, and typed events.
import { z } from "zod";
import type { LiveLibrary } from "../library/live.ts";
import type { LayerFolder } from "../library/model.ts";
import { scopedFs } from "../workflows/plugins/fs.ts";
import type { ActionContext, ActionResult, ActionSettings, SecretAccess, StepSummary } from "../workflows/actions/types.ts";
import { ActionError } from "../workflows/actions/types.ts";
import { ConfigError } from "../library/diagnostics.ts";
import { isSecretRef, type SecretRef } from "../library/schema.ts";
import { getAction } from "../workflows/actions/index.ts";
import { evaluate, renderValue, truthy, type CompiledValue, type EvalContext } from "../workflows/expr.ts";
import type { CompiledStep, LoadedWorkflow } from "../workflows/schema.ts";
import { sleep, timeoutSignal, type Clock } from "./clock.ts";
import type { EventBus, RunResult } from "./events.ts";
import type { LogLine, RunRecord, RunStore, StepRecord, StepStatus } from "./store/types.ts";

/** Why a run's signal was aborted. */
export type StopReason = { kind: "cancel" | "timeout" | "shutdown"; message: string };

export type EngineDeps = {
  store: RunStore;
  bus: EventBus;
  clock: Clock;
  settings: ActionSettings;
  stateDir: string;
  owner: { instance: string; pid: number };
  /** Source of randomness for retry jitter (tests pass a fixed one). */
  random?: () => number;
  /** Grace period for `always()` / `failure()` steps after a cancel or timeout. */
  cleanupGraceMs?: number;
  /** The secret store: `{ secret: NAME }` inputs and the steps that need a secret read it. */
  secrets?: SecretAccess;
};

/** The library a run belongs to; `live` is the daemon's watched copy of it (hot reload on). */
export type LibraryRef = {
  name: string;
  root: string;
  live?: LiveLibrary;
  /** The daemon takes note of git layer checkouts moved by a step (the sync step's layer update). */
  onGitLayers?: (folders: readonly LayerFolder[]) => void;
};

/** Delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(r: CompiledStep["retry"], retry: number, random: () => number): number {
  const base = r.backoff === "fixed" ? r.delayMs : r.delayMs * 2 ** (retry - 1);
  const capped = Math.min(base, r.maxDelayMs);
  // "Equal jitter": between half and all of the delay, so retries of many runs spread out but never collapse to zero.
  return r.jitter ? Math.round(capped / 2 + random() * (capped / 2)) : capped;
}

const MAX_OUTPUT_BYTES = 256 * 1024;

function scrubber(settings: ActionSettings): (s: string) => string {
  const secrets = Object.values(settings.env)
    .filter((v) => v.length >= 6)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const v of secrets) out = out.split(v).join("***");
    return out;
  };
}

function stepResult(s: StepStatus): RunResult {
  return s;
}

function boundedOutputs(o: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(o ?? {});
  if (text.length <= MAX_OUTPUT_BYTES) return JSON.parse(text) as Record<string, unknown>;
  return { truncated: true, bytes: text.length };
}

/** The inputs with every `{ secret: NAME }` replaced by its value (registered for scrubbing by SecretAccess). */
async function resolveSecretInputs(inputs: Record<string, unknown>, secrets: SecretAccess | undefined): Promise<Record<string, unknown>> {
  const names = Object.entries(inputs).filter(([, v]) => isSecretRef(v));
  if (!names.length) return inputs;
  if (!secrets) throw new ConfigError("no-secret-store", `input ${names[0]![0]} refers to a secret, but this daemon has no secret store`);
  const out = { ...inputs };
  for (const [k, v] of names) out[k] = await secrets.get((v as SecretRef).secret);
  return out;
}

/** Runs `run` (already created in the store as queued) to completion and returns the final record. */
export async function executeRun(run: RunRecord, wf: LoadedWorkflow, lib: LibraryRef, deps: EngineDeps, external: AbortSignal): Promise<RunRecord> {
  const { store, bus, clock } = deps;
  const random = deps.random ?? Math.random;
  const scrub = scrubber(deps.settings);
  const startedAt = clock.now();
  run.status = "running";
  run.startedAt = startedAt;
  run.owner = deps.owner;
  run.steps = [];
  await store.updateRun(run);
  const traceparent = typeof run.trigger.traceparent === "string" ? run.trigger.traceparent : undefined;
  bus.publish({
    type: "run.started",
    runId: run.id,
    workflow: run.workflow,
    library: run.library,
    trigger: run.trigger.kind,
    at: startedAt,
    attempt: run.attempt,
    ...(traceparent ? { traceparent } : {}),
  });

  const log = (level: LogLine["level"], message: string, step?: string) => {
    const line: LogLine = { at: clock.now(), level, message: scrub(message), ...(step ? { step } : {}) };
    store
      .appendLog(run.id, line)
      .then(() => bus.publish({ type: "run.log", runId: run.id, library: run.library, at: line.at }))
      .catch(() => {});
  };

  const runCtrl = new AbortController();
  const stopOn = (reason: StopReason) => {
    if (!runCtrl.signal.aborted) runCtrl.abort(reason);
  };
  const onExternal = () => stopOn((external.reason as StopReason | undefined) ?? { kind: "cancel", message: "cancelled" });
  if (external.aborted) onExternal();
  else external.addEventListener("abort", onExternal, { once: true });
  const cancelRunTimer = clock.setTimer(wf.timeoutMs, () => stopOn({ kind: "timeout", message: `the run did not finish within ${wf.spec.timeout ?? "1h"}` }));

  const stepsData: Record<string, { outputs: Record<string, unknown>; outcome: string; conclusion: string }> = Object.create(null) as Record<string, never>;
  let failed = false;
  const summaries: StepSummary[] = [];
  const stopReason = () => (runCtrl.signal.aborted ? (runCtrl.signal.reason as StopReason) : undefined);
  log("info", `run ${run.id} of ${lib.name}/${wf.name} started (trigger ${run.trigger.kind}, attempt ${run.attempt})`);
  // `{ secret: NAME }` inputs stay references in the run record; steps see the decrypted value.
  let inputs = run.inputs;
  try {
    inputs = await resolveSecretInputs(run.inputs, deps.secrets);
  } catch (e) {
    failed = true;
    run.error = `inputs: ${(e as Error).message}`;
    log("error", `run ${run.id}: ${run.error}`);
  }

  // A store write that throws (a fenced write in cluster mode: another replica took the run over)
  // ends the run here; its timers and listeners must not outlive it.
  try {
    for (const step of wf.steps) {
      const stopped = stopReason();
      const evalCtx: EvalContext = {
        data: {
          steps: stepsData,
          trigger: run.trigger,
          inputs,
          env: { ...deps.settings.env, ...(wf.spec.env ?? {}) },
          run: { id: run.id, attempt: run.attempt, started_at: new Date(startedAt).toISOString() },
          workflow: { name: wf.name, library: lib.name },
        },
        status: { failed: failed || stopped?.kind === "timeout", cancelled: stopped?.kind === "cancel" || stopped?.kind === "shutdown" },
      };
      const t0 = clock.now();
      const record: StepRecord = { id: step.id, uses: step.uses, status: "skipped", attempts: 0, startedAt: t0, finishedAt: t0, outputs: {}, warnings: [] };
      if (stopped?.kind === "shutdown") {
        // The daemon is stopping past its drain deadline: no cleanup steps, the run is recorded as interrupted.
        log("info", `step ${step.id} not started: the daemon is stopping`, step.id);
      } else if (!truthy(evaluate(step.if, evalCtx))) {
        log("info", `step ${step.id} skipped (if: ${step.ifSource})`, step.id);
      } else {
        await runStep(step, record, evalCtx);
      }
      record.finishedAt = clock.now();
      if ((record.status === "failure" || record.status === "timed_out") && !step.continueOnError) failed = true;
      stepsData[step.id] = {
        outputs: record.outputs,
        outcome: record.status,
        conclusion: step.continueOnError && record.status !== "skipped" ? "success" : record.status,
      };
      summaries.push({ id: step.id, uses: step.uses, status: record.status, ...(record.error ? { error: record.error } : {}) });
      run.steps.push(record);
      await store.updateRun(run);
      bus.publish({
        type: "step.finished",
        runId: run.id,
        workflow: run.workflow,
        stepId: step.id,
        action: step.uses,
        result: stepResult(record.status),
        durationMs: record.finishedAt - record.startedAt,
        at: record.finishedAt,
      });
    }
  } finally {
    cancelRunTimer();
    external.removeEventListener("abort", onExternal);
  }
  const stopped = stopReason();
  const finishedAt = clock.now();
  run.finishedAt = finishedAt;
  if (stopped?.kind === "shutdown") {
    run.status = "interrupted";
    run.reason = stopped.message;
  } else if (stopped?.kind === "cancel") {
    run.status = "cancelled";
    run.reason = stopped.message;
  } else if (stopped?.kind === "timeout") {
    run.status = "timed_out";
    run.reason = stopped.message;
  } else run.status = failed ? "failure" : "success";
  const firstError = run.steps.find((s) => s.error && (s.status === "failure" || s.status === "timed_out"));
  if (firstError) run.error = `${firstError.id}: ${firstError.error}`;
  await store.updateRun(run);
  log(run.status === "success" ? "info" : "warn", `run finished: ${run.status}${run.reason ? ` (${run.reason})` : ""} in ${finishedAt - startedAt} ms`);
  bus.publish({
    type: "run.finished",
    runId: run.id,
    workflow: run.workflow,
    library: run.library,
    trigger: run.trigger.kind,
    result: run.status as RunResult,
    durationMs: finishedAt - startedAt,
    at: finishedAt,
  });
  return run;

  async function runStep(step: CompiledStep, record: StepRecord, evalCtx: EvalContext): Promise<void> {
    const action = getAction(step.uses);
    if (!action) {
      record.status = "failure";
      record.error = `unknown action '${step.uses}'`;
      return;
    }
    // Validation already refuses these; checked again here so that no way of building a workflow
    // lets trigger data pick a command or a folder to write into.
    const templated = (action.literalFields ?? []).filter((f) => step.with.k === "obj" && step.with.entries.some(([k, v]) => k === f && hasTemplate(v)));
    if (templated.length > 0) {
      record.status = "failure";
      record.error = `with.${templated[0]}: ${step.uses} takes only a literal value here, not an expression`;
      log("error", `step ${step.id}: ${record.error}`, step.id);
      return;
    }
    const parsed = action.with.safeParse(renderValue(step.with, evalCtx));
    if (!parsed.success) {
      record.status = "failure";
      record.error = `with: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}`;
      log("error", `step ${step.id}: invalid inputs: ${record.error}`, step.id);
      return;
    }
    // Cleanup steps (always()/failure()/cancelled()) still run after a cancel or timeout, with a short grace.
    const cleanup = runCtrl.signal.aborted;
    for (let attempt = 1; attempt <= step.retry.attempts; attempt++) {
      record.attempts = attempt;
      const stepCtrl = new AbortController();
      const grace = cleanup ? timeoutSignal(clock, deps.cleanupGraceMs ?? 30_000) : undefined;
      const parent = grace?.signal ?? runCtrl.signal;
      const onParent = () => stepCtrl.abort(parent.reason);
      if (parent.aborted) onParent();
      else parent.addEventListener("abort", onParent, { once: true });
      let timedOut = false;
      const cancelStepTimer =
        step.timeoutMs !== undefined
          ? clock.setTimer(step.timeoutMs, () => {
              timedOut = true;
              stepCtrl.abort({ kind: "timeout", message: `step ${step.id} timed out` } satisfies StopReason);
            })
          : () => {};
      const ctx: ActionContext = {
        libraryRoot: lib.root,
        libraryName: lib.name,
        ...(lib.live ? { library: lib.live } : {}),
        ...(lib.onGitLayers ? { gitLayersMoved: lib.onGitLayers } : {}),
        stateDir: deps.stateDir,
        signal: stepCtrl.signal,
        trigger: run.trigger,
        run: { id: run.id, workflow: run.workflow, startedAt },
        attempt,
        maxAttempts: step.retry.attempts,
        now: clock.now,
        clock,
        log: (level, message) => log(level, message, step.id),
        steps: () => summaries.slice(),
        status: () =>
          runCtrl.signal.aborted && (runCtrl.signal.reason as StopReason).kind !== "timeout"
            ? "cancelled"
            : failed || runCtrl.signal.aborted
              ? "failure"
              : "success",
        settings: deps.settings,
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        fs: scopedFs([lib.root, deps.stateDir], lib.root, `step ${step.id} (${step.uses})`),
      };
      let result: ActionResult | undefined;
      let error: unknown;
      try {
        result = await raceAbort(action.run(parsed.data, ctx), stepCtrl.signal);
      } catch (e) {
        error = e;
      } finally {
        cancelStepTimer();
        grace?.cancel();
        parent.removeEventListener("abort", onParent);
      }
      if (result) {
        record.status = "success";
        record.outputs = boundedOutputs(result.outputs);
        record.warnings = (result.warnings ?? []).map(scrub);
        delete record.error;
        publishFacts(result);
        return;
      }
      const message = scrub(errorMessage(error));
      record.error = message;
      if (timedOut) record.status = "timed_out";
      else if (stepCtrl.signal.aborted) {
        const reason = stepCtrl.signal.reason as StopReason | undefined;
        record.status = reason?.kind === "timeout" ? "timed_out" : "cancelled";
        record.error = reason?.message ?? message;
        log("warn", `step ${step.id} stopped: ${record.error}`, step.id);
        return;
      } else record.status = "failure";
      const retryable = !(error instanceof ActionError) || error.retryable;
      log("error", `step ${step.id} attempt ${attempt}/${step.retry.attempts} failed: ${message}`, step.id);
      if (!retryable || attempt === step.retry.attempts) return;
      const delay = backoffDelay(step.retry, attempt, random);
      log("info", `step ${step.id}: retrying in ${delay} ms`, step.id);
      try {
        await sleep(clock, delay, cleanup ? undefined : runCtrl.signal);
      } catch {
        record.status = "cancelled";
        return;
      }
    }
  }

  function publishFacts(result: ActionResult): void {
    const at = clock.now();
    for (const e of result.facts?.exports ?? [])
      bus.publish({ type: "export.done", library: lib.name, target: e.target, written: e.written, deleted: e.deleted, drift: e.drift, at });
    const s = result.facts?.libraryStats;
    if (s) bus.publish({ type: "library.stats", library: lib.name, files: s.files, bytes: s.bytes, agents: s.agents, at });
    const conflicts = result.facts?.mergeConflicts ?? 0;
    if (conflicts > 0) bus.publish({ type: "merge.conflict", library: lib.name, count: conflicts, at });
  }
}

function hasTemplate(c: CompiledValue): boolean {
  if (c.k === "tpl") return true;
  if (c.k === "arr") return c.items.some(hasTemplate);
  if (c.k === "obj") return c.entries.some(([, v]) => hasTemplate(v));
  return false;
}

function errorMessage(e: unknown): string {
  if (e instanceof ActionError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && typeof (e as StopReason).message === "string") return (e as StopReason).message;
  return String(e);
}

/** Settles with the action's result, or rejects as soon as the signal aborts (an action that ignores its signal cannot hold the run). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
