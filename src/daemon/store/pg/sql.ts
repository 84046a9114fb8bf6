// Every SQL statement of the PostgreSQL store, as pure functions that return `{ text, values }` (the
// shape node-postgres takes): nothing here touches a connection, so each statement can be read,
// tested and reviewed on its own. Times the database decides (leases, heartbeats, takeovers) are
// `now()` of PostgreSQL; the epoch-millisecond columns (created_at, scheduled_at, …) are the
// daemon's record fields, which in cluster mode are themselves read from the database clock.
import type { TokenRecord } from "../../auth/token-store.ts";
import type { CustomRole } from "../../tenancy/policy.ts";
import type { BindingRecord, OrgRecord, Quotas, UserRecord } from "../../tenancy/types.ts";
import type { DeliveryRecord, LogLine, OccurrenceRecord, RunQuery, RunRecord, Watermark } from "../types.ts";

export type Query = { text: string; values: unknown[] };

const q = (text: string, values: unknown[] = []): Query => ({ text, values });

/** Non-terminal states: the runs a lease applies to. */
const LIVE = "('queued','running')";

/** The schema, one entry per version; a version is never edited once released, only followed by another. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "runs, logs, occurrence ledger, watermarks, deliveries, settings, instances",
    sql: `
CREATE TABLE runs (
  id text PRIMARY KEY,
  library text NOT NULL,
  workflow text NOT NULL,
  status text NOT NULL,
  created_at bigint NOT NULL,
  finished_at bigint,
  delivery text,
  owner text,
  owner_pid integer,
  -- the fence: the attempt number, raised on every takeover; every write names the one it holds
  attempt integer NOT NULL,
  lease_until timestamptz,
  heartbeat_at timestamptz,
  -- when another replica took the run over, and how long after the previous owner's last heartbeat
  taken_over_at timestamptz,
  takeover_ms integer,
  record jsonb NOT NULL
);
CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
CREATE INDEX runs_workflow ON runs (library, workflow);
CREATE INDEX runs_delivery ON runs (delivery) WHERE delivery IS NOT NULL;
CREATE INDEX runs_lease ON runs (lease_until) WHERE status IN ${LIVE};
CREATE TABLE run_logs (
  seq bigserial PRIMARY KEY,
  run_id text NOT NULL,
  line jsonb NOT NULL
);
CREATE INDEX run_logs_run ON run_logs (run_id, seq);
CREATE TABLE occurrences (
  trigger_id text NOT NULL,
  scheduled_at bigint NOT NULL,
  library text NOT NULL,
  workflow text NOT NULL,
  trigger text NOT NULL,
  outcome text NOT NULL,
  run_id text,
  lag_ms integer,
  reason text,
  recorded_at bigint NOT NULL,
  claimed_by text,
  -- each slot once: the first replica to insert the slot's row owns it
  PRIMARY KEY (trigger_id, scheduled_at)
);
CREATE INDEX occurrences_workflow ON occurrences (library, workflow, scheduled_at DESC);
CREATE TABLE watermarks (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE deliveries (
  id text NOT NULL,
  attempt integer NOT NULL,
  at bigint NOT NULL,
  record jsonb NOT NULL,
  PRIMARY KEY (id, attempt)
);
CREATE TABLE workflow_settings (library text NOT NULL, workflow text NOT NULL, enabled boolean NOT NULL, PRIMARY KEY (library, workflow));
CREATE TABLE instances (instance text PRIMARY KEY, pid integer NOT NULL, at bigint NOT NULL, beat_at timestamptz NOT NULL DEFAULT now());
`,
  },
  {
    version: 2,
    name: "tenancy (orgs, custom roles, bindings, users) and the per-org audit chain",
    sql: `
CREATE TABLE orgs (
  org text PRIMARY KEY,
  name text NOT NULL,
  created_at text NOT NULL,
  quotas jsonb NOT NULL,
  -- insertion order, what the file store lists in
  pos bigserial NOT NULL
);
CREATE TABLE org_roles (
  org text NOT NULL REFERENCES orgs (org) ON DELETE CASCADE,
  name text NOT NULL,
  role jsonb NOT NULL,
  pos bigserial NOT NULL,
  PRIMARY KEY (org, name)
);
CREATE TABLE org_bindings (
  org text NOT NULL REFERENCES orgs (org) ON DELETE CASCADE,
  id text NOT NULL,
  subject text NOT NULL,
  role text NOT NULL,
  scope text NOT NULL,
  created_at text NOT NULL,
  pos bigserial NOT NULL,
  PRIMARY KEY (org, id),
  UNIQUE (org, subject, role, scope)
);
CREATE INDEX org_bindings_role ON org_bindings (org, role);
CREATE TABLE org_users (
  org text NOT NULL REFERENCES orgs (org) ON DELETE CASCADE,
  id text NOT NULL,
  record jsonb NOT NULL,
  pos bigserial NOT NULL,
  PRIMARY KEY (org, id)
);
-- One row per org with an audit log: its chain's head. An append locks it (FOR UPDATE), so the
-- appends of every replica to one org follow each other and the chain stays one chain.
CREATE TABLE audit_heads (
  org text PRIMARY KEY,
  -- 0 and NULL until the first row is in
  seq bigint NOT NULL,
  hash text
);
-- The rows exactly as hashed (text, not jsonb: jsonb reorders keys and refuses U+0000). No foreign
-- key: an org's audit outlives the org.
CREATE TABLE audit_rows (
  org text NOT NULL,
  seq bigint NOT NULL,
  line text NOT NULL,
  PRIMARY KEY (org, seq)
);
-- Append-only: a row once written is never changed or removed through the store's role.
CREATE FUNCTION audit_rows_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit rows are append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON audit_rows FOR EACH ROW EXECUTE FUNCTION audit_rows_append_only();
CREATE TRIGGER audit_rows_no_truncate BEFORE TRUNCATE ON audit_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_append_only();
`,
  },
  {
    version: 3,
    name: "API tokens shared by the replicas (digests only)",
    sql: `
CREATE TABLE api_tokens (
  -- sha256 of the token: the token itself is never stored
  digest text PRIMARY KEY,
  id text NOT NULL UNIQUE,
  org text,
  record jsonb NOT NULL,
  pos bigserial NOT NULL
);
`,
  },
  {
    version: 4,
    name: "the concurrency group a live run holds across replicas (overlap policies)",
    sql: `
ALTER TABLE runs ADD COLUMN grp text;
CREATE INDEX runs_group_live ON runs (grp) WHERE grp IS NOT NULL AND status IN ${LIVE};
`,
  },
  {
    version: 5,
    name: "API requests per org and minute, counted once for every replica (the requests-per-minute quota)",
    sql: `
-- One row per org and minute, raised by every API request of the org on any replica. No foreign
-- key: the default org's callers and a just-deleted org's last requests count too; old minutes are pruned.
CREATE TABLE org_request_counts (
  org text NOT NULL,
  -- the minute's start, epoch milliseconds of the daemon clock (the database clock in cluster mode)
  minute bigint NOT NULL,
  n integer NOT NULL,
  PRIMARY KEY (org, minute)
);
`,
  },
];

// ---- schema ----

export const createSchemaTable = (): Query =>
  q("CREATE TABLE IF NOT EXISTS aicfg_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
/** Held to the end of the migrating transaction: two replicas starting together migrate one after the other. */
export const migrationLock = (): Query => q("SELECT pg_advisory_xact_lock(hashtext('aicfg:migrations'))");
export const appliedVersions = (): Query => q("SELECT version FROM aicfg_schema ORDER BY version");
export const recordVersion = (version: number, name: string): Query => q("INSERT INTO aicfg_schema (version, name) VALUES ($1, $2)", [version, name]);

