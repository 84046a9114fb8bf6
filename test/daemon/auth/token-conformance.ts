// The API token store's conformance suite: the file store (tokens.json) and the PostgreSQL store run
// these same tests through the async-capable TokenStore interface (every call awaited, as the API
// awaits them). `tokenStoreConformance(name, factory)`: the factory gives a fresh, empty store on a
// manual clock, a second store on the same data (another process or replica), the raw stored bytes
// (to prove no token is in them) and a cleanup.
import { afterEach, describe, expect, it } from "vitest";
import { generateToken, tokenDigest } from "../../../src/daemon/auth/token-format.ts";
import { ensureLocalAdminToken, readLocalAdminToken, type TokenStore } from "../../../src/daemon/auth/token-store.ts";
import type { ManualClock } from "../../../src/daemon/clock.ts";
import { tempDir } from "../../helpers/fixtures.ts";

export type TokenStoreUnderTest = {
  store: TokenStore;
  clock: ManualClock;
  /** Another store on the same data: the CLI next to the daemon, or another replica. */
  other: () => Promise<TokenStore>;
  /** Everything the store wrote, as text. */
  stored: () => Promise<string>;
  cleanup: () => Promise<void>;
};

export function tokenStoreConformance(name: string, factory: () => Promise<TokenStoreUnderTest>): void {
  describe(`token store conformance: ${name}`, () => {
    let s: TokenStoreUnderTest | undefined;
    const open = async () => (s = await factory());
    afterEach(async () => {
      await s?.cleanup();
      s = undefined;
    });

    it("stores only the digest, verifies, expires on the store's clock, and revokes", async () => {
      const { store, clock, stored } = await open();
      const expiresAt = new Date(clock.now() + 60_000);
      const { token, record } = await store.create({ role: "editor", library: "team", name: "ci", expiresAt });
      expect(record).toMatchObject({ role: "editor", library: "team", name: "ci", hint: token.slice(0, 10) + "…", expiresAt: expiresAt.toISOString() });
      expect(record.createdAt).toBe(new Date(clock.now()).toISOString());
      const text = await stored();
      expect(text).toContain(tokenDigest(token));
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.slice(10, 40));
      expect(await store.verify(token)).toMatchObject({ ok: true, token: { id: record.id } });
      expect(await store.get(record.id)).toEqual(record);
      expect(await store.get("tok_000000000000")).toBeUndefined();
      await clock.advance(60_000);
      expect(await store.verify(token)).toMatchObject({ ok: false, reason: "expired", token: { id: record.id } });
      expect(await store.verify(token, new Date(clock.now() - 1))).toMatchObject({ ok: true });
      expect(await store.verify(generateToken())).toEqual({ ok: false, reason: "unknown" });
      expect(await store.revoke(record.id)).toBe(true);
      expect(await store.revoke(record.id)).toBe(false);
      expect(await store.get(record.id)).toBeUndefined();
      expect(await store.verify(token, new Date(clock.now() - 1))).toEqual({ ok: false, reason: "unknown" });
    });

    it("lists in creation order with org and library scopes; refuses bad names", async () => {
      const { store } = await open();
      const a = await store.create({ role: "admin", name: "ops" });
      const b = await store.create({ role: "viewer", org: "acme", library: "platform" });
      const c = await store.create({ role: "viewer", org: "default" });
      expect((await store.list()).map((t) => [t.id, t.org, t.library])).toEqual([
        [a.record.id, undefined, undefined],
        [b.record.id, "acme", "platform"],
        [c.record.id, undefined, undefined],
      ]);
      await expect(async () => store.create({ role: "viewer", library: "Not A Slug" })).rejects.toThrow("library name");
      await expect(async () => store.create({ role: "viewer", org: "Not A Slug" })).rejects.toThrow("org name");
      expect((await store.list()).length).toBe(3);
    });

    it("checks shape and checksum without reading the store", async () => {
      const { store } = await open();
      const { token } = await store.create({ role: "viewer" });
      await store.verify(token);
      const reads = store.reads();
      const bad = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
      expect(await store.verify(bad)).toEqual({ ok: false, reason: "bad-checksum" });
      expect(await store.verify("ghp_abc")).toEqual({ ok: false, reason: "not-a-token" });
      expect(store.reads()).toBe(reads);
    });

    it("a token created through one store is accepted by another on the same data, and a revocation refuses it there at once", async () => {
      const { store, other } = await open();
      const second = await other();
      expect(await second.list()).toEqual([]);
      const { token, record } = await store.create({ role: "viewer", name: "shared" });
      expect(await second.verify(token)).toMatchObject({ ok: true, token: { id: record.id } });
      expect(await second.revoke(record.id)).toBe(true);
      expect(await store.verify(token)).toEqual({ ok: false, reason: "unknown" });
    });

    it("adopts a well-formed token (replacing the record of the same token) and refuses a malformed one", async () => {
      const { store } = await open();
      const token = generateToken();
      const first = await store.adopt(token, { role: "viewer", name: "credential:x" });
      const again = await store.adopt(token, { role: "admin", name: "credential:x" });
      expect(again.id).toBe(first.id);
      expect((await store.list()).map((t) => [t.id, t.role])).toEqual([[first.id, "admin"]]);
      expect(await store.verify(token)).toMatchObject({ ok: true, token: { role: "admin" } });
      await expect(async () => store.adopt("aicfg_nope", { role: "admin", name: "x" })).rejects.toThrow("not an aicfg token");
    });

    it("keeps one local admin token per machine: reused while valid, replaced when revoked", async () => {
      const { store } = await open();
      const dir = tempDir("aicfg-local-admin-");
      try {
        const a = await ensureLocalAdminToken(dir.path, store);
        expect(readLocalAdminToken(dir.path)).toBe(a);
        expect(await ensureLocalAdminToken(dir.path, store)).toBe(a);
        const [rec] = await store.list();
        await store.revoke(rec!.id);
        const b = await ensureLocalAdminToken(dir.path, store);
        expect(b).not.toBe(a);
        expect((await store.list()).map((t) => [t.name, t.role])).toEqual([["local-admin", "admin"]]);
      } finally {
        dir.cleanup();
      }
    });
  });
}
