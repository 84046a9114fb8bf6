// `aicfg daemon`: serves libraries: runs their workflows on cron, file and git triggers, recovers
// after crashes, hot-reloads workflow files, reloads on SIGHUP and drains on SIGTERM.
import { pino } from "pino";
import { resolveDaemonConfig, type DaemonConfig } from "../../config.ts";
import type { DaemonHandle, LogFn } from "../../daemon.ts";
import { installSignalHandlers } from "../../runtime/signals.ts";
import { chooseLogFormat, createLogger, prettySink, type LogFormat, type LogSink, type Logger } from "../../telemetry/logger.ts";
import { createSecretRegistry, type SecretRegistry } from "../../telemetry/redact.ts";
import { EXIT, type CliIO, type Command, type OptionSpec, type ParsedArgs } from "../command.ts";
import { listOption } from "../options.ts";

/**
 * The daemon's one log: a pino logger, its destination and its secret registry. The core, the
 * API (access log included) and sd_notify all write through it, so every line has one format.
 */
export type DaemonLogging = {
  logger: Logger;
  /** The core's logging function, on top of `logger`. */
  log: LogFn;
  sink: LogSink;
  secrets: SecretRegistry;
  level: string;
  format: LogFormat;
  /** Writes out buffered lines now (e.g. the ready line, which a supervisor or a benchmark waits for). */
  flush: () => Promise<void>;
  /** Writes out buffered lines and stops the periodic flush (before the process exits). */
  close: () => Promise<void>;
};

/**
 * Something started alongside the daemon (the HTTP API, sd_notify): returns how to stop it.
 * `started` resolves once EVERY extension has started and the daemon has announced itself ready;
 * it never resolves when start-up fails (readiness, READY=1 included, waits for it).
 */
export type DaemonExtension = (handle: DaemonHandle, io: CliIO, logging: DaemonLogging, started: Promise<void>) => Promise<(() => Promise<void>) | void>;

/**
 * Extensions the `daemon` command starts after the core is ready, in order: the HTTP API, then
 * sd_notify. The daemon is ready (log line, --json line, READY=1) only after all of them started,
 * whatever their order. Loaded on demand, so that other commands do not pay for the API's and the
 * engine's modules at start-up.
 */
export const daemonExtensions: (() => Promise<DaemonExtension>)[] = [
  async () => (await import("../../api-bridge.ts")).apiExtension,
  async () => {
    const { startSdNotify } = await import("../../runtime/sd-notify-daemon.ts");
    return (handle, io, logging, started) => startSdNotify(handle, io, { logger: logging.logger, ready: started });
  },
];

const PINO_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

/**
 * Logs on stderr: JSON lines (journald, collectors, pipes) or, on a terminal, lines for people;
 * `format` (--log-format) overrides. AICFG_LOG sets the level (default info; AICFG_LOG=debug).
 * JSON is written in batches of 4 KiB or every 200 ms (the access log would otherwise cost a
 * syscall per request); a terminal gets every line at once.
 */
export function createDaemonLogging(io: CliIO, opts: { format?: string | undefined; level?: string; viaIo?: boolean } = {}): DaemonLogging {
  const format = chooseLogFormat(opts.format, io.tty);
  const level = opts.level ?? (io.env.AICFG_LOG && PINO_LEVELS.has(io.env.AICFG_LOG) ? io.env.AICFG_LOG : "info");
  const secrets = createSecretRegistry();
  // `viaIo`: a few lines from a one-shot command go through io.err like the rest of its output.
  const viaIo: LogSink | undefined = opts.viaIo ? { write: (line) => io.err(line.replace(/\n$/, "")) } : io.log;
  const dest = viaIo ? undefined : pino.destination({ dest: 2, sync: false, minLength: format === "json" ? 4096 : 0 });
  const flusher = dest && format === "json" ? setInterval(() => dest.flush(), 200) : undefined;
  (flusher as { unref?: () => void } | undefined)?.unref?.();
  const out: LogSink = viaIo ?? dest!;
  const color = format === "pretty" && io.tty && !io.env.NO_COLOR && io.env.TERM !== "dumb";
  const sink = format === "pretty" ? prettySink(out, { color }) : out;
  const logger = createLogger({ secrets, sink, level });
  return {
    logger,
    log: (lvl, message, fields) => logger[lvl](fields ?? {}, message),
    sink,
    secrets,
    level,
    format,
    flush: async () => {
      if (dest) await new Promise<void>((resolve) => dest.flush(() => resolve()));
    },
    close: async () => {
      if (flusher) clearInterval(flusher);
      if (dest) await new Promise<void>((resolve) => dest.flush(() => resolve()));
    },
  };
}

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

