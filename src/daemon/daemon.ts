// The daemon process core: loads the libraries and their workflows, recovers runs left by a dead
// process, starts the triggers (cron, watch, git, after), dispatches runs through the engine,
// hot-reloads workflow files (a broken file keeps its last good version) and drains on stop.
// HTTP is mounted separately (src/daemon/api/) on the handle this returns.
import { mkdirSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { isAbsolute, join, relative, sep } from "node:path";
import { ConfigError, formatDiagnostic, type Diagnostic } from "../library/diagnostics.ts";
import { createLiveLibrary, type LiveLibrary } from "../library/live.ts";
import { INPUT_TOPS, loadLibrary } from "../library/load.ts";
import type { LayerFolder, Library } from "../library/model.ts";
import { toPosix } from "../library/paths.ts";
import type { ActionSettings, TriggerInfo } from "../workflows/actions/types.ts";
import { resolveLayerFolders } from "../workflows/layers.ts";
import { loadWorkflows, type LoadedWorkflow } from "../workflows/schema.ts";
import { systemClock, type Clock } from "./clock.ts";
import { readPgUrl, type DaemonConfig } from "./config.ts";
import { databaseClock, startCluster, type ClusterHandle } from "./cluster.ts";
import { openPgStore, type PgStore } from "./store/pg/pg-store.ts";
import { DELIVERY_RUN_ATTEMPTS, deliveryOf, deliveryRetryId, planDeliveryRetries } from "./deliveries.ts";
import { createDispatcher, type Dispatcher, type RunRequest } from "./dispatcher.ts";
import { createEventBus, type EventBus, type TriggerKind } from "./events.ts";
import { openFileStore, STORE_DIR } from "./store/file-store.ts";
import { createSecretRegistry, type SecretRegistry } from "./telemetry/redact.ts";
import { secretAccess } from "../workflows/secrets/store.ts";
import { acquireStateLock } from "./store/state-lock.ts";
import { TERMINAL, type RunQuota, type RunRecord, type RunStore } from "./store/types.ts";
import { DEFAULT_ORG } from "./tenancy/policy.ts";
import { openFileTenancyStore } from "./tenancy/file-store.ts";
import { DEFAULT_QUOTAS, type TenancyStore } from "./tenancy/types.ts";
import { loadPlugins, type PluginHost, type PluginSource } from "./plugins/host.ts";
import { ensureBuiltinTriggers, type DaemonTriggerHost } from "./triggers/builtin.ts";
import { startTrigger } from "./triggers/start.ts";
import { createGitTriggerRegistry, notifyGitPush, type GitPush, type GitPushResult } from "./triggers/git.ts";
import { manualRequest } from "./triggers/manual.ts";
import { createFileWatcher, type FileWatcher } from "./triggers/watch.ts";
import { BUILTIN_OWNER } from "../library/registry.ts";
import { triggerInstances, triggerRegistry, type TriggerHandle } from "../workflows/triggers.ts";
import { VERSION } from "./version.ts";

export type LogFn = (level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

export type StartDaemonOptions = {
  config: DaemonConfig;
  clock?: Clock;
  /** Randomness for retry jitter. */
  random?: () => number;
  /** false: no triggers, watchers, lock or recovery (one-shot `aicfg run`). Default true. */
  schedule?: boolean;
  /** Hot-reload workflow files (default: same as schedule). */
  hotReload?: boolean;
  log?: LogFn;
  bus?: EventBus;
  store?: RunStore;
  /** How often the owner heartbeat is written (default 10 s). */
  heartbeatMs?: number;
  /** Debounce of workflow-file reloads (default 100 ms). */
  reloadDebounceMs?: number;
  /** Log one line per finished run: outcome and duration; for a failure the step, the reason and the file (default false). */
  logRunOutcomes?: boolean;
  /** The scrubber of the daemon's logs and API: secret values the daemon decrypts are added to it (default: its own). */
  secrets?: SecretRegistry;
};

type LibraryState = {
  name: string;
  root: string;
  workflows: Map<string, LoadedWorkflow>;
  /** Files that failed to load, with their problems (their last good version, if any, keeps running). */
  broken: Map<string, Diagnostic[]>;
  loadedAt: number;
  /**
   * The library kept in memory and current by the daemon's library watcher (hot reload on): runs
   * read it instead of loading the whole library for every event.
   */
  live?: LiveLibrary;
  /** Size of the library at the last good load (all layers), for the library_* metrics. */
  stats?: LibraryStats;
  /** The checkouts of its git layers (aicfg.yaml `layers:`) at the pins of aicfg.lock, from the mirrors under the state folder. */
  gitLayers: LayerFolder[];
};

type LibraryStats = { files: number; bytes: number; agents: number };

/** Counts the files the library is made of (every layer's manifest, definitions and workflow files). */
function libraryStats(lib: Library, workflowFiles: Iterable<string>): LibraryStats {
  const sizes = new Map<string, number>();
  const add = (file: string, size?: number) => {
    if (sizes.has(file)) return;
    try {
      sizes.set(file, size ?? statSync(file).size);
    } catch {
      /* gone since the load: not part of the library any more */
    }
  };
  for (const layer of lib.layers) add(join(layer.root, "aicfg.yaml"));
  for (const stack of lib.agents.values()) for (const a of stack) add(a.file, a.size);
  for (const k of lib.knowledge.values()) add(k.absPath, k.size);
  for (const m of lib.mcp.values()) add(m.file);
  for (const t of lib.templates.values()) add(t.file);
  for (const sk of lib.skills.values()) {
    add(sk.file);
    for (const f of sk.files) add(join(sk.dir, f));
  }
  for (const c of lib.commands.values()) add(c.file);
  for (const f of workflowFiles) add(f);
  let bytes = 0;
  for (const n of sizes.values()) bytes += n;
  return { files: sizes.size, bytes, agents: lib.agents.size };
}

export type WorkflowInfo = {
  library: string;
  name: string;
  file: string;
  description?: string;
  enabled: boolean;
  triggers: TriggerKind[];
  concurrency: { group: string; overlap: string };
  /** Next cron occurrences (ms), soonest first. */
  nextRuns: number[];
  /** Set when the file on disk is broken and this is the last good version. */
  stale?: Diagnostic[];
};

type DaemonStatus = {
  ready: boolean;
  version: string;
  instance: string;
  pid: number;
  startedAt: number;
  checks: {
    store: { ok: boolean; kind: string; error?: string };
    config: { ok: boolean; libraries: number; workflows: number; broken: number };
    scheduler: { ok: boolean; lastTick: number; enabled: boolean };
    watchers: { ok: boolean; count: number; dead: number };
    /** Plugins loaded, and those left out with why (the daemon runs without them: not a readiness failure). */
    plugins: { loaded: string[]; failed: { name: string; code: string; error: string; hint?: string; file?: string }[]; refusedWrites: number };
  };
  runs: { inFlight: number; queued: number };
};

type ReloadReport = { libraries: { name: string; total: number; enabled: number; broken: string[] }[] };

export type DaemonHandle = {
  config: DaemonConfig;
  bus: EventBus;
  store: RunStore;
  clock: Clock;
  instance: string;
  libraries: Map<string, LibraryState>;
  listWorkflows: () => WorkflowInfo[];
  /** The library as the daemon has it now (git layers at their pins): the live copy with hot reload, else a fresh load. */
  libraryOf: (name: string) => Library | undefined;
  getWorkflow: (library: string, name: string) => (WorkflowInfo & { workflow: LoadedWorkflow }) | undefined;
  triggerRun: (
    library: string,
    workflow: string,
    o?: { inputs?: Record<string, unknown>; trigger?: Record<string, unknown>; actor?: string; kind?: "manual" | "api" },
  ) => Promise<string>;
  cancelRun: (runId: string) => Promise<boolean>;
  rerun: (runId: string, actor?: string) => Promise<string>;
  setWorkflowEnabled: (library: string, workflow: string, enabled: boolean) => Promise<void>;
  reload: () => Promise<ReloadReport>;
  status: () => DaemonStatus;
  /** The webhook route feeds pushes here (same trigger as git polling). */
  notifyGitPush: (ev: GitPush) => Promise<GitPushResult>;
  waitForRun: (runId: string) => Promise<RunRecord>;
  /** Resolves when no run is in flight or queued. */
  idle: () => Promise<void>;
  stop: (o?: { deadlineMs?: number }) => Promise<{ finished: string[]; interrupted: string[] }>;
};

type Triggers = {
  hash: string;
  enabled: boolean;
  /** Every started trigger of the workflow, built-in or a plugin's, in the registry's order. */
  handles: TriggerHandle[];
};

const LOCK_FILE = "daemon.lock";
const OWNER_STALE_MS = 60_000;
const RUN_QUOTA_WINDOW_MS = 3_600_000;

function acquireLock(stateDir: string, instance: string, now: () => number): () => void {
  const dir = join(stateDir, STORE_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return acquireStateLock(dir, LOCK_FILE, instance, { now, folder: stateDir }).release;
}

export async function startDaemon(opts: StartDaemonOptions): Promise<DaemonHandle> {
  const config = opts.config;
  ensureBuiltinTriggers();
  const processClock = opts.clock ?? systemClock;
  const log: LogFn = opts.log ?? (() => {});
  const bus = opts.bus ?? createEventBus((err) => log("error", `event listener failed: ${(err as Error).message}`));
  const scheduling = opts.schedule ?? true;
  const hotReload = opts.hotReload ?? scheduling;
  const instance = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const secrets = opts.secrets ?? createSecretRegistry(); // allowlisted env values and decrypted secrets: scrubbed from run history, logs and the API
  // Cluster mode: the store is PostgreSQL, shared with other replicas, and the daemon runs on the database clock.
  const ownPgStore = !opts.store && config.store?.kind === "postgres" ? await openConfiguredPgStore(config, instance, secrets, log, scheduling) : undefined;
  const store = opts.store ?? ownPgStore ?? openFileStore(config.stateDir, { onError: (m) => log("error", m), clock: processClock, secrets });
  const pgStore = store.kind === "postgres" ? (store as PgStore) : undefined;
  // A database that is down at start: the daemon starts not ready (workflows stay disabled until their saved settings can be read) and recovers when it answers.
  if (pgStore) await pgStore.syncClock().catch((e: unknown) => log("error", `cannot read the database clock: ${(e as Error).message}`));
  const clock = pgStore ? databaseClock(processClock, pgStore) : processClock;
  const startedAt = clock.now();
  // Subscribed before anything can run: an `initial` run may finish while the triggers start.
  const stopOutcomes = opts.logRunOutcomes ? logRunOutcomes(bus, store, log, (name) => libraries.get(name)?.root) : () => {};
  const timers: (() => void)[] = [];
  let stopping = false;
  let lastSchedulerTick = startedAt;

  const env: Record<string, string> = {};
  for (const k of config.envAllowlist) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
    secrets.add(v);
  }
  const settings: ActionSettings = {
    shell: { enabled: config.shellEnabled },
    git: { allowFileRemotes: config.allowFileRemotes },
    env,
    ...(config.exportRoots ? { exportRoots: config.exportRoots } : {}),
    ...(config.backupDirs ? { backupDirs: config.backupDirs } : {}),
    ...(config.backupS3 ? { backupS3: config.backupS3 } : {}),
  };

  // ---- libraries and workflows ----
  const libraries = new Map<string, LibraryState>();
  // The folders of each library's layers, once the library watchers run (see "hot reload" below).
  const layerRootsSeen = new Map<LiveLibrary, (roots: string[]) => void>();
  // The git layers at their pins, from the mirrors (offline from the last fetch; never moves a pin).
  const gitLayersOf = async (root: string): Promise<LayerFolder[]> => {
    const r = await resolveLayerFolders({ libraryRoot: root, stateDir: config.stateDir, now: () => new Date(clock.now()) });
    for (const n of r.notes) log("info", n, { library: root });
    for (const d of r.diagnostics) log(d.severity === "error" ? "error" : "warn", formatDiagnostic(d), { library: root });
    return r.folders;
  };
  const loadOpts = (gitLayers: readonly LayerFolder[]) => (gitLayers.length ? { layers: gitLayers } : {});
  for (const root of config.libraries) {
    const gitLayers = await gitLayersOf(root);
    const live: LiveLibrary | undefined = hotReload
      ? createLiveLibrary(root, { onLayers: (roots) => layerRootsSeen.get(live!)?.(roots), gitLayers })
      : undefined;
    const lib = live ? live.current().library : loadLibrary(root, loadOpts(gitLayers));
    const name = lib.manifest.name;
    if (libraries.has(name))
      throw new ConfigError("duplicate-library", `two libraries are named '${name}' (${libraries.get(name)!.root} and ${lib.root})`, {
        hint: "give each library a unique name in its aicfg.yaml",
      });
    libraries.set(name, { name, root: lib.root, workflows: new Map(), broken: new Map(), loadedAt: 0, gitLayers, ...(live ? { live } : {}) });
  }
  // ---- plugins: daemon.yaml's, then each library's aicfg.yaml's, before any workflow is compiled
  // (their actions and trigger types must be in the registries then). One that fails is left out.
  const pluginSources: PluginSource[] = [];
  if (config.file && config.plugins?.length) pluginSources.push({ configFile: config.file, entries: config.plugins });
  for (const state of libraries.values()) {
    const manifest = state.live ? state.live.current().library.manifest : loadLibrary(state.root).manifest;
    if (manifest.plugins?.length) pluginSources.push({ configFile: join(state.root, "aicfg.yaml"), entries: manifest.plugins });
  }
  const plugins: PluginHost | undefined = pluginSources.length ? await loadPlugins(pluginSources, { log, now: clock.now }) : undefined;
  for (const p of plugins?.loaded ?? []) log("info", `plugin ${p.name} ${p.version} loaded`, { plugin: p.name, provides: p.provides });
  // Only one scheduling daemon per state folder (taken after the libraries loaded, so a bad library leaves no lock).
  // Replicas on PostgreSQL coordinate through the database instead (the ledger, leases and fences).
  let releaseLock: () => void = () => {};
  try {
    if (scheduling && !pgStore) releaseLock = acquireLock(config.stateDir, instance, clock.now);
  } catch (e) {
    await plugins?.stop(); // an isolated plugin's child must not outlive a daemon that did not start
    throw e;
  }
  const enabledOverrides = new Map<string, boolean>();
  // Workflows whose saved enable/disable state has been read. One not read yet counts as disabled:
  // a workflow that appears by hot reload must not run before the store says whether it may (with
  // the settings lost, the store answers "disabled" for every workflow: fail closed).
  const settingsRead = new Set<string>();
  const isEnabled = (wf: LoadedWorkflow): boolean => {
    const key = `${wf.library}/${wf.name}`;
    return settingsRead.has(key) && (enabledOverrides.get(key) ?? wf.spec.enabled !== false);
  };
  const readSavedSettings = async (state: LibraryState): Promise<void> => {
    for (const wf of state.workflows.values()) {
      const key = `${state.name}/${wf.name}`;
      if (settingsRead.has(key)) continue;
      const v = await store.getWorkflowEnabled(state.name, wf.name);
      if (v !== undefined) enabledOverrides.set(key, v);
      settingsRead.add(key);
    }
  };

  const loadLibraryWorkflows = (state: LibraryState): boolean => {
    let set: ReturnType<typeof loadWorkflows>;
    let lib: Library;
    try {
      lib = state.live ? state.live.current().library : loadLibrary(state.root, loadOpts(state.gitLayers));
      set = loadWorkflows({ workflowDirs: lib.workflowDirs, manifest: { ...lib.manifest, name: state.name } });
    } catch (e) {
      log("error", `cannot reload library ${state.root}: ${(e as Error).message}; keeping the last good workflows`);
      return false;
    }
    const next = new Map<string, LoadedWorkflow>();
    const broken = new Map<string, Diagnostic[]>();
    for (const [file, diags] of set.files) if (diags.some((d) => d.severity === "error")) broken.set(file, diags);
    for (const [name, wf] of set.workflows) if (!broken.has(wf.file)) next.set(name, wf);
    // A broken file keeps its last good version running.
    for (const [name, old] of state.workflows) {
      if (!next.has(name) && broken.has(old.file)) next.set(name, old);
    }
    for (const [file, diags] of broken) {
      for (const d of diags.filter((x) => x.severity === "error")) log("error", `workflow ${formatDiagnostic(d)}`, { library: state.name, file });
    }
    state.workflows = next;
    state.broken = broken;
    state.loadedAt = clock.now();
    state.stats = libraryStats(lib, set.files.keys());
    return true;
  };
  /** Loads a library's workflows, reads the saved settings of new ones, then tells the listeners. */
  const loadWorkflowsOf = async (state: LibraryState): Promise<void> => {
    if (!loadLibraryWorkflows(state)) return;
    // A store that cannot answer leaves the new workflows disabled (retried at the next reload).
    await readSavedSettings(state).catch((e: unknown) =>
      log("error", `cannot read the saved settings of ${state.name}'s workflows: ${(e as Error).message}; new workflows stay disabled`),
    );
    const enabled = [...state.workflows.values()].filter(isEnabled).length;
    bus.publish({ type: "workflows.loaded", library: state.name, total: state.workflows.size, enabled, broken: state.broken.size, at: clock.now() });
    bus.publish({ type: "library.stats", library: state.name, ...state.stats!, at: clock.now() });
  };

  for (const state of libraries.values()) await loadWorkflowsOf(state);

  /** A layer update moved the pins (the sync step, a reload): the next reader loads the library with these checkouts. */
  const setGitLayers = (state: LibraryState, folders: readonly LayerFolder[]): void => {
    state.gitLayers = [...folders];
    state.live?.setGitLayers(folders);
  };

  const resolveWf = (library: string, workflow: string) => {
    const state = libraries.get(library);
    const wf = state?.workflows.get(workflow);
    return state && wf
      ? {
          wf,
          lib: {
            name: state.name,
            root: state.root,
            ...(state.live ? { live: state.live } : {}),
            onGitLayers: (f: readonly LayerFolder[]) => setGitLayers(state, f),
          },
        }
      : undefined;
  };

  // ---- per-org run quota: counted by the store over every run of the org's libraries (every trigger, every replica) ----
  const tenancy: TenancyStore = pgStore ? (await pgStore.tenancyStores(clock)).tenancy : openFileTenancyStore(config.stateDir, clock);
  const orgOf = (library: string): string => config.libraryOrg?.[libraries.get(library)?.root ?? ""] ?? DEFAULT_ORG;
  const quotaOf = async (library: string): Promise<RunQuota | undefined> => {
    const org = orgOf(library);
    const rec = await tenancy.getOrg(org);
    // An org daemon.yaml names but nobody created yet has the default quotas.
    const limit = rec?.quotas.runsPerHour ?? DEFAULT_QUOTAS.runsPerHour;
    return { org, libraries: [...libraries.keys()].filter((l) => orgOf(l) === org), limit, windowMs: RUN_QUOTA_WINDOW_MS, now: clock.now() };
  };

  const dispatcher: Dispatcher = createDispatcher({
    store,
    bus,
    clock,
    settings,
    stateDir: config.stateDir,
    owner: { instance, pid: process.pid },
    secrets: secretAccess(config.stateDir, process.env, (v) => secrets.add(v)),
    resolve: resolveWf,
    quotaOf,
    ...(opts.random ? { random: opts.random } : {}),
  });

  const submit = (req: RunRequest) => {
    if (stopping)
      return Promise.reject(new ConfigError("daemon-stopping", "the daemon is shutting down and accepts no new runs", { hint: "retry once it is back" }));
    return dispatcher.submit(req);
  };

  // ---- crash recovery ----
  await store.heartbeat(instance, process.pid, clock.now()).catch((e: unknown) => {
    if (!pgStore) throw e;
    log("error", `heartbeat failed: ${(e as Error).message}`);
  });
  const recover = async () => {
    const { interrupted, queued } = await store.recoverInterrupted({ instance, now: clock.now(), staleMs: OWNER_STALE_MS });
    for (const run of interrupted) {
      if (!opts.logRunOutcomes) log("warn", `run ${run.id} of ${run.library}/${run.workflow} was interrupted: ${run.reason ?? ""}`);
      bus.publish({
        type: "run.finished",
        runId: run.id,
        workflow: run.workflow,
        library: run.library,
        trigger: run.trigger.kind,
        result: "interrupted",
        durationMs: (run.finishedAt ?? clock.now()) - (run.startedAt ?? run.createdAt),
        at: clock.now(),
      });
      if (config.retryInterrupted && !deliveryOf(run) && resolveWf(run.library, run.workflow)) {
        await submit({
          library: run.library,
          workflow: run.workflow,
          trigger: run.trigger,
          inputs: run.inputs,
          retryOf: run.id,
          attempt: run.attempt + 1,
          ...(run.actor ? { actor: run.actor } : {}),
        }).catch((e: unknown) => log("error", `retrying interrupted run ${run.id} failed: ${(e as Error).message}`));
      }
    }
    await retryDeliveryRuns(new Set(interrupted.map((r) => r.id)));
    return queued;
  };
  // Runs of an acknowledged webhook delivery that a crash interrupted run again (a fixed retry id, so
  // once), also when the crash came between marking them interrupted and queuing the retry.
  const retryDeliveryRuns = async (justInterrupted: Set<string>) => {
    const { retry, exhausted } = planDeliveryRetries(await store.listRuns());
    for (const run of retry) {
      if (!resolveWf(run.library, run.workflow)) continue;
      log(
        "warn",
        `running run ${run.id} of ${run.library}/${run.workflow} again (attempt ${run.attempt + 1} of ${DELIVERY_RUN_ATTEMPTS}): webhook delivery ${deliveryOf(run)} was acknowledged`,
      );
      const req = {
        library: run.library,
        workflow: run.workflow,
        trigger: run.trigger,
        inputs: run.inputs,
        runId: deliveryRetryId(run),
        retryOf: run.id,
        attempt: run.attempt + 1,
      };
      await submit({ ...req, ...(run.actor ? { actor: run.actor } : {}) }).catch((e: unknown) =>
        log("error", `retrying interrupted run ${run.id} failed: ${(e as Error).message}`),
      );
    }
    for (const run of exhausted) {
      if (justInterrupted.has(run.id))
        log(
          "error",
          `webhook delivery ${deliveryOf(run)}: run ${run.id} of ${run.library}/${run.workflow} was interrupted ${run.attempt} times; it failed (a redelivery from GitHub runs it once more)`,
        );
    }
  };
  if (scheduling) {
    const queued = await recover().catch((e: unknown) => {
      if (!pgStore) throw e;
      log("error", `recovery failed: ${(e as Error).message}; retried by the sweep`);
      return [];
    });
    for (const run of queued) {
      await dispatcher.resume(run).catch((e: unknown) => log("error", `resuming queued run ${run.id} failed: ${(e as Error).message}`));
    }
    await store
      .prune({ now: clock.now(), keepRuns: config.keepRuns, maxAgeMs: config.maxAgeMs })
      .catch((e: unknown) => log("error", `retention failed: ${(e as Error).message}`));
  }

  // ---- triggers ----
  const triggers = new Map<string, Triggers>();
  const gitRegistry = createGitTriggerRegistry();
  const background = (what: string, p: Promise<unknown>) => {
    p.catch((e: unknown) => log("error", `${what}: ${(e as Error).message}`));
  };

  const fireRun = (library: string, wf: LoadedWorkflow, kind: TriggerKind, trigger: TriggerInfo, extra: Partial<RunRequest> = {}) => {
    if (stopping) return Promise.resolve({ runId: "", status: "skipped" as const, reason: "stopping" });
    const current = libraries.get(library)?.workflows.get(wf.name);
    if (!current || !isEnabled(current)) {
      bus.publish({ type: "trigger.event", kind, workflow: wf.name, outcome: "ignored", at: clock.now() });
      return Promise.resolve({ runId: "", status: "skipped" as const, reason: "workflow disabled" });
    }
    bus.publish({ type: "trigger.event", kind, workflow: wf.name, outcome: "accepted", at: clock.now() });
    return submit({ library, workflow: wf.name, trigger: { ...trigger, kind }, ...extra });
  };

  const initialRunsDone = new Set<string>();
  let whenStarted: (() => void)[] = [];
  const triggerHost: DaemonTriggerHost = {
    store,
    bus,
    sharedLedger: !!pgStore,
    gitRouter: gitRegistry,
    schedulerTicked: () => {
      lastSchedulerTick = clock.now();
    },
    chainOf: async (runId) => {
      const r = await store.getRun(runId);
      return Array.isArray(r?.trigger.chain) ? (r.trigger.chain as string[]) : [];
    },
    initialRunsDone,
    whenStarted: (fn) => {
      whenStarted.push(fn);
    },
  };
  // Every trigger type in the registry, aicfg's own first, then the plugins': one code path.
  const startTriggersFor = async (state: LibraryState, wf: LoadedWorkflow): Promise<Triggers> => {
    const t: Triggers = { hash: wf.hash, enabled: isEnabled(wf), handles: [] };
    if (!scheduling || !t.enabled) return t;
    for (const { item: type, owner } of triggerRegistry.entries()) {
      const builtin = owner === BUILTIN_OWNER;
      const kind = (builtin ? type.id : "plugin") as TriggerKind;
      for (const inst of triggerInstances(type, wf)) {
        const h = await startTrigger({
          type,
          library: state.name,
          root: state.root,
          workflow: wf.name,
          index: inst.index,
          with: inst.with,
          where: builtin ? `on.${type.id}` : `on.triggers[${inst.index}] (${type.id})`,
          stateDir: config.stateDir,
          clock,
          host: triggerHost,
          log: (level, m) => log(level, m, { library: state.name, workflow: wf.name }),
          fire: (data, run) =>
            fireRun(state.name, wf, kind, { ...data, kind, ...(builtin ? {} : { uses: type.id }) } as TriggerInfo, {
              ...(run?.runId ? { runId: run.runId } : {}),
              ...(run?.scheduledAt !== undefined ? { scheduledAt: run.scheduledAt } : {}),
              ...(run?.occurrence ? { occurrence: run.occurrence } : {}),
              ...(run?.actor ? { actor: run.actor } : {}),
            }),
        });
        if (h) t.handles.push(h);
      }
    }
    return t;
  };

  const stopTriggers = async (t: Triggers) => {
    for (const h of t.handles) await h.stop();
  };

  const syncTriggers = async (state: LibraryState) => {
    for (const [key, t] of triggers) {
      const [lib, name] = key.split("\u0000") as [string, string];
      if (lib !== state.name) continue;
      const wf = state.workflows.get(name);
      if (!wf || wf.hash !== t.hash || isEnabled(wf) !== t.enabled) {
        triggers.delete(key);
        await stopTriggers(t);
      }
    }
    for (const wf of state.workflows.values()) {
      const key = `${state.name}\u0000${wf.name}`;
      if (!triggers.has(key)) triggers.set(key, await startTriggersFor(state, wf));
    }
    const ready = whenStarted;
    whenStarted = [];
    for (const fn of ready) fn();
  };

  for (const state of libraries.values()) await syncTriggers(state);
  // Plugins' start hooks, in their order, once everything they registered can be used.
  const pluginStartFailures = scheduling && plugins ? await plugins.start() : [];
  for (const f of pluginStartFailures) log("error", `plugin ${f.name}: ${f.error}`, { plugin: f.name });

  // ---- hot reload of workflow files ----
  const reloadWatchers: FileWatcher[] = [];
  const reloadLibrary = async (state: LibraryState) => {
    // aicfg.lock may have moved (an 'aicfg library update' outside the daemon): the pins as they are now.
    setGitLayers(state, await gitLayersOf(state.root));
    await loadWorkflowsOf(state);
    await syncTriggers(state);
  };
  if (hotReload) {
    for (const state of libraries.values()) {
      // One watcher per library over the inputs of every layer (not exported files that live in the
      // library folder): workflow files reload the workflows, the others update the live library.
      let roots = state.live!.current().library.layers.map((l) => l.root);
      const layerOf = (p: string) => roots.filter((r) => p === r || p.startsWith(r + sep)).sort((a, b) => b.length - a.length)[0];
      const topOf = (p: string): string | undefined => {
        const root = layerOf(p);
        return root === undefined || p === root ? undefined : toPosix(relative(root, p)).split("/")[0];
      };
      let cancel: (() => void) | undefined;
      const w = createFileWatcher(roots, {
        writeFinishMs: 20,
        ignore: (p) => {
          const top = topOf(p);
          return top !== undefined && !INPUT_TOPS.has(top);
        },
        onError: (e) => {
          state.live!.invalidateAll(); // events may have been lost: the next reader loads it all
          log("error", `library watcher error: ${(e as Error).message}`);
        },
        onDir: (e) => {
          if (topOf(e.path) !== "workflows") state.live!.invalidateAll();
        },
        onEvent: (e) => {
          if (topOf(e.path) !== "workflows") {
            state.live!.invalidate(e.path);
            return;
          }
          if (!/\.ya?ml$/.test(e.path)) return;
          cancel?.();
          cancel = clock.setTimer(opts.reloadDebounceMs ?? 100, () => {
            background(
              "hot reload",
              reloadLibrary(state).then(() => log("info", `reloaded workflows of ${state.name}`)),
            );
          });
        },
      });
      layerRootsSeen.set(state.live!, (next) => {
        const added = next.filter((r) => !roots.includes(r));
        roots = [...new Set([...roots, ...next])];
        if (added.length) w.add(added);
      });
      reloadWatchers.push(w);
      await w.ready;
    }
  }

  // ---- heartbeat (every mode: a long one-shot run must not look dead to a daemon's sweep) and periodic sweep ----
  let cancelBeat = () => {};
  const beat = () => {
    lastSchedulerTick = clock.now();
    background("heartbeat", store.heartbeat(instance, process.pid, clock.now()));
    if (!stopping) cancelBeat = clock.setTimer(opts.heartbeatMs ?? 10_000, beat);
  };
  cancelBeat = clock.setTimer(opts.heartbeatMs ?? 10_000, beat);
  timers.push(() => cancelBeat());
  if (scheduling) {
    const sweep = () => {
      background(
        "sweep",
        (async () => {
          await recover();
          await store.prune({ now: clock.now(), keepRuns: config.keepRuns, maxAgeMs: config.maxAgeMs });
        })(),
      );
      if (!stopping) cancelSweep = clock.setTimer(config.sweepIntervalMs, sweep);
    };
    let cancelSweep = clock.setTimer(config.sweepIntervalMs, sweep);
    timers.push(() => cancelSweep());
  }

  // ---- cluster mode: database clock, lease renewal, the reaper ----
  const cluster: ClusterHandle | undefined = pgStore
    ? startCluster({
        store: pgStore,
        dispatcher,
        bus,
        clock,
        reap: () => scheduling && !stopping,
        log: (level, m, f) => log(level, m, f),
        // Workflows whose saved settings could not be read (the database was down) stay disabled until now.
        onRecovered: () =>
          background(
            "reading the saved settings again",
            (async () => {
              for (const state of libraries.values()) {
                await loadWorkflowsOf(state);
                await syncTriggers(state);
              }
            })(),
          ),
      })
    : undefined;

  const infoOf = (state: LibraryState, wf: LoadedWorkflow): WorkflowInfo => {
    const kinds = new Set<TriggerKind>();
    for (const { item: type, owner } of triggerRegistry.entries())
      if (triggerInstances(type, wf).length) kinds.add((owner === BUILTIN_OWNER ? type.id : "plugin") as TriggerKind);
    const t = triggers.get(`${state.name}\u0000${wf.name}`);
    const nextRuns = (t?.handles ?? [])
      .flatMap((h) => h.nextRuns?.(5) ?? [])
      .sort((a, b) => a - b)
      .slice(0, 5);
    const stale = state.broken.get(wf.file);
    return {
      library: state.name,
      name: wf.name,
      file: wf.file,
      ...(wf.spec.description ? { description: wf.spec.description } : {}),
      enabled: isEnabled(wf),
      triggers: [...kinds],
      concurrency: wf.concurrency,
      nextRuns,
      ...(stale ? { stale } : {}),
    };
  };

  const handle: DaemonHandle = {
    config,
    bus,
    store,
    clock,
    instance,
    libraries,
    libraryOf: (name) => {
      const state = libraries.get(name);
      if (!state) return undefined;
      return state.live ? state.live.current().library : loadLibrary(state.root, loadOpts(state.gitLayers));
    },
    listWorkflows: () =>
      [...libraries.values()]
        .flatMap((s) => [...s.workflows.values()].map((wf) => infoOf(s, wf)))
        .sort((a, b) => (a.library + a.name).localeCompare(b.library + b.name)),
    getWorkflow: (library, name) => {
      const state = libraries.get(library);
      const wf = state?.workflows.get(name);
      return state && wf ? { ...infoOf(state, wf), workflow: wf } : undefined;
    },
    triggerRun: async (library, workflow, o = {}) => {
      const found = resolveWf(library, workflow);
      if (!found)
        throw new ConfigError("workflow-not-found", `no workflow '${workflow}' in library '${library}'`, {
          hint: `workflows: ${[...(libraries.get(library)?.workflows.keys() ?? [])].join(", ") || "(none)"}`,
        });
      if (!isEnabled(found.wf)) throw new ConfigError("workflow-disabled", `workflow '${workflow}' is disabled`, { hint: "enable it first" });
      const req = manualRequest(library, found.wf, { ...o, ...(o.kind ? { kind: o.kind } : {}) });
      const r = await submit(req);
      if (r.status === "duplicate") throw new ConfigError("duplicate-run", `run ${r.runId} already exists`);
      return r.runId;
    },
    cancelRun: (runId) => dispatcher.cancel(runId),
    rerun: async (runId, actor) => {
      const old = await store.getRun(runId);
      if (!old) throw new ConfigError("run-not-found", `no run ${runId}`, { hint: "list runs with 'aicfg runs'" });
      const r = await submit({
        library: old.library,
        workflow: old.workflow,
        trigger: old.trigger,
        inputs: old.inputs,
        retryOf: old.id,
        attempt: old.attempt + 1,
        ...((actor ?? old.actor) ? { actor: (actor ?? old.actor)! } : {}),
      });
      return r.runId;
    },
    setWorkflowEnabled: async (library, workflow, enabled) => {
      const state = libraries.get(library);
      if (!state?.workflows.has(workflow)) throw new ConfigError("workflow-not-found", `no workflow '${workflow}' in library '${library}'`);
      await store.setWorkflowEnabled(library, workflow, enabled);
      enabledOverrides.set(`${library}/${workflow}`, enabled);
      settingsRead.add(`${library}/${workflow}`);
      await syncTriggers(state);
    },
    reload: async () => {
      const report: ReloadReport = { libraries: [] };
      for (const state of libraries.values()) {
        await reloadLibrary(state);
        report.libraries.push({
          name: state.name,
          total: state.workflows.size,
          enabled: [...state.workflows.values()].filter(isEnabled).length,
          broken: [...state.broken.keys()],
        });
      }
      return report;
    },
    status: () => {
      const now = clock.now();
      const handles = [...triggers.values()].flatMap((t) => t.handles);
      const cronTicks = handles.flatMap((h) => (h.lastTick ? [h.lastTick()] : []));
      const lastTick = Math.max(lastSchedulerTick, ...cronTicks);
      const watchers = [...handles.flatMap((h) => (h.alive ? [{ alive: h.alive }] : [])), ...reloadWatchers];
      const dead = watchers.filter((w) => !w.alive()).length;
      const broken = [...libraries.values()].reduce((n, s) => n + s.broken.size, 0);
      const schedulerOk = !scheduling || now - lastTick < 3 * Math.max(opts.heartbeatMs ?? 10_000, 30_000);
      const checks: DaemonStatus["checks"] = {
        store: { ok: pgStore ? pgStore.health().ok : true, kind: store.kind, ...(store.problems?.().length ? { error: store.problems().join("; ") } : {}) },
        config: { ok: true, libraries: libraries.size, workflows: [...libraries.values()].reduce((n, s) => n + s.workflows.size, 0), broken },
        scheduler: { ok: schedulerOk && !stopping, lastTick, enabled: scheduling },
        watchers: { ok: dead === 0 || stopping, count: watchers.length, dead },
        plugins: {
          loaded: (plugins?.loaded ?? []).map((p) => `${p.name}@${p.version}`),
          failed: [...(plugins?.failed ?? []), ...pluginStartFailures].map((f) => ({
            name: f.name,
            code: f.code,
            error: f.error,
            ...(f.hint ? { hint: f.hint } : {}),
            ...(f.file ? { file: f.file } : {}),
          })),
          refusedWrites: plugins?.refusals().length ?? 0,
        },
      };
      return {
        ready: !stopping && checks.store.ok && checks.config.ok && checks.scheduler.ok && checks.watchers.ok,
        version: VERSION,
        instance,
        pid: process.pid,
        startedAt,
        checks,
        runs: { inFlight: dispatcher.inFlight().length, queued: dispatcher.pendingCount() },
      };
    },
    notifyGitPush: async (ev) => {
      const r = await notifyGitPush(gitRegistry, ev);
      if (r.duplicate) bus.publish({ type: "trigger.event", kind: "git", outcome: "duplicate", at: clock.now() });
      return r;
    },
    waitForRun: (runId) => dispatcher.waitFor(runId),
    idle: () => dispatcher.idle(),
    stop: async (o = {}) => {
      if (stopping) return { finished: [], interrupted: [] };
      stopping = true;
      for (const cancel of timers) cancel();
      for (const t of triggers.values()) await stopTriggers(t);
      triggers.clear();
      for (const w of reloadWatchers) await w.close();
      // Cluster mode: runs past the deadline are handed to another replica (lease released, fence raised) before they stop here.
      const release = async () => {
        const ids = await pgStore!.releaseLeases().catch((e: unknown) => {
          log("error", `releasing leases failed: ${(e as Error).message}`);
          return [];
        });
        if (ids.length) log("info", `released ${ids.length} run(s) to the other replicas`, { runIds: ids });
      };
      const result = await dispatcher.drain(o.deadlineMs ?? config.drainTimeoutMs, pgStore ? release : undefined);
      await cluster?.stop();
      if (pgStore) await release();
      if (ownPgStore) await ownPgStore.close().catch(() => {});
      await plugins?.stop();
      releaseLock();
      stopOutcomes();
      log("info", `daemon stopped: ${result.finished.length} run(s) finished, ${result.interrupted.length} interrupted`);
      return result;
    },
  };
  return handle;
}

async function openConfiguredPgStore(config: DaemonConfig, instance: string, secrets: SecretRegistry, log: LogFn, waitForDatabase: boolean): Promise<PgStore> {
  const c = config.store as Extract<NonNullable<DaemonConfig["store"]>, { kind: "postgres" }>;
  const url = readPgUrl(c.urlFrom);
  // Never in a log line, an error or the API: the URL and the password in it.
  secrets.add(url);
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) secrets.add(password);
  } catch {
    /* not a URL form with a password (a keyword/value string): the whole string is registered */
  }
  return openPgStore({ url, instance, leaseMs: c.leaseMs, secrets, waitForDatabase, onError: (m) => log("error", m), onFenced: (m) => log("warn", m) });
}