// ---- clock ----

/** The database clock in epoch milliseconds. */
export const dbNow = (): Query => q("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now");

// ---- runs ----

const runColumns = (r: RunRecord, record: unknown) => [
  r.id,
  r.library,
  r.workflow,
  r.status,
  r.createdAt,
  r.finishedAt ?? null,
  typeof r.trigger.delivery === "string" ? r.trigger.delivery : null,
  r.owner?.instance ?? null,
  r.owner?.pid ?? null,
  r.attempt,
  JSON.stringify(record),
];

const INSERT_RUN = `INSERT INTO runs (id, library, workflow, status, created_at, finished_at, delivery, owner, owner_pid, attempt, record, lease_until, heartbeat_at)`;
const RUN_VALUES = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, CASE WHEN $4 IN ${LIVE} THEN now() + make_interval(secs => $12::float8 / 1000) END, now()`;

/** Serializes the runs-per-hour checks of one org across replicas: held to the end of the transaction that counts and inserts. */
export const lockOrgQuota = (org: string): Query => q("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`quota:runs:${org}`]);

/** The creation times of the org's counted runs in the window (at most `limit`, newest first): runs the quota refused do not count. */
export const quotaCountedRuns = (libraries: string[], since: number, until: number, limit: number): Query =>
  q(
    "SELECT created_at FROM runs WHERE library = ANY($1::text[]) AND created_at > $2 AND created_at <= $3 AND NOT (record ? 'overQuota') ORDER BY created_at DESC LIMIT $4",
    [libraries, since, until, limit],
  );

// ---- concurrency groups across replicas: a live run with grp set holds its group ----

/** Serializes the claims of one concurrency group across replicas (to the end of the claiming transaction). */
export const lockGroup = (group: string): Query => q("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`group:${group}`]);
/** Another live run holding the group, on any replica (a run whose owner died holds it until the reaper runs it again). */
export const groupHolder = (group: string, runId: string): Query =>
  q(`SELECT id FROM runs WHERE grp = $1 AND id <> $2 AND status IN ${LIVE} ORDER BY created_at LIMIT 1`, [group, runId]);
/** Marks the run as its group's holder, under its fence. */
export const holdGroup = (group: string, runId: string, attempt: number): Query =>
  q(`UPDATE runs SET grp = $1 WHERE id = $2 AND attempt = $3 AND status IN ${LIVE} RETURNING id`, [group, runId, attempt]);
/**
 * cancel_other across replicas: the group's other live runs are cancelled here, their fence raised,
 * so their owner's next lease renewal finds them lost and stops them, and its writes are refused.
 */
export const cancelGroupHolders = (group: string, runId: string, reason: string, at: number): Query =>
  q(
    `UPDATE runs SET status = 'cancelled', attempt = attempt + 1, finished_at = $4, lease_until = NULL,
  record = record || jsonb_build_object('status', 'cancelled', 'attempt', attempt + 1, 'reason', $3::text, 'finishedAt', $4::bigint)
