// Dashboard sign-in: a credential is exchanged once for a session cookie. The exchange is written
// around one function, CredentialVerifier (credential -> verified principal with roles), so another
// kind of credential (an OIDC ID token) plugs in beside the API tokens without touching the sessions.
// Sessions live in memory (a daemon restart signs everyone out), keyed by the SHA-256 of the cookie
// value, each with its own CSRF token; they end on sign-out, after an idle time, at an absolute
// lifetime, when the credential expires, and as soon as the credential is revoked.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "../../library/hash.ts";
import { roleAtLeast, type Role, type TokenRecord, type TokenStore } from "../auth/token-store.ts";

export type VerifiedPrincipal = {
  /** Stable id of who signed in: the token id, or an OIDC issuer and subject. */
  subject: string;
  /** How the audit log and run records name them. */
  actor: string;
  roles: Role[];
  /** Only this library is visible (a library-scoped token). */
  library?: string;
  /** The credential's own expiry (epoch ms); the session never outlives it. */
  expiresAt?: number;
  /** The API token behind the session, when it was one (the audit line and /v1 principal carry it). */
  token?: TokenRecord;
  /** Is the credential still good (not revoked)? Asked on every request of the session. */
  stillValid: (now: Date) => boolean;
};

type CredentialCheck = { ok: true; principal: VerifiedPrincipal } | { ok: false; reason: string };

/** The one seam of the sign-in: a credential as the user pasted or the identity provider sent it. */
export type CredentialVerifier = (credential: string, now: Date) => Promise<CredentialCheck>;

/** API tokens (src/daemon/auth/token-store.ts) as dashboard credentials. */
export function tokenVerifier(tokens: TokenStore): CredentialVerifier {
  return async (credential, now) => {
    const check = tokens.verify(credential.trim(), now);
    if (!check.ok) return { ok: false, reason: check.reason };
    const t = check.token;
    return {
      ok: true,
      principal: {
        subject: t.id,
        actor: `token:${t.id}${t.name ? `(${t.name})` : ""}`,
        roles: [t.role],
        ...(t.library !== undefined ? { library: t.library } : {}),
        ...(t.expiresAt ? { expiresAt: Date.parse(t.expiresAt) } : {}),
        token: t,
        stillValid: (at) => {
          const rec = tokens.list().find((r) => r.id === t.id && r.digest === t.digest);
          return !!rec && (!rec.expiresAt || Date.parse(rec.expiresAt) > at.getTime());
        },
      },
    };
  };
}

export function hasRole(p: VerifiedPrincipal, need: Role): boolean {
  return p.roles.some((r) => roleAtLeast(r, need));
}

/** The highest role, for display. */
export function topRole(p: VerifiedPrincipal): Role {
  return (["admin", "editor", "viewer"] as const).find((r) => p.roles.includes(r)) ?? "viewer";
}

export type Session = {
  principal: VerifiedPrincipal;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** Aborted when the session ends: its live streams close. */
  ended: AbortSignal;
};

export type SessionStore = {
  /** A new session; returns the cookie value (shown to the browser only). */
  create: (principal: VerifiedPrincipal) => { cookie: string; session: Session };
  /** The live session of a cookie value, touched; undefined (and ended) when it expired or its credential was revoked. */
  get: (cookie: string | undefined) => Session | undefined;
  end: (cookie: string | undefined) => void;
  size: () => number;
};

export type SessionOptions = { now: () => number; idleMs?: number; maxAgeMs?: number; maxSessions?: number };

const IDLE_MS = 2 * 3600_000;
const MAX_AGE_MS = 12 * 3600_000;

export function createSessionStore(opts: SessionOptions): SessionStore {
  const idleMs = opts.idleMs ?? IDLE_MS;
  const maxAgeMs = opts.maxAgeMs ?? MAX_AGE_MS;
  const maxSessions = opts.maxSessions ?? 10_000;
  const sessions = new Map<string, Session & { stop: AbortController }>();
  const key = (cookie: string) => sha256(cookie);
  const drop = (k: string) => {
    const s = sessions.get(k);
    if (!s) return;
    sessions.delete(k);
    s.stop.abort();
  };
  return {
    create: (principal) => {
      if (sessions.size >= maxSessions) drop(sessions.keys().next().value!);
      const cookie = randomBytes(32).toString("base64url");
      const stop = new AbortController();
      const now = opts.now();
      const session = { principal, csrf: randomBytes(24).toString("base64url"), createdAt: now, lastSeen: now, ended: stop.signal, stop };
      sessions.set(key(cookie), session);
      return { cookie, session };
    },
    get: (cookie) => {
      if (!cookie || cookie.length > 100) return undefined;
      const k = key(cookie);
      const s = sessions.get(k);
      if (!s) return undefined;
      const now = opts.now();
      const expired =
        now - s.lastSeen > idleMs ||
        now - s.createdAt > maxAgeMs ||
        (s.principal.expiresAt !== undefined && now >= s.principal.expiresAt) ||
        !s.principal.stillValid(new Date(now));
      if (expired) {
        drop(k);
        return undefined;
      }
      s.lastSeen = now;
      return s;
    },
    end: (cookie) => {
      if (cookie) drop(key(cookie));
    },
    size: () => sessions.size,
  };
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
