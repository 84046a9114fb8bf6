// The daemon's side of systemd's service protocol (sd_notify(3)) on Node, Bun and Deno without a
// native addon: READY/STATUS/WATCHDOG/RELOADING/STOPPING datagrams, the watchdog loop, and reading
// LoadCredential= secrets. Everything is a no-op when NOTIFY_SOCKET is unset (not under systemd).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { clearInterval, setInterval } from "node:timers";
import { currentRuntime, loadLibcDatagram, type LibcDatagram } from "./sd-notify-ffi.ts";

/**
 * `ffi`: libc sendto(2) through the runtime's built-in FFI; the datagram carries our PID, so the
 * unit keeps NotifyAccess=main. `systemd-notify`: the systemd-notify(1) binary as a child process
 * (Node < 26.1, Deno without --allow-ffi); its PID is not ours, so the unit needs NotifyAccess=all.
 */
export type NotifyBackend = "ffi" | "systemd-notify";

export type NotifierOptions = {
  /** Default "auto": ffi when this runtime has it, else systemd-notify. */
  backend?: "auto" | NotifyBackend;
  /** Remove NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env` so child processes do not inherit them. */
  unsetEnvironment?: boolean;
  /** Our PID, compared with WATCHDOG_PID (default process.pid). */
  pid?: number;
  /** The systemd-notify binary for that backend (default: looked up on PATH). */
  systemdNotify?: string;
};

export type Notifier = {
  /** True when NOTIFY_SOCKET was set: we run under a service manager that wants notifications. */
  readonly enabled: boolean;
  readonly socket: string | undefined;
  /** How often to send WATCHDOG=1 (half of WATCHDOG_USEC), or undefined when no watchdog is armed for us. */
  readonly watchdogIntervalMs: number | undefined;
  /** Which backend sends (resolved on first use); "none" when not under systemd. */
  backend: () => Promise<NotifyBackend | "none">;
  /** Sends one datagram of KEY=VALUE lines, in order. */
  notify: (fields: ReadonlyArray<readonly [string, string]>) => Promise<void>;
  /** READY=1 (+ STATUS=): start-up or a reload has finished. */
  ready: (status?: string) => Promise<void>;
  status: (text: string) => Promise<void>;
  watchdog: () => Promise<void>;
  /** STOPPING=1 (+ STATUS=): the drain has begun. */
  stopping: (status?: string) => Promise<void>;
  /** RELOADING=1 + MONOTONIC_USEC= (+ STATUS=): a reload has begun; send ready() when it is done. */
  reloading: (status?: string) => Promise<void>;
};

const KEY = /^[A-Z][A-Z0-9_]*$/;
/** Status lines are for humans (`systemctl status`); keep them one short line. */
const STATUS_MAX = 512;

/** Makes free text safe as one STATUS= value: runs of control characters and spaces become one space, and it is capped. */
export function sanitizeStatus(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
  return flat.length > STATUS_MAX ? flat.slice(0, STATUS_MAX - 1) + "…" : flat;
}

/** Formats a notification the way libsystemd and systemd-notify(1) do: KEY=VALUE lines joined by "\n". */
export function formatNotification(fields: ReadonlyArray<readonly [string, string]>): string {
  if (fields.length === 0) throw new Error("a notification needs at least one KEY=VALUE field");
  return fields
    .map(([key, value]) => {
      if (!KEY.test(key)) throw new Error(`notification key ${JSON.stringify(key)} is not an upper-case KEY`);
      if (/[\n\0]/.test(value)) throw new Error(`notification value for ${key} contains a newline or NUL byte`);
      return `${key}=${value}`;
    })
    .join("\n");
}

/**
 * The watchdog interval for this process: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * advises, or undefined when WATCHDOG_USEC is unset or invalid, or WATCHDOG_PID names another process.
 */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid: number = process.pid): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^[1-9][0-9]*$/.test(usec)) return undefined;
  const watchdogPid = env.WATCHDOG_PID;
  if (watchdogPid !== undefined && watchdogPid !== "" && watchdogPid !== String(pid)) return undefined;
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

/** systemd-notify(1) with the fields as argv elements (no shell), waiting for systemd to take the message. */
function sendWithSystemdNotify(binary: string, socket: string, path: string | undefined, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Only what systemd-notify needs: never hand the daemon's environment (tokens) to a child.
    const env: Record<string, string> = { NOTIFY_SOCKET: socket, PATH: path ?? "/usr/local/bin:/usr/bin:/bin" };
    execFile(binary, text.split("\n"), { env, timeout: 10_000, shell: false, windowsHide: true }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as { code?: unknown }).code;
      const detail = String(stderr).trim() || err.message;
      reject(
        new Error(
          code === "ENOENT"
            ? `cannot notify systemd: '${binary}' was not found (install systemd, or run on Node >= 26.1, Bun, or Deno with --allow-ffi)`
            : `systemd-notify failed: ${detail}`,
        ),
      );
    });
  });
}

