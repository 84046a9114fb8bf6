// The tenancy stores' contract: organizations (with their quotas), custom roles, role bindings,
// OIDC users, and the hash-chained audit log. Every call that touches an org's data takes the org
// first, and an org's data is never reachable through another org's id (a foreign id is simply
// absent). The file store implements it (tenancy/file-store.ts); another implementation (e.g. on
// PostgreSQL) must pass the same conformance suite (test/daemon/tenancy/conformance.ts).
//
// Errors (AicfgError codes): `not-found` (no such org), `conflict` (exists already, or still in
// use), `invalid-input` (a scope outside the org, an unknown role, a reserved name).
import { z } from "zod";
import { Slug } from "../../library/schema.ts";
import { type CustomRole, RoleName, Subject } from "./policy.ts";

export const Quotas = z.strictObject({
  /** Runs an org may queue per hour (API triggers and re-runs) before 429. */
  runsPerHour: z.number().int().min(1).max(1_000_000),
  /** API requests per minute for all of an org's callers together before 429. */
  requestsPerMinute: z.number().int().min(1).max(1_000_000),
});
export type Quotas = z.infer<typeof Quotas>;
export const DEFAULT_QUOTAS: Quotas = { runsPerHour: 600, requestsPerMinute: 6000 };

export const OrgRecord = z.strictObject({
  id: Slug,
  name: z.string().max(200),
  createdAt: z.iso.datetime(),
  quotas: Quotas,
});
export type OrgRecord = z.infer<typeof OrgRecord>;

export const BindingRecord = z.strictObject({
  id: z.string().regex(/^bnd_[0-9a-f]{16}$/),
  subject: Subject,
  role: RoleName,
  scope: z.string().max(300),
  createdAt: z.iso.datetime(),
});
export type BindingRecord = z.infer<typeof BindingRecord>;

export const UserRecord = z.strictObject({
  /** `usr_` + a digest of issuer and subject: the same person at the same issuer is one user. */
  id: z.string().regex(/^usr_[0-9a-f]{16}$/),
  issuer: z.string().max(300),
  subject: z.string().max(300),
  /** A display name from the token (never used to identify anyone). */
  name: z.string().max(200).optional(),
  groups: z.array(z.string().max(200)).max(500),
  firstSeen: z.iso.datetime(),
  lastSeen: z.iso.datetime(),
});
export type UserRecord = z.infer<typeof UserRecord>;

const AuditActor = z.strictObject({
  kind: z.enum(["token", "user", "cli", "anonymous", "system"]),
  /** `tok_…`, `usr_…`, the login name for the CLI; never a credential. */
  id: z.string().max(300),
});

/** What a caller appends; the store adds seq, ts, org, prevHash and hash. */
export const AuditInput = z.strictObject({
  actor: AuditActor,
  action: z.string().max(200),
  resource: z.string().max(500),
  decision: z.enum(["allow", "deny"]),
  ruleId: z.string().max(200),
  status: z.number().int().optional(),
  requestId: z.string().max(100).optional(),
  ip: z.string().max(100).optional(),
  details: z.record(z.string(), z.union([z.string().max(500), z.number(), z.boolean()])).optional(),
});
export type AuditInput = z.infer<typeof AuditInput>;

export const AuditRow = z.strictObject({
  ...AuditInput.shape,
  seq: z.number().int().min(1),
  ts: z.iso.datetime(),
  org: Slug,
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditRow = z.infer<typeof AuditRow>;

export type BindingInput = { subject: string; role: string; scope: string };
export type UserSeen = { issuer: string; subject: string; name?: string; groups: string[] };

export type TenancyStore = {
  listOrgs: () => Promise<OrgRecord[]>;
  /** The default org always exists (it is created on first use). */
  getOrg: (org: string) => Promise<OrgRecord | undefined>;
  createOrg: (org: string, input?: { name?: string; quotas?: Partial<Quotas> }) => Promise<OrgRecord>;
  updateQuotas: (org: string, quotas: Partial<Quotas>) => Promise<OrgRecord>;
  /** Deletes the org with its roles, bindings and users (not its audit rows); the default org cannot be deleted. */
  deleteOrg: (org: string) => Promise<boolean>;

  listRoles: (org: string) => Promise<CustomRole[]>;
  createRole: (org: string, role: CustomRole) => Promise<CustomRole>;
  /** A role still named by a binding cannot be deleted (`conflict`). */
  deleteRole: (org: string, name: string) => Promise<boolean>;

  listBindings: (org: string) => Promise<BindingRecord[]>;
  getBinding: (org: string, id: string) => Promise<BindingRecord | undefined>;
  createBinding: (org: string, input: BindingInput) => Promise<BindingRecord>;
  deleteBinding: (org: string, id: string) => Promise<boolean>;

  /** Records a user seen with a verified token (created, or its name and groups refreshed). */
  seeUser: (org: string, user: UserSeen) => Promise<UserRecord>;
  listUsers: (org: string) => Promise<UserRecord[]>;
  getUser: (org: string, id: string) => Promise<UserRecord | undefined>;
};

/**
 * The orgs' API requests-per-minute budgets, where every API instance of the daemon counts them: in
 * the process on one machine (tenancy/file-store.ts), in one row per org and minute on PostgreSQL
 * (store/pg/pg-tenancy.ts), so N replicas give an org its budget once, not N times.
 */
export type RequestBudget = {
  /** Counts one request of `org`; the seconds to wait when that request is over `limit`, else 0. */
  hit: (org: string, limit: number) => Promise<number>;
};

export type AuditStore = {
  /** Appends one row to the org's chain and returns it (with its seq and hash). */
  append: (org: string, input: AuditInput) => Promise<AuditRow>;
  /** Rows with seq > afterSeq, oldest first, at most limit. */
  list: (org: string, opts?: { afterSeq?: number; limit?: number }) => Promise<AuditRow[]>;
  /** Orgs that have audit rows. */
  orgs: () => Promise<string[]>;
};
