// `aicfg daemon`: serves libraries: runs their workflows on cron, file and git triggers, recovers
// after crashes, hot-reloads workflow files, reloads on SIGHUP and drains on SIGTERM.
import { resolveDaemonConfig, type DaemonConfig } from "../../config.ts";
import type { DaemonHandle, LogFn } from "../../daemon.ts";
import { installSignalHandlers } from "../../runtime/signals.ts";
import { EXIT, type CliIO, type Command, type OptionSpec, type ParsedArgs } from "../command.ts";
import { listOption } from "../options.ts";

/** Something started alongside the daemon (the HTTP API, sd_notify): returns how to stop it. */
export type DaemonExtension = (handle: DaemonHandle, io: CliIO) => Promise<(() => Promise<void>) | void>;

/**
 * Extensions the `daemon` command starts after the core is ready, in order: the HTTP API, then
 * sd_notify (so READY=1 is sent only once the listener is up). Loaded on demand, so that other
 * commands do not pay for the API's and the engine's modules at start-up.
 */
export const daemonExtensions: (() => Promise<DaemonExtension>)[] = [
  async () => (await import("../../api-bridge.ts")).apiExtension,
  async () => (await import("../../runtime/sd-notify-daemon.ts")).startSdNotify,
];

export const DAEMON_OPTIONS = {
  config: { type: "string", short: "c", valueName: "file", description: "daemon.yaml with libraries, state_dir, listen, actions, retention" },
  library: { type: "string", short: "l", multiple: true, valueName: "dir", description: "a library to serve (overrides the config's list)" },
  "state-dir": { type: "string", valueName: "dir", description: "state folder (default: $AICFG_STATE_DIR, else $XDG_STATE_HOME/aicfg)" },
} satisfies Record<string, OptionSpec>;

export function configFromArgs(args: ParsedArgs, io: CliIO): DaemonConfig {
  const libraries = listOption(args.values.library) ?? (io.env.AICFG_LIBRARY && !args.values.config ? [io.env.AICFG_LIBRARY] : undefined);
  return resolveDaemonConfig(
    {
      ...(args.values.config ? { config: String(args.values.config) } : {}),
      ...(libraries ? { libraries } : {}),
      ...(args.values["state-dir"] ? { stateDir: String(args.values["state-dir"]) } : {}),
      ...(args.values.listen ? { listen: String(args.values.listen) } : {}),
    },
    io.cwd,
    io.env,
  );
}

/** JSON-lines logger on stderr (journald-friendly); debug lines only with AICFG_LOG=debug. */
export function stderrLogger(io: CliIO): LogFn {
  const debug = io.env.AICFG_LOG === "debug";
  return (level, message, fields) => {
    if (level === "debug" && !debug) return;
    io.err(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...(fields ?? {}) }));
  };
}

export const daemonCommand: Command = {
  name: "daemon",
  summary: "run the daemon: workflows on cron, file and git triggers, kept exports, crash-safe run history",
  usage: "aicfg daemon [--config daemon.yaml] [--library DIR]... [--state-dir DIR] [--listen HOST:PORT]",
  description:
    "Flags override the config file; a library can be served with no config file at all. SIGHUP reloads workflows, " +
    "SIGTERM drains in-flight runs within drain_timeout (a second SIGTERM exits at once). Logs are JSON lines on stderr.",
  options: {
    ...DAEMON_OPTIONS,
    listen: { type: "string", valueName: "host:port", description: "where the HTTP API listens (default 127.0.0.1:7411)" },
    json: { type: "boolean", description: "print the ready status as one JSON line on stdout" },
  },
  positionals: false,
  examples: [
    "aicfg daemon --library examples/library --state-dir .aicfg-state",
    "aicfg daemon --config /etc/aicfg/daemon.yaml",
    "aicfg daemon --library ~/team-library --library ~/personal --listen 127.0.0.1:7500",
  ],
  run: async (args, io) => {
    const config = configFromArgs(args, io);
    const log = stderrLogger(io);
    const { startDaemon } = await import("../../daemon.ts");
    const handle = await startDaemon({ config, log });
    const stops: (() => Promise<void>)[] = [];
    try {
      for (const load of daemonExtensions) {
        const ext = await load();
        const stop = await ext(handle, io);
        if (stop) stops.push(stop);
      }
    } catch (e) {
      await handle.stop({ deadlineMs: 1000 });
      throw e;
    }
    // Signal handlers go in before "ready" is printed, so a supervisor's SIGTERM right after it is never lost.
    let finish: (code: number) => void = () => {};
    const done = new Promise<number>((resolve) => (finish = resolve));
    const uninstall = installSignalHandlers({
      onReload: () => {
        handle.reload().then(
          (r) => log("info", "reloaded on SIGHUP", { libraries: r.libraries }),
          (e: unknown) => log("error", `reload failed: ${(e as Error).message}`),
        );
      },
      onTerminate: (signal) => {
        log("info", `${signal}: draining (deadline ${config.drainTimeoutMs} ms)`);
        void (async () => {
          for (const stop of stops.reverse()) await stop().catch((e: unknown) => log("error", `stopping an extension failed: ${(e as Error).message}`));
          // Runs past the deadline are recorded as interrupted; the shutdown itself succeeded (exit 0).
          await handle.stop({ deadlineMs: config.drainTimeoutMs });
          uninstall();
          finish(EXIT.ok);
        })().catch((e: unknown) => {
          log("error", `shutdown failed: ${(e as Error).message}`);
          finish(EXIT.internal);
        });
      },
    });
    const status = handle.status();
    if (args.values.json) io.out(JSON.stringify({ ready: status.ready, pid: process.pid, instance: handle.instance, libraries: [...handle.libraries.keys()], stateDir: config.stateDir, listen: config.listen.text }));
    else io.err(`aicfg daemon ready (pid ${process.pid}): ${[...handle.libraries.keys()].join(", ")}; state in ${config.stateDir}`);
    const code = await done;
    return code;
  },
};
