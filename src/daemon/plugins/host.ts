// Loads the plugins listed in aicfg.yaml and daemon.yaml, in that order, and sets them up into the
// registries. Before a plugin's code runs: its files must match the pin `aicfg plugin add` wrote into
// aicfg.lock (in process), its package.json `engines.aicfg` must admit this aicfg; after import its
// `apiVersion` must be one this aicfg loads. A plugin that fails any check, or whose setup throws,
// is left out and reported (file, field, what to do); the rest of aicfg runs without it. Isolated
// plugins (`isolation: process`) run in a child process (child.ts) whose only way to write is
// through the daemon, which checks each path against the grant; under Deno and Node the child also
// gets the runtime's permission flags (Bun has none: there the grant check is the only one).
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import semver from "semver";
import { z } from "zod";
import { ConfigError } from "../../library/diagnostics.ts";
import { integrityMismatches, LOCK_FILE, parseLock, type LockFile } from "../../library/lock.ts";
import type { PluginEntry } from "../../library/schema.ts";
import { ActionError, type Action } from "../../workflows/actions/types.ts";
import type { PluginDefinition } from "../../workflows/plugins/api.ts";
import { checkPluginDefinition, locateField } from "../../workflows/plugins/check.ts";
import { scopedFs } from "../../workflows/plugins/fs.ts";
import { setupPlugins, type PluginFailure, type SetupResult } from "../../workflows/plugins/setup.ts";
import type { TriggerStartContext, TriggerType } from "../../workflows/triggers.ts";
import { systemClock, type Clock } from "../../workflows/clock.ts";
import { runtimeName, VERSION } from "../version.ts";
import { ensureBuiltinTriggers } from "../triggers/builtin.ts";
import { locatePlugin, pluginFileHashes, type PluginLocation } from "./resolve.ts";
import { createPeer, RpcError, type RpcPeer } from "./rpc.ts";

export type PluginSource = { configFile: string; entries: readonly PluginEntry[] };

type Refusal = { plugin: string; path: string; at: number };

export type PluginHost = {
  loaded: SetupResult["loaded"];
  failed: PluginFailure[];
  /** Writes an isolated plugin asked for outside its grant (refused). */
  refusals: () => readonly Refusal[];
  start: () => Promise<PluginFailure[]>;
  /** Stop hooks, then the child processes, then the registrations. */
  stop: () => Promise<void>;
};

export type LoadOptions = {
  log?: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
};

const AICFG_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
// Running from src/ (a checkout) or from the build (an installed package: dist/, .js files).
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const CHILD = fileURLToPath(new URL(FROM_SOURCE ? "./child.ts" : "./child.js", import.meta.url));
/** A checkout's child resolves `ai-configurator/*` to src/ like its parent (package.json exports). */
const SOURCE_CONDITIONS = FROM_SOURCE ? ["--conditions=aicfg-source"] : [];

