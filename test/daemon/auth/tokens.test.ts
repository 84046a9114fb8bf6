// API tokens (security goal G13): format with prefix and CRC32 checksum, offline rejection of
// typos, digest-only storage in a 0600 file, expiry, revocation, the local admin token, and the
// `aicfg token` commands.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { base62, checkTokenShape, crc32, generateToken, TOKEN_PATTERN, tokenDigest } from "../../../src/daemon/auth/token-format.ts";
import {
  ensureLocalAdminToken,
  LOCAL_ADMIN_FILE,
  openTokenStore,
  parseExpiry,
  readLocalAdminToken,
  TOKENS_FILE,
} from "../../../src/daemon/auth/token-store.ts";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { runCli } from "../../../src/daemon/cli/main.ts";
import { AUDIT_FILE } from "../../../src/daemon/telemetry/audit.ts";
import type { CliIO } from "../../../src/daemon/cli/command.ts";
import { tempDir } from "../../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
afterEach(() => dir?.cleanup());

describe("token format", () => {
  it("computes the standard CRC-32 (check value of '123456789' is CBF43926)", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(crc32("")).toBe(0);
    expect(base62(0n, 6)).toBe("000000");
    expect(base62(61n, 2)).toBe("0z");
    expect(base62(62n, 2)).toBe("10");
  });

  it("issues aicfg_ + 43 random base62 chars + a 6-char checksum that verifies", () => {
    const t = generateToken();
    expect(t).toMatch(/^aicfg_[0-9A-Za-z]{49}$/);
    expect(checkTokenShape(t)).toBe("ok");
    expect(t.match(TOKEN_PATTERN)).toEqual([t]);
    expect(generateToken()).not.toBe(t);
  });

  it("detects every single-character change (property)", () => {
    const t = generateToken();
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    fc.assert(
      fc.property(fc.integer({ min: 6, max: t.length - 1 }), fc.integer({ min: 1, max: 61 }), (pos, shift) => {
        const ch = alphabet[(alphabet.indexOf(t[pos]!) + shift) % 62]!;
        expect(checkTokenShape(t.slice(0, pos) + ch + t.slice(pos + 1))).toBe("bad-checksum");
      }),
      { numRuns: 2000 },
    );
  });

  it("random look-alikes almost never pass the checksum (scanner false-positive rate)", () => {
    let passed = 0;
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Za-z]{49}$/), (s) => {
        if (checkTokenShape("aicfg_" + s) === "ok") passed++;
      }),
      { numRuns: 10_000 },
    );
    expect(passed).toBeLessThanOrEqual(1);
    expect(checkTokenShape("ghp_abc")).toBe("not-a-token");
    expect(checkTokenShape("aicfg_" + "!".repeat(49))).toBe("not-a-token");
    expect(checkTokenShape(generateToken() + "x")).toBe("not-a-token");
  });
});

