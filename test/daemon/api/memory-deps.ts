// A small but real in-memory implementation of ApiDeps for the API tests and the API benchmark:
// it keeps workflows, queues runs, lists them newest first with filters and a cursor, stores logs,
// cancels and re-runs, records webhook deliveries, and publishes the run lifecycle on a real bus.
import { AicfgError } from "../../../src/library/diagnostics.ts";
import { createEventBus, type EventBus, type RunResult } from "../../../src/daemon/events.ts";
import type { ApiDeps, DaemonStatus, GitPush, LibraryInfo, LogLine, Occurrence, RunDetail, WorkflowDetail } from "../../../src/daemon/api/deps.ts";

export type MemoryDeps = ApiDeps & {
  runs: Map<string, RunDetail>;
  logs: Map<string, LogLine[]>;
  workflows: Map<string, WorkflowDetail>;
  deliveries: Set<string>;
  pushes: GitPush[];
  occurrences: Occurrence[];
  statusValue: DaemonStatus;
  /** Makes the next notifyGitPush throw (a store outage), to test delivery bookkeeping. */
  failNextPush: boolean;
  /** Moves a queued run to running and publishes run.started. */
  startRun: (id: string) => void;
  /** Finishes a run with one step and publishes step.finished and run.finished. */
  finishRun: (id: string, result: RunResult, durationMs: number) => void;
  appendLog: (id: string, message: string, stream?: LogLine["stream"]) => void;
};

export function workflow(library: string, name: string, overrides: Partial<WorkflowDetail> = {}): WorkflowDetail {
  return {
    library,
    name,
    description: `${name} of ${library}`,
    state: "enabled",
    triggers: ["manual", "cron"],
    runsCommands: false,
    nextRunAt: "2030-01-01T00:00:00.000Z",
    file: `/libs/${library}/workflows/${name}.yaml`,
    inputs: { target: { type: "string", required: false, default: "all" } },
    nextOccurrences: ["2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z"],
    diagnostics: [],
    ...overrides,
  };
}

