// The dispatcher turns run requests (from triggers, the CLI and the API) into durable run records
// and starts them under the overlap policy of their concurrency group: skip, buffer_one,
// buffer_all, cancel_other or allow_all. Every request is written to the store before anything
// runs, so a crash right after a request still leaves a queued run to resume. The slots of a cron
// catch-up are a backlog: a caught-up slot waits behind another caught-up slot of the same
// workflow instead of meeting the overlap policy (which is about overlapping a run already going).
import { randomBytes } from "node:crypto";
import { ConfigError } from "../library/diagnostics.ts";
import { isSecretRef } from "../library/schema.ts";
import type { TriggerInfo } from "../workflows/actions/types.ts";
import type { LoadedWorkflow } from "../workflows/schema.ts";
import { executeRun, type EngineDeps, type LibraryRef, type StopReason } from "./engine.ts";
import type { TriggerKind } from "./events.ts";
import { TERMINAL, type RunQuota, type RunRecord } from "./store/types.ts";

export type RunRequest = {
  library: string;
  workflow: string;
  trigger: TriggerInfo & { kind: TriggerKind };
  inputs?: Record<string, unknown>;
  actor?: string;
  /** A deterministic id (cron occurrences); a second request with the same id is a duplicate. */
  runId?: string;
  scheduledAt?: number;
  /** The schedule entry (`cron#0`) of a slot's run: the store claims the slot when it creates the run. */
  occurrence?: string;
  retryOf?: string;
  attempt?: number;
};

export type SubmitResult = { runId: string; status: "running" | "queued" | "skipped" | "duplicate"; reason?: string };

export type Dispatcher = {
  submit: (req: RunRequest) => Promise<SubmitResult>;
  /** Starts a run that was queued before a restart. */
  resume: (run: RunRecord) => Promise<SubmitResult>;
  cancel: (runId: string, message?: string) => Promise<boolean>;
  /** Resolves with the run's final record. */
  waitFor: (runId: string) => Promise<RunRecord>;
  /** Runs in progress (ids). */
  inFlight: () => string[];
  pendingCount: () => number;
  /**
   * Stops accepting; waits up to `deadlineMs` for in-flight runs, then interrupts the rest. Queued runs stay queued.
   * `beforeInterrupt` runs at the deadline before the runs are stopped (cluster mode hands their leases to another replica).
   */
  drain: (deadlineMs: number, beforeInterrupt?: () => Promise<void>) => Promise<{ finished: string[]; interrupted: string[] }>;
  /** Resolves when nothing runs and nothing waits (tests, one-shot runs). */
  idle: () => Promise<void>;
};

export type DispatcherDeps = EngineDeps & {
  resolve: (library: string, workflow: string) => { wf: LoadedWorkflow; lib: LibraryRef } | undefined;
  /** The runs-per-hour quota of the library's org, which the store checks as it creates each run (none: unlimited). */
  quotaOf?: (library: string) => Promise<RunQuota | undefined>;
};

/** A run asked for by a caller was refused over its org's quota (recorded skipped as `runId`). */
export class QuotaError extends ConfigError {
  readonly runId: string;
  readonly retryAfterSeconds: number;
  constructor(message: string, runId: string, retryAfterSeconds: number) {
    super("org-quota", message, { hint: `retry in ${retryAfterSeconds}s; an admin can raise it with 'aicfg org quota'` });
    this.runId = runId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Who asked for a run and waits for the answer: refused over quota, they get an error (the API answers 429); a trigger's run is recorded skipped. */
const ASKED: ReadonlySet<string> = new Set(["manual", "api"]);

function newRunId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d+)Z$/, "$1Z");
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

/** Applies declared defaults and checks required inputs and their types. */
function checkInputs(wf: LoadedWorkflow, given: Record<string, unknown> = {}): Record<string, unknown> {
  const decl = wf.spec.inputs ?? {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(decl, k))
      throw new ConfigError("unknown-input", `workflow '${wf.name}' has no input '${k}'`, {
        hint: `declared inputs: ${Object.keys(decl).join(", ") || "(none)"}`,
      });
  }
  for (const [k, spec] of Object.entries(decl)) {
    let v = Object.hasOwn(given, k) ? given[k] : spec.default;
    if (v === undefined) {
      if (spec.required)
        throw new ConfigError("missing-input", `workflow '${wf.name}' needs input '${k}'`, { ...(spec.description ? { hint: spec.description } : {}) });
      continue;
    }
    // A declared `{ secret: NAME }` default stays a reference here (it is what the run record stores);
    // the engine decrypts it when the run starts. A caller cannot pass one: only the workflow's author names secrets.
    if (isSecretRef(v) && v === spec.default) {
      out[k] = v;
      continue;
    }
    const type = spec.type ?? "string";
    if (type === "number" && typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) v = Number(v);
    if (type === "boolean" && (v === "true" || v === "false")) v = v === "true";
    if (typeof v !== type) throw new ConfigError("bad-input", `input '${k}' of workflow '${wf.name}' must be a ${type}`);
    out[k] = v;
  }
  return out;
}