WHERE grp = $1 AND id <> $2 AND status IN ${LIVE} RETURNING id`,
    [group, runId, reason, at],
  );

/** A run that is no schedule slot: inserted once by id. */
export const insertRun = (r: RunRecord, record: unknown, leaseMs: number): Query =>
  q(`${INSERT_RUN} VALUES (${RUN_VALUES}) ON CONFLICT (id) DO NOTHING RETURNING id`, [...runColumns(r, record), leaseMs]);

/**
 * The run of a schedule slot, created in the same statement that claims the slot in the ledger:
 * the replica whose ledger row goes in creates the run, every other one gets no row back.
 */
export const claimSlotAndInsertRun = (r: RunRecord, record: unknown, leaseMs: number, slot: { triggerId: string; trigger: string; outcome: string }): Query =>
  q(
    `WITH slot AS (
  INSERT INTO occurrences (trigger_id, scheduled_at, library, workflow, trigger, outcome, run_id, recorded_at, claimed_by)
  VALUES ($13, $14, $2, $3, $15, $16, $1, $5, $8)
  ON CONFLICT (trigger_id, scheduled_at) DO NOTHING
  RETURNING run_id
)
${INSERT_RUN} SELECT ${RUN_VALUES} FROM slot RETURNING id`,
    [...runColumns(r, record), leaseMs, slot.triggerId, r.scheduledAt, slot.trigger, slot.outcome],
  );

/** Who holds a run and with which fence (after an insert whose answer a dropped connection lost). */
export const runOwner = (id: string): Query => q("SELECT owner, attempt, status FROM runs WHERE id = $1", [id]);

/**
 * Replaces a run's record, but only while the writer still holds its fence (the attempt number
 * it was created or taken over with). A replica that lost the run (its lease expired and another took it over) gets
 * no row back and must stop. A terminal status ends the lease.
 */
export const updateRunFenced = (r: RunRecord, record: unknown, leaseMs: number): Query =>
  q(
    `UPDATE runs SET status = $2, finished_at = $3, delivery = $4, record = $5::jsonb, owner = $7, owner_pid = $8,
  lease_until = CASE WHEN $2 IN ${LIVE} THEN now() + make_interval(secs => $9::float8 / 1000) END, heartbeat_at = now()
