// The real `aicfg` as a child process of the runtime running the suite (Node, Bun or Deno), for the
// end-to-end tests and the benches that need a live daemon: the command line, a daemon started
// and waited for until its API listens, and polling with the daemon's stderr in the timeout message.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** The arguments that run bin/aicfg.js under this runtime (Deno needs `run -A`). */
export function aicfgArgs(): string[] {
  const g = globalThis as { Deno?: unknown };
  return g.Deno ? ["run", "-A", join(repo, "bin/aicfg.js")] : [join(repo, "bin/aicfg.js")];
}

/**
 * Polls `fn` every 100 ms until it returns a value other than undefined or false (a throw counts
 * as "not yet"); after `timeoutMs` fails with `what` and the tail of `context()` (a daemon's stderr).
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; context?: () => string } = {},
): Promise<T> {
  const until = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${opts.context ? `; daemon stderr:\n${opts.context().slice(-3000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type DaemonChild = {
  child: ChildProcess;
  /** The API's base URL, from the daemon's "api listening" log line. */
  base: string;
  /** All the daemon wrote to stderr so far (JSON log lines: stderr is a pipe). */
  stderr: () => string;
  /** The daemon's log so far, one object per line. */
  logLines: () => Record<string, unknown>[];
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
};

function parseLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not a JSON line (a runtime's own warning) */
    }
  }
  return out;
}

/** Starts `aicfg daemon <args>` and waits until its API listens (or it exits: then fails with its stderr). */
export async function spawnDaemon(args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<DaemonChild> {
  const child = spawn(process.execPath, [...aicfgArgs(), "daemon", ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const logLines = () => parseLines(stderr);
  let base: string | undefined;
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!base) {
    base = logLines().find((l) => l.msg === "api listening" && typeof l.url === "string")?.url as string | undefined;
    if (base) break;
    if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode} before its API listened:\n${stderr.slice(-3000)}`);
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`timed out waiting for the API to listen; daemon stderr:\n${stderr.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    base,
    stderr: () => stderr,
    logLines,
    exited,
    stop: async (graceMs = 10_000) => {
      // process.kill, not child.kill: Deno then reports the signal instead of the exit code.
      if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
      if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
      await exited;
    },
  };
}