export function createNotifier(env: Record<string, string | undefined> = process.env, options: NotifierOptions = {}): Notifier {
  const socket = env.NOTIFY_SOCKET === "" ? undefined : env.NOTIFY_SOCKET;
  const pid = options.pid ?? process.pid;
  const interval = socket === undefined ? undefined : watchdogIntervalMs(env, pid);
  const path = env.PATH;
  if (options.unsetEnvironment) {
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }
  const wanted = options.backend ?? "auto";
  let resolved: Promise<{ kind: NotifyBackend; libc: LibcDatagram | undefined }> | undefined;
  const resolveBackend = () =>
    (resolved ??= (async () => {
      if (wanted === "systemd-notify") return { kind: "systemd-notify" as const, libc: undefined };
      const libc = await loadLibcDatagram();
      if (libc) return { kind: "ffi" as const, libc };
      if (wanted === "ffi") throw new Error(`this ${currentRuntime()} runtime has no usable FFI to send sd_notify datagrams`);
      return { kind: "systemd-notify" as const, libc: undefined };
    })());

  const monotonicUsec = async (): Promise<bigint | undefined> => {
    // clock_gettime(CLOCK_MONOTONIC) whenever libc is reachable, whichever backend sends.
    const libc = (await resolveBackend()).libc ?? (await loadLibcDatagram());
    if (libc) return libc.monotonicUsec();
    // Node's hrtime is CLOCK_MONOTONIC (libuv uv_hrtime); Bun's and Deno's count from process start,
    // so without FFI there MONOTONIC_USEC is left out (systemd 252 does not require it).
    return currentRuntime() === "node" ? process.hrtime.bigint() / 1000n : undefined;
  };

  const notify = async (fields: ReadonlyArray<readonly [string, string]>): Promise<void> => {
    const text = formatNotification(fields);
    if (socket === undefined) return;
    const { kind, libc } = await resolveBackend();
    if (kind === "ffi" && libc) {
      const payload = new TextEncoder().encode(text);
      // The socket is non-blocking so a busy service manager never stalls the event loop; retry a few times.
      for (let attempt = 0; ; attempt++) {
        try {
          libc.sendDatagram(socket, payload);
          return;
        } catch (e) {
          const errno = (e as { errnoName?: string }).errnoName;
          if (attempt >= 4 || (errno !== "EAGAIN" && errno !== "ENOBUFS")) throw e;
          await new Promise((r) => setTimeout(r, 5 * 2 ** attempt));
        }
      }
    }
    await sendWithSystemdNotify(options.systemdNotify ?? "systemd-notify", socket, path, text);
  };

  const withStatus = (fields: Array<readonly [string, string]>, status: string | undefined) => {
    if (status !== undefined) fields.push(["STATUS", sanitizeStatus(status)]);
    return fields;
  };

  return {
    enabled: socket !== undefined,
    socket,
    watchdogIntervalMs: interval,
    backend: async () => (socket === undefined ? "none" : (await resolveBackend()).kind),
    notify,
    ready: (status) => notify(withStatus([["READY", "1"]], status)),
    status: (text) => notify([["STATUS", sanitizeStatus(text)]]),
    watchdog: () => notify([["WATCHDOG", "1"]]),
    stopping: (status) => notify(withStatus([["STOPPING", "1"]], status)),
    reloading: async (status) => {
      if (socket === undefined) return;
      const fields: Array<readonly [string, string]> = [["RELOADING", "1"]];
      const usec = await monotonicUsec();
      if (usec !== undefined) fields.push(["MONOTONIC_USEC", String(usec)]);
      return notify(withStatus(fields, status));
    },
  };
}

export type WatchdogLoop = {
  /** False when no watchdog is armed for this process (nothing is scheduled). */
  readonly active: boolean;
  stop: () => void;
};

/**
 * Sends WATCHDOG=1 every `watchdogIntervalMs` from the event loop, but only while `isHealthy()`
 * says the scheduler is ticking: a stuck scheduler or a blocked loop stops the pings and systemd
 * restarts the service. Never throws; failures go to `onError`. The timer does not keep the process alive.
 */
export function watchdogLoop(notifier: Notifier, isHealthy: () => boolean, onError: (err: unknown) => void = () => {}): WatchdogLoop {
  const every = notifier.watchdogIntervalMs;
  if (!notifier.enabled || every === undefined) return { active: false, stop: () => {} };
  let inFlight = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (inFlight || stopped) return;
    let healthy = false;
    try {
      healthy = isHealthy() === true;
    } catch (e) {
      onError(e);
    }
    if (!healthy) return;
    inFlight = true;
    notifier
      .watchdog()
      .catch(onError)
      .finally(() => {
        inFlight = false;
      });
  }, every);
  timer.unref();
  return {
    active: true,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Reads a secret passed with LoadCredential=NAME:PATH (exposed under $CREDENTIALS_DIRECTORY, readable
 * only by the service). Returns undefined when not run with credentials or the credential is absent
 * or empty (the units' SetCredential= default is a lone newline); one trailing newline is removed.
 */
export function readCredential(env: Record<string, string | undefined>, name: string): string | undefined {
  if (!CREDENTIAL_NAME.test(name)) throw new Error(`credential name ${JSON.stringify(name)} is not a plain file name`);
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return undefined;
  try {
    const value = readFileSync(join(dir, name), "utf8").replace(/\r?\n$/, "");
    return value === "" ? undefined : value;
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
}
