// Dashboard sign-in: a credential (an API token or an OIDC JWT) is exchanged once for a session
// cookie. The credential becomes a Principal through the same resolver /v1 uses
// (createApi(...).principals, src/daemon/auth/principal.ts); the session keeps that principal, never
// the credential, and checks it again on every request with `refresh` (the token still exists and is
// unexpired, the JWT is unexpired, the grants are the org's current bindings), so a revoked token or
// a removed binding takes effect at once. Sessions live in memory (a daemon restart signs everyone
// out), keyed by the SHA-256 of the cookie value, each with its own CSRF token; they end on
// sign-out, after an idle time, at an absolute lifetime, when the credential expires, and as soon
// as the refresh fails.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "../../library/hash.ts";
import type { Principal } from "../auth/principal.ts";

export type Session = {
  principal: Principal;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** Aborted when the session ends: its live streams close. */
  ended: AbortSignal;
};

export type SessionStore = {
  /** A new session; returns the cookie value (shown to the browser only). */
  create: (principal: Principal) => { cookie: string; session: Session };
  /**
   * The live session of a cookie value, touched, with its principal refreshed; undefined (and the
   * session ended) when it expired or its principal no longer resolves. Throws when the refresh
   * itself failed (a store that cannot be read): the session is kept, the request fails closed.
   */
  get: (cookie: string | undefined) => Promise<Session | undefined>;
  end: (cookie: string | undefined) => void;
  size: () => number;
};

/** A principal checked again, or undefined when it no longer holds (revoked, expired, org deleted). */
export type PrincipalRefresh = (principal: Principal) => Promise<Principal | undefined>;

export type SessionOptions = { now: () => number; refresh: PrincipalRefresh; idleMs?: number; maxAgeMs?: number; maxSessions?: number };

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
    get: async (cookie) => {
      if (!cookie || cookie.length > 100) return undefined;
      const k = key(cookie);
      const s = sessions.get(k);
      if (!s) return undefined;
      const now = opts.now();
      const expired = now - s.lastSeen > idleMs || now - s.createdAt > maxAgeMs || (s.principal.expiresAt !== undefined && now >= s.principal.expiresAt);
      if (expired) {
        drop(k);
        return undefined;
      }
      const fresh = await opts.refresh(s.principal);
      // Ended meanwhile (sign-out during the refresh): stays ended.
      if (!fresh || sessions.get(k) !== s) {
        drop(k);
        return undefined;
      }
      s.principal = fresh;
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

/** How the page header describes who is signed in: the actor, the org, and a token's role and library. */
export function principalLabel(p: Principal): string {
  const parts = [p.actor, `org ${p.org}`];
  if (p.token) parts.push(p.token.library ? `${p.token.role} of library ${p.token.library}` : p.token.role);
  if (p.kind === "user") parts.push(`${p.grants.length} binding${p.grants.length === 1 ? "" : "s"}`);
  return parts.join(" · ");
}
