// The OS keyring as the secret store's key source (AICFG_SECRET_KEYRING=secret-service), against a real
// Secret Service: GNOME Keyring in its own D-Bus session (dbus-run-session), unlocked headlessly, with its
// keyring files in the test's folder. Each command runs in a fresh session, so what is read back was kept by
// the keyring on disk, as across a reboot. Runs where secret-tool, gnome-keyring-daemon and dbus-run-session
// are installed (Debian: libsecret-tools, gnome-keyring, dbus); the refusals run everywhere.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/daemon/cli/main.ts";
import { STORE_FILE } from "../../src/workflows/secrets/store.ts";
import { nodeBin } from "../daemon/harness.ts";
import { tempDir } from "../helpers/fixtures.ts";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "aicfg.js");
const CANARY = "canary-keyring-4b1d7e20";
const onPath = (name: string) => (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, name)));
const haveKeyring = onPath("secret-tool") && onPath("gnome-keyring-daemon") && onPath("dbus-run-session");

let dir: ReturnType<typeof tempDir>;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-keyring-");
  state = join(dir.path, "state");
});
afterEach(() => dir.cleanup());

/** The environment of a desktop session whose keyring lives in the test folder (HOME and XDG folders there). */
function sessionEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir.path,
    XDG_DATA_HOME: join(dir.path, "data"),
    XDG_CONFIG_HOME: join(dir.path, "config"),
    XDG_RUNTIME_DIR: dir.path,
    NO_COLOR: "1",
    AICFG_SECRET_KEYRING: "secret-service",
    ...extra,
  };
  return env;
}

/** Runs a shell line inside a fresh D-Bus session with GNOME Keyring started and unlocked (no shell input from the test but this literal). */
function inSession(line: string, env: Record<string, string> = sessionEnv()) {
  const script = `printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; ${line}`;
  const r = spawnSync("dbus-run-session", ["--", "sh", "-c", script], { env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const aicfg = (args: string, input?: string) =>
  inSession(`${input === undefined ? "" : `printf '%s' '${input}' | `}"${nodeBin()}" "${bin}" ${args} --state-dir "${state}"`);

describe.runIf(haveKeyring)("the OS keyring as the key source (Secret Service)", () => {
  it("set makes the key in the keyring, not in a file; get reads it back in a new session; rotate re-wraps and keeps only the new key", () => {
    const set = aicfg("secret set API_TOKEN", CANARY);
    expect(set.code, set.err).toBe(0);
    expect(set.err).toContain("the OS keyring (Secret Service, account default)");
    expect(existsSync(join(state, "secret.key"))).toBe(false);
    expect(readFileSync(join(state, STORE_FILE), "utf8")).not.toContain(CANARY);
    const first = inSession("secret-tool lookup service aicfg-secret-key account default");
    expect(first.code, first.err).toBe(0);
    expect(first.out.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The keyring's own file is encrypted with its password: the key is not in it in the clear.
    expect(readFileSync(join(dir.path, "data", "keyrings", "login.keyring")).toString("latin1")).not.toContain(first.out.trim());

    const get = aicfg("secret get API_TOKEN");
    expect(get.code, get.err).toBe(0);
    expect(get.out.trim()).toBe(CANARY);

    const rot = aicfg("secret rotate");
    expect(rot.code, rot.err).toBe(0);
    expect(rot.out).toContain("re-wrapped 1 secret(s)");
    expect(rot.out).toContain("(the OS keyring (Secret Service, account default))");
    expect(rot.err).toContain("any more; removed from the OS keyring");
    const after = inSession("secret-tool lookup service aicfg-secret-key account default");
    expect(after.out.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(after.out.trim()).not.toBe(first.out.trim());
    expect(aicfg("secret get API_TOKEN").out.trim()).toBe(CANARY);

    // Another account is another key: it cannot read this store's records.
    const other = inSession(`AICFG_SECRET_KEYRING_ACCOUNT=ci "${nodeBin()}" "${bin}" secret get API_TOKEN --state-dir "${state}"`);
    expect(other.code).toBe(1);
    expect(other.err).toContain("no secret key is configured");
  });
});

describe("keyring refusals", () => {
  function cli(env: Record<string, string>) {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, tty: false, cwd: dir.path, env };
    return { out, err, run: (...args: string[]) => runCli([...args, "--state-dir", state], io) };
  }

  it("with no session bus to reach a keyring, set fails with what to do and writes no key file", async () => {
    const env = sessionEnv();
    const c = cli(env);
    expect(await c.run("secret", "set", "X", "--from-env", "PATH")).toBe(1);
    const text = c.err.join("\n");
    expect(text).toMatch(haveKeyring ? /the OS keyring \(Secret Service\) did not answer/ : /secret-tool is not installed/);
    expect(text).toMatch(/hint: .*(key file|libsecret)/);
    expect(existsSync(join(state, "secret.key"))).toBe(false);
  });

  it("an unknown keyring name or a bad account is refused before anything runs", async () => {
    const c = cli(sessionEnv({ AICFG_SECRET_KEYRING: "kwallet" }));
    expect(await c.run("secret", "set", "X", "--from-env", "PATH")).toBe(1);
    expect(c.err.join("\n")).toContain('AICFG_SECRET_KEYRING="kwallet" names no keyring aicfg knows');
    const d = cli(sessionEnv({ AICFG_SECRET_KEYRING_ACCOUNT: "a b" }));
    expect(await d.run("secret", "list")).toBe(0); // listing needs no key
    expect(await d.run("secret", "set", "X", "--from-env", "PATH")).toBe(1);
    expect(d.err.join("\n")).toContain("is not a valid account name");
  });
});
