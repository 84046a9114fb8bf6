// OIDC resource-server checks against a real issuer on loopback (a real HTTP JWKS endpoint).
// Time: claims are checked at the test's fixed instant (currentDate), never the machine's clock.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CompactSign, SignJWT, UnsecuredJWT } from "jose";
import { createOidcVerifier, OidcConfig, type OidcResult } from "../../../src/daemon/auth/oidc.ts";
import { startIssuer, type IssuerKey, type TestIssuer } from "../../helpers/oidc-issuer.ts";

const NOW = Date.parse("2026-11-24T10:00:00.000Z");
const now = new Date(NOW);
const s = Math.floor(NOW / 1000);
const AUD = "aicfg-api";

let idp: TestIssuer;
let key: IssuerKey;

function verifierFor(issuer: TestIssuer, extra: Record<string, unknown> = {}) {
  return createOidcVerifier(OidcConfig.parse({ issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, org: "acme", audience: AUD, ...extra }] }));
}
const claims = (extra: Record<string, unknown> = {}) => ({ iss: idp.issuer, aud: AUD, sub: "user-42", name: "Ann", groups: ["eng", "ops"], ...extra });
const codeOf = (r: OidcResult) => (r.ok ? "ok" : `${r.status} ${r.code}`);

beforeEach(async () => {
  idp = await startIssuer();
  key = await idp.newKey("RS256");
  idp.publish([key]);
});
afterEach(async () => {
  await idp.close();
});