describe("token store", () => {
  it("stores only the SHA-256 digest, in a 0600 file, and verifies, expires and revokes", () => {
    dir = tempDir();
    const store = openTokenStore(dir.path);
    const { token, record } = store.create({ role: "editor", library: "team", name: "ci", expiresAt: new Date("2027-01-01T00:00:00.000Z") });
    const file = join(dir.path, TOKENS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(10, 40));
    expect(text).toContain(tokenDigest(token));
    expect(record).toMatchObject({ role: "editor", library: "team", name: "ci", hint: token.slice(0, 10) + "…", expiresAt: "2027-01-01T00:00:00.000Z" });
    expect(store.verify(token, new Date("2026-12-31T23:59:59.000Z"))).toMatchObject({ ok: true, token: { id: record.id } });
    expect(store.verify(token, new Date("2027-01-01T00:00:00.000Z"))).toMatchObject({ ok: false, reason: "expired" });
    expect(store.verify(generateToken())).toEqual({ ok: false, reason: "unknown" });
    expect(openTokenStore(dir.path).verify(token, new Date("2026-06-01T00:00:00.000Z")).ok).toBe(true);
    expect(store.revoke(record.id)).toBe(true);
    expect(store.revoke(record.id)).toBe(false);
    expect(store.verify(token)).toEqual({ ok: false, reason: "unknown" });
  });

  it("stamps createdAt and checks expiry on the store's clock", async () => {
    dir = tempDir("aicfg-tokens-");
    const clock = createManualClock(Date.parse("2031-05-01T12:00:00.000Z"));
    const store = openTokenStore(dir.path, clock);
    const { token, record } = store.create({ role: "viewer", expiresAt: new Date(clock.now() + 60_000) });
    expect(record.createdAt).toBe("2031-05-01T12:00:00.000Z");
    expect(store.verify(token).ok).toBe(true);
    await clock.advance(60_000);
    expect(store.verify(token)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("never reads the store for a token with a bad checksum", () => {
    dir = tempDir();
    const store = openTokenStore(dir.path);
    const { token } = store.create({ role: "viewer" });
    store.verify(token);
    const reads = store.reads();
    const bad = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
    expect(store.verify(bad)).toEqual({ ok: false, reason: "bad-checksum" });
    expect(store.reads()).toBe(reads);
  });

  it("sees tokens created by another process (the CLI) without a restart", () => {
    dir = tempDir();
    const daemon = openTokenStore(dir.path);
    expect(daemon.list()).toEqual([]);
    const { token } = openTokenStore(dir.path).create({ role: "viewer" });
    expect(daemon.verify(token).ok).toBe(true);
  });

  it("reports a corrupt store precisely instead of treating it as empty", () => {
    dir = tempDir();
    writeFileSync(join(dir.path, TOKENS_FILE), '{"version":1,"tokens":[{"id":"x"}]}');
    expect(() => openTokenStore(dir.path).list()).toThrow(/tokens\.json has an unexpected shape at tokens\.0\.id/);
  });

  it("keeps one local admin token for the CLI, reused while valid and replaced when revoked", async () => {
    dir = tempDir();
    const store = openTokenStore(dir.path);
    const a = await ensureLocalAdminToken(dir.path, store);
    expect(statSync(join(dir.path, LOCAL_ADMIN_FILE)).mode & 0o777).toBe(0o600);
    expect(readLocalAdminToken(dir.path)).toBe(a);
    expect(await ensureLocalAdminToken(dir.path, store)).toBe(a);
    store.revoke(store.list()[0]!.id);
    const b = await ensureLocalAdminToken(dir.path, store);
    expect(b).not.toBe(a);
    expect(store.list().map((t) => [t.name, t.role])).toEqual([["local-admin", "admin"]]);
  });

  it("parses expiries", () => {
    const now = new Date("2026-11-24T10:00:00.000Z");
    expect(parseExpiry("90d", now).toISOString()).toBe("2027-02-22T10:00:00.000Z");
    expect(parseExpiry("12h", now).toISOString()).toBe("2026-11-24T22:00:00.000Z");
    expect(parseExpiry("2027-01-31", now).toISOString()).toBe("2027-01-31T00:00:00.000Z");
    expect(() => parseExpiry("0d", now)).toThrow("--expires 0d is zero");
    expect(() => parseExpiry("2020-01-01", now)).toThrow("is in the past");
    expect(() => parseExpiry("forever", now)).toThrow('--expires "forever" is not a duration or a date');
  });
});

describe("aicfg token", () => {
  function io(env: Record<string, string>): CliIO & { stdout: string[]; stderr: string[] } {
    const stdout: string[] = [];
    const stderr: string[] = [];
    return { out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), color: false, tty: false, cwd: dir.path, env, stdout, stderr };
  }

  it("creates (printed once), lists and revokes", async () => {
    dir = tempDir();
    const env = { AICFG_STATE_DIR: join(dir.path, "state") };
    const c = io(env);
    expect(await runCli(["token", "create", "--role", "editor", "--library", "team", "--expires", "90d", "--name", "ci"], c)).toBe(0);
    const token = c.stdout[0]!;
    expect(checkTokenShape(token)).toBe("ok");
    expect(c.stderr[0]).toMatch(/^tok_[0-9a-f]{12}: editor of library team, expires \d{4}-\d\d-\d\dT.*Z\. This is the only time the token is shown\.$/);

    const l = io(env);
    expect(await runCli(["token", "list"], l)).toBe(0);
    expect(l.stdout.join("\n")).not.toContain(token);
    const id = /^(tok_[0-9a-f]{12})/.exec(l.stdout[0]!)![1]!;
    expect(l.stdout[0]).toContain(`${id}  ${token.slice(0, 10)}…  editor  team  expires `);
    expect(l.stdout[0]!.endsWith("  ci")).toBe(true);

    const j = io(env);
    await runCli(["token", "list", "--json"], j);
    expect(JSON.parse(j.stdout[0]!).tokens[0]).toMatchObject({ id, role: "editor", library: "team", name: "ci" });
    expect(j.stdout[0]).not.toContain("digest");

    const r = io(env);
    expect(await runCli(["token", "revoke", id], r)).toBe(0);
    expect(r.stdout).toEqual([`revoked ${id}`]);
    const r2 = io(env);
    expect(await runCli(["token", "revoke", id], r2)).toBe(1);
    expect(r2.stderr[0]).toBe(`error: no token with id ${id}\nhint: see the ids with 'aicfg token list'`);
  });

  it("appends every token change to the audit log, as the API does (never the token itself)", async () => {
    dir = tempDir();
    const state = join(dir.path, "state");
    const env = { AICFG_STATE_DIR: state, USER: "ops-person" };
    const c = io(env);
    expect(await runCli(["token", "create", "--role", "viewer", "--name", "grafana"], c)).toBe(0);
    const token = c.stdout[0]!;
    const id = /^(tok_[0-9a-f]{12})/.exec(c.stderr[0]!)![1]!;
    expect(await runCli(["token", "revoke", id], io(env))).toBe(0);
    expect(await runCli(["token", "revoke", "tok_000000000000"], io(env))).toBe(1);
    expect(await runCli(["token", "list"], io(env))).toBe(0);
    const text = readFileSync(join(state, AUDIT_FILE), "utf8");
    expect(text).not.toContain(token);
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { ts: expect.any(String), actor: "cli:ops-person", action: "token.create", target: id, outcome: "ok", details: { role: "viewer", name: "grafana" } },
      { ts: expect.any(String), actor: "cli:ops-person", action: "token.revoke", target: id, outcome: "ok" },
      {
        ts: expect.any(String),
        actor: "cli:ops-person",
        action: "token.revoke",
        target: "tok_000000000000",
        outcome: "error",
        details: { reason: "no such token" },
      },
    ]);
    expect(statSync(join(state, AUDIT_FILE)).mode & 0o777).toBe(0o600);
  });

  it("refuses a missing or unknown role and bad expiries with usage errors", async () => {
    dir = tempDir();
    const env = { AICFG_STATE_DIR: dir.path };
    const a = io(env);
    expect(await runCli(["token", "create"], a)).toBe(2);
    expect(a.stderr).toEqual(["error: --role must be viewer, editor or admin", "hint: e.g. aicfg token create --role viewer"]);
    const b = io(env);
    expect(await runCli(["token", "create", "--role", "root"], b)).toBe(2);
    expect(b.stderr[0]).toBe('error: --role must be viewer, editor or admin (got "root")');
    const c = io(env);
    expect(await runCli(["token", "create", "--role", "viewer", "--expires", "later"], c)).toBe(2);
    const d = io(env);
    expect(await runCli(["token", "create", "--role", "viewer", "--state-dir", join(dir.path, "s2"), "--json"], d)).toBe(0);
    expect(JSON.parse(d.stdout[0]!).record.role).toBe("viewer");
    expect(statSync(join(dir.path, "s2", TOKENS_FILE)).mode & 0o777).toBe(0o600);
  });
});
