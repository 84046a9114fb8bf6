// The lock that keeps one scheduling daemon per state folder. Taking it is atomic (the lock file is
// written whole to a temp file, then hard-linked into place: link(2) fails when the name exists), and
// it names its holder by pid, the process's start time and the boot it runs in, so a pid reused by
// another process or a lock left from before a reboot is recognised as stale and recovered; recovery
// itself runs under a short-lived second lock so two starters cannot remove each other's fresh lock.
import { randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, linkSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../library/diagnostics.ts";
import { pidAlive } from "./file-store.ts";

type LockHolder = { pid: number; startTime?: string; bootId?: string; host?: string; instance: string; since: number };

/** How long a recovery lock may be held before it counts as left by a crashed starter. */
const RECOVERY_STALE_MS = 10_000;

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), on Linux. */
export function processStartTime(pid: number): string | undefined {
  const stat = readOptional(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19];
}

const bootId = (): string | undefined => readOptional("/proc/sys/kernel/random/boot_id");

/** Why a recorded holder no longer holds the lock, or undefined while it still does. */
function staleReason(holder: LockHolder): string | undefined {
  if (holder.host && holder.host !== hostname()) return undefined; // another machine's lock (shared folder): never ours to break
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return `it was taken before the machine restarted (pid ${holder.pid})`;
  if (!pidAlive(holder.pid)) return `its process (pid ${holder.pid}) is gone`;
  const start = processStartTime(holder.pid);
  if (holder.startTime && start && holder.startTime !== start) return `pid ${holder.pid} now belongs to another process`;
  return undefined;
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    return typeof h.pid === "number" && typeof h.instance === "string" ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `data` to a fresh temp file and links it to `path`; false when `path` already exists. */
function linkNew(path: string, data: string): boolean {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The file system's idea of now (the mtime of a file written at this moment). File ages are measured
 * against it, never against Date.now(): the two clocks differ on a skewed network file system, under
 * a test's shifted clock, or after the wall clock was stepped.
 */
function fileSystemNow(near: string): number {
  const probe = `${near}.${randomBytes(6).toString("hex")}.now`;
  closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  try {
    return statSync(probe).mtimeMs;
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Runs `fn` while holding `<file>.recovery`; false when another starter is recovering right now. */
function underRecoveryLock(file: string, fn: () => void): boolean {
  const guard = `${file}.recovery`;
  if (!linkNew(guard, String(process.pid))) {
    let age = 0;
    try {
      // Both times from the file system's clock: the guard's mtime against a file written now.
      age = fileSystemNow(file) - statSync(guard).mtimeMs;
    } catch {
      return false; // released meanwhile: try again
    }
    if (age < RECOVERY_STALE_MS) return false;
    rmSync(guard, { force: true });
    if (!linkNew(guard, String(process.pid))) return false;
  }
  try {
    fn();
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

export type StateLock = { holder: LockHolder; recovered?: string; release: () => void };

/**
 * Takes `<dir>/<name>` for this process, or throws ConfigError `state-dir-locked` naming the live
 * holder. A stale lock (gone, reused pid, earlier boot) is replaced and the reason returned.
 */
export function acquireStateLock(dir: string, name: string, instance: string, opts: { now?: () => number; label?: string; folder?: string } = {}): StateLock {
  const now = opts.now ?? Date.now;
  const file = join(dir, name);
  const me: LockHolder = { pid: process.pid, instance, since: now(), host: hostname() };
  const start = processStartTime(process.pid);
  const boot = bootId();
  if (start) me.startTime = start;
  if (boot) me.bootId = boot;
  const text = JSON.stringify(me) + "\n";
  let recovered: string | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (linkNew(file, text)) {
      const release = () => {
        if (parseHolder(readOptional(file))?.instance === instance) rmSync(file, { force: true });
      };
      return { holder: me, ...(recovered ? { recovered } : {}), release };
    }
    const seen = readOptional(file);
    const holder = parseHolder(seen);
    if (holder?.instance === instance) return { holder, release: () => rmSync(file, { force: true }) };
    const why = holder ? staleReason(holder) : seen === undefined ? "it was released" : "it is unreadable";
    if (!why) {
      throw new ConfigError(
        "state-dir-locked",
        `another ${opts.label ?? "daemon"} (pid ${holder!.pid}, since ${new Date(holder!.since).toISOString()}) is using the state folder ${opts.folder ?? dir}`,
        {
          hint: "stop it first, or pass a different --state-dir",
        },
      );
    }
    // Remove the stale lock only if it is still the one judged stale (another starter may have
    // replaced it with a live lock meanwhile).
    const done = underRecoveryLock(file, () => {
      if (readOptional(file) === seen) {
        try {
          unlinkSync(file);
          recovered = `a stale lock was replaced: ${why}`;
        } catch {
          /* gone already */
        }
      }
    });
    if (!done) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // another starter is recovering it
  }
  throw new ConfigError("state-dir-locked", `could not take the lock ${file}: it keeps changing hands`, {
    hint: "another daemon is starting on this state folder; stop it, or pass a different --state-dir",
  });
}
