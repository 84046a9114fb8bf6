// Dashboard sessions on a manual clock: idle and absolute lifetimes, the credential's own expiry,
// and the principal refreshed with the API's resolver on every use (a revoked token, a removed
// binding or a deleted org take effect at once), the end signal live streams listen to.
import { describe, expect, it } from "vitest";
import { createPrincipalResolver, type Principal } from "../../../src/daemon/auth/principal.ts";
import { openTokenStore } from "../../../src/daemon/auth/token-store.ts";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { openFileTenancyStore } from "../../../src/daemon/tenancy/file-store.ts";
import { createSessionStore, csrfMatches, type PrincipalRefresh } from "../../../src/daemon/ui/session.ts";
import { tempDir } from "../../helpers/fixtures.ts";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const HOUR = 3600_000;

const user = (extra: Partial<Principal> = {}): Principal => ({
  kind: "user",
  actor: "user:usr_0123456789abcdef",
  org: "acme",
  subjects: ["user:https://idp.example|alice"],
  serverAdmin: false,
  grants: [],
  ...extra,
});
const keep: PrincipalRefresh = async (p) => p;

describe("dashboard sessions", () => {
  it("end after the idle time and at the absolute lifetime, whichever comes first", async () => {
    const clock = createManualClock(T0);
    const sessions = createSessionStore({ now: clock.now, refresh: keep, idleMs: HOUR, maxAgeMs: 3 * HOUR });
    const idle = sessions.create(user());
    const busy = sessions.create(user());
    for (let i = 0; i < 5; i++) {
      await clock.advance(HOUR / 2);
      expect(await sessions.get(busy.cookie)).toBeDefined();
    }
    expect(await sessions.get(idle.cookie)).toBeUndefined();
    expect(idle.session.ended.aborted).toBe(true);
    await clock.advance(HOUR / 2 + 1);
    expect(await sessions.get(busy.cookie)).toBeUndefined();
    expect(busy.session.ended.aborted).toBe(true);
    expect(sessions.size()).toBe(0);
  });

  it("never outlive the credential (a JWT's exp), and have a CSRF token of their own", async () => {
    const clock = createManualClock(T0);
    const sessions = createSessionStore({ now: clock.now, refresh: keep });
    const s = sessions.create(user({ expiresAt: T0 + HOUR }));
    expect((await sessions.get(s.cookie))?.principal.actor).toBe("user:usr_0123456789abcdef");
    expect(s.session.csrf).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(csrfMatches(s.session.csrf, s.session.csrf)).toBe(true);
    expect(csrfMatches(s.session.csrf, s.session.csrf.slice(1))).toBe(false);
    expect(csrfMatches(s.session.csrf, undefined)).toBe(false);
    await clock.advance(HOUR);
    expect(await sessions.get(s.cookie)).toBeUndefined();
    expect(s.session.ended.aborted).toBe(true);
  });

  it("refresh the principal with the API's resolver: the token's expiry, its revocation, a removed binding and a deleted org end or narrow them", async () => {
    const dir = tempDir("aicfg-session-");
    try {
      const clock = createManualClock(T0);
      const tokens = openTokenStore(dir.path, clock);
      const tenancy = openFileTenancyStore(dir.path, clock);
      const principals = createPrincipalResolver({ tokens, tenancy, clock });
      const refresh: PrincipalRefresh = async (p) => {
        const r = await principals.refresh(p);
        return r.ok ? r.principal : undefined;
      };
      const sessions = createSessionStore({ now: clock.now, refresh });
      await tenancy.createOrg("acme");
      const short = tokens.create({ role: "editor", name: "short", expiresAt: new Date(T0 + HOUR) });
      const long = tokens.create({ role: "viewer", name: "long" });
      const acme = tokens.create({ role: "viewer", name: "acme", org: "acme" });
      const signIn = async (credential: string) => {
        const r = await principals.resolve(credential);
        if (!r.ok) throw new Error(r.message);
        return sessions.create(r.principal);
      };
      const sa = await signIn(short.token);
      const sb = await signIn(long.token);
      const sc = await signIn(acme.token);
      expect(sa.session.principal.expiresAt).toBe(T0 + HOUR);
      // A binding made after sign-in is seen by the next request; removed, it is gone again.
      const b = await tenancy.createBinding("default", { subject: `token:${long.record.id}`, role: "admin", scope: "org/default/lib/team" });
      expect((await sessions.get(sb.cookie))!.principal.grants.map((g) => g.ruleId)).toEqual([`token:${long.record.id}`, `binding:${b.id}`]);
      await tenancy.deleteBinding("default", b.id);
      expect((await sessions.get(sb.cookie))!.principal.grants.map((g) => g.ruleId)).toEqual([`token:${long.record.id}`]);
      await clock.advance(HOUR);
      expect(await sessions.get(sa.cookie)).toBeUndefined();
      expect(await sessions.get(sb.cookie)).toBeDefined();
      tokens.revoke(long.record.id);
      expect(await sessions.get(sb.cookie)).toBeUndefined();
      expect(sb.session.ended.aborted).toBe(true);
      expect(await sessions.get(sc.cookie)).toBeDefined();
      await tenancy.deleteOrg("acme");
      expect(await sessions.get(sc.cookie)).toBeUndefined();
      expect(sessions.size()).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it("keep the session but fail the request when the refresh cannot be done (fail closed)", async () => {
    const clock = createManualClock(T0);
    let down = false;
    const sessions = createSessionStore({
      now: clock.now,
      refresh: async (p) => {
        if (down) throw new Error("tenancy.json unreadable");
        return p;
      },
    });
    const s = sessions.create(user());
    down = true;
    await expect(sessions.get(s.cookie)).rejects.toThrow("unreadable");
    down = false;
    expect(await sessions.get(s.cookie)).toBeDefined();
  });
});
