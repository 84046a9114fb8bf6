// Response helpers shared by the routes: JSON passed through the secret scrubber, and the checks a
// handler adds on top of its route's gate: the resource must be in the caller's org and covered by a
// grant (else 404: nothing outside is visible), then the action itself (else 403). Each check leaves
// its decision on the request for the audit row.
import { can, canWithin, DEFAULT_ORG, libraryPath, orgPath, workflowPath, type Action, type Decision, type Grant } from "../tenancy/policy.ts";
import type { SecretRegistry } from "../telemetry/redact.ts";
import { ApiError } from "./errors.ts";
import type { ApiContext } from "./route.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response whose text went through the scrubber (no registered secret leaves in a body). */
export function sendJson(secrets: SecretRegistry | undefined, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(secrets ? secrets.scrub(text) : text, { status, headers: { "content-type": JSON_TYPE, ...headers } });
}

/** The org a library belongs to (daemon.yaml `libraries: [{ path, org }]`; the default org otherwise). */
export function libraryOrg(c: ApiContext, library: string): string {
  return c.get("orgOfLibrary")?.(library) ?? DEFAULT_ORG;
}

function decide(c: ApiContext, d: Decision, action: Action | "server-admin", resource: string): boolean {
  const prev = c.get("decision");
  // A denial sticks: the audit row of a request that was refused anywhere says deny.
  if (!prev || prev.decision === "allow") c.set("decision", { decision: d.allow ? "allow" : "deny", action, resource, ruleId: d.ruleId });
  return d.allow;
}

function grantsOf(c: ApiContext): readonly Grant[] {
  return c.get("principal")?.grants ?? [];
}

/** The principal may view something in this library (in its own org); anything else is reported as absent (no existence leak). */
export function canSeeLibrary(c: ApiContext, library: string): boolean {
  const p = c.get("principal");
  const org = libraryOrg(c, library);
  if (!p || p.org !== org) return false;
  return canWithin(grantsOf(c), "view", libraryPath(org, library)).allow;
}

/** The principal may view this workflow (and its runs). */
export function canSeeWorkflow(c: ApiContext, library: string, workflow: string): boolean {
  const p = c.get("principal");
  const org = libraryOrg(c, library);
  if (!p || p.org !== org) return false;
  return can(grantsOf(c), "view", workflowPath(org, library, workflow)).allow;
}

/** The library itself (its agents, health, conflicts): a grant covering the whole library; a workflow's binding is not enough. */
export function requireWholeLibrary(c: ApiContext, library: string, what: string): void {
  const p = c.get("principal");
  const org = libraryOrg(c, library);
  const resource = libraryPath(org, library);
  const d: Decision = p && p.org === org ? can(p.grants, "view", resource) : { allow: false, ruleId: "default-deny" };
  if (!decide(c, d, "view", resource)) throw new ApiError(404, "not-found", `${what} not found`);
}

export function requireLibrary(c: ApiContext, library: string, what: string): void {
  const resource = libraryPath(libraryOrg(c, library), library);
  if (!canSeeLibrary(c, library)) {
    decide(c, { allow: false, ruleId: "default-deny" }, "view", resource);
    throw new ApiError(404, "not-found", `${what} not found`);
  }
}

export function requireWorkflow(c: ApiContext, library: string, workflow: string, what: string): void {
  const resource = workflowPath(libraryOrg(c, library), library, workflow);
  if (!decide(c, canSeeWorkflow(c, library, workflow) ? { allow: true, ruleId: "view" } : { allow: false, ruleId: "default-deny" }, "view", resource))
    throw new ApiError(404, "not-found", `${what} not found`);
}

/** Requires one action on one resource the principal can already see (a 403 says which action). */
export function requireAction(c: ApiContext, action: Action, resource: string, why: string): void {
  if (!decide(c, can(grantsOf(c), action, resource), action, resource)) {
    throw new ApiError(403, "forbidden", `this needs the ${action} action on ${resource}: ${why}`, {
      hint: "ask an admin of the org for a role binding (aicfg binding create) or a token with a higher --role",
    });
  }
}

/** Instance-wide settings and orgs: only the server admin (an unscoped admin token of the default org). */
export function requireServerAdmin(c: ApiContext, why: string): void {
  const p = c.get("principal");
  if (!decide(c, p?.serverAdmin ? { allow: true, ruleId: "server-admin" } : { allow: false, ruleId: "default-deny" }, "server-admin", "instance")) {
    throw new ApiError(403, "forbidden", `this needs the server admin: ${why}`, {
      hint: "use an unscoped admin token of the default org (aicfg token create --role admin)",
    });
  }
}

/**
 * The gate of every `/v1/orgs/:org/...` route: another org is absent (404, never 403), the server
 * admin acts in every org, anyone else needs the action on the resource (403).
 */
export function requireInOrg(c: ApiContext, org: string, action: Action | "member", resource: string, why: string): void {
  const p = c.get("principal");
  const as = action === "member" ? "view" : action;
  if (p?.serverAdmin) {
    decide(c, { allow: true, ruleId: "server-admin" }, as, resource);
    return;
  }
  const member = p && p.org === org ? canWithin(p.grants, "view", orgPath(org)) : undefined;
  if (!member?.allow) {
    decide(c, { allow: false, ruleId: "default-deny" }, as, resource);
    throw new ApiError(404, "not-found", `org ${org} not found`, { hint: "list the orgs you belong to with GET /v1/orgs" });
  }
  // "member": seeing the org itself needs only a grant somewhere in it.
  if (action === "member") decide(c, member, as, resource);
  else requireAction(c, action, resource, why);
}

/** Records the route gate's decision (app.ts). */
export function gateDecision(c: ApiContext, action: Action, resource: string, d: Decision): boolean {
  return decide(c, d, action, resource);
}

export function actorOf(c: ApiContext): string {
  return c.get("principal")?.actor ?? "anonymous";
}