type Group = {
  running: Map<string, AbortController>;
  pending: RunRecord[];
  active: Map<string, RunRecord>;
  /** Cluster mode: the next pending run's claim of the group is on its way to the store. */
  claiming: boolean;
};

/** How soon a run waiting for a group that another replica holds asks again. */
const CLAIM_RETRY_MS = 500;

const isCatchup = (r: RunRecord): boolean => r.trigger.kind === "cron" && r.trigger.catchup === true;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const groups = new Map<string, Group>();
  const waiters = new Map<string, ((r: RunRecord) => void)[]>();
  const running = new Map<string, Promise<RunRecord>>();
  let accepting = true;
  const idleWaiters: (() => void)[] = [];

  const groupOf = (wf: LoadedWorkflow): Group => {
    const key = `${wf.library}\u0000${wf.concurrency.group}`;
    let g = groups.get(key);
    if (!g) {
      g = { running: new Map(), pending: [], active: new Map(), claiming: false };
      groups.set(key, g);
    }
    return g;
  };

  const settle = (run: RunRecord) => {
    const ws = waiters.get(run.id);
    waiters.delete(run.id);
    for (const w of ws ?? []) w(run);
    if (running.size === 0 && [...groups.values()].every((g) => g.pending.length === 0)) {
      for (const w of idleWaiters.splice(0)) w();
    }
  };

  /** A run that ended without running a step (skipped, cancelled, refused): told to the listeners and settled. */
  const finishedUnrun = (run: RunRecord, result: "skipped" | "cancelled", at: number) => {
    deps.bus.publish({
      type: "run.finished",
      runId: run.id,
      workflow: run.workflow,
      library: run.library,
      trigger: run.trigger.kind,
      result,
      durationMs: 0,
      at,
    });
    settle(run);
  };

  const finishWithout = async (run: RunRecord, status: "skipped" | "cancelled", reason: string) => {
    const at = deps.clock.now();
    run.status = status;
    run.reason = reason;
    run.finishedAt = at;
    await deps.store.updateRun(run);
    finishedUnrun(run, status, at);
  };

  /** A run the store wrote `skipped` because its org is over its runs-per-hour quota. */
  const refused = (run: RunRecord): SubmitResult => {
    const at = deps.clock.now();
    const { org, retryAt } = run.overQuota!;
    deps.bus.publish({ type: "run.refused", runId: run.id, org, workflow: run.workflow, library: run.library, trigger: run.trigger.kind, quota: "runs", at });
    finishedUnrun(run, "skipped", at);
    const reason = run.reason!;
    if (ASKED.has(run.trigger.kind)) throw new QuotaError(reason, run.id, Math.max(1, Math.ceil((retryAt - at) / 1000)));
    return { runId: run.id, status: "skipped", reason };
  };

  const start = (run: RunRecord, wf: LoadedWorkflow, lib: LibraryRef, g: Group) => {
    const ctrl = new AbortController();
    g.running.set(run.id, ctrl);
    g.active.set(run.id, run);
    const p = executeRun(run, wf, lib, deps, ctrl.signal)
      .catch(async (e: unknown) => {
        // The engine records failures itself; reaching here means the store failed. Keep going.
        run.status = "failure";
        run.error = `internal: ${(e as Error).message}`;
        run.finishedAt = deps.clock.now();
        await deps.store.updateRun(run).catch(() => {});
        return run;
      })
      .then((final) => {
        g.running.delete(run.id);
        g.active.delete(run.id);
        running.delete(run.id);
        pump(g);
        settle(final);
        return final;
      });
    running.set(run.id, p);
  };

  /** Cluster mode: the group is claimed in the shared store before a run of it starts, so replicas take turns too. */
  const shared = (wf: LoadedWorkflow): boolean => deps.store.claimGroup !== undefined && wf.concurrency.overlap !== "allow_all";
  const groupKey = (wf: LoadedWorkflow): string => `${wf.library}/${wf.concurrency.group}`;

  const pump = (g: Group) => {
    if (!accepting || g.claiming) return;
    while (g.running.size === 0 && g.pending.length > 0) {
      const next = g.pending[0]!;
      const found = deps.resolve(next.library, next.workflow);
      if (!found) {
        g.pending.shift();
        void finishWithout(next, "cancelled", "the workflow was removed before the run started");
        continue;
      }
      if (!shared(found.wf)) {
        g.pending.shift();
        start(next, found.wf, found.lib, g);
        continue;
      }
      // Held by a run on another replica: ask again a little later (a run gives its group back by finishing).
      g.claiming = true;
      const later = () => {
        g.claiming = false;
        deps.clock.setTimer(CLAIM_RETRY_MS, () => pump(g));
      };
      deps.store.claimGroup!(next, groupKey(found.wf)).then(
        (other) => {
          if (other !== undefined) return later();
          g.claiming = false;
          if (g.pending[0] === next) {
            g.pending.shift();
            start(next, found.wf, found.lib, g);
          }
          pump(g);
        },
        (e: unknown) => {
          // Taken over by another replica meanwhile: no longer this replica's to start.
          if ((e as { code?: string }).code === "lease-lost" && g.pending[0] === next) g.pending.shift();
          later();
        },
      );
      return;
    }
  };

  /** The group is free here but held by `other` on another replica: the policy applies as if it ran here. */
  const behindOtherReplica = async (run: RunRecord, wf: LoadedWorkflow, g: Group, other: string): Promise<SubmitResult> => {
    const group = wf.concurrency.group;
    switch (wf.concurrency.overlap) {
      case "cancel_other": {
        await deps.store.cancelGroup?.(run, groupKey(wf), `cancelled by newer run ${run.id} (cancel_other)`, deps.clock.now());
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      }
      case "buffer_one":
      case "buffer_all":
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      default: {
        const reason = `overlap: group '${group}' is busy with run ${other} on another replica`;
        await finishWithout(run, "skipped", reason);
        return { runId: run.id, status: "skipped", reason };
      }
    }
  };

  const place = async (run: RunRecord, wf: LoadedWorkflow, lib: LibraryRef): Promise<SubmitResult> => {
    const g = groupOf(wf);
    const busy = g.running.size > 0 || g.pending.length > 0;
    const policy = wf.concurrency.overlap;
    if (policy === "allow_all") {
      start(run, wf, lib, g);
      return { runId: run.id, status: "running" };
    }
    if (!busy) {
      let other: string | undefined;
      try {
        other = shared(wf) ? await deps.store.claimGroup!(run, groupKey(wf)) : undefined;
      } catch {
        // The store did not answer: the run waits in the group and its claim is retried.
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      }
      if (other === undefined) {
        start(run, wf, lib, g);
        return { runId: run.id, status: "running" };
      }
      // Another run of this replica may have claimed it while this claim waited: then the policy applies below.
      if (!g.active.has(other) && !g.pending.some((r) => r.id === other)) return behindOtherReplica(run, wf, g, other);
    }
    // Catch-up slots are replayed one after the other (also after a restart, from the stored trigger).
    const sameBacklog = (r: RunRecord) => isCatchup(r) && r.library === run.library && r.workflow === run.workflow;
    if (isCatchup(run) && ([...g.active.values()].some(sameBacklog) || g.pending.some(sameBacklog))) {
      g.pending.push(run);
      pump(g);
      return { runId: run.id, status: "queued" };
    }
    const holder = [...g.running.keys()][0] ?? g.pending[0]?.id;
    switch (policy) {
      case "skip": {
        const reason = `overlap: group '${wf.concurrency.group}' is busy with run ${holder}`;
        await finishWithout(run, "skipped", reason);
        return { runId: run.id, status: "skipped", reason };
      }
      case "buffer_one": {
        if (g.pending.length > 0) {
          const reason = `overlap: group '${wf.concurrency.group}' already has a buffered run (${g.pending[0]!.id})`;
          await finishWithout(run, "skipped", reason);
          return { runId: run.id, status: "skipped", reason };
        }
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      }
      case "buffer_all":
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      case "cancel_other": {
        for (const old of g.pending.splice(0)) await finishWithout(old, "cancelled", `superseded by run ${run.id} (cancel_other)`);
        for (const [, ctrl] of g.running) ctrl.abort({ kind: "cancel", message: `cancelled by newer run ${run.id} (cancel_other)` } satisfies StopReason);
        g.pending.push(run);
        pump(g);
        return { runId: run.id, status: "queued" };
      }
    }
  };

  return {
    submit: async (req) => {
      if (!accepting) throw new ConfigError("daemon-stopping", "the daemon is shutting down and accepts no new runs", { hint: "retry once it is back" });
      const found = deps.resolve(req.library, req.workflow);
      if (!found)
        throw new ConfigError("workflow-not-found", `no workflow '${req.workflow}' in library '${req.library}'`, {
          hint: "list workflows with 'aicfg runs' or the API",
        });
      const inputs = checkInputs(found.wf, req.inputs);
      const now = deps.clock.now();
      const run: RunRecord = {
        id: req.runId ?? newRunId(now),
        library: req.library,
        workflow: req.workflow,
        workflowHash: found.wf.hash,
        trigger: req.trigger,
        inputs,
        status: "queued",
        createdAt: now,
        owner: deps.owner,
        attempt: req.attempt ?? 1,
        steps: [],
        ...(req.actor ? { actor: req.actor } : {}),
        ...(req.retryOf ? { retryOf: req.retryOf } : {}),
        ...(req.scheduledAt !== undefined ? { scheduledAt: req.scheduledAt } : {}),
        ...(req.occurrence !== undefined ? { occurrence: req.occurrence } : {}),
      };
      if (!(await deps.store.createRun(run, await deps.quotaOf?.(req.library)))) return { runId: run.id, status: "duplicate" };
      if (run.overQuota) return refused(run);
      return place(run, found.wf, found.lib);
    },
    resume: async (run) => {
      const found = deps.resolve(run.library, run.workflow);
      if (!found) {
        await finishWithout(run, "cancelled", "the workflow no longer exists");
        return { runId: run.id, status: "skipped" };
      }
      run.owner = deps.owner;
      await deps.store.updateRun(run);
      return place(run, found.wf, found.lib);
    },
    cancel: async (runId, message = "cancelled by request") => {
      for (const g of groups.values()) {
        const ctrl = g.running.get(runId);
        if (ctrl) {
          ctrl.abort({ kind: "cancel", message } satisfies StopReason);
          return true;
        }
        const i = g.pending.findIndex((r) => r.id === runId);
        if (i >= 0) {
          const [run] = g.pending.splice(i, 1);
          await finishWithout(run!, "cancelled", message);
          return true;
        }
      }
      return false;
    },
    waitFor: async (runId) => {
      const current = await deps.store.getRun(runId);
      if (!current) throw new ConfigError("run-not-found", `no run ${runId}`);
      if (TERMINAL.includes(current.status)) return current;
      return new Promise((resolve) => {
        const list = waiters.get(runId) ?? [];
        list.push(resolve);
        waiters.set(runId, list);
      });
    },
    inFlight: () => [...running.keys()],
    pendingCount: () => [...groups.values()].reduce((n, g) => n + g.pending.length, 0),
    drain: async (deadlineMs, beforeInterrupt) => {
      accepting = false;
      const ids = [...running.keys()];
      let timer: (() => void) | undefined;
      const deadline = new Promise<"deadline">((r) => {
        timer = deps.clock.setTimer(deadlineMs, () => r("deadline"));
      });
      const all = Promise.all([...running.values()]).then(() => "done" as const);
      const first = await Promise.race([all, deadline]);
      timer?.();
      const interrupted: string[] = [];
      if (first === "deadline") {
        await beforeInterrupt?.();
        for (const g of groups.values()) {
          for (const [id, ctrl] of g.running) {
            interrupted.push(id);
            ctrl.abort({
              kind: "shutdown",
              message: `the daemon stopped; the run did not finish within the ${deadlineMs} ms drain deadline`,
            } satisfies StopReason);
          }
        }
        await Promise.all([...running.values()]);
      }
      return { finished: ids.filter((id) => !interrupted.includes(id)), interrupted };
    },
    idle: () =>
      running.size === 0 && [...groups.values()].every((g) => g.pending.length === 0) ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)),
  };
}
