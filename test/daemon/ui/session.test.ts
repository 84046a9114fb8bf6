// Dashboard sessions on a manual clock: idle and absolute lifetimes, the credential's own expiry,
// revocation, the end signal live streams listen to, and a verifier other than the API tokens
// (what an OIDC sign-in plugs in as).
import { describe, expect, it } from "vitest";
import { openTokenStore } from "../../../src/daemon/auth/token-store.ts";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { createSessionStore, csrfMatches, hasRole, tokenVerifier, type CredentialVerifier } from "../../../src/daemon/ui/session.ts";
import { tempDir } from "../../helpers/fixtures.ts";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const HOUR = 3600_000;

describe("dashboard sessions", () => {
  it("end after the idle time and at the absolute lifetime, whichever comes first", async () => {
    const clock = createManualClock(T0);
    const sessions = createSessionStore({ now: clock.now, idleMs: HOUR, maxAgeMs: 3 * HOUR });
    const principal = { subject: "s", actor: "oidc:s", roles: ["viewer" as const], stillValid: () => true };
    const idle = sessions.create(principal);
    const busy = sessions.create(principal);
    for (let i = 0; i < 5; i++) {
      await clock.advance(HOUR / 2);
      expect(sessions.get(busy.cookie)).toBeDefined();
    }
    expect(sessions.get(idle.cookie)).toBeUndefined();
    expect(idle.session.ended.aborted).toBe(true);
    await clock.advance(HOUR / 2 + 1);
    expect(sessions.get(busy.cookie)).toBeUndefined();
    expect(busy.session.ended.aborted).toBe(true);
    expect(sessions.size()).toBe(0);
  });

  it("never outlive the token they came from, and end when it is revoked", async () => {
    const dir = tempDir("aicfg-session-");
    try {
      const clock = createManualClock(T0);
      const tokens = openTokenStore(dir.path, clock);
      const verify = tokenVerifier(tokens);
      const short = tokens.create({ role: "editor", name: "short", expiresAt: new Date(T0 + HOUR) });
      const long = tokens.create({ role: "admin", name: "long" });
      const sessions = createSessionStore({ now: clock.now });
      const a = await verify(short.token, new Date(clock.now()));
      const b = await verify(long.token, new Date(clock.now()));
      if (!a.ok || !b.ok) throw new Error("tokens should verify");
      expect(a.principal.roles).toEqual(["editor"]);
      expect(hasRole(a.principal, "viewer")).toBe(true);
      expect(hasRole(a.principal, "admin")).toBe(false);
      const sa = sessions.create(a.principal);
      const sb = sessions.create(b.principal);
      await clock.advance(HOUR);
      expect(sessions.get(sa.cookie)).toBeUndefined();
      expect(sessions.get(sb.cookie)).toBeDefined();
      tokens.revoke(long.record.id);
      expect(sessions.get(sb.cookie)).toBeUndefined();
      expect(await verify("aicfg_nonsense", new Date(clock.now()))).toEqual({ ok: false, reason: "not-a-token" });
    } finally {
      dir.cleanup();
    }
  });

  it("take any credential verifier (an identity provider's token, say)", async () => {
    const clock = createManualClock(T0);
    const idp: CredentialVerifier = async (credential, now) =>
      credential === "signed-id-token"
        ? {
            ok: true,
            principal: {
              subject: "https://idp.example|alice",
              actor: "oidc:alice",
              roles: ["viewer"],
              expiresAt: now.getTime() + HOUR,
              stillValid: () => true,
            },
          }
        : { ok: false, reason: "bad signature" };
    const sessions = createSessionStore({ now: clock.now });
    const r = await idp("signed-id-token", new Date(clock.now()));
    if (!r.ok) throw new Error("should verify");
    const s = sessions.create(r.principal);
    expect(sessions.get(s.cookie)?.principal.actor).toBe("oidc:alice");
    expect(s.session.csrf).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(csrfMatches(s.session.csrf, s.session.csrf)).toBe(true);
    expect(csrfMatches(s.session.csrf, s.session.csrf.slice(1))).toBe(false);
    expect(csrfMatches(s.session.csrf, undefined)).toBe(false);
    await clock.advance(HOUR);
    expect(sessions.get(s.cookie)).toBeUndefined();
    expect((await idp("forged", new Date(clock.now()))).ok).toBe(false);
  });
});
