// The plugin test kit (`ai-configurator/testing`): what aicfg's own tests use, for a plugin's tests.
// - describeAdapterConformance(adapter): the conformance suite every built-in adapter passes;
// - runAction(action, { with, … }): runs one action as a workflow step would (inputs checked by its
//   schema, a real temporary library and state folder, an injected clock, ctx.fs scoped as in the daemon);
// - startTestDaemon({ files, plugins }): a real daemon with a real HTTP API on 127.0.0.1 (port 0)
//   over a library written from `files`, loading `plugins` exactly as aicfg.yaml lists them.
// The kit sits above every layer (ARCHITECTURE.md): it may import anything, nothing imports it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { apiDepsFromDaemon, apiLibraries } from "../daemon/api-bridge.ts";
import { parseApiConfig } from "../daemon/api/config.ts";
import { startApiServer } from "../daemon/api/server.ts";
import { ensureLocalAdminToken, openTokenStore } from "../daemon/auth/token-store.ts";
import type { DaemonConfig } from "../daemon/config.ts";
import { startDaemon, type DaemonHandle, type LogFn } from "../daemon/daemon.ts";
import { LOCK_FILE, serializeLock, emptyLock } from "../library/lock.ts";
import type { PluginEntry } from "../library/schema.ts";
import { locatePlugin, pluginFileHashes } from "../daemon/plugins/resolve.ts";
import type { Action, ActionContext, ActionResult, ActionSettings } from "../workflows/actions/types.ts";
import { systemClock, type Clock, type ManualClock } from "../workflows/clock.ts";
import { scopedFs } from "../workflows/plugins/fs.ts";
import { tempDir, writeTree } from "./fixtures.ts";

export { describeAdapterConformance, type ConformanceOptions } from "./conformance.ts";
export { minimalAgent, realisticAgent, renderContext, tempDir, writeTree } from "./fixtures.ts";
export { createManualClock, type ManualClock } from "../workflows/clock.ts";

export type RunActionOptions = {
  with: unknown;
  /** Files of the library the action sees (relative path → content); aicfg.yaml defaults to `name: test`. */
  files?: Record<string, string>;
  /** An existing library folder instead of `files`. */
  libraryRoot?: string;
  clock?: Clock;
  settings?: Partial<ActionSettings>;
  signal?: AbortSignal;
};

export type RunActionResult = ActionResult & { logs: { level: string; message: string }[]; libraryRoot: string; stateDir: string; cleanup: () => void };

/** Runs one action like a workflow step: `with` is checked by the action's schema first (a ZodError when it does not match). */
export async function runAction<A extends Action>(action: A, o: RunActionOptions): Promise<RunActionResult> {
  const dir = tempDir("aicfg-run-action-");
  const libraryRoot = o.libraryRoot ?? join(dir.path, "lib");
  if (!o.libraryRoot) writeTree(libraryRoot, { "aicfg.yaml": "name: test\n", ...o.files });
  const stateDir = join(dir.path, "state");
  mkdirSync(stateDir, { recursive: true });
  const clock = o.clock ?? systemClock;
  const input = action.with.parse(o.with);
  const logs: { level: string; message: string }[] = [];
  const ctx: ActionContext = {
    libraryRoot,
    libraryName: "test",
    stateDir,
    signal: o.signal ?? new AbortController().signal,
    trigger: { kind: "manual" },
    run: { id: "test-run", workflow: "test", startedAt: clock.now() },
    attempt: 1,
    maxAttempts: 1,
    now: clock.now,
    clock,
    log: (level, message) => logs.push({ level, message }),
    steps: () => [],
    status: () => "success",
    settings: { shell: { enabled: false }, git: { allowFileRemotes: true }, env: {}, ...o.settings },
    fs: scopedFs([libraryRoot, stateDir], libraryRoot, `action ${action.name}`),
  };
  const r = await action.run(input, ctx);
  return { ...r, logs, libraryRoot, stateDir, cleanup: dir.cleanup };
}

