// The tenancy stores (orgs, custom roles, bindings, users) and the hash-chained audit log on
// PostgreSQL, on the run store's connection pool, behind the same contract as the file stores
// (test/daemon/tenancy/conformance.ts runs against both). Replicas share them:
// - every change to an org's data is one transaction that first locks the org's row, so the
//   changes of all replicas to one org follow each other and each one's checks (a role still bound,
//   a duplicate binding, a deleted org) see the previous one's result;
// - an audit append locks the org's head row (audit_heads, FOR UPDATE) in the transaction that
//   inserts the row and moves the head, so concurrent appends from any number of replicas form one
//   chain per org with no row lost and no seq taken twice;
// - the API requests-per-minute quota is one row per org and minute that every replica's requests
//   raise (INSERT … ON CONFLICT DO UPDATE … RETURNING n), so the replicas share the org's budget.
// All SQL is in sql.ts; validation is the file store's (tenancy/validate.ts).
import type pg from "pg";
import type { Clock } from "../../clock.ts";
import { chainRow } from "../../tenancy/audit-chain.ts";
import { type CustomRole, DEFAULT_ORG } from "../../tenancy/policy.ts";
import {
  AuditInput,
  AuditRow,
  type AuditStore,
  type BindingRecord,
  type OrgRecord,
  type Quotas,
  type RequestBudget,
  type TenancyStore,
  type UserRecord,
} from "../../tenancy/types.ts";
import * as check from "../../tenancy/validate.ts";
import * as sql from "./sql.ts";
import type { Query } from "./sql.ts";

export type PgTenancyStores = {
  tenancy: TenancyStore;
  audit: AuditStore;
  auditLines: (org: string) => Promise<string[]>;
  /** The orgs' requests-per-minute counts, shared by the replicas. */
  requests: RequestBudget;
};
const REQUEST_WINDOW_MS = 60_000;
type Exec = <R extends Record<string, unknown>>(query: Query) => Promise<R[]>;
type OrgRow = { org: string; name: string; created_at: string; quotas: Quotas };
type BindingRow = { id: string; subject: string; role: string; scope: string; created_at: string };

const toOrg = (r: OrgRow): OrgRecord => ({ id: r.org, name: r.name, createdAt: r.created_at, quotas: r.quotas });
const toBinding = (r: BindingRow): BindingRecord => ({ id: r.id, subject: r.subject, role: r.role, scope: r.scope, createdAt: r.created_at });