describe("OIDC bearer tokens", () => {
  it("accepts a valid RS256 and ES256 token: org from the issuer, user keyed by issuer and subject, groups from the claim", async () => {
    const es = await idp.newKey("ES256");
    idp.publish([key, es]);
    const v = verifierFor(idp);
    const r = await v.verify(await idp.sign(key, claims(), { iat: s - 10 }), now);
    // expiresAt is the token's exp (iat + 3600 here): a dashboard session made from it ends then.
    expect(r).toEqual({
      ok: true,
      identity: { org: "acme", issuer: idp.issuer, subject: "user-42", name: "Ann", groups: ["eng", "ops"], expiresAt: (s - 10 + 3600) * 1000 },
    });
    expect(codeOf(await v.verify(await idp.sign(es, claims(), { iat: s - 10 }), now))).toBe("ok");
    // A custom groups claim; non-string members are dropped.
    const v2 = verifierFor(idp, { groupsClaim: "roles" });
    const r2 = await v2.verify(await idp.sign(key, claims({ roles: ["a", 7, ""] }), { iat: s }), now);
    expect(r2.ok && r2.identity.groups).toEqual(["a"]);
  });

  it("refuses alg none, and HS256 signed with the issuer's RSA public key (algorithm confusion)", async () => {
    const v = verifierFor(idp);
    const none = new UnsecuredJWT(claims())
      .setIssuedAt(s)
      .setExpirationTime(s + 600)
      .encode();
    expect(codeOf(await v.verify(none, now))).toBe("401 invalid-token");
    for (const secret of [JSON.stringify(key.publicJwk), key.publicJwk.n!]) {
      const hs = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: key.kid })
        .setIssuedAt(s)
        .setExpirationTime(s + 600)
        .sign(new TextEncoder().encode(secret));
      const r = await v.verify(hs, now);
      expect(codeOf(r)).toBe("401 invalid-token");
      expect(!r.ok && r.message).toMatch(/algorithm/);
    }
    // Even an allowlist asking for HS256 is refused by the config schema (asymmetric algorithms only).
    expect(OidcConfig.safeParse({ issuers: [{ issuer: "x", jwksUri: idp.jwksUri, org: "acme", audience: AUD, algorithms: ["HS256"] }] }).success).toBe(false);
  });

  it("checks expiry and not-before within a bounded leeway", async () => {
    const v = verifierFor(idp, { clockToleranceSeconds: 30 });
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s - 3600, exp: s - 120 }), now))).toBe("401 token-expired");
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s - 3600, exp: s - 10 }), now))).toBe("ok");
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s, nbf: s + 120 }), now))).toBe("401 invalid-token");
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s, nbf: s + 10 }), now))).toBe("ok");
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s, exp: null }), now))).toBe("401 invalid-token");
    expect(OidcConfig.safeParse({ issuers: [{ issuer: "x", jwksUri: idp.jwksUri, org: "acme", audience: AUD, clockToleranceSeconds: 301 }] }).success).toBe(
      false,
    );
  });

  it("refuses a wrong audience, an unknown issuer, a missing subject and a tampered payload", async () => {
    const v = verifierFor(idp);
    expect(codeOf(await v.verify(await idp.sign(key, claims({ aud: "other-api" }), { iat: s }), now))).toBe("401 invalid-token");
    expect(codeOf(await v.verify(await idp.sign(key, claims({ iss: "https://evil.example" }), { iat: s }), now))).toBe("401 unknown-issuer");
    expect(codeOf(await v.verify(await idp.sign(key, claims({ sub: undefined }), { iat: s }), now))).toBe("401 invalid-token");
    const good = await idp.sign(key, claims(), { iat: s });
    const [h, , sig] = good.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claims({ sub: "admin" }), iat: s, exp: s + 3600 })).toString("base64url");
    expect(codeOf(await v.verify(`${h}.${forged}.${sig}`, now))).toBe("401 invalid-token");
    expect(codeOf(await v.verify("not.a.jwt", now))).toBe("401 invalid-token");
  });

  it("a token of another configured issuer is checked against that issuer's keys and maps to its org", async () => {
    const other = await startIssuer();
    try {
      const otherKey = await other.newKey("RS256", key.kid);
      other.publish([otherKey]);
      const v = createOidcVerifier(
        OidcConfig.parse({
          issuers: [
            { issuer: idp.issuer, jwksUri: idp.jwksUri, org: "acme", audience: AUD },
            { issuer: other.issuer, jwksUri: other.jwksUri, org: "beta", audience: AUD },
          ],
        }),
      );
      const r = await v.verify(await other.sign(otherKey, claims({ iss: other.issuer }), { iat: s }), now);
      expect(r.ok && r.identity.org).toBe("beta");
      // The other issuer's key (same kid) claiming to be acme's issuer: not acme's key.
      expect(codeOf(await v.verify(await other.sign(otherKey, claims(), { iat: s }), now))).toBe("401 invalid-token");
    } finally {
      await other.close();
    }
  });

  it("an unknown kid re-fetches the JWKS at most once per cooldown", async () => {
    const v = verifierFor(idp, { jwksCooldownSeconds: 30 });
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("ok");
    expect(idp.hits()).toBe(1);
    const stranger = await idp.newKey("RS256", "unknown-kid");
    expect(codeOf(await v.verify(await idp.sign(stranger, claims(), { iat: s }), now))).toBe("401 invalid-token");
    expect(codeOf(await v.verify(await idp.sign(stranger, claims(), { iat: s }), now))).toBe("401 invalid-token");
    // Within the cooldown after the first fetch: no fetch at all for unknown kids.
    expect(idp.hits()).toBe(1);
  });

  it("key rotation: a new kid is picked up, a removed one is refused", async () => {
    const v = verifierFor(idp, { jwksCooldownSeconds: 0 });
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("ok");
    const k2 = await idp.newKey("RS256");
    idp.publish([k2]);
    expect(codeOf(await v.verify(await idp.sign(k2, claims(), { iat: s }), now))).toBe("ok");
    expect(idp.hits()).toBe(2);
    expect(codeOf(await v.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("401 invalid-token");
  });

  it("JWKS endpoint down: cached keys keep working; without keys the answer is 503 with a retry time, never allow", async () => {
    const cached = verifierFor(idp);
    expect(codeOf(await cached.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("ok");
    idp.fail(true);
    expect(codeOf(await cached.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("ok");
    const fresh = verifierFor(idp, { jwksCooldownSeconds: 20 });
    const r = await fresh.verify(await idp.sign(key, claims(), { iat: s }), now);
    expect(r).toMatchObject({ ok: false, status: 503, code: "auth-unavailable", retryAfter: 20 });
    // The server gone entirely (connection refused).
    const gone = verifierFor(idp);
    await idp.close();
    expect(codeOf(await gone.verify(await idp.sign(key, claims(), { iat: s }), now))).toBe("503 auth-unavailable");
    idp = await startIssuer();
  });

  it("the config refuses http JWKS off loopback and duplicate issuers", () => {
    const base = { issuer: "https://idp.example", org: "acme", audience: AUD };
    expect(OidcConfig.safeParse({ issuers: [{ ...base, jwksUri: "http://idp.example/jwks" }] }).success).toBe(false);
    expect(OidcConfig.safeParse({ issuers: [{ ...base, jwksUri: "https://idp.example/jwks" }] }).success).toBe(true);
    expect(OidcConfig.safeParse({ issuers: [base, base].map((b) => ({ ...b, jwksUri: "https://idp.example/jwks" })) }).success).toBe(false);
  });
});

// A JWS that is not a JWT at all is refused the same way.
describe("not a JWT", () => {
  it("a signed non-JSON payload is invalid", async () => {
    const jws = await new CompactSign(new TextEncoder().encode("hello")).setProtectedHeader({ alg: "RS256", kid: key.kid }).sign(key.privateKey);
    expect(codeOf(await verifierFor(idp).verify(jws, now))).toBe("401 invalid-token");
  });
});