function readLock(configFile: string): LockFile | undefined {
  const file = join(dirname(configFile), LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const { lock, diagnostics } = parseLock(readFileSync(file, "utf8"), file);
  if (!lock)
    throw new ConfigError(diagnostics[0]?.code ?? "lock-invalid", diagnostics[0]?.message ?? `${file} is not valid`, { file, hint: diagnostics[0]?.hint });
  return lock;
}

/** The pin must cover every file of the plugin, byte for byte. */
function checkIntegrity(loc: PluginLocation, configFile: string, index: number): void {
  const field = `plugins[${index}]`;
  const lock = readLock(configFile);
  const pin = lock?.plugins?.[loc.spec];
  if (!pin) {
    throw new ConfigError("plugin-not-pinned", `${configFile}: ${field} (${loc.spec}): no pin in ${LOCK_FILE}, so its files cannot be checked`, {
      file: configFile,
      hint: `review the plugin, then run 'aicfg plugin add ${loc.spec}' to pin its files (or give it isolation: process)`,
    });
  }
  const changed = integrityMismatches(pin.files, pluginFileHashes(loc));
  if (changed.length) {
    const first = join(loc.root, changed[0]!);
    throw new ConfigError(
      "plugin-integrity",
      `${first}: changed since 'aicfg plugin add' pinned it (${field} of ${configFile}; ${changed.length} file(s) differ: ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", …" : ""})`,
      { file: first, hint: `review the change; if you trust it, run 'aicfg plugin add ${loc.spec}' to pin the new files. Until then aicfg does not load it` },
    );
  }
}

function checkEngines(range: string | undefined, file: string, field: string, text?: string): void {
  if (!range) {
    throw new ConfigError("plugin-engines-missing", `${file}: ${field}: the plugin does not say which aicfg versions it works with`, {
      file,
      hint: `add "engines": { "aicfg": "^${VERSION}" } to its package.json (or engines: { aicfg } to definePlugin for a lone file)`,
    });
  }
  if (!semver.validRange(range))
    throw new ConfigError("plugin-engines", `${file}: ${field}: ${JSON.stringify(range)} is not a semver range`, { file, hint: 'e.g. ">=0.1 <1"' });
  if (!semver.satisfies(VERSION, range, { includePrerelease: true })) {
    throw new ConfigError("plugin-engines", `${file}: ${field}: the plugin needs aicfg ${range}, this is aicfg ${VERSION}`, {
      file,
      ...locateField(text, "aicfg"),
      hint: `install an aicfg in ${range}, or a release of the plugin made for aicfg ${VERSION}`,
    });
  }
}

function failureOf(e: unknown, spec: string, file: string | undefined): PluginFailure {
  const err = e as { code?: unknown; message?: unknown; hint?: unknown; file?: unknown };
  return {
    name: spec,
    spec,
    ...(typeof err.file === "string" ? { file: err.file } : file ? { file } : {}),
    code: e instanceof ConfigError ? String(err.code) : "plugin-load-failed",
    error: String(err.message ?? e),
    ...(typeof err.hint === "string" ? { hint: err.hint } : {}),
  };
}

async function loadInProcess(loc: PluginLocation, configFile: string, index: number): Promise<PluginDefinition> {
  checkIntegrity(loc, configFile, index);
  if (loc.packageJson) checkEngines(loc.packageJson.engines?.aicfg, loc.packageJson.file, "engines.aicfg", readFileSync(loc.packageJson.file, "utf8"));
  const text = readFileSync(loc.entryFile, "utf8");
  const mod = (await import(pathToFileURL(loc.entryFile).href)) as { default?: unknown };
  const def = checkPluginDefinition(mod.default, loc.entryFile, text);
  if (!loc.packageJson) checkEngines(def.engines?.aicfg, loc.entryFile, "engines.aicfg", text);
  return def;
}

type Described = {
  plugin: { apiVersion: unknown; name: string; version: string; order?: PluginDefinition["order"]; engines?: { aicfg?: string } };
  adapters: string[];
  actions: { name: string; description: string; schema: unknown; literalFields?: string[] }[];
  triggers: { id: string; description: string; schema: unknown }[];
};

/** The runtime's own permission flags for the child: read aicfg, the plugin and its library; write only the grant. */
/**
 * The real node_modules folders aicfg's dependencies are found in, as Node looks them up from
 * aicfg's folder (one beside it after `npm install`; others when they are links, as with pnpm).
 */
function dependencyFolders(): string[] {
  let deps: string[] = [];
  try {
    deps = Object.keys((JSON.parse(readFileSync(join(AICFG_ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {});
  } catch {
    return [];
  }
  const lookup = createRequire(join(AICFG_ROOT, "package.json")).resolve.paths("x") ?? [];
  const out = new Set<string>();
  for (const d of deps) {
    const dir = lookup.map((p) => join(p, d)).find((p) => existsSync(join(p, "package.json")));
    if (dir) out.add(resolve(realpathSync(dir), ...d.split("/").map(() => "..")));
  }
  return [...out];
}

function childArgs(loc: PluginLocation, configFile: string): string[] {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  // aicfg itself, the plugin's own files, and the library (or daemon.yaml folder) that lists it.
  // An installed aicfg finds its dependencies (and a plugin package its own) beside it, in the
  // node_modules folder it is in; a linked layout has them elsewhere: the real folder of each.
  const installedIn = basename(dirname(AICFG_ROOT)) === "node_modules" ? dirname(AICFG_ROOT) : undefined;
  const reads = [
    ...new Set([
      AICFG_ROOT,
      real(AICFG_ROOT),
      real(join(AICFG_ROOT, "node_modules")),
      ...(installedIn ? [installedIn, real(installedIn), ...dependencyFolders()] : []),
      loc.root,
      real(loc.root),
      dirname(configFile),
      real(dirname(configFile)),
    ]),
  ];
  const writes = loc.grant.write;
  const rt = runtimeName();
  if (rt === "deno") {
    return [
      "run",
      "--no-prompt",
      `--allow-read=${reads.join(",")}`,
      ...(writes.length ? [`--allow-write=${writes.join(",")}`] : []),
      ...(loc.grant.net ? ["--allow-net"] : []),
      // The yaml parser's debug switches: the only variables the child's own code reads.
      "--allow-env=LOG_TOKENS,LOG_STREAM",
      ...SOURCE_CONDITIONS,
      CHILD,
      loc.entryFile,
    ];
  }
  if (rt === "node") {
    return [
      "--permission",
      ...reads.map((r) => `--allow-fs-read=${r}`),
      ...writes.map((w) => `--allow-fs-write=${w}`),
      ...(loc.grant.net ? ["--allow-net"] : []),
      ...SOURCE_CONDITIONS,
      CHILD,
      loc.entryFile,
    ];
  }
  return [...SOURCE_CONDITIONS, CHILD, loc.entryFile];
}

type Isolated = { def: PluginDefinition; child: ChildProcess; peer: RpcPeer };

async function loadIsolated(loc: PluginLocation, configFile: string, index: number, refused: (r: Refusal) => void, o: LoadOptions): Promise<Isolated> {
  if (existsSync(join(dirname(configFile), LOCK_FILE)) && readLock(configFile)?.plugins?.[loc.spec]) checkIntegrity(loc, configFile, index);
  if (loc.packageJson) checkEngines(loc.packageJson.engines?.aicfg, loc.packageJson.file, "engines.aicfg", readFileSync(loc.packageJson.file, "utf8"));
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "DENO_DIR", "XDG_CACHE_HOME", "NO_COLOR"]) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  const child = spawn(process.execPath, childArgs(loc, configFile), { cwd: AICFG_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    stderr = (stderr + d).slice(-4000);
    for (const line of d.split("\n")) if (line.trim()) o.log?.("info", `plugin ${loc.spec}: ${line}`);
  });
  const name = () => def?.name ?? loc.spec;
  let def: PluginDefinition | undefined;
  const triggerCtx = new Map<string, TriggerStartContext<unknown>>();
  const actionClock = new Map<string, Clock>();
  // The child's timers run on the daemon's clock (child.ts `daemonClock`): set here, fired over the pipe.
  const timers = new Map<string, () => void>();
  const clockOf = (p: Record<string, unknown>): Clock =>
    (p.key !== undefined ? triggerCtx.get(String(p.key))?.clock : actionClock.get(String(p.callId))) ?? systemClock;
  child.once("exit", () => {
    for (const cancel of timers.values()) cancel();
    timers.clear();
  });
  // Relative paths are relative to the library of the run the call belongs to, as in process.
  const callBase = new Map<string, string>();
  const fsFor = (callId: unknown) =>
    scopedFs(loc.grant.write, callBase.get(String(callId)) ?? dirname(configFile), `plugin ${name()}`, (path) => {
      refused({ plugin: name(), path, at: (o.now ?? Date.now)() });
      o.log?.("warn", `plugin ${name()} tried to write ${path}, outside its grant: refused`, { plugin: name(), path, grant: loc.grant.write });
    });
  const peer = createPeer(child.stdout!, child.stdin!, {
    "fs.write": async (p) => fsFor(p.callId).writeFile(String(p.path), typeof p.base64 === "string" ? Buffer.from(p.base64, "base64") : String(p.text ?? "")),
    refused: (p) => {
      refused({ plugin: name(), path: String(p.message), at: (o.now ?? Date.now)() });
      o.log?.("warn", `plugin ${name()}: the runtime refused an access outside its grant: ${String(p.message)}`, { plugin: name() });
    },
    log: (p) => o.log?.(p.level === "error" ? "error" : p.level === "warn" ? "warn" : "info", `plugin ${name()}: ${String(p.message)}`),
    "clock.setTimer": (p) => {
      const id = String(p.id);
      const clock = clockOf(p);
      timers.set(
        id,
        clock.setTimer(Number(p.ms), () => {
          timers.delete(id);
          peer.notify("clock.fire", { id, now: clock.now() });
        }),
      );
    },
    "clock.cancel": (p) => {
      timers.get(String(p.id))?.();
      timers.delete(String(p.id));
    },
    "trigger.emit": async (p) => triggerCtx.get(String(p.key))?.emit(JSON.parse(JSON.stringify(p.data ?? {})) as Record<string, unknown>),
    "state.get": async (p) => (await triggerCtx.get(String(p.key))?.state.get()) ?? null,
    "state.set": async (p) => triggerCtx.get(String(p.key))?.state.set((p.value ?? {}) as Record<string, unknown>),
  });
  child.stdin!.on("error", () => {});
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) =>
      reject(new ConfigError("plugin-exited", `the plugin process exited (${signal ?? code}) before it described itself: ${stderr.trim().slice(-800)}`)),
    ),
  );
  let d: Described;
  try {
    d = await Promise.race([peer.call<Described>("describe", {}), exited]);
  } catch (e) {
    child.kill();
    if (e instanceof RpcError)
      throw new ConfigError(e.data.code ?? "plugin-load-failed", e.message, { file: loc.entryFile, ...(e.data.hint ? { hint: e.data.hint } : {}) });
    throw e;
  }
  exited.catch(() => {});
  if (!loc.packageJson) checkEngines(d.plugin.engines?.aicfg, loc.entryFile, "engines.aicfg", readFileSync(loc.entryFile, "utf8"));
  if (d.adapters.length) {
    child.kill();
    throw new ConfigError(
      "plugin-isolated-adapter",
      `${loc.entryFile}: an isolated plugin cannot provide adapters (${d.adapters.join(", ")}): rendering runs in the daemon`,
      {
        file: loc.entryFile,
        hint: "load the plugin in process (pin it with 'aicfg plugin add'), or move its adapter into a plugin of its own",
      },
    );
  }
  let calls = 0;
  const proxyAction = (a: Described["actions"][number]): Action => ({
    name: a.name,
    description: a.description,
    with: safeFromJsonSchema(a.schema),
    ...(a.literalFields ? { literalFields: a.literalFields } : {}),
    run: async (input, ctx) => {
      const callId = `${++calls}`;
      callBase.set(callId, ctx.libraryRoot);
      actionClock.set(callId, ctx.clock);
      const onAbort = () => peer.notify("action.cancel", { callId });
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await peer.call("action.run", {
          name: a.name,
          callId,
          now: ctx.clock.now(),
          input,
          ctx: {
            libraryRoot: ctx.libraryRoot,
            libraryName: ctx.libraryName,
            stateDir: ctx.stateDir,
            trigger: ctx.trigger,
            run: ctx.run,
            attempt: ctx.attempt,
            maxAttempts: ctx.maxAttempts,
            steps: ctx.steps(),
            status: ctx.status(),
            settings: { shell: ctx.settings.shell, git: ctx.settings.git, env: {} },
          },
        });
      } catch (e) {
        if (e instanceof RpcError) {
          throw new ActionError(e.data.code ?? "plugin-action-failed", `${a.name} (plugin ${name()}, out of process): ${e.message}`, {
            retryable: e.data.retryable ?? true,
            ...(e.data.hint ? { hint: e.data.hint } : {}),
          });
        }
        throw e;
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        callBase.delete(callId);
        actionClock.delete(callId);
      }
    },
  });
  let keys = 0;
  const proxyTrigger = (t: Described["triggers"][number]): TriggerType => ({
    id: t.id,
    description: t.description,
    with: safeFromJsonSchema(t.schema),
    start: async (ctx) => {
      const key = `${t.id}#${++keys}`;
      triggerCtx.set(key, ctx as TriggerStartContext<unknown>);
      await peer.call("trigger.start", { id: t.id, key, with: ctx.with, workflow: ctx.workflow, now: ctx.clock.now() });
      return {
        stop: async () => {
          triggerCtx.delete(key);
          await peer.call("trigger.stop", { key }).catch(() => {});
        },
      };
    },
  });
  def = {
    apiVersion: checkPluginDefinition({ ...d.plugin, setup: () => {} }, loc.entryFile).apiVersion,
    name: d.plugin.name,
    version: d.plugin.version,
    ...(d.plugin.order ? { order: d.plugin.order } : {}),
    setup: (ctx) => {
      for (const a of d.actions) ctx.actions.register(proxyAction(a));
      for (const t of d.triggers) ctx.triggers.register(proxyTrigger(t));
    },
  };
  return { def, child, peer };
}