/** Runs `fn` in one transaction on one connection of the pool (rolled back when it throws). */
export async function transaction<T>(pool: pg.Pool, fn: (exec: Exec) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // The pool listens for errors only on its idle connections: one that the server drops while it is
  // checked out here (pg_terminate_backend, a restart) emits 'error' on the client, and with no
  // listener that crashed the daemon. The query in flight fails with the same error and the
  // transaction rolls back; the connection is then dropped from the pool instead of reused.
  const onError = (e: Error) => {
    broken = e;
  };
  client.on("error", onError);
  try {
    await client.query(sql.beginTx().text);
    const result = await fn(async (query) => (await client.query(query.text, query.values)).rows);
    await client.query(sql.commitTx().text);
    return result;
  } catch (e) {
    // A connection that cannot even roll back is dropped from the pool instead of reused.
    await client.query(sql.rollbackTx().text).catch((r: unknown) => {
      broken = r as Error;
    });
    throw e;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** `later`: the database was unreachable at open; the default org is created once it opened. */
export async function openPgTenancyStores(pool: pg.Pool, exec: Exec, clock: Clock, later?: Promise<void>): Promise<PgTenancyStores> {
  const now = () => new Date(clock.now());
  const ensureDefault = () => exec(sql.ensureOrg(check.newOrgRecord(DEFAULT_ORG, { name: "Default" }, new Date(0))));
  if (later) void later.then(ensureDefault).catch(() => {});
  else await ensureDefault();

  /** One change to one org: locks the org's row first; `not-found` when there is no such org. */
  const inOrg = <T>(org: string, fn: (exec: Exec, rec: OrgRecord) => Promise<T>): Promise<T> =>
    transaction(pool, async (tx) => {
      const [row] = await tx<OrgRow>(sql.lockOrg(org));
      if (!row) throw check.orgNotFound(org);
      return fn(tx, toOrg(row));
    });
  const roles = async (run: Exec, org: string): Promise<CustomRole[]> => (await run<{ role: CustomRole }>(sql.listRoles(org))).map((r) => r.role);

  const tenancy: TenancyStore = {
    listOrgs: async () => (await exec<OrgRow>(sql.listOrgs())).map(toOrg),
    getOrg: async (org) => {
      const [row] = await exec<OrgRow>(sql.getOrg(org));
      return row ? toOrg(row) : undefined;
    },
    createOrg: async (org, input = {}) => {
      check.assertOrgId(org);
      const rec = check.newOrgRecord(org, input, now());
      if (!(await exec(sql.insertOrg(rec))).length) throw check.orgExists(org);
      return rec;
    },
    updateQuotas: (org, quotas) =>
      inOrg(org, async (tx, rec) => {
        const next = check.mergeQuotas(rec, quotas);
        await tx(sql.setQuotas(org, next.quotas));
        return next;
      }),
    deleteOrg: async (org) => {
      check.assertDeletableOrg(org);
      return (await exec(sql.deleteOrg(org))).length === 1;
    },

    listRoles: (org) => roles(exec, org),
    createRole: (org, role) =>
      inOrg(org, async (tx) => {
        const r = check.checkRole(role);
        if (!(await tx(sql.insertRole(org, r))).length) throw check.roleExists(org, r.name);
        return r;
      }),
    deleteRole: async (org, name) => {
      try {
        return await inOrg(org, async (tx) => {
          if (!(await tx(sql.deleteRole(org, name))).length) return false;
          // Refused (and rolled back) while a binding names it; the org's lock keeps a new binding out meanwhile.
          const used = await tx<{ id: string }>(sql.bindingsOfRole(org, name));
          if (used.length)
            throw check.roleInUse(
              name,
              used.map((b) => b.id),
            );
          return true;
        });
      } catch (e) {
        if ((e as { code?: string }).code === "not-found") return false;
        throw e;
      }
    },

    listBindings: async (org) => (await exec<BindingRow>(sql.listBindings(org))).map(toBinding),
    getBinding: async (org, id) => {
      const [row] = await exec<BindingRow>(sql.getBinding(org, id));
      return row ? toBinding(row) : undefined;
    },
    createBinding: (org, input) =>
      inOrg(org, async (tx) => {
        const rec = check.newBinding(org, input, await roles(tx, org), now());
        if (!(await tx(sql.insertBinding(org, rec))).length) throw check.bindingExists(input);
        return rec;
      }),
    deleteBinding: async (org, id) => (await exec(sql.deleteBinding(org, id))).length === 1,

    seeUser: async (org, seen) => {
      const id = check.userId(seen.issuer, seen.subject);
      // Most requests change nothing: answer those without a transaction or a lock.
      const [known] = await exec<{ record: UserRecord }>(sql.getUser(org, id));
      if (known && !check.refreshUser(known.record, seen, now()).changed) return known.record;
      return inOrg(org, async (tx) => {
        const [old] = await tx<{ record: UserRecord }>(sql.getUser(org, id));
        const next = check.refreshUser(old?.record, seen, now());
        if (next.changed) await tx(sql.upsertUser(org, next.user));
        return next.user;
      });
    },
    listUsers: async (org) => (await exec<{ record: UserRecord }>(sql.listUsers(org))).map((r) => r.record),
    getUser: async (org, id) => (await exec<{ record: UserRecord }>(sql.getUser(org, id)))[0]?.record,
  };

  const audit: AuditStore = {
    append: async (org, input) => {
      check.assertOrgId(org);
      const parsed = AuditInput.parse(input);
      return transaction(pool, async (tx) => {
        await tx(sql.ensureAuditHead(org));
        const [head] = await tx<{ seq: string; hash: string | null }>(sql.lockAuditHead(org));
        const seq = Number(head!.seq);
        const row = chainRow(seq === 0 ? undefined : { seq, hash: head!.hash! }, org, now(), parsed);
        await tx(sql.insertAuditRow(org, row.seq, JSON.stringify(row)));
        await tx(sql.setAuditHead(org, row.seq, row.hash));
        return row;
      });
    },
    list: async (org, opts = {}) =>
      (await exec<{ line: string }>(sql.listAuditRows(org, opts.afterSeq ?? 0, opts.limit ?? null))).map((r) => AuditRow.parse(JSON.parse(r.line))),
    orgs: async () => (await exec<{ org: string }>(sql.auditOrgs())).map((r) => r.org),
  };

  // The requests-per-minute quota: one upsert per request into the org's row for this minute (on
  // the daemon clock, which in cluster mode is the database's), so every replica raises one count.
  // A statement retried after a dropped connection may count a request twice: never under-counts.
  const requests: RequestBudget = {
    hit: async (org, limit) => {
      const at = clock.now();
      const minute = at - (at % REQUEST_WINDOW_MS);
      const [row] = await exec<{ n: number }>(sql.countOrgRequest(org, minute));
      // The org's first request of a minute prunes the minutes before the previous one (a replica
      // whose clock is a little behind may still count in the previous one).
      if (row!.n === 1) await exec(sql.pruneOrgRequests(minute - REQUEST_WINDOW_MS));
      return row!.n > limit ? Math.max(1, Math.ceil((minute + REQUEST_WINDOW_MS - at) / 1000)) : 0;
    },
  };

  /** An org's audit rows exactly as stored, oldest first: what `aicfg audit verify` checks. */
  const auditLines = async (org: string): Promise<string[]> => (await exec<{ line: string }>(sql.listAuditRows(org, 0, null))).map((r) => r.line);
  return { tenancy, audit, auditLines, requests };
}
