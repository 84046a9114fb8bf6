// The `admin-token` credential keeps exactly one admin token in the store, in step with the file:
// adopted when it appears, kept across restarts, replaced when rotated, revoked when emptied or
// removed; a malformed value is an error that names the file and how to make a good one.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CREDENTIAL_ADMIN_NAME, syncCredentialAdminToken } from "../../../src/daemon/auth/credential-admin.ts";
import { generateToken } from "../../../src/daemon/auth/token-format.ts";
import { openTokenStore, TOKENS_FILE } from "../../../src/daemon/auth/token-store.ts";
import { tempDir } from "../../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let creds: string;
let state: string;
beforeEach(() => {
  dir = tempDir();
  creds = join(dir.path, "credentials");
  state = join(dir.path, "state");
  mkdirSync(creds);
});
afterEach(() => dir.cleanup());

describe("syncCredentialAdminToken", () => {
  it("adopts, keeps, rotates and revokes the credential's token", async () => {
    const env = { CREDENTIALS_DIRECTORY: creds };
    const store = openTokenStore(state);
    expect(await syncCredentialAdminToken(env, store)).toBe("absent");
    const first = generateToken();
    writeFileSync(join(creds, "admin-token"), first + "\n");
    expect(await syncCredentialAdminToken(env, store)).toBe("adopted");
    expect(store.verify(first)).toMatchObject({ ok: true, token: { role: "admin", name: CREDENTIAL_ADMIN_NAME } });
    // Only the digest is stored, never the token.
    expect(readFileSync(join(state, TOKENS_FILE), "utf8")).not.toContain(first);
    // A restart with the same credential changes nothing.
    expect(await syncCredentialAdminToken(env, openTokenStore(state))).toBe("unchanged");
    const second = generateToken();
    writeFileSync(join(creds, "admin-token"), second);
    expect(await syncCredentialAdminToken(env, store)).toBe("adopted");
    expect(store.verify(first).ok).toBe(false);
    expect(store.verify(second).ok).toBe(true);
    expect(store.list().filter((t) => t.name === CREDENTIAL_ADMIN_NAME)).toHaveLength(1);
    // An emptied Secret key (or systemd's empty SetCredential= default) revokes it.
    writeFileSync(join(creds, "admin-token"), "\n");
    expect(await syncCredentialAdminToken(env, store)).toBe("revoked");
    expect(store.verify(second).ok).toBe(false);
    writeFileSync(join(creds, "admin-token"), second);
    expect(await syncCredentialAdminToken(env, store)).toBe("adopted");
    rmSync(join(creds, "admin-token"));
    expect(await syncCredentialAdminToken(env, store)).toBe("revoked");
    expect(store.list()).toEqual([]);
  });

  it("rejects a malformed token with the file and a way to generate one, and stores nothing", async () => {
    const env = { CREDENTIALS_DIRECTORY: creds };
    const store = openTokenStore(state);
    writeFileSync(join(creds, "admin-token"), "hunter2-not-a-token");
    await expect(syncCredentialAdminToken(env, store)).rejects.toThrow(
      `the admin-token credential in ${creds} is not an aicfg token (expected aicfg_ and 49 letters or digits)`,
    );
    const good = generateToken();
    writeFileSync(join(creds, "admin-token"), good.slice(0, -1) + (good.endsWith("x") ? "y" : "x"));
    let hint = "";
    try {
      await syncCredentialAdminToken(env, store);
    } catch (e) {
      hint = (e as { hint: string }).hint;
      expect((e as Error).message).toContain("its checksum does not match");
    }
    expect(hint).toContain("aicfg token create --role admin");
    expect(store.list()).toEqual([]);
  });
});
