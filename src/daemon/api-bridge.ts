// Connects the daemon core to the HTTP API: adapts a DaemonHandle (engine, scheduler, run store)
// to the ApiDeps interface the routes are written against, and starts the API server as a daemon
// extension with the daemon's listen address, `api:` settings and secrets (env or systemd credentials).
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { atomicWrite } from "../adapters/atomic.ts";
import { promisify } from "node:util";
import { AicfgError } from "../library/diagnostics.ts";
import type { ApiDeps, LibraryInfo, LogLine, Occurrence, RunDetail, WorkflowDetail, WorkflowSummary } from "./api/deps.ts";
import { parseApiConfig } from "./api/config.ts";
import { ApiError } from "./api/errors.ts";
import { QuotaError } from "./dispatcher.ts";
import { API_URL_FILE } from "./config.ts";
import { startApiServer } from "./api/server.ts";
import type { PgStore } from "./store/pg/pg-store.ts";
import { syncCredentialAdminToken } from "./auth/credential-admin.ts";
import { openTokenStore } from "./auth/token-store.ts";
import type { DaemonExtension } from "./cli/commands/daemon.ts";
import type { DaemonHandle, WorkflowInfo } from "./daemon.ts";
import { claimDelivery, deliveryQueued } from "./deliveries.ts";
import { readCredential } from "./runtime/sd-notify.ts";
import type { RunRecord } from "./store/types.ts";

const run = promisify(execFile);

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
/** Steps that run programs: triggering or enabling such a workflow needs the admin role. */
const COMMAND_ACTIONS = new Set(["shell", "sync"]);

