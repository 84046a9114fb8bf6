// Runs git safely (security goal G03): argv arrays via execFile (no shell), repository hooks
// disabled, a protocol allowlist, `--` before operands, and names and URLs checked before use.
import { execFile, spawn } from "node:child_process";
import { ActionError } from "./actions/types.ts";

export type GitResult = { code: number; stdout: string; stderr: string };

export type GitOptions = {
  cwd: string;
  signal?: AbortSignal;
  /** Allow file:// and local-path remotes (tests, air-gapped mirrors). */
  allowFile?: boolean;
  timeoutMs?: number;
};

function gitConfigArgs(allowFile: boolean): string[] {
  return [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.https.allow=always",
    "-c",
    "protocol.ssh.allow=always",
    "-c",
    `protocol.file.allow=${allowFile ? "always" : "never"}`,
    "-c",
    "core.fsmonitor=false",
    "-c",
    "credential.interactive=false",
  ];
}

function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  // GIT_CONFIG_GLOBAL: where the operator (or a test) keeps the identity and settings git should use instead of ~/.gitconfig.
  for (const k of [
    "SSH_AUTH_SOCK",
    "GIT_SSH_COMMAND",
    "GIT_CONFIG_GLOBAL",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
  ]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  return env;
}

export function git(args: string[], opts: GitOptions): Promise<GitResult> {
  const env = gitEnv();
  return new Promise((resolve) => {
    execFile(
      "git",
      [...gitConfigArgs(!!opts.allowFile), ...args],
      { cwd: opts.cwd, env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, signal: opts.signal, shell: false },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 128) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && !stderr ? err.message : "") });
      },
    );
  });
}

/** git refused to make a commit because it does not know who is committing. */
export function identityMissing(stderr: string): boolean {
  return /Please tell me who you are|unable to auto-detect email address|Committer identity unknown|Author identity unknown|empty ident name/i.test(stderr);
}

/** The error for a commit git refused for lack of an identity, saying what to set. */
export function identityError(what: string, root: string): ActionError {
  return new ActionError("git-identity", `${what} needs a git identity to write commits, and git has none (user.name / user.email are not set)`, {
    retryable: false,
    hint: `set one for the library: git -C ${root} config user.name "aicfg daemon" && git -C ${root} config user.email "aicfg@your-host", or give the daemon GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL`,
  });
}

/** Runs git and throws ActionError with git's message when it fails. */
export async function gitOk(args: string[], opts: GitOptions, what: string): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) throw new ActionError("git-failed", `${what} failed: ${firstLines(r.stderr || r.stdout)}`, { retryable: false });
  return r.stdout.trim();
}

export function firstLines(s: string, n = 3): string {
  return s.trim().split("\n").slice(0, n).join(" / ");
}

const REF_NAME = /^[A-Za-z0-9._/][A-Za-z0-9._/-]{0,254}$/;

/** A branch or remote name from a workflow or an event: no option-looking or traversing values. */
export function checkRefName(name: string, what: string): string {
  if (!REF_NAME.test(name) || name.includes("..") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".lock") || name.includes("//")) {
    throw new ActionError("unsafe-git-name", `${what} ${JSON.stringify(name)} is not a safe git name`, {
      retryable: false,
      hint: "use letters, digits, '.', '_', '/' and '-', not starting with '-'",
    });
  }
  return name;
}

/** Checks a remote URL against the protocol allowlist (https, ssh, scp-like; file only when allowed). */
export function checkRemoteUrl(url: string, allowFile: boolean): string {
  const bad = (why: string) =>
    new ActionError("remote-not-allowed", `remote URL ${JSON.stringify(url)} is not allowed: ${why}`, {
      retryable: false,
      hint: "use an https:// or ssh:// URL (or git@host:path)",
    });
  if (url.startsWith("-")) throw bad("it starts with '-'");
  if (/[\0\n\r]/.test(url)) throw bad("it contains a control character");
  if (url.includes("::")) throw bad("transport helpers (x::y) are not allowed");
  if (/:\/\/-|@-/.test(url)) throw bad("its user or host starts with '-' (ssh would read it as an option)");
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    if (scheme === "https" || scheme === "ssh") return url;
    if (scheme === "file" && allowFile) return url;
    throw bad(`protocol '${scheme}' is not in the allowlist`);
  }
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(url)) return url;
  if ((url.startsWith("/") || url.startsWith("./") || url.startsWith("../")) && allowFile) return url;
  throw bad("local paths need actions.git.allow_file_remotes in the daemon config");
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function checkSha(s: string): string {
  if (!SHA.test(s)) throw new ActionError("bad-sha", `git returned ${JSON.stringify(s)} where a commit id was expected`, { retryable: false });
  return s;
}

/**
 * Runs git with `input` on stdin and returns stdout as bytes (for `cat-file --batch`, whose output holds
 * file contents that need not be text). Same safety settings as git(); output beyond `maxBytes` kills it.
 */
export function gitBytes(args: string[], input: string, opts: GitOptions & { maxBytes?: number }): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const max = opts.maxBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve) => {
    const child = spawn("git", [...gitConfigArgs(!!opts.allowFile), ...args], {
      cwd: opts.cwd,
      env: gitEnv(),
      shell: false,
      stdio: ["pipe", "pipe", "pipe"],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    let over = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        over = true;
        child.kill("SIGKILL");
      } else chunks.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += c.toString("utf8");
    });
    child.on("error", (e) => {
      stderr += e.message;
    });
    child.stdin.on("error", () => {
      /* git exited early; its exit code says why */
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: over ? 125 : (code ?? 128), stdout: Buffer.concat(chunks), stderr: over ? `output over ${max} bytes` : stderr });
    });
    child.stdin.end(input);
  });
}