export function createMemoryDeps(opts: { stateDir: string; libraries?: LibraryInfo[]; workflows?: WorkflowDetail[]; bus?: EventBus; now?: () => Date } = { stateDir: "" }): MemoryDeps {
  const bus = opts.bus ?? createEventBus();
  const now = opts.now ?? (() => new Date("2026-11-24T10:00:00.000Z"));
  const libraries = opts.libraries ?? [{ name: "team", root: "/libs/team", git: { repository: "acme/agents", branch: "main" } }, { name: "other", root: "/libs/other" }];
  const workflows = new Map((opts.workflows ?? [workflow("team", "sync"), workflow("team", "backup", { runsCommands: true }), workflow("other", "export")]).map((w) => [`${w.library}/${w.name}`, w]));
  const runs = new Map<string, RunDetail>();
  const logs = new Map<string, LogLine[]>();
  const deliveries = new Set<string>();
  let seq = 0;

  const newRun = (library: string, name: string, inputs: RunDetail["inputs"], trigger: RunDetail["trigger"], actor: string): string => {
    seq++;
    const id = `run-${String(seq).padStart(6, "0")}`;
    runs.set(id, { id, library, workflow: name, status: "queued", trigger, actor, attempt: 1, createdAt: new Date(now().getTime() + seq).toISOString(), inputs, steps: [] });
    logs.set(id, []);
    return id;
  };
  const mustRun = (id: string): RunDetail => {
    const r = runs.get(id);
    if (!r) throw new AicfgError("not-found", `run ${id} not found`);
    return r;
  };

  const deps: MemoryDeps = {
    bus,
    stateDir: opts.stateDir,
    runs,
    logs,
    workflows,
    deliveries,
    pushes: [],
    occurrences: [
      { library: "team", workflow: "sync", scheduledAt: "2026-11-24T09:00:00.000Z", kind: "missed", reason: "daemon was down" },
      { library: "team", workflow: "sync", scheduledAt: "2030-01-01T00:00:00.000Z", kind: "planned" },
      { library: "other", workflow: "export", scheduledAt: "2026-11-24T08:00:00.000Z", kind: "skipped", reason: "previous run still running" },
    ],
    statusValue: {
      store: { ok: true },
      config: { ok: true, invalidWorkflows: 0 },
      scheduler: { lastTickAt: now().getTime() - 1000, intervalMs: 1000 },
      watchers: { ok: true, watchedPaths: 12 },
    },
    failNextPush: false,
    libraries: () => libraries,
    listWorkflows: async (library) => [...workflows.values()].filter((w) => !library || w.library === library).map(({ file: _f, inputs: _i, nextOccurrences: _n, diagnostics: _d, ...summary }) => summary),
    getWorkflow: async (library, name) => workflows.get(`${library}/${name}`),
    setWorkflowEnabled: async (library, name, enabled) => {
      const w = workflows.get(`${library}/${name}`);
      if (!w) return false;
      w.state = enabled ? "enabled" : "disabled";
      return true;
    },
    triggerRun: async (library, name, o) => {
      const w = workflows.get(`${library}/${name}`);
      if (!w) throw new AicfgError("not-found", `workflow ${library}/${name} not found`);
      for (const key of Object.keys(o.inputs)) {
        if (!(key in w.inputs)) throw new AicfgError("invalid-input", `unknown input ${key}`, { hint: `inputs: ${Object.keys(w.inputs).join(", ")}` });
      }
      return newRun(library, name, o.inputs, o.trigger, o.actor);
    },
    listRuns: async (q) => {
      let items = [...runs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
      items = items.filter((r) => (!q.library || r.library === q.library) && (!q.workflow || r.workflow === q.workflow) && (!q.status || r.status === q.status) && (!q.trigger || r.trigger === q.trigger));
      if (q.cursor) {
        const after = Buffer.from(q.cursor, "base64url").toString("utf8");
        const i = items.findIndex((r) => r.id === after);
        if (i < 0) throw new AicfgError("invalid-input", "the cursor does not match any run");
        items = items.slice(i + 1);
      }
      const page = items.slice(0, q.limit).map(({ inputs: _i, steps: _s, error: _e, ...summary }) => summary);
      const last = page[page.length - 1];
      return { items: page, nextCursor: items.length > q.limit && last ? Buffer.from(last.id, "utf8").toString("base64url") : null };
    },
    getRun: async (id) => runs.get(id),
    getRunLogs: async (id, o) => logs.get(id)?.filter((l) => l.seq > o.after).slice(0, o.limit),
    cancelRun: async (id) => {
      const r = mustRun(id);
      if (r.status !== "queued" && r.status !== "running") return false;
      r.status = "cancelled";
      return true;
    },
    rerun: async (id, actor) => {
      const r = mustRun(id);
      return newRun(r.library, r.workflow, r.inputs, "manual", actor);
    },
    listOccurrences: async (q) =>
      deps.occurrences.filter((o) => (!q.library || o.library === q.library) && (!q.workflow || o.workflow === q.workflow) && (!q.kind || o.kind === q.kind)).slice(0, q.limit),
    recordDelivery: async (id) => {
      if (deliveries.has(id)) return { process: false, reason: `delivery ${id} was already processed` };
      deliveries.add(id);
      return { process: true, attempt: 1, retryRunIds: [] };
    },
    deliveryQueued: async () => {},
    forgetDelivery: async (id) => {
      deliveries.delete(id);
    },
    notifyGitPush: async (push) => {
      if (deps.failNextPush) {
        deps.failNextPush = false;
        throw new AicfgError("unavailable", "the run store is unavailable");
      }
      deps.pushes.push(push);
      return [...workflows.values()].filter((w) => w.library === push.library && w.triggers.includes("git")).map((w) => newRun(w.library, w.name, {}, "git", push.actor));
    },
    status: async () => deps.statusValue,
    startRun: (id) => {
      const r = mustRun(id);
      r.status = "running";
      r.startedAt = now().toISOString();
      bus.publish({ type: "run.started", runId: id, workflow: r.workflow, library: r.library, trigger: r.trigger, at: now().getTime(), attempt: r.attempt });
    },
    finishRun: (id, result, durationMs) => {
      const r = mustRun(id);
      const at = now().getTime() + durationMs;
      r.steps.push({ id: "main", action: "export", status: result, durationMs });
      r.status = result;
      r.finishedAt = new Date(at).toISOString();
      r.durationMs = durationMs;
      bus.publish({ type: "step.finished", runId: id, workflow: r.workflow, stepId: "main", action: "export", result, durationMs, at });
      bus.publish({ type: "run.finished", runId: id, workflow: r.workflow, library: r.library, trigger: r.trigger, result, durationMs, at });
    },
    appendLog: (id, message, stream = "stdout") => {
      const list = logs.get(id) ?? [];
      list.push({ seq: list.length, at: now().toISOString(), stream, message });
      logs.set(id, list);
    },
  };
  return deps;
}
