// OIDC as a resource server (team-scale design §3.3): a bearer JWT is accepted only when it is
// signed with an allowed algorithm by a key of the configured issuer's JWKS (fetched over HTTP,
// cached, re-fetched for an unknown `kid` at most once per cooldown), and its issuer, audience,
// expiry and not-before hold within a bounded clock leeway. The issuer names the org; the user is
// `issuer|subject` (never an email); the groups claim names the groups bindings can grant to.
// An unreachable JWKS answers 503 (never "allow"); everything else wrong answers 401.
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { Slug } from "../../library/schema.ts";

/** Asymmetric algorithms only: a shared-secret (HS*) or `none` token can never be accepted. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

/** Plain http is accepted only for an issuer on this machine (keys fetched over the network must be authenticated). */
const isLoopbackHost = (host: string): boolean => host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
const HttpsUrl = z.url().refine((u) => {
  const url = new URL(u);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}, "must be an https URL (http only on loopback)");

const OidcIssuerConfig = z.strictObject({
  /** The exact `iss` of the tokens. */
  issuer: z.string().min(1).max(300),
  /** Where the issuer publishes its keys (its discovery document's jwks_uri). */
  jwksUri: HttpsUrl,
  /** The org this issuer's users belong to. */
  org: Slug,
  /** The `aud` value(s) a token must carry (this API's client id or resource name). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(["RS256", "ES256"]),
  /** Allowed clock difference for exp/nbf/iat, in seconds (bounded: a large leeway revives expired tokens). */
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  /** The claim holding the user's groups (an array of strings). */
  groupsClaim: z.string().min(1).default("groups"),
  /** The claim shown as the user's name (display only). */
  nameClaim: z.string().min(1).default("name"),
  /** An unknown `kid` re-fetches the JWKS at most this often (seconds). */
  jwksCooldownSeconds: z.number().int().min(0).max(3600).default(30),
  /** Keys are used at most this long without a successful re-fetch (seconds). */
  jwksCacheMaxAgeSeconds: z.number().int().min(1).max(86_400).default(600),
  jwksTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

export const OidcConfig = z
  .strictObject({ issuers: z.array(OidcIssuerConfig).default([]) })
  .refine((c) => new Set(c.issuers.map((i) => i.issuer)).size === c.issuers.length, "each issuer may be listed once");
export type OidcConfig = z.infer<typeof OidcConfig>;

type OidcIdentity = {
  org: string;
  issuer: string;
  subject: string;
  name?: string;
  groups: string[];
  /** The token's `exp` (epoch ms): a session made from it ends then. */
  expiresAt?: number;
};

export type OidcResult = { ok: true; identity: OidcIdentity } | { ok: false; status: 401 | 503; code: string; message: string; retryAfter?: number };

export type OidcVerifier = {
  /** Verifies a compact JWT at time `now` (the daemon's clock decides expiry, not the machine's). */
  verify: (jwt: string, now: Date) => Promise<OidcResult>;
  /** Issuers this verifier accepts. */
  issuers: () => string[];
};

/** Looks like a compact JWS (three base64url parts): what tells a JWT from an API token. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

const reject = (code: string, message: string): OidcResult => ({ ok: false, status: 401, code, message });

export function createOidcVerifier(config: OidcConfig): OidcVerifier {
  const byIssuer = new Map(
    config.issuers.map((i) => [
      i.issuer,
      {
        cfg: i,
        keys: createRemoteJWKSet(new URL(i.jwksUri), {
          cooldownDuration: i.jwksCooldownSeconds * 1000,
          cacheMaxAge: i.jwksCacheMaxAgeSeconds * 1000,
          timeoutDuration: i.jwksTimeoutMs,
        }),
      },
    ]),
  );
  return {
    issuers: () => [...byIssuer.keys()],
    verify: async (jwt, now) => {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(jwt);
      } catch {
        return reject("invalid-token", "the bearer token is not a JWT");
      }
      const entry = typeof unverified.iss === "string" ? byIssuer.get(unverified.iss) : undefined;
      if (!entry) return reject("unknown-issuer", "the token's issuer is not configured here");
      const { cfg, keys } = entry;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(jwt, keys, {
          issuer: cfg.issuer,
          audience: cfg.audience,
          algorithms: cfg.algorithms,
          clockTolerance: cfg.clockToleranceSeconds,
          currentDate: now,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (e) {
        if (e instanceof errors.JWTExpired) return reject("token-expired", "the token has expired");
        if (e instanceof errors.JWTClaimValidationFailed) return reject("invalid-token", `the token's ${e.claim} claim is not valid here`);
        if (e instanceof errors.JOSEAlgNotAllowed) return reject("invalid-token", "the token's algorithm is not allowed");
        if (e instanceof errors.JWKSNoMatchingKey) return reject("invalid-token", "no key of the issuer matches the token");
        if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError) || e.code === "ERR_JOSE_GENERIC")
          return {
            ok: false,
            status: 503,
            code: "auth-unavailable",
            message: "the identity provider's keys cannot be fetched right now",
            retryAfter: Math.max(1, cfg.jwksCooldownSeconds),
          };
        return reject("invalid-token", "the token's signature or shape is not valid");
      }
      const subject = payload.sub;
      if (typeof subject !== "string" || !subject) return reject("invalid-token", "the token has no subject");
      const rawGroups = payload[cfg.groupsClaim];
      const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === "string" && g.length > 0 && g.length <= 200) : [];
      const name = payload[cfg.nameClaim];
      return {
        ok: true,
        identity: {
          org: cfg.org,
          issuer: cfg.issuer,
          subject,
          groups,
          ...(typeof name === "string" && name ? { name: name.slice(0, 200) } : {}),
          ...(typeof payload.exp === "number" ? { expiresAt: payload.exp * 1000 } : {}),
        },
      };
    },
  };
}