WHERE id = $1 AND attempt = $6
RETURNING id`,
    [
      r.id,
      r.status,
      r.finishedAt ?? null,
      typeof r.trigger.delivery === "string" ? r.trigger.delivery : null,
      JSON.stringify(record),
      r.attempt,
      r.owner?.instance ?? null,
      r.owner?.pid ?? null,
      leaseMs,
    ],
  );

const RUN_FIELDS = "record, attempt, owner, owner_pid";

export const getRun = (id: string): Query => q(`SELECT ${RUN_FIELDS} FROM runs WHERE id = $1`, [id]);

export const listRuns = (o: RunQuery): Query => {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (cond: (n: string) => string, v: unknown) => {
    values.push(v);
    where.push(cond(`$${values.length}`));
  };
  if (o.library) add((n) => `library = ${n}`, o.library);
  if (o.workflow) add((n) => `workflow = ${n}`, o.workflow);
  if (o.status) add((n) => `status = ANY(${n}::text[])`, o.status);
  if (o.delivery) add((n) => `delivery = ${n}`, o.delivery);
  let text = `SELECT ${RUN_FIELDS} FROM runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC`;
  if (o.limit) {
    values.push(o.limit);
    text += ` LIMIT $${values.length}`;
  }
  return q(text, values);
};

/** Extends the leases of the runs this instance holds, each under its fence; the rows not returned were lost. */
export const renewLeases = (instance: string, ids: string[], attempts: number[], leaseMs: number): Query =>
  q(
    `UPDATE runs SET lease_until = now() + make_interval(secs => $4::float8 / 1000), heartbeat_at = now()
FROM unnest($2::text[], $3::int[]) AS held(id, attempt)
WHERE runs.id = held.id AND runs.attempt = held.attempt AND runs.owner = $1 AND runs.status IN ${LIVE}
RETURNING runs.id`,
    [instance, ids, attempts, leaseMs],
  );

/**
 * The reaper: takes over runs whose lease ran out (their owner crashed, froze or was cut off),
 * raising the fence so the old owner's writes are refused from now on. SKIP LOCKED lets every
 * replica reap at once without two taking the same run.
 */
export const reapExpired = (instance: string, pid: number, leaseMs: number, limit: number): Query =>
  q(
    `WITH expired AS (
  SELECT id FROM runs WHERE status IN ${LIVE} AND lease_until < now()
  ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED
)
UPDATE runs SET attempt = runs.attempt + 1, owner = $1, owner_pid = $2, status = 'queued',
  record = runs.record || jsonb_build_object('status', 'queued', 'attempt', runs.attempt + 1),
  takeover_ms = (extract(epoch FROM (now() - coalesce(runs.heartbeat_at, runs.lease_until))) * 1000)::int,
  taken_over_at = now(), heartbeat_at = now(),
  lease_until = now() + make_interval(secs => $3::float8 / 1000)
FROM expired WHERE runs.id = expired.id
RETURNING ${RUN_FIELDS.split(", ")
      .map((c) => `runs.${c}`)
      .join(", ")}, runs.takeover_ms`,
    [instance, pid, leaseMs, limit],
  );

/** On shutdown: gives up every run this instance still holds (fence raised, lease ended) so another replica takes it now. */
export const releaseLeases = (instance: string): Query =>
  q(
    `UPDATE runs SET attempt = attempt + 1, owner = NULL, status = 'queued', lease_until = now(),
  record = (record - 'owner') || jsonb_build_object('status', 'queued', 'attempt', attempt + 1)
