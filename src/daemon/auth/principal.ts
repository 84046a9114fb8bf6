// From a request's credential to a verified principal: an API token (`aicfg_…`, checked against
// the token store) or an OIDC bearer JWT (checked by the OIDC verifier), then the principal's org
// and grants: a token's own role at its scope, plus every binding of the org naming the token, the
// user or one of the user's groups. The HTTP API calls this for every /v1 request; the dashboard
// calls the same `resolve` when it exchanges a token or an OIDC sign-in for a session.
import type { Clock } from "../clock.ts";
import { BUILTIN_ROLES, DEFAULT_ORG, libraryPath, orgPath, roleActions, type Grant } from "../tenancy/policy.ts";
import type { TenancyStore, UserRecord } from "../tenancy/types.ts";
import { looksLikeJwt, type OidcVerifier } from "./oidc.ts";
import type { TokenRecord, TokenStore } from "./token-store.ts";

export type Principal = {
  kind: "token" | "user";
  /** For logs and run records: `token:<id>(name)` or `user:<usr_id>`; never a credential. */
  actor: string;
  /** The org the credential belongs to: everything outside it is absent for this principal. */
  org: string;
  token?: TokenRecord;
  user?: UserRecord;
  /** Binding subjects this principal answers to (`token:…`, `user:iss|sub`, `group:iss|name`). */
  subjects: string[];
  /** An unscoped admin token of the default org administers the instance: it creates orgs and acts in every org. */
  serverAdmin: boolean;
  grants: Grant[];
  /** When the credential stops being valid (epoch ms): the token's expiry or the JWT's `exp`. */
  expiresAt?: number;
};

type ResolveFailure = {
  ok: false;
  status: 401 | 503;
  code: string;
  message: string;
  /** Seconds, for a 503 (the identity provider is unreachable). */
  retryAfter?: number;
};
type ResolveResult = { ok: true; principal: Principal } | ResolveFailure;

export type PrincipalResolver = {
  /** Verifies one credential (the text after `Bearer `). */
  resolve: (credential: string) => Promise<ResolveResult>;
  /**
   * Checks a principal resolved earlier again without its credential (a dashboard session keeps the
   * principal, never the credential): the token must still exist unchanged and unexpired, the JWT be
   * unexpired, the org exist; the grants are read again from the org's current bindings.
   */
  refresh: (principal: Principal) => Promise<ResolveResult>;
};

export function tokenOrg(t: TokenRecord): string {
  return t.org ?? DEFAULT_ORG;
}

function isServerAdmin(t: TokenRecord): boolean {
  return t.role === "admin" && t.org === undefined && t.library === undefined;
}

export function createPrincipalResolver(deps: { tokens: TokenStore; tenancy: TenancyStore; oidc?: OidcVerifier; clock: Clock }): PrincipalResolver {
  const grantsFor = async (org: string, subjects: string[], own: Grant[]): Promise<Grant[]> => {
    const subjectSet = new Set(subjects);
    const bindings = (await deps.tenancy.listBindings(org)).filter((b) => subjectSet.has(b.subject));
    if (!bindings.length) return own;
    const roles = await deps.tenancy.listRoles(org);
    const out = [...own];
    for (const b of bindings) {
      const actions = roleActions(b.role, roles);
      // A binding to a role deleted meanwhile grants nothing (the store refuses that, another writer might not).
      if (actions) out.push({ scope: b.scope, actions: new Set(actions), ruleId: `binding:${b.id}` });
    }
    return out;
  };

  const ofToken = async (t: TokenRecord): Promise<ResolveResult> => {
    const org = tokenOrg(t);
    if (!(await deps.tenancy.getOrg(org))) return { ok: false, status: 401, code: "invalid-token", message: "the API token's org no longer exists" };
    const scope = t.library ? libraryPath(org, t.library) : orgPath(org);
    const subjects = [`token:${t.id}`];
    const grants = await grantsFor(org, subjects, [{ scope, actions: new Set(BUILTIN_ROLES[t.role]), ruleId: `token:${t.id}` }]);
    return {
      ok: true,
      principal: {
        kind: "token",
        actor: `token:${t.id}${t.name ? `(${t.name})` : ""}`,
        org,
        token: t,
        subjects,
        serverAdmin: isServerAdmin(t),
        grants,
        ...(t.expiresAt ? { expiresAt: Date.parse(t.expiresAt) } : {}),
      },
    };
  };

  const fromToken = async (credential: string): Promise<ResolveResult> => {
    const check = await deps.tokens.verify(credential, new Date(deps.clock.now()));
    if (!check.ok) {
      const expired = check.reason === "expired";
      return {
        ok: false,
        status: 401,
        code: expired ? "token-expired" : "invalid-token",
        message: expired ? "the API token has expired" : "the API token is not valid",
      };
    }
    return ofToken(check.token);
  };

  const fromJwt = async (credential: string): Promise<ResolveResult> => {
    if (!deps.oidc) return { ok: false, status: 401, code: "invalid-token", message: "OIDC tokens are not accepted here (no issuer is configured)" };
    const r = await deps.oidc.verify(credential, new Date(deps.clock.now()));
    if (!r.ok) return { ok: false, status: r.status, code: r.code, message: r.message, ...(r.retryAfter ? { retryAfter: r.retryAfter } : {}) };
    const { org, issuer, subject, groups } = r.identity;
    if (!(await deps.tenancy.getOrg(org))) return { ok: false, status: 401, code: "invalid-token", message: "the issuer's org does not exist" };
    const user = await deps.tenancy.seeUser(org, { issuer, subject, groups, ...(r.identity.name ? { name: r.identity.name } : {}) });
    const subjects = [`user:${issuer}|${subject}`, ...groups.map((g) => `group:${issuer}|${g}`)];
    // Deny by default: a user holds only what bindings grant (no role comes with signing in).
    const grants = await grantsFor(org, subjects, []);
    return {
      ok: true,
      principal: {
        kind: "user",
        actor: `user:${user.id}`,
        org,
        user,
        subjects,
        serverAdmin: false,
        grants,
        ...(r.identity.expiresAt !== undefined ? { expiresAt: r.identity.expiresAt } : {}),
      },
    };
  };

  const gone = (message: string): ResolveFailure => ({ ok: false, status: 401, code: "invalid-token", message });
  const refresh = async (p: Principal): Promise<ResolveResult> => {
    const now = deps.clock.now();
    if (p.expiresAt !== undefined && now >= p.expiresAt) return { ok: false, status: 401, code: "token-expired", message: "the credential has expired" };
    if (p.kind === "token") {
      const t = p.token;
      const found = t ? await deps.tokens.get(t.id) : undefined;
      const rec = found && found.digest === t!.digest ? found : undefined;
      if (!rec) return gone("the API token was revoked");
      if (rec.expiresAt && Date.parse(rec.expiresAt) <= now) return { ok: false, status: 401, code: "token-expired", message: "the API token has expired" };
      return ofToken(rec);
    }
    if (!(await deps.tenancy.getOrg(p.org))) return gone("the user's org no longer exists");
    // The groups are the ones the JWT carried at sign-in; the bindings are the org's current ones.
    return { ok: true, principal: { ...p, grants: await grantsFor(p.org, p.subjects, []) } };
  };

  return { resolve: (credential) => (looksLikeJwt(credential) ? fromJwt(credential) : fromToken(credential)), refresh };
}
