// The secret store and `aicfg secret …` (G16, G17, G19): values never on disk in plaintext, the key
// file made 0600 at open time even under umask 000 and refused when others can read it, rotation
// that keeps every record readable while it runs and leaves no record on the old key.
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/daemon/cli/main.ts";
import { generateKeyText, importKek } from "../../src/workflows/secrets/crypto.ts";
import { openSecretStore, STORE_FILE } from "../../src/workflows/secrets/store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";

const CANARY = "canary-7f3a9c1e-never-on-disk";

let dir: ReturnType<typeof tempDir>;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-secrets-");
  state = join(dir.path, "state");
});
afterEach(() => dir.cleanup());

function cli(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, tty: false, cwd: dir.path, env };
  return { out, err, run: (...args: string[]) => runCli([...args, "--state-dir", state], io) };
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe("aicfg secret", () => {
  it("stores a value encrypted, reads it back, lists names only, removes it", async () => {
    const c = cli({ TOKEN_IN: CANARY });
    expect(await c.run("secret", "set", "GITHUB_TOKEN", "--from-env", "TOKEN_IN")).toBe(0);
    expect(c.err.join("\n")).toContain("made a new secret key");
    const raw = readFileSync(join(state, STORE_FILE), "utf8");
    expect(raw).not.toContain(CANARY);
    expect(raw).toMatch(/"value": "enc:v1:[0-9a-f]{16}:a256gcm:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+"/);
    expect(mode(join(state, STORE_FILE))).toBe(0o600);
    expect(mode(join(state, "secret.key"))).toBe(0o600);

    const g = cli();
    expect(await g.run("secret", "get", "GITHUB_TOKEN")).toBe(0);
    expect(g.out).toEqual([CANARY]);

    const l = cli();
    expect(await l.run("secret", "list", "--json")).toBe(0);
    const listed = JSON.parse(l.out.join("")) as { secrets: { name: string; kid: string }[]; keys: Record<string, number> };
    expect(listed.secrets.map((s) => s.name)).toEqual(["GITHUB_TOKEN"]);
    expect(l.out.join("")).not.toContain(CANARY);
    expect(Object.values(listed.keys)).toEqual([1]);

    const r = cli();
    expect(await r.run("secret", "rm", "GITHUB_TOKEN")).toBe(0);
    const again = cli();
    expect(await again.run("secret", "get", "GITHUB_TOKEN")).toBe(1);
    expect(again.err.join("\n")).toContain("no secret named GITHUB_TOKEN");
  });

  it("reads the value from a file and refuses names that are not environment-variable names", async () => {
    writeFileSync(join(dir.path, "v.txt"), "from-a-file-value\n");
    const c = cli();
    expect(await c.run("secret", "set", "FROM_FILE", "--from-file", "v.txt")).toBe(0);
    expect(await openSecretStore(state, {}).get("FROM_FILE")).toBe("from-a-file-value");
    const bad = cli({ V: "x".repeat(10) });
    expect(await bad.run("secret", "set", "9-bad-name", "--from-env", "V")).not.toBe(0);
    expect(bad.err.join("\n")).toContain("environment-variable name");
  });

  it("creates the key file 0600 even under umask 000, with no readable temp file on the way", async () => {
    // In a child process: Bun's and Deno's test workers cannot set the umask.
    const store = join(import.meta.dirname, "../../src/workflows/secrets/store.ts");
    const code = `process.umask(0); const { openSecretStore } = await import(process.argv[1]); await openSecretStore(process.argv[2], {}).set("A_SECRET", process.argv[3]);`;
    const r = spawnSync(nodeBin(), ["--input-type=module", "-e", code, store, state, CANARY], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(mode(join(state, "secret.key"))).toBe(0o600);
    expect(mode(join(state, STORE_FILE))).toBe(0o600);
    expect(readdirSync(state).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses a key file that group or others can read", async () => {
    await openSecretStore(state, {}).set("A_SECRET", CANARY);
    chmodSync(join(state, "secret.key"), 0o644);
    const c = cli();
    expect(await c.run("secret", "get", "A_SECRET")).not.toBe(0);
    expect(c.err.join("\n")).toMatch(/secret\.key is readable or writable by others \(mode 644\)/);
    expect(c.err.join("\n")).toContain("chmod 600");
    expect(c.out.join("\n")).not.toContain(CANARY);
  });

  it("takes the key from AICFG_SECRET_KEY, and a wrong key is an error that names the key id, not garbage", async () => {
    const key = generateKeyText();
    const store = openSecretStore(state, { AICFG_SECRET_KEY: key });
    await store.set("ENV_KEYED", CANARY);
    expect(readdirSync(state)).not.toContain("secret.key");
    expect(await store.get("ENV_KEYED")).toBe(CANARY);
    const kid = (await importKek(key)).kid;
    await expect(openSecretStore(state, { AICFG_SECRET_KEY: generateKeyText() }).get("ENV_KEYED")).rejects.toThrow(kid);
  });

  it("rotate re-wraps every record to a new key while readers keep decrypting, then drops the old key", async () => {
    const store = openSecretStore(state, {});
    const names = Array.from({ length: 40 }, (_, i) => `SECRET_${i}`);
    for (const n of names) await store.set(n, `${CANARY}-${n}`);
    const before = Object.keys(store.audit());
    expect(before).toHaveLength(1);

    // A second reader (as a running daemon would be) decrypts every record in a loop during the rotation.
    let reads = 0;
    let failures = 0;
    let rotating = true;
    const reader = (async () => {
      const other = openSecretStore(state, {});
      while (rotating) {
        for (const n of names) {
          try {
            if ((await other.get(n)) === `${CANARY}-${n}`) reads++;
            else failures++;
          } catch {
            failures++;
          }
        }
      }
    })();
    const c = cli();
    expect(await c.run("secret", "rotate", "--json")).toBe(0);
    rotating = false;
    await reader;
    const report = JSON.parse(c.out.join("")) as { from: string[]; to: string; rewrapped: number; removedKeys: string[] };
    expect(report.rewrapped).toBe(names.length);
    expect(report.removedKeys).toEqual(before);
    expect(failures).toBe(0);
    expect(reads).toBeGreaterThan(0);

    const audit = store.audit();
    expect(audit).toEqual({ [report.to]: names.length });
    const keyLines = readFileSync(join(state, "secret.key"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(keyLines).toHaveLength(1);
    for (const n of names) expect(await store.get(n)).toBe(`${CANARY}-${n}`);
  });

  it("rotate with AICFG_SECRET_KEY needs NEW,OLD and moves every record to NEW", async () => {
    const oldKey = generateKeyText();
    await openSecretStore(state, { AICFG_SECRET_KEY: oldKey }).set("ROTATED", CANARY);
    const alone = cli({ AICFG_SECRET_KEY: oldKey });
    expect(await alone.run("secret", "rotate")).not.toBe(0);
    expect(alone.err.join("\n")).toContain("put the new key first");
    const newKey = generateKeyText();
    const c = cli({ AICFG_SECRET_KEY: `${newKey},${oldKey}` });
    expect(await c.run("secret", "rotate")).toBe(0);
    expect(await openSecretStore(state, { AICFG_SECRET_KEY: newKey }).get("ROTATED")).toBe(CANARY);
    expect(c.err.join("\n")).toContain("remove them from AICFG_SECRET_KEY");
  });
});