/** Where an error message points, e.g. `agents/code-reviewer.md:4:1` in a validation error. */
const LOCATION = /(?:^|[\s(])((?:[\w.@~-]+\/)*[\w.@~-]+\.[A-Za-z0-9]+:\d+(?::\d+)?)/;

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/**
 * One line per finished run, so a person watching the terminal sees every outcome: success at
 * info; skipped and cancelled at info with the reason; failures, timeouts and interruptions at
 * error (warn for an interruption) with the failing step, its reason and the file:line it names.
 */
function logRunOutcomes(bus: EventBus, store: RunStore, log: LogFn, rootOf: (library: string) => string | undefined = () => undefined): () => void {
  return bus.subscribe((e) => {
    if (e.type !== "run.finished") return;
    void (async () => {
      const run = await store.getRun(e.runId).catch(() => undefined);
      const fields: Record<string, unknown> = {
        library: e.library,
        workflow: e.workflow,
        runId: e.runId,
        outcome: e.result,
        durationMs: e.durationMs,
        trigger: e.trigger,
      };
      const took = seconds(e.durationMs);
      if (e.result === "success") return log("info", `run ${e.workflow} succeeded in ${took}`, fields);
      if (e.result === "skipped" || e.result === "cancelled")
        return log("info", `run ${e.workflow} ${e.result}${run?.reason ? `: ${run.reason}` : ""}`, fields);
      const step = run?.steps.find((s) => s.status === "failure" || s.status === "timed_out");
      const reason = step?.error ?? run?.error ?? run?.reason ?? "no reason recorded";
      const where = LOCATION.exec(reason)?.[1];
      const root = rootOf(e.library);
      const file = where && root && !isAbsolute(where) ? join(root, where) : where;
      const what = e.result === "timed_out" ? "timed out" : e.result === "interrupted" ? "was interrupted" : "failed";
      log(
        e.result === "interrupted" ? "warn" : "error",
        `run ${e.workflow} ${what} after ${took}${step ? ` at step ${step.id} (${step.uses})` : ""}: ${reason}`,
        {
          ...fields,
          ...(step ? { step: step.id } : {}),
          ...(file ? { file } : {}),
        },
      );
    })();
  });
}

/** Runs with a status that will not change any more. */
export function isFinished(r: RunRecord): boolean {
  return TERMINAL.includes(r.status);
}
