// `shell`: runs one program with an argv array (never through a shell) and a timeout. Disabled
// unless the daemon config enables it. Event data reaches the program only as environment
// variables (AICFG_TRIGGER_*, with.env), never spliced into the command (security goal G02).
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { z } from "zod";
import { isInside } from "../../library/paths.ts";
import { Duration, parseDuration } from "../duration.ts";
import { ActionError, defineAction, type ActionContext } from "./types.ts";

const ShellWith = z.strictObject({
  command: z.array(z.string().min(1)).min(1).describe("the program and its arguments, e.g. [npm, test]; no shell is involved"),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe("extra environment; values may use ${{ }}"),
  cwd: z.string().min(1).optional().describe("working folder relative to the library (default: the library)"),
  timeout: Duration.optional().describe("default 5m"),
});

const MAX_OUTPUT = 64 * 1024;
const BASE_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"];

/** The environment a shell step sees: a small base, event data as AICFG_* variables, then with.env. */
function shellEnv(ctx: ActionContext, extra: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, ctx.settings.env);
  env.AICFG_LIBRARY = ctx.libraryName;
  env.AICFG_LIBRARY_ROOT = ctx.libraryRoot;
  env.AICFG_WORKFLOW = ctx.run.workflow;
  env.AICFG_RUN_ID = ctx.run.id;
  env.AICFG_TRIGGER_KIND = ctx.trigger.kind;
  if (ctx.trigger.paths) env.AICFG_TRIGGER_PATHS = ctx.trigger.paths.join("\n");
  if (ctx.trigger.branch) env.AICFG_TRIGGER_BRANCH = String(ctx.trigger.branch);
  if (ctx.trigger.after) env.AICFG_TRIGGER_AFTER = String(ctx.trigger.after);
  if (ctx.trigger.scheduled_at) env.AICFG_TRIGGER_SCHEDULED_AT = String(ctx.trigger.scheduled_at);
  for (const [k, v] of Object.entries(extra ?? {})) env[k] = String(v);
  return env;
}

export const shellAction = defineAction({
  name: "shell",
  description: "run a program (argv, no shell) with a timeout; needs actions.shell.enabled in the daemon config",
  with: ShellWith,
  literalFields: ["command", "cwd"],
  literalReason: "event data must not become part of a command",
  literalHint: "pass the value in with.env and read it from the environment variable instead",
  run: async (input, ctx) => {
    if (!ctx.settings.shell.enabled) {
      throw new ActionError("shell-disabled", "the shell action is disabled in this daemon", {
        retryable: false,
        hint: "set actions.shell.enabled: true in daemon.yaml if you trust everyone who can edit workflows",
      });
    }
    const cwd = resolve(ctx.libraryRoot, input.cwd ?? ".");
    if (!isInside(ctx.libraryRoot, cwd)) throw new ActionError("unsafe-cwd", `cwd ${input.cwd} is outside the library`, { retryable: false });
    const timeoutMs = input.timeout ? parseDuration(input.timeout) : 300_000;
    const [file, ...args] = input.command as [string, ...string[]];
    return await new Promise((resolvePromise, reject) => {
      const child = spawn(file, args, { cwd, env: shellEnv(ctx, input.env), shell: false, stdio: ["ignore", "pipe", "pipe"], detached: false });
      let stdout = "";
      let stderr = "";
      let reason: "timeout" | "cancelled" | undefined;
      child.stdout.on("data", (b: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += b.toString("utf8");
      });
      child.stderr.on("data", (b: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += b.toString("utf8");
      });
      // Some runtimes start the process asynchronously: a stop requested before it exists is applied once it does.
      let spawned = false;
      let cancelKill = () => {};
      const kill = (why: "timeout" | "cancelled") => {
        reason ??= why;
        if (!spawned) return;
        child.kill("SIGTERM");
        cancelKill();
        cancelKill = ctx.clock.setTimer(2000, () => child.kill("SIGKILL"));
      };
      child.once("spawn", () => {
        spawned = true;
        if (reason) kill(reason);
      });
      const cancelTimer = ctx.clock.setTimer(timeoutMs, () => kill("timeout"));
      const onAbort = () => kill("cancelled");
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      child.on("error", (e) => {
        cancelTimer();
        cancelKill();
        ctx.signal.removeEventListener("abort", onAbort);
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "program not found (give its full path, or check PATH)" : code === "EACCES" ? "permission denied" : e.message;
        reject(new ActionError("spawn-failed", `cannot run ${file}: ${why}`, { retryable: false }));
      });
      child.on("close", (code, signal) => {
        cancelTimer();
        cancelKill();
        ctx.signal.removeEventListener("abort", onAbort);
        const out = { exit_code: code ?? -1, signal: signal ?? null, stdout: stdout.slice(0, MAX_OUTPUT), stderr: stderr.slice(0, MAX_OUTPUT) };
        if (stdout) ctx.log("info", stdout.slice(0, 4000));
        if (stderr) ctx.log("warn", stderr.slice(0, 4000));
        if (reason === "timeout") return reject(new ActionError("timeout", `${file} did not finish within ${input.timeout ?? "5m"}`, { retryable: true }));
        if (reason === "cancelled") return reject(new ActionError("cancelled", `${file} was stopped: the run was cancelled`, { retryable: false }));
        if (code !== 0)
          return reject(
            new ActionError("exit-code", `${file} exited with ${code ?? signal}${stderr ? ": " + stderr.trim().split("\n").slice(-1)[0] : ""}`, {
              retryable: true,
            }),
          );
        resolvePromise({ outputs: out });
      });
    });
  },
});