export const daemonCommand: Command = {
  name: "daemon",
  summary: "run the daemon: workflows on cron, file and git triggers, kept exports, crash-safe run history",
  usage: "aicfg daemon [--config daemon.yaml] [--library DIR]... [--state-dir DIR] [--listen HOST:PORT] [--log-format json|pretty]",
  description:
    "Flags override the config file; a library can be served with no config file at all. SIGHUP reloads workflows, " +
    "SIGTERM drains in-flight runs within drain_timeout (a second SIGTERM exits at once). Logs go to stderr: " +
    "readable lines on a terminal, JSON lines otherwise (journald, pipes); one line per finished run, failures with the step, reason and file.",
  options: {
    ...DAEMON_OPTIONS,
    listen: { type: "string", valueName: "host:port", description: "where the HTTP API listens (default 127.0.0.1:7411)" },
    json: { type: "boolean", description: "print the ready status as one JSON line on stdout" },
    "log-format": { type: "string", valueName: "json|pretty", description: "log line format (default: pretty on a terminal, else json)" },
  },
  positionals: false,
  examples: [
    "aicfg daemon --library examples/library --state-dir .aicfg-state",
    "aicfg daemon --config /etc/aicfg/daemon.yaml",
    "aicfg daemon --library ~/team-library --library ~/personal --listen 127.0.0.1:7500",
  ],
  run: async (args, io) => {
    const logging = createDaemonLogging(io, { format: typeof args.values["log-format"] === "string" ? args.values["log-format"] : undefined });
    try {
      return await serveDaemon(args, io, logging);
    } finally {
      await logging.close();
    }
  },
};

async function serveDaemon(args: ParsedArgs, io: CliIO, logging: DaemonLogging): Promise<number> {
  const config = configFromArgs(args, io);
  const log = logging.log;
  const { startDaemon } = await import("../../daemon.ts");
  const handle = await startDaemon({ config, log, logRunOutcomes: true, secrets: logging.secrets });
  const stops: (() => Promise<void>)[] = [];
  let announceReady: () => void = () => {};
  const started = new Promise<void>((resolve) => (announceReady = resolve));
  try {
    for (const load of daemonExtensions) {
      const ext = await load();
      const stop = await ext(handle, io, logging, started);
      if (stop) stops.push(stop);
    }
  } catch (e) {
    // Not ready, and never announced as ready: the extensions already started are stopped again.
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log("error", `stopping an extension failed: ${(err as Error).message}`));
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
  const libraries = [...handle.libraries.keys()];
  if (args.values.json)
    io.out(
      JSON.stringify({ ready: status.ready, pid: process.pid, instance: handle.instance, libraries, stateDir: config.stateDir, listen: config.listen.text }),
    );
  const workflows = handle.listWorkflows();
  log("info", "aicfg daemon ready", {
    pid: process.pid,
    libraries,
    workflows: workflows.length,
    enabled: workflows.filter((w) => w.enabled).length,
    stateDir: config.stateDir,
  });
  await logging.flush();
  announceReady();
  const code = await done;
  return code;
}