/** The child's `with:` schema as zod, to check steps before a run; the child checks again with the real one. */
function safeFromJsonSchema(schema: unknown): z.ZodType {
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return z.record(z.string(), z.unknown());
  }
}

/** Loads and sets up every plugin of the sources, in order; never throws for one plugin's fault. */
export async function loadPlugins(sources: readonly PluginSource[], o: LoadOptions = {}): Promise<PluginHost> {
  ensureBuiltinTriggers(); // aicfg's own come first in the trigger registry
  const failed: PluginFailure[] = [];
  const refusals: Refusal[] = [];
  const inputs: { def: PluginDefinition; spec: string; file?: string }[] = [];
  const children: Isolated[] = [];
  const names = new Set<string>();
  for (const src of sources) {
    for (const [i, entry] of src.entries.entries()) {
      const spec = typeof entry === "string" ? entry : entry.use;
      let loc: PluginLocation | undefined;
      try {
        loc = locatePlugin(entry, src.configFile);
        let def: PluginDefinition;
        if (loc.isolation === "process") {
          const iso = await loadIsolated(loc, src.configFile, i, (r) => refusals.push(r), o);
          children.push(iso);
          def = iso.def;
        } else def = await loadInProcess(loc, src.configFile, i);
        if (names.has(def.name)) {
          throw new ConfigError("plugin-duplicate", `${src.configFile}: plugins[${i}]: a plugin named ${def.name} is already loaded`, {
            file: src.configFile,
            hint: "list each plugin once (aicfg.yaml and daemon.yaml together)",
          });
        }
        names.add(def.name);
        inputs.push({ def, spec, file: loc.entryFile });
      } catch (e) {
        const f = failureOf(e, spec, loc?.entryFile ?? src.configFile);
        failed.push(f);
        o.log?.("error", `plugin ${spec} not loaded: ${f.error}${f.hint ? ` (${f.hint})` : ""}`, { plugin: spec, code: f.code });
      }
    }
  }
  const r = setupPlugins(inputs, { version: VERSION, runtime: runtimeName() });
  for (const f of r.failed) o.log?.("error", `plugin ${f.name} not loaded: ${f.error}${f.hint ? ` (${f.hint})` : ""}`, { plugin: f.name, code: f.code });
  for (const f of r.failed) {
    const iso = children.find((c) => c.def.name === f.name);
    iso?.child.kill();
  }
  return {
    loaded: r.loaded,
    failed: [...failed, ...r.failed],
    refusals: () => refusals,
    start: r.start,
    stop: async () => {
      await r.stop();
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((res) => {
              if (c.child.exitCode !== null || c.child.signalCode !== null) return res();
              c.child.once("exit", () => res());
              c.child.stdin?.end();
              const t = setTimeout(() => {
                if (c.child.pid) process.kill(c.child.pid, "SIGKILL");
              }, 2000);
              t.unref?.();
            }),
        ),
      );
    },
  };
}
