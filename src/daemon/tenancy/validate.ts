// Checks every tenancy store implementation applies before it writes, so they refuse the same
// things with the same errors: names, scopes inside the binding's org, known roles.
import { createHash } from "node:crypto";
import { AicfgError } from "../../library/diagnostics.ts";
import { Slug } from "../../library/schema.ts";
import { BUILTIN_ROLES, CustomRole, checkScope, roleActions, Subject, DEFAULT_ORG } from "./policy.ts";
import { DEFAULT_QUOTAS, Quotas, type BindingInput, type BindingRecord, type OrgRecord, type UserRecord, type UserSeen } from "./types.ts";

function invalid(message: string, hint: string): AicfgError {
  return new AicfgError("invalid-input", message, { hint });
}

export function orgNotFound(org: string): AicfgError {
  return new AicfgError("not-found", `org ${org} not found`, { hint: "list orgs with 'aicfg org list'" });
}

export function assertOrgId(org: string): void {
  if (!Slug.safeParse(org).success) throw invalid(`org name ${JSON.stringify(org)} is not valid`, "use a lowercase slug such as acme or platform-team");
}

export function newOrgRecord(org: string, input: { name?: string; quotas?: Partial<Quotas> }, now: Date): OrgRecord {
  assertOrgId(org);
  const quotas = Quotas.safeParse({ ...DEFAULT_QUOTAS, ...input.quotas });
  if (!quotas.success) throw invalid(`quotas: ${quotas.error.issues[0]!.path.join(".")}: ${quotas.error.issues[0]!.message}`, "quotas are whole numbers ≥ 1");
  return { id: org, name: input.name ?? org, createdAt: now.toISOString(), quotas: quotas.data };
}

export function mergeQuotas(rec: OrgRecord, quotas: Partial<Quotas>): OrgRecord {
  const q = Quotas.safeParse({ ...rec.quotas, ...quotas });
  if (!q.success) throw invalid(`quotas: ${q.error.issues[0]!.path.join(".")}: ${q.error.issues[0]!.message}`, "quotas are whole numbers ≥ 1");
  return { ...rec, quotas: q.data };
}

export function assertDeletableOrg(org: string): void {
  if (org === DEFAULT_ORG) throw new AicfgError("conflict", "the default org cannot be deleted", { hint: "it holds the daemon's own libraries and tokens" });
}

export function checkRole(role: CustomRole): CustomRole {
  const r = CustomRole.safeParse(role);
  if (!r.success)
    throw invalid(`role: ${r.error.issues[0]!.path.join(".") || "(root)"}: ${r.error.issues[0]!.message}`, "a role is a slug name and a list of actions");
  if (r.data.name in BUILTIN_ROLES) throw invalid(`${r.data.name} is a built-in role`, "choose another name for a custom role");
  return { ...r.data, actions: [...new Set(r.data.actions)] };
}

function checkBinding(org: string, input: BindingInput, customRoles: readonly CustomRole[]): void {
  const s = Subject.safeParse(input.subject);
  if (!s.success)
    throw invalid(
      `subject ${JSON.stringify(input.subject)} ${s.error.issues[0]!.message}`,
      "e.g. token:tok_0123456789ab or group:https://idp.example.com|platform",
    );
  const scope = checkScope(org, input.scope);
  if (!scope.ok) throw invalid(scope.message, scope.hint);
  if (!roleActions(input.role, customRoles))
    throw invalid(`role ${JSON.stringify(input.role)} does not exist in org ${org}`, "use viewer, editor, admin or a role from 'aicfg role list'");
}

export function userId(issuer: string, subject: string): string {
  return `usr_${createHash("sha256").update(`${issuer}\n${subject}`).digest("hex").slice(0, 16)}`;
}

/** A binding of `input` in `org` after its checks (subject, scope inside the org, a known role), with a new id. */
export function newBinding(org: string, input: BindingInput, customRoles: readonly CustomRole[], now: Date): BindingRecord {
  checkBinding(org, input, customRoles);
  return { id: newBindingId(), subject: input.subject, role: input.role, scope: input.scope, createdAt: now.toISOString() };
}

// The conflicts every store refuses with the same words.
export const orgExists = (org: string): AicfgError => new AicfgError("conflict", `org ${org} already exists`, { hint: "choose another name" });
export const roleExists = (org: string, name: string): AicfgError =>
  new AicfgError("conflict", `role ${name} already exists in org ${org}`, { hint: "delete it first" });
export const roleInUse = (name: string, bindingIds: readonly string[]): AicfgError =>
  new AicfgError("conflict", `role ${name} is used by ${bindingIds.length} binding(s)`, { hint: `delete them first: ${bindingIds.join(", ")}` });
export const bindingExists = (input: BindingInput): AicfgError =>
  new AicfgError("conflict", `${input.subject} already has ${input.role} at ${input.scope}`, { hint: "nothing to do" });

function newBindingId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `bnd_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A user's lastSeen is rewritten at most this often (a request must not rewrite the store). */
const SEEN_REFRESH_MS = 3_600_000;

/** The user record after a sighting, and whether it must be written (new, renamed, other groups, or lastSeen stale). */
export function refreshUser(old: UserRecord | undefined, seen: UserSeen, now: Date): { changed: boolean; user: UserRecord } {
  if (!seen.issuer || !seen.subject) throw invalid("a user needs an issuer and a subject", "check the token's iss and sub claims");
  const groups = [...new Set(seen.groups)].sort();
  if (old && old.name === seen.name && old.groups.join("\n") === groups.join("\n") && now.getTime() - Date.parse(old.lastSeen) < SEEN_REFRESH_MS)
    return { changed: false, user: old };
  return {
    changed: true,
    user: {
      id: userId(seen.issuer, seen.subject),
      issuer: seen.issuer,
      subject: seen.subject,
      ...(seen.name !== undefined ? { name: seen.name } : {}),
      groups,
      firstSeen: old?.firstSeen ?? now.toISOString(),
      lastSeen: now.toISOString(),
    },
  };
}
