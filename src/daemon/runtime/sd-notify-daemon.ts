// Connects a running daemon to systemd: READY=1 with a status line once everything is up, STATUS=
// as runs come and go, WATCHDOG=1 only while the scheduler ticks, RELOADING=1/READY=1 around every
// reload, STOPPING=1 when the drain begins. READY=1 waits for `ready` (the daemon command passes
// the promise that resolves once every extension, the HTTP API included, has started), so a
// daemon that fails to start is never reported ready. A no-op when not started by systemd.
import type { CliIO } from "../cli/command.ts";
import type { DaemonHandle } from "../daemon.ts";
import { createLogger, type Logger } from "../telemetry/logger.ts";
import { createSecretRegistry } from "../telemetry/redact.ts";
import { createNotifier, watchdogLoop, type Notifier } from "./sd-notify.ts";

/** One line for `systemctl status`: workflow count, running runs, the next scheduled run. */
export function daemonStatusLine(handle: Pick<DaemonHandle, "status" | "listWorkflows">, prefix: string): string {
  const s = handle.status();
  const workflows = handle.listWorkflows();
  const enabled = workflows.filter((w) => w.enabled);
  let next: { at: number; name: string } | undefined;
  for (const w of enabled) {
    const at = w.nextRuns[0];
    if (at !== undefined && (next === undefined || at < next.at)) next = { at, name: w.name };
  }
  const parts = [`${enabled.length} of ${workflows.length} workflows enabled`];
  if (s.checks.config.broken > 0) parts.push(`${s.checks.config.broken} broken`);
  parts.push(`${s.runs.inFlight} running, ${s.runs.queued} queued`);
  parts.push(next ? `next run ${next.name} at ${new Date(next.at).toISOString().replace(/\.\d{3}Z$/, "Z")}` : "no scheduled run");
  return `${prefix}: ${parts.join("; ")}`;
}

export type SdNotifyDaemonOptions = {
  /** How STATUS= updates are batched after run events (default 1000 ms). */
  statusDelayMs?: number;
  notifier?: Notifier;
  /** The daemon's logger (default: pino JSON lines on io.err). */
  logger?: Logger;
  /** READY=1 is sent once this resolves (default: at once); never, if it never does. */
  ready?: Promise<void>;
};

/**
 * Starts the systemd integration for `handle` and returns its stop function (sends STOPPING=1).
 * Wraps `handle.reload` so that every reload, from SIGHUP or the API, is reported to systemd.
 */
export async function startSdNotify(handle: DaemonHandle, io: CliIO, opts: SdNotifyDaemonOptions = {}): Promise<(() => Promise<void>) | undefined> {
  // Unset NOTIFY_SOCKET and WATCHDOG_* so git, MCP servers and workflow steps do not inherit them.
  const notifier = opts.notifier ?? createNotifier(io.env, { unsetEnvironment: true });
  if (!notifier.enabled) return undefined;
  const logger = opts.logger ?? createLogger({ secrets: createSecretRegistry(), sink: { write: (line) => io.err(line.replace(/\n$/, "")) } });
  const report = (what: string) => (e: unknown) => logger.warn(`sd_notify ${what} failed: ${(e as Error).message}`);

  let stopping = false;
  let readySent = false;
  const sendReady = async () => {
    if (stopping) return;
    readySent = true;
    await notifier.ready(daemonStatusLine(handle, "Ready")).catch(report("READY"));
  };
  if (opts.ready) void opts.ready.then(sendReady);
  else await sendReady();

  const loop = watchdogLoop(notifier, () => handle.status().checks.scheduler.ok, report("WATCHDOG"));

  let pending: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = handle.bus.subscribe((e) => {
    if (stopping || pending || (e.type !== "run.started" && e.type !== "run.finished" && e.type !== "schedule.next")) return;
    pending = setTimeout(() => {
      pending = undefined;
      if (!stopping) notifier.status(daemonStatusLine(handle, "Running")).catch(report("STATUS"));
    }, opts.statusDelayMs ?? 1000);
    pending.unref?.();
  });

  const reload = handle.reload;
  handle.reload = async () => {
    await notifier.reloading("Reloading configuration and workflows").catch(report("RELOADING"));
    try {
      return await reload();
    } finally {
      // A reload before start-up finished must not report a daemon that is not ready yet.
      if (readySent) await notifier.ready(daemonStatusLine(handle, "Reloaded")).catch(report("READY"));
    }
  };

  return async () => {
    stopping = true;
    if (pending) clearTimeout(pending);
    loop.stop();
    unsubscribe();
    handle.reload = reload;
    const { inFlight, queued } = handle.status().runs;
    await notifier.stopping(`Draining ${inFlight} running and ${queued} queued runs`).catch(report("STOPPING"));
  };
}