export type TestDaemonOptions = {
  /** The library (relative path → content). `aicfg.yaml` gets `plugins:` from `plugins` unless it names them itself. */
  files: Record<string, string>;
  /** plugins: entries, resolved against the library folder; in-process ones are pinned in its aicfg.lock first. */
  plugins?: PluginEntry[];
  /** Pin in-process plugins before starting (default true; false to test what an unpinned plugin does). */
  pin?: boolean;
  config?: Partial<DaemonConfig>;
  clock?: ManualClock;
  log?: LogFn;
};

export type TestDaemon = {
  daemon: DaemonHandle;
  /** `http://127.0.0.1:PORT` of the real API. */
  url: string;
  /** An admin token for the API. */
  token: string;
  libraryRoot: string;
  stateDir: string;
  clock: ManualClock | undefined;
  /** GET/POST on the API with the admin token. */
  request: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
};

/** Pins the in-process plugins of a list in `<dir>/aicfg.lock`, as `aicfg plugin add` does. */
export function pinPlugins(dir: string, entries: readonly PluginEntry[], configFile = join(dir, "aicfg.yaml")): void {
  const lock = emptyLock();
  lock.plugins = {};
  for (const e of entries) {
    const loc = locatePlugin(e, configFile);
    if (loc.isolation === "process") continue;
    lock.plugins[loc.spec] = { name: loc.packageJson?.name ?? loc.spec, version: loc.packageJson?.version ?? "0.0.0", files: pluginFileHashes(loc) };
  }
  writeFileSync(join(dir, LOCK_FILE), serializeLock(lock));
}

/** A daemon configuration for tests: one library, its own state folder, port 0 on loopback, no shell steps. */
export function testDaemonConfig(libraryRoot: string, stateDir: string, over: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    libraries: [libraryRoot],
    stateDir,
    listen: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
    shellEnabled: false,
    allowFileRemotes: true,
    envAllowlist: [],
    keepRuns: 200,
    maxAgeMs: 30 * 86_400_000,
    sweepIntervalMs: 600_000,
    drainTimeoutMs: 5000,
    retryInterrupted: false,
    ...over,
  };
}

export async function startTestDaemon(o: TestDaemonOptions): Promise<TestDaemon> {
  const dir = tempDir("aicfg-test-daemon-");
  const libraryRoot = join(dir.path, "lib");
  const stateDir = join(dir.path, "state");
  const files = { ...o.files };
  if (!files["aicfg.yaml"]) files["aicfg.yaml"] = stringify({ name: "test", ...(o.plugins?.length ? { plugins: o.plugins } : {}) });
  writeTree(libraryRoot, files);
  // Plugin paths in `plugins` are written relative to the caller: make them absolute for the library.
  if (o.plugins?.length && o.pin !== false) pinPlugins(libraryRoot, o.plugins);
  const config = testDaemonConfig(libraryRoot, stateDir, o.config);
  const daemon = await startDaemon({ config, ...(o.clock ? { clock: o.clock } : {}), hotReload: false, ...(o.log ? { log: o.log } : {}) });
  let server: Awaited<ReturnType<typeof startApiServer>>;
  try {
    const deps = apiDepsFromDaemon(daemon, await apiLibraries(daemon));
    const tokens = openTokenStore(stateDir, o.clock);
    server = await startApiServer(deps, parseApiConfig({ host: "127.0.0.1", port: 0 }), { tokens, ...(o.clock ? { clock: o.clock } : {}) });
  } catch (e) {
    await daemon.stop({ deadlineMs: 0 });
    dir.cleanup();
    throw e;
  }
  const token = await ensureLocalAdminToken(stateDir, server.tokens);
  const url = server.served.url;
  return {
    daemon,
    url,
    token,
    libraryRoot,
    stateDir,
    clock: o.clock,
    request: (path, init = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }),
    stop: async () => {
      await server.stop();
      await daemon.stop({ deadlineMs: 0 });
      dir.cleanup();
    },
  };
}