/** The GitHub repository (owner/name) and branch of a library checkout, from git itself. */
export async function gitInfo(root: string): Promise<LibraryInfo["git"] | undefined> {
  const opts = { cwd: root, timeout: 3000 };
  try {
    const url = (await run("git", ["-c", "core.hooksPath=/dev/null", "remote", "get-url", "--", "origin"], opts)).stdout.trim();
    const m = /github\.com[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
    if (!m) return undefined;
    const branch = (await run("git", ["rev-parse", "--abbrev-ref", "HEAD"], opts)).stdout.trim();
    return { repository: `${m[1]}/${m[2]}`, branch: branch && branch !== "HEAD" ? branch : "main" };
  } catch {
    return undefined;
  }
}

function summary(w: WorkflowInfo, runsCommands: boolean): WorkflowSummary {
  return {
    library: w.library,
    name: w.name,
    description: w.description ?? "",
    state: w.stale ? "broken" : w.enabled ? "enabled" : "disabled",
    triggers: w.triggers,
    runsCommands,
    nextRunAt: iso(w.nextRuns[0]) ?? null,
  };
}

function runSummary(r: RunRecord): Omit<RunDetail, "inputs" | "steps" | "error"> {
  const out: Omit<RunDetail, "inputs" | "steps" | "error"> = {
    id: r.id,
    library: r.library,
    workflow: r.workflow,
    status: r.status,
    trigger: r.trigger.kind,
    actor: r.actor ?? "system",
    attempt: r.attempt,
    createdAt: new Date(r.createdAt).toISOString(),
  };
  if (r.startedAt !== undefined) out.startedAt = new Date(r.startedAt).toISOString();
  if (r.finishedAt !== undefined) out.finishedAt = new Date(r.finishedAt).toISOString();
  if (r.startedAt !== undefined && r.finishedAt !== undefined) out.durationMs = r.finishedAt - r.startedAt;
  return out;
}

function notFound(what: string): AicfgError {
  return new AicfgError("not-found", `${what} not found`);
}

/** ConfigErrors of the daemon core, mapped to the API's error codes. */
function mapError(e: unknown): never {
  if (e instanceof QuotaError)
    throw new ApiError(429, e.code, e.message, { headers: { "retry-after": String(e.retryAfterSeconds) }, ...(e.hint ? { hint: e.hint } : {}) });
  const code = (e as { code?: string }).code;
  if (code === "workflow-not-found" || code === "run-not-found")
    throw new AicfgError("not-found", (e as Error).message, { hint: (e as AicfgError).hint ?? "" });
  if (code === "workflow-disabled" || code === "duplicate-run" || code === "manual-disabled")
    throw new AicfgError("conflict", (e as Error).message, { hint: (e as AicfgError).hint ?? "" });
  // The dispatcher's input checks (checkInputs): unknown-input, missing-input, bad-input.
  if (code === "invalid-input" || code === "invalid-inputs" || code === "unknown-input" || code === "missing-input" || code === "bad-input") {
    throw new AicfgError("invalid-input", (e as Error).message, { hint: (e as AicfgError).hint ?? "" });
  }
  if (code === "daemon-stopping") throw new AicfgError("unavailable", (e as Error).message, { hint: (e as AicfgError).hint ?? "" });
  throw e;
}

export function apiDepsFromDaemon(handle: DaemonHandle, libraries: LibraryInfo[]): ApiDeps {
  const { store } = handle;
  const runsCommands = (library: string, name: string): boolean =>
    handle.getWorkflow(library, name)?.workflow.steps.some((s) => COMMAND_ACTIONS.has(s.uses)) ?? false;
  const listWorkflows = (library?: string): WorkflowInfo[] => handle.listWorkflows().filter((w) => !library || w.library === library);

  return {
    bus: handle.bus,
    stateDir: handle.config.stateDir,
    libraries: () => libraries,
    loadLibrary: (name) => handle.libraryOf(name),
    listWorkflows: async (library) => listWorkflows(library).map((w) => summary(w, runsCommands(w.library, w.name))),
    exportSteps: (library) =>
      listWorkflows(library)
        .filter((w) => w.enabled)
        .flatMap((w) => {
          const wf = handle.getWorkflow(library, w.name)?.workflow;
          if (!wf) return [];
          // Compiled steps are the spec's steps in order (with their ids given or derived).
          return wf.spec.steps.flatMap((step, i) =>
            step.uses === "export" ? [{ workflow: w.name, step: wf.steps[i]?.id ?? step.id ?? String(i + 1), with: step.with ?? {} }] : [],
          );
        }),
    getWorkflow: async (library, name) => {
      const w = handle.getWorkflow(library, name);
      if (!w) return undefined;
      const inputs: WorkflowDetail["inputs"] = {};
      for (const [key, spec] of Object.entries(w.workflow.spec.inputs ?? {})) {
        const s = spec as {
          type?: "string" | "number" | "boolean";
          required?: boolean;
          default?: string | number | boolean | { secret: string };
          description?: string;
        };
        inputs[key] = {
          type: s.type ?? "string",
          required: s.required ?? false,
          ...(s.default !== undefined ? { default: s.default } : {}),
          ...(s.description ? { description: s.description } : {}),
        };
      }
      return {
        ...summary(w, runsCommands(library, name)),
        file: w.file,
        inputs,
        nextOccurrences: w.nextRuns.slice(0, 5).map((t) => new Date(t).toISOString()),
        diagnostics: w.stale ?? [],
      };
    },
    setWorkflowEnabled: async (library, name, enabled) => {
      if (!handle.getWorkflow(library, name)) return false;
      await handle.setWorkflowEnabled(library, name, enabled);
      return true;
    },
    triggerRun: async (library, name, o) => {
      try {
        return await handle.triggerRun(library, name, {
          inputs: o.inputs,
          actor: o.actor,
          kind: o.trigger === "api" ? "api" : "manual",
          trigger: { ...(o.traceparent ? { traceparent: o.traceparent } : {}) },
        });
      } catch (e) {
        mapError(e);
      }
    },
    listRuns: async (q) => {
      let items = await store.listRuns({
        ...(q.library ? { library: q.library } : {}),
        ...(q.workflow ? { workflow: q.workflow } : {}),
        ...(q.status ? { status: [q.status] } : {}),
      });
      if (q.trigger) items = items.filter((r) => r.trigger.kind === q.trigger);
      items.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      if (q.cursor) {
        const after = Buffer.from(q.cursor, "base64url").toString("utf8");
        const i = items.findIndex((r) => r.id === after);
        if (i < 0) throw new AicfgError("invalid-input", "the cursor does not match any run", { hint: "start again without a cursor" });
        items = items.slice(i + 1);
      }
      const page = items.slice(0, q.limit);
      const last = page[page.length - 1];
      return { items: page.map(runSummary), nextCursor: items.length > q.limit && last ? Buffer.from(last.id, "utf8").toString("base64url") : null };
    },
    getRun: async (id) => {
      const r = await store.getRun(id);
      if (!r) return undefined;
      const inputs: RunDetail["inputs"] = {};
      for (const [k, v] of Object.entries(r.inputs)) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") inputs[k] = v;
      return {
        ...runSummary(r),
        inputs,
        steps: r.steps.map((s) => ({
          id: s.id,
          action: s.uses,
          status: s.status,
          startedAt: new Date(s.startedAt).toISOString(),
          finishedAt: new Date(s.finishedAt).toISOString(),
          durationMs: s.finishedAt - s.startedAt,
          ...(s.error ? { error: s.error } : {}),
        })),
        ...(r.error ? { error: r.error } : {}),
      };
    },
    getRunLogs: async (id, o) => {
      if (!(await store.getRun(id))) return undefined;
      const lines = await store.readLog(id);
      const out: LogLine[] = [];
      lines.forEach((l, i) => {
        const seq = l.seq ?? i + 1;
        if (seq <= o.after || out.length >= o.limit) return;
        out.push({
          seq,
          at: new Date(l.at).toISOString(),
          ...(l.step ? { step: l.step } : {}),
          stream: l.step ? (l.level === "info" ? "stdout" : "stderr") : "system",
          message: l.message,
        });
      });
      return out;
    },
    cancelRun: async (id) => {
      if (!(await store.getRun(id))) throw notFound(`run ${id}`);
      return handle.cancelRun(id);
    },
    rerun: async (id, actor) => {
      if (!(await store.getRun(id))) throw notFound(`run ${id}`);
      try {
        return await handle.rerun(id, actor);
      } catch (e) {
        mapError(e);
      }
    },
    listOccurrences: async (q) => {
      const from = q.from ? Date.parse(q.from) : -Infinity;
      const to = q.to ? Date.parse(q.to) : Infinity;
      const recorded: Occurrence[] = (
        await store.listOccurrences({ ...(q.library ? { library: q.library } : {}), ...(q.workflow ? { workflow: q.workflow } : {}) })
      ).map((o) => ({
        library: o.library,
        workflow: o.workflow,
        scheduledAt: new Date(o.scheduledAt).toISOString(),
        kind: o.outcome,
        ...(o.runId ? { runId: o.runId } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      }));
      const planned: Occurrence[] = listWorkflows(q.library)
        .filter((w) => !q.workflow || w.name === q.workflow)
        .flatMap((w) => w.nextRuns.map((t) => ({ library: w.library, workflow: w.name, scheduledAt: new Date(t).toISOString(), kind: "planned" as const })));
      return [...planned, ...recorded]
        .filter((o) => (!q.kind || o.kind === q.kind) && Date.parse(o.scheduledAt) >= from && Date.parse(o.scheduledAt) <= to)
        .sort((a, b) => (a.scheduledAt < b.scheduledAt ? 1 : a.scheduledAt > b.scheduledAt ? -1 : 0))
        .slice(0, q.limit);
    },
    recordDelivery: (id) => claimDelivery(store, id, handle.instance, handle.clock.now()),
    deliveryQueued: (id, attempt, runIds) => deliveryQueued(store, id, attempt, runIds),
    forgetDelivery: (id, attempt) => store.forgetDelivery(id, attempt),
    notifyGitPush: async (push) =>
      (
        await handle.notifyGitPush({
          library: push.library,
          branch: push.branch,
          after: push.after,
          delivery: push.deliveryId,
          actor: push.actor,
          ...(push.redelivery ? { redelivery: true } : {}),
        })
      ).runIds,
    status: async () => {
      const s = handle.status();
      const c = s.checks;
      return {
        store: { ok: c.store.ok, ...(c.store.error ? { message: c.store.error } : {}) },
        config: {
          ok: c.config.ok,
          invalidWorkflows: c.config.broken,
          ...(c.config.broken ? { message: `${c.config.broken} workflow file(s) do not load; the last good versions run` } : {}),
        },
        scheduler: { lastTickAt: c.scheduler.enabled ? c.scheduler.lastTick || undefined : handle.clock.now(), intervalMs: 30_000 },
        watchers: { ok: c.watchers.ok, watchedPaths: c.watchers.count, ...(c.watchers.dead ? { message: `${c.watchers.dead} file watcher(s) stopped` } : {}) },
        plugins: c.plugins,
      };
    },
  };
}

/**
 * The daemon published its start-up events (workflows loaded, next runs) before the API's metrics
 * subscribed to the bus: publish the current state once more so the gauges start out right.
 */
export function publishCurrentState(handle: DaemonHandle): void {
  const at = handle.clock.now();
  const all = handle.listWorkflows();
  for (const [name, state] of handle.libraries) {
    const mine = all.filter((w) => w.library === name);
    handle.bus.publish({
      type: "workflows.loaded",
      library: name,
      total: mine.length + state.broken.size,
      enabled: mine.filter((w) => w.enabled && !w.stale).length,
      broken: state.broken.size,
      at,
    });
    if (state.stats) handle.bus.publish({ type: "library.stats", library: name, ...state.stats, at });
  }
  for (const w of all) handle.bus.publish({ type: "schedule.next", workflow: w.name, library: w.library, nextAt: w.nextRuns[0] });
}

/**
 * `${VAR}` in api.allowedHosts comes from the environment, so a pod can accept its own address
 * (`${POD_IP}:7411`, from the Kubernetes downward API) for Prometheus, which scrapes by IP.
 * An entry whose variable is unset is left out (and said so): it never widens to "any host".
 */
export function expandHosts(hosts: string[], env: Record<string, string | undefined>, warn?: (message: string) => void): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    let missing: string | undefined;
    const v = h.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const val = env[name];
      if (!val) missing = name;
      return val ?? "";
    });
    if (missing) warn?.(`api.allowedHosts entry ${JSON.stringify(h)} left out: ${missing} is not set`);
    else out.push(v);
  }
  return out;
}