WHERE owner = $1 AND status IN ${LIVE} RETURNING id`,
    [instance],
  );

export const deleteRuns = (ids: string[]): Query => q("DELETE FROM runs WHERE id = ANY($1::text[])", [ids]);
export const deleteLogs = (ids: string[]): Query => q("DELETE FROM run_logs WHERE run_id = ANY($1::text[])", [ids]);
export const orphanLogs = (): Query => q("SELECT DISTINCT run_id FROM run_logs l WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = l.run_id)");
/** Finished runs, newest first, for retention. */
export const finishedRuns = (terminal: readonly string[]): Query =>
  q("SELECT id, library, workflow, created_at, finished_at FROM runs WHERE status = ANY($1::text[]) ORDER BY created_at DESC, id DESC", [terminal]);

// ---- logs ----

export const appendLog = (runId: string, line: LogLine): Query =>
  q("INSERT INTO run_logs (run_id, line) VALUES ($1, $2::jsonb)", [runId, JSON.stringify(line)]);
export const readLog = (runId: string): Query => q("SELECT line FROM run_logs WHERE run_id = $1 ORDER BY seq", [runId]);

// ---- occurrence ledger ----

/**
 * Records a slot's outcome. The first row of a slot wins; a later outcome for it only replaces the
 * row of the same run (started → skipped by the overlap policy), never another replica's claim:
 * a replica that thought a slot missed cannot erase the run another one started for it.
 */
export const recordOccurrence = (triggerId: string, o: OccurrenceRecord, claimedBy: string): Query =>
  q(
    `INSERT INTO occurrences (trigger_id, scheduled_at, library, workflow, trigger, outcome, run_id, lag_ms, reason, recorded_at, claimed_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (trigger_id, scheduled_at) DO UPDATE SET outcome = EXCLUDED.outcome, lag_ms = EXCLUDED.lag_ms, reason = EXCLUDED.reason, recorded_at = EXCLUDED.recorded_at
WHERE occurrences.run_id IS NOT NULL AND occurrences.run_id = EXCLUDED.run_id`,
    [
      triggerId,
      o.scheduledAt,
      o.library,
      o.workflow,
      o.trigger,
      o.outcome,
      o.runId ?? null,
      o.lagMs === undefined ? null : Math.round(o.lagMs),
      o.reason ?? null,
      o.recordedAt,
      claimedBy,
    ],
  );

export const listOccurrences = (o: { library?: string; workflow?: string; limit?: number }): Query => {
  const where: string[] = [];
  const values: unknown[] = [];
  if (o.library) where.push(`library = $${values.push(o.library)}`);
  if (o.workflow) where.push(`workflow = $${values.push(o.workflow)}`);
  let text = `SELECT library, workflow, trigger, scheduled_at, outcome, run_id, lag_ms, reason, recorded_at FROM occurrences${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY scheduled_at DESC, recorded_at DESC`;
  if (o.limit) text += ` LIMIT $${values.push(o.limit)}`;
  return q(text, values);
};

/** Keeps the slots younger than `maxAgeMs` and at most `keep` per workflow. */
export const pruneOccurrences = (now: number, maxAgeMs: number | null, keep: number, dryRun: boolean): Query => {
  const doomed = `SELECT trigger_id, scheduled_at FROM (
  SELECT trigger_id, scheduled_at, row_number() OVER (PARTITION BY library, workflow ORDER BY scheduled_at DESC) AS n FROM occurrences
) o WHERE n > $3 OR ($2::bigint IS NOT NULL AND $1 - scheduled_at > $2::bigint)`;
  return dryRun
    ? q(`SELECT count(*)::int AS n FROM (${doomed}) d`, [now, maxAgeMs, keep])
    : q(`WITH d AS (DELETE FROM occurrences WHERE (trigger_id, scheduled_at) IN (${doomed}) RETURNING 1) SELECT count(*)::int AS n FROM d`, [
        now,
        maxAgeMs,
        keep,
      ]);
};

// ---- watermarks, settings, instances ----

export const getWatermark = (key: string): Query => q("SELECT value FROM watermarks WHERE key = $1", [key]);
export const setWatermark = (key: string, w: Watermark): Query =>
  q("INSERT INTO watermarks (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [key, JSON.stringify(w)]);
export const getWorkflowEnabled = (library: string, workflow: string): Query =>
  q("SELECT enabled FROM workflow_settings WHERE library = $1 AND workflow = $2", [library, workflow]);
export const setWorkflowEnabled = (library: string, workflow: string, enabled: boolean): Query =>
  q("INSERT INTO workflow_settings (library, workflow, enabled) VALUES ($1, $2, $3) ON CONFLICT (library, workflow) DO UPDATE SET enabled = EXCLUDED.enabled", [
    library,
    workflow,
    enabled,
  ]);
export const heartbeat = (instance: string, pid: number, at: number): Query =>
  q("INSERT INTO instances (instance, pid, at, beat_at) VALUES ($1, $2, $3, now()) ON CONFLICT (instance) DO UPDATE SET pid = $2, at = $3, beat_at = now()", [
    instance,
    pid,
    at,
  ]);
export const forgetInstances = (now: number, staleMs: number): Query => q("DELETE FROM instances WHERE $1 - at > $2", [now, staleMs]);

// ---- webhook deliveries ----

export const claimDelivery = (r: DeliveryRecord): Query =>
  q("INSERT INTO deliveries (id, attempt, at, record) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (id, attempt) DO NOTHING RETURNING id", [
    r.id,
    r.attempt,
    r.at,
    JSON.stringify(r),
  ]);
export const updateDelivery = (r: DeliveryRecord): Query =>
  q("UPDATE deliveries SET at = $3, record = $4::jsonb WHERE id = $1 AND attempt = $2", [r.id, r.attempt, r.at, JSON.stringify(r)]);
export const getDelivery = (id: string): Query => q("SELECT record FROM deliveries WHERE id = $1 ORDER BY attempt", [id]);
export const forgetDelivery = (id: string, attempt: number): Query => q("DELETE FROM deliveries WHERE id = $1 AND attempt = $2", [id, attempt]);
export const pruneDeliveries = (now: number, maxAgeMs: number, dryRun: boolean): Query =>
  dryRun
    ? q("SELECT count(*)::int AS n FROM deliveries WHERE $1 - at > $2", [now, maxAgeMs])
    : q("WITH d AS (DELETE FROM deliveries WHERE $1 - at > $2 RETURNING 1) SELECT count(*)::int AS n FROM d", [now, maxAgeMs]);

// ---- tenancy: every statement on an org's data takes the org first ($1) ----

export const beginTx = (): Query => q("BEGIN");
export const commitTx = (): Query => q("COMMIT");
export const rollbackTx = (): Query => q("ROLLBACK");

/** The default org exists from the first open on (created once, whoever opens first). */
export const ensureOrg = (org: OrgRecord): Query =>
  q("INSERT INTO orgs (org, name, created_at, quotas) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (org) DO NOTHING", [
    org.id,
    org.name,
    org.createdAt,
    JSON.stringify(org.quotas),
  ]);
export const insertOrg = (org: OrgRecord): Query =>
  q("INSERT INTO orgs (org, name, created_at, quotas) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (org) DO NOTHING RETURNING org", [
    org.id,
    org.name,
    org.createdAt,
    JSON.stringify(org.quotas),
  ]);
const ORG_FIELDS = "org, name, created_at, quotas";
export const listOrgs = (): Query => q(`SELECT ${ORG_FIELDS} FROM orgs ORDER BY pos`);
export const getOrg = (org: string): Query => q(`SELECT ${ORG_FIELDS} FROM orgs WHERE org = $1`, [org]);
/**
 * Every change to an org's data starts by locking the org's row: the writes of all replicas to one
 * org follow each other, each seeing the last one's result, and a deleted org is seen as gone.
 */
export const lockOrg = (org: string): Query => q(`SELECT ${ORG_FIELDS} FROM orgs WHERE org = $1 FOR UPDATE`, [org]);
export const setQuotas = (org: string, quotas: Quotas): Query => q("UPDATE orgs SET quotas = $2::jsonb WHERE org = $1", [org, JSON.stringify(quotas)]);
/** Roles, bindings and users go with it (ON DELETE CASCADE); its audit rows stay. */
export const deleteOrg = (org: string): Query => q("DELETE FROM orgs WHERE org = $1 RETURNING org", [org]);

export const listRoles = (org: string): Query => q("SELECT role FROM org_roles WHERE org = $1 ORDER BY pos", [org]);
export const insertRole = (org: string, role: CustomRole): Query =>
  q("INSERT INTO org_roles (org, name, role) VALUES ($1, $2, $3::jsonb) ON CONFLICT (org, name) DO NOTHING RETURNING name", [
    org,
    role.name,
    JSON.stringify(role),
  ]);
export const deleteRole = (org: string, name: string): Query => q("DELETE FROM org_roles WHERE org = $1 AND name = $2 RETURNING name", [org, name]);
export const bindingsOfRole = (org: string, role: string): Query => q("SELECT id FROM org_bindings WHERE org = $1 AND role = $2 ORDER BY pos", [org, role]);

const BINDING_FIELDS = "id, subject, role, scope, created_at";
export const listBindings = (org: string): Query => q(`SELECT ${BINDING_FIELDS} FROM org_bindings WHERE org = $1 ORDER BY pos`, [org]);
export const getBinding = (org: string, id: string): Query => q(`SELECT ${BINDING_FIELDS} FROM org_bindings WHERE org = $1 AND id = $2`, [org, id]);
export const insertBinding = (org: string, b: BindingRecord): Query =>
  q(
    "INSERT INTO org_bindings (org, id, subject, role, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org, subject, role, scope) DO NOTHING RETURNING id",
    [org, b.id, b.subject, b.role, b.scope, b.createdAt],
  );
export const deleteBinding = (org: string, id: string): Query => q("DELETE FROM org_bindings WHERE org = $1 AND id = $2 RETURNING id", [org, id]);

export const listUsers = (org: string): Query => q("SELECT record FROM org_users WHERE org = $1 ORDER BY pos", [org]);
export const getUser = (org: string, id: string): Query => q("SELECT record FROM org_users WHERE org = $1 AND id = $2", [org, id]);
/** A refreshed user moves to the end of the list, as in the file store. */
export const upsertUser = (org: string, u: UserRecord): Query =>
  q(
    "INSERT INTO org_users (org, id, record) VALUES ($1, $2, $3::jsonb) ON CONFLICT (org, id) DO UPDATE SET record = EXCLUDED.record, pos = nextval(pg_get_serial_sequence('org_users', 'pos'))",
    [org, u.id, JSON.stringify(u)],
  );

// ---- API requests per org and minute (the requests-per-minute quota, one count for every replica) ----

/** Counts one request of the org in the minute starting at `minute`; the minute's count with it (1: the first). */
export const countOrgRequest = (org: string, minute: number): Query =>
  q("INSERT INTO org_request_counts (org, minute, n) VALUES ($1, $2, 1) ON CONFLICT (org, minute) DO UPDATE SET n = org_request_counts.n + 1 RETURNING n", [
    org,
    minute,
  ]);
/** Forgets the counts of every org's minutes before `before`. */
export const pruneOrgRequests = (before: number): Query => q("DELETE FROM org_request_counts WHERE minute < $1", [before]);

// ---- audit chain ----

/** Creates the org's head row on its first append (a concurrent first append waits, then finds it). */
export const ensureAuditHead = (org: string): Query => q("INSERT INTO audit_heads (org, seq) VALUES ($1, 0) ON CONFLICT (org) DO NOTHING", [org]);
/** Held to the end of the appending transaction: the next append to this org, from any replica, waits for it. */
export const lockAuditHead = (org: string): Query => q("SELECT seq, hash FROM audit_heads WHERE org = $1 FOR UPDATE", [org]);
export const insertAuditRow = (org: string, seq: number, line: string): Query =>
  q("INSERT INTO audit_rows (org, seq, line) VALUES ($1, $2, $3)", [org, seq, line]);
export const setAuditHead = (org: string, seq: number, hash: string): Query => q("UPDATE audit_heads SET seq = $2, hash = $3 WHERE org = $1", [org, seq, hash]);
export const listAuditRows = (org: string, afterSeq: number, limit: number | null): Query =>
  q("SELECT line FROM audit_rows WHERE org = $1 AND seq > $2 ORDER BY seq LIMIT $3", [org, afterSeq, limit]);
export const auditOrgs = (): Query => q("SELECT org FROM audit_heads WHERE seq > 0 ORDER BY org");

// ---- API tokens (looked up by digest on every request: a revocation on one replica refuses on all at once) ----

export const listTokens = (): Query => q("SELECT record FROM api_tokens ORDER BY pos");
export const tokenById = (id: string): Query => q("SELECT record FROM api_tokens WHERE id = $1", [id]);
export const tokenByDigest = (digest: string): Query => q("SELECT record FROM api_tokens WHERE digest = $1", [digest]);
export const insertToken = (t: TokenRecord): Query =>
  q("INSERT INTO api_tokens (digest, id, org, record) VALUES ($1, $2, $3, $4::jsonb)", [t.digest, t.id, t.org ?? null, JSON.stringify(t)]);
/** An adopted token replaces the record of the same token (same digest), as in the file store. */
export const upsertToken = (t: TokenRecord): Query =>
  q(
    "INSERT INTO api_tokens (digest, id, org, record) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (digest) DO UPDATE SET id = EXCLUDED.id, org = EXCLUDED.org, record = EXCLUDED.record, pos = nextval(pg_get_serial_sequence('api_tokens', 'pos'))",
    [t.digest, t.id, t.org ?? null, JSON.stringify(t)],
  );
export const revokeToken = (id: string): Query => q("DELETE FROM api_tokens WHERE id = $1 RETURNING id", [id]);
