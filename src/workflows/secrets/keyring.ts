// The OS keyring as a key source: the freedesktop Secret Service (GNOME Keyring, KeePassXC, KWallet's
// Secret Service bridge) through libsecret's `secret-tool`, run as a child process with no shell. The key
// texts travel on stdin and stdout only, never in argv (which other users can read in /proc). The item is
// found by two attributes, `service aicfg-secret-key` and `account <name>`.
//
// Opt-in (AICFG_SECRET_KEYRING=secret-service), not auto-detected: a CLI in a desktop session and the same
// user's daemon under systemd (no session bus) must never pick different keys without being told.
import { spawn } from "node:child_process";
import { AicfgError } from "../../library/diagnostics.ts";

class KeyringError extends AicfgError {}

const SERVICE = "aicfg-secret-key";
const TIMEOUT_MS = 15_000;

type Run = { code: number | null; stdout: string; stderr: string; missing?: boolean };

function secretTool(args: readonly string[], input: string | undefined, env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let settled = false;
    const child = spawn("secret-tool", args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, "SIGKILL");
    }, TIMEOUT_MS);
    const done = (r: Run) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("error", (e: NodeJS.ErrnoException) => done({ code: null, stdout, stderr: e.message, missing: e.code === "ENOENT" }));
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.on("error", () => {}); // the tool may exit before reading (no session bus)
    child.stdin.end(input ?? "");
  });
}

function unavailable(r: Run, what: string): KeyringError {
  if (r.missing)
    return new KeyringError("keyring-unavailable", `AICFG_SECRET_KEYRING is set but secret-tool is not installed (${what})`, {
      hint: "install libsecret-tools (Debian/Ubuntu) or libsecret (Fedora), or unset AICFG_SECRET_KEYRING to use a key file",
    });
  const reason = r.stderr.trim().split("\n")[0] || (r.code === null ? `no answer within ${TIMEOUT_MS / 1000} s` : `exit ${r.code}`);
  return new KeyringError("keyring-unavailable", `the OS keyring (Secret Service) did not answer (${what}): ${reason}`, {
    hint: "the keyring needs a D-Bus session with an unlocked Secret Service (GNOME Keyring, KeePassXC); under systemd use a key file or LoadCredential= instead",
  });
}

/** The key texts stored for `account`, or undefined when the keyring has no such item. */
export async function readKeyringKeys(account: string, env: Record<string, string | undefined>): Promise<string | undefined> {
  const r = await secretTool(["lookup", "service", SERVICE, "account", account], undefined, env);
  if (r.code === 0) return r.stdout;
  // secret-tool exits 1 with nothing on stderr when no item matches; anything else is a keyring problem.
  if (r.code === 1 && !r.stderr.trim()) return undefined;
  throw unavailable(r, `looking up account '${account}'`);
}

/** Stores (replaces) the key texts of `account`. */
export async function writeKeyringKeys(account: string, text: string, env: Record<string, string | undefined>): Promise<void> {
  const r = await secretTool(["store", `--label=aicfg secret keys (${account})`, "service", SERVICE, "account", account], text, env);
  if (r.code !== 0) throw unavailable(r, `storing account '${account}'`);
}
