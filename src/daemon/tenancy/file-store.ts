// The file implementation of the tenancy stores: `tenancy.json` in the state folder (0600, atomic
// replace) holds orgs, custom roles, bindings and users; `audit/<org>.jsonl` (0600, O_APPEND) holds
// each org's hash-chained audit rows. Writes in one process are serialized; a write re-reads the
// file first, so the CLI and the daemon can both change it (not at the same instant: a single
// host's admin tool, not a database).
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { atomicWrite, ensureDirNoSymlinks } from "../../adapters/atomic.ts";
import { ConfigError } from "../../library/diagnostics.ts";
import { createLimiter, type Limiter } from "../auth/rate-limit.ts";
import { systemClock, type Clock } from "../clock.ts";
import { chainRow } from "./audit-chain.ts";
import { CustomRole, DEFAULT_ORG } from "./policy.ts";
import { AuditInput, AuditRow, BindingRecord, OrgRecord, UserRecord, type AuditStore, type RequestBudget, type TenancyStore } from "./types.ts";
import * as check from "./validate.ts";

export const TENANCY_FILE = "tenancy.json";
const AUDIT_DIR = "audit";

const OrgData = z.strictObject({
  org: OrgRecord,
  roles: z.array(CustomRole),
  bindings: z.array(BindingRecord),
  users: z.array(UserRecord),
});
type OrgData = z.infer<typeof OrgData>;
const TenancyFile = z.strictObject({ version: z.literal(1), orgs: z.array(OrgData) });
type TenancyFile = z.infer<typeof TenancyFile>;

export function openFileTenancyStore(stateDir: string, clock: Clock = systemClock): TenancyStore {
  const file = join(stateDir, TENANCY_FILE);
  let queue: Promise<unknown> = Promise.resolve();
  const now = () => new Date(clock.now());

  // Every API request reads the store (the caller's org, bindings and roles): parse it again only
  // when the file changed (inode, size, mtime), as the token store does.
  let cache: { key: string; data: TenancyFile } | undefined;
  const read = (): TenancyFile => {
    let key = "absent";
    try {
      const st = statSync(file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      /* no file yet */
    }
    if (cache?.key === key) return cache.data;
    const data = parse();
    cache = { key, data };
    return data;
  };
  const parse = (): TenancyFile => {
    let data: TenancyFile = { version: 1, orgs: [] };
    if (existsSync(file)) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new ConfigError("tenancy-corrupt", `${file} is not valid JSON: ${(e as Error).message}`, { file, hint: "restore it from a backup" });
      }
      const r = TenancyFile.safeParse(raw);
      if (!r.success) {
        const i = r.error.issues[0]!;
        throw new ConfigError("tenancy-corrupt", `${file} has an unexpected shape at ${i.path.join(".") || "(root)"}: ${i.message}`, {
          file,
          hint: "restore it from a backup",
        });
      }
      data = r.data;
    }
    if (!data.orgs.some((o) => o.org.id === DEFAULT_ORG))
      data = { ...data, orgs: [{ org: check.newOrgRecord(DEFAULT_ORG, { name: "Default" }, new Date(0)), roles: [], bindings: [], users: [] }, ...data.orgs] };
    return data;
  };
  const write = (data: TenancyFile): void => {
    ensureDirNoSymlinks(stateDir, stateDir, 0o700);
    atomicWrite(file, JSON.stringify(data, null, 1) + "\n", 0o600);
    cache = undefined;
  };
  /** Runs one read-modify-write after the previous one finished. */
  const change = <T>(fn: (data: TenancyFile) => { data?: TenancyFile; result: T }): Promise<T> => {
    const next = queue.then(() => {
      const { data, result } = fn(read());
      if (data) write(data);
      return result;
    });
    queue = next.catch(() => undefined);
    return next;
  };
  const orgOf = (data: TenancyFile, org: string): OrgData | undefined => data.orgs.find((o) => o.org.id === org);
  const mustOrg = (data: TenancyFile, org: string): OrgData => {
    const o = orgOf(data, org);
    if (!o) throw check.orgNotFound(org);
    return o;
  };
  const replaceOrg = (data: TenancyFile, next: OrgData): TenancyFile => ({ ...data, orgs: data.orgs.map((o) => (o.org.id === next.org.id ? next : o)) });
  const copy = <T>(v: T): T => structuredClone(v);

  return {
    listOrgs: async () => copy(read().orgs.map((o) => o.org)),
    getOrg: async (org) => copy(orgOf(read(), org)?.org),
    createOrg: (org, input = {}) =>
      change((data) => {
        check.assertOrgId(org);
        if (orgOf(data, org)) throw check.orgExists(org);
        const rec = check.newOrgRecord(org, input, now());
        return { data: { ...data, orgs: [...data.orgs, { org: rec, roles: [], bindings: [], users: [] }] }, result: copy(rec) };
      }),
    updateQuotas: (org, quotas) =>
      change((data) => {
        const o = mustOrg(data, org);
        const rec = check.mergeQuotas(o.org, quotas);
        return { data: replaceOrg(data, { ...o, org: rec }), result: copy(rec) };
      }),
    deleteOrg: (org) =>
      change((data) => {
        check.assertDeletableOrg(org);
        if (!orgOf(data, org)) return { result: false };
        return { data: { ...data, orgs: data.orgs.filter((o) => o.org.id !== org) }, result: true };
      }),

    listRoles: async (org) => copy(orgOf(read(), org)?.roles ?? []),
    createRole: (org, role) =>
      change((data) => {
        const o = mustOrg(data, org);
        const r = check.checkRole(role);
        if (o.roles.some((x) => x.name === r.name)) throw check.roleExists(org, r.name);
        return { data: replaceOrg(data, { ...o, roles: [...o.roles, r] }), result: copy(r) };
      }),
    deleteRole: (org, name) =>
      change((data) => {
        const o = orgOf(data, org);
        if (!o?.roles.some((r) => r.name === name)) return { result: false };
        const used = o.bindings.filter((b) => b.role === name);
        if (used.length)
          throw check.roleInUse(
            name,
            used.map((b) => b.id),
          );
        return { data: replaceOrg(data, { ...o, roles: o.roles.filter((r) => r.name !== name) }), result: true };
      }),

    listBindings: async (org) => copy(orgOf(read(), org)?.bindings ?? []),
    getBinding: async (org, id) => copy(orgOf(read(), org)?.bindings.find((b) => b.id === id)),
    createBinding: (org, input) =>
      change((data) => {
        const o = mustOrg(data, org);
        const rec = check.newBinding(org, input, o.roles, now());
        if (o.bindings.some((b) => b.subject === input.subject && b.role === input.role && b.scope === input.scope)) throw check.bindingExists(input);
        return { data: replaceOrg(data, { ...o, bindings: [...o.bindings, rec] }), result: copy(rec) };
      }),
    deleteBinding: (org, id) =>
      change((data) => {
        const o = orgOf(data, org);
        if (!o?.bindings.some((b) => b.id === id)) return { result: false };
        return { data: replaceOrg(data, { ...o, bindings: o.bindings.filter((b) => b.id !== id) }), result: true };
      }),

    seeUser: (org, seen) =>
      change((data) => {
        const o = mustOrg(data, org);
        const id = check.userId(seen.issuer, seen.subject);
        const next = check.refreshUser(
          o.users.find((u) => u.id === id),
          seen,
          now(),
        );
        if (!next.changed) return { result: copy(next.user) };
        const rec = next.user;
        return { data: replaceOrg(data, { ...o, users: [...o.users.filter((u) => u.id !== rec.id), rec] }), result: copy(rec) };
      }),
    listUsers: async (org) => copy(orgOf(read(), org)?.users ?? []),
    getUser: async (org, id) => copy(orgOf(read(), org)?.users.find((u) => u.id === id)),
  };
}