/** The daemon's libraries as the API sees them: name, root, and the GitHub repository and branch (configured, else from git). */
export async function apiLibraries(handle: DaemonHandle): Promise<LibraryInfo[]> {
  const libraries: LibraryInfo[] = [];
  for (const [name, state] of handle.libraries) {
    const configured = handle.config.libraryGit?.[state.root];
    const detected = configured?.repository && configured.branch ? undefined : await gitInfo(state.root);
    const repository = configured?.repository ?? detected?.repository;
    const branch = configured?.branch ?? detected?.branch ?? "main";
    const org = handle.config.libraryOrg?.[state.root];
    libraries.push({ name, root: state.root, ...(org ? { org } : {}), ...(repository ? { git: { repository, branch } } : {}) });
  }
  return libraries;
}

/** Starts the HTTP API next to the daemon (the `daemon` command runs this as an extension). */
export const apiExtension: DaemonExtension = async (handle, io, logging) => {
  const config = handle.config;
  const libraries = await apiLibraries(handle);
  const api = parseApiConfig({
    ...(config.api ?? {}),
    ...(config.api?.allowedHosts ? { allowedHosts: expandHosts(config.api.allowedHosts, io.env, (m) => logging.logger.warn(m)) } : {}),
    host: config.listen.host.replace(/^\[|\]$/g, ""),
    port: config.listen.port,
  });
  // The webhook secret: the config, else the environment, else a systemd credential.
  const credential = io.env.AICFG_GITHUB_WEBHOOK_SECRET ? undefined : readCredential(io.env, "github-webhook-secret");
  const env = { ...io.env, ...(credential ? { AICFG_GITHUB_WEBHOOK_SECRET: credential } : {}) };
  // Before the bind check: an admin token from the `admin-token` credential lets a first boot on
  // 0.0.0.0 (a container, a pod) start instead of being refused.
  // On PostgreSQL the replicas share the tokens, like the orgs, bindings and audit chains below.
  const pg = handle.store.kind === "postgres" ? (handle.store as PgStore) : undefined;
  const tokens = pg ? pg.tokenStore(handle.clock) : openTokenStore(config.stateDir, handle.clock);
  // The database down at start: the API serves at once (not ready), the credential's token is brought in line once the store opened.
  const dbDown = pg !== undefined && !pg.health().ok;
  if (dbDown)
    void pg
      .opened()
      .then(() => syncCredentialAdminToken(io.env, tokens))
      .catch((e: unknown) => logging.logger.error({ err: e }, "syncing the admin-token credential failed"));
  else await syncCredentialAdminToken(io.env, tokens);
  // The API logs (access log included) through the daemon's one logger sink and secret registry.
  // On PostgreSQL, every replica shares the orgs, roles, bindings, users, audit chains and the orgs' request counts.
  const shared = pg ? await pg.tenancyStores(handle.clock) : undefined;
  const server = await startApiServer(apiDepsFromDaemon(handle, libraries), api, {
    env,
    tokens,
    ...(shared ? { tenancy: shared.tenancy, auditStore: shared.audit, requestBudget: shared.requests } : {}),
    ...(dbDown ? { tokensPending: { opened: pg.opened(), adminsPending: readCredential(env, "admin-token") ? 1 : 0 } } : {}),
    clock: handle.clock,
    telemetryOptions: { logSink: logging.sink, secrets: logging.secrets, logLevel: logging.level },
  });
  publishCurrentState(handle);
  // Where the CLI on this machine finds the API (the port may have been chosen by the system).
  const urlFile = join(config.stateDir, API_URL_FILE);
  atomicWrite(urlFile, server.served.url + "\n", 0o600);
  return async () => {
    rmSync(urlFile, { force: true });
    await server.stop();
  };
};