/** Reads the last line of an open file (audit files only grow, so the tail is the chain's head). */
function lastLine(fd: number): string | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  let chunk = 4096;
  for (;;) {
    const len = Math.min(size, chunk);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const text = buf.toString("utf8").replace(/\n+$/, "");
    const nl = text.lastIndexOf("\n");
    if (nl >= 0 || len === size) return text.slice(nl + 1);
    chunk *= 4;
  }
}

export function auditFile(stateDir: string, org: string): string {
  check.assertOrgId(org);
  return join(stateDir, AUDIT_DIR, `${org}.jsonl`);
}

export function openFileAuditStore(stateDir: string, clock: Clock = systemClock): AuditStore {
  const dir = join(stateDir, AUDIT_DIR);
  let queue: Promise<unknown> = Promise.resolve();
  const readRows = (org: string): AuditRow[] => {
    const f = auditFile(stateDir, org);
    if (!existsSync(f)) return [];
    return readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => AuditRow.parse(JSON.parse(l)));
  };
  return {
    append: (org, input) => {
      const next = queue.then(() => {
        const parsed = AuditInput.parse(input);
        ensureDirNoSymlinks(stateDir, dir, 0o700);
        const fd = openSync(auditFile(stateDir, org), constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
        try {
          const tail = lastLine(fd);
          const prev = tail ? AuditRow.parse(JSON.parse(tail)) : undefined;
          const row = chainRow(prev, org, new Date(clock.now()), parsed);
          writeSync(fd, JSON.stringify(row) + "\n");
          return row;
        } finally {
          closeSync(fd);
        }
      });
      queue = next.catch(() => undefined);
      return next;
    },
    list: async (org, opts = {}) => {
      const after = opts.afterSeq ?? 0;
      const rows = readRows(org).filter((r) => r.seq > after);
      return opts.limit === undefined ? rows : rows.slice(0, opts.limit);
    },
    orgs: async () =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith(".jsonl"))
            .map((f) => f.slice(0, -6))
            .sort()
        : [],
  };
}

/**
 * The requests-per-minute budgets of one process (a daemon on one machine, with the file stores):
 * a fixed window per org from its first request, rebuilt when the org's limit changes.
 */
export function memoryRequestBudget(clock: Clock = systemClock): RequestBudget {
  const limiters = new Map<string, { limit: number; limiter: Limiter }>();
  return {
    hit: async (org, limit) => {
      let have = limiters.get(org);
      if (!have || have.limit !== limit) {
        have = { limit, limiter: createLimiter({ limit, windowMs: 60_000, now: clock.now }) };
        limiters.set(org, have);
      }
      return have.limiter.hit(org);
    },
  };
}
