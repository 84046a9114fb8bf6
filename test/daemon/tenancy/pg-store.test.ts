// The tenancy conformance suite on PostgreSQL (a database of its own per test), then what only a
// shared database needs: one audit chain per org under concurrent appends from two replicas (two
// pools), append-only audit rows, changes of one replica seen by another at once, and
// `aicfg audit verify` / `aicfg org …` against the store a daemon.yaml names.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock, type ManualClock } from "../../../src/daemon/clock.ts";
import { openPgStore, type PgStore } from "../../../src/daemon/store/pg/pg-store.ts";
import { MIGRATIONS } from "../../../src/daemon/store/pg/sql.ts";
import { verifyChain } from "../../../src/daemon/tenancy/audit-chain.ts";
import type { AuditInput } from "../../../src/daemon/tenancy/types.ts";
import { cli } from "../../cli/helpers.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { createTestDatabase, queryDb, type TestDatabase } from "../../helpers/pg.ts";
import { tenancyConformance } from "./conformance.ts";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

const replicas = async (db: TestDatabase, n: number, clock: ManualClock) => {
  const stores: PgStore[] = [];
  for (let i = 0; i < n; i++) stores.push(await openPgStore({ url: db.url, instance: `replica-${i}`, pid: 1, retries: 5 }));
  return { stores, tenancy: await Promise.all(stores.map((s) => s.tenancyStores(clock))) };
};

tenancyConformance("postgres", async () => {
  const db = await createTestDatabase("tenancy");
  const clock = createManualClock(T0);
  const opened: PgStore[] = [];
  const open = async () => {
    const s = await openPgStore({ url: db.url, instance: `conformance-${opened.length}`, pid: 1, retries: 5 });
    opened.push(s);
    return s.tenancyStores(clock);
  };
  const first = await open();
  return {
    tenancy: first.tenancy,
    audit: first.audit,
    clock,
    reopen: async () => {
      const next = await open();
      return { tenancy: next.tenancy, audit: next.audit };
    },
    auditLines: (org) => first.auditLines(org),
    cleanup: async () => {
      for (const s of opened) await s.close().catch(() => {});
      await db.drop();
    },
  };
});

const row = (action: string, actor = "tok_0123456789ab"): AuditInput => ({
  actor: { kind: "token", id: actor },
  action,
  resource: "org/acme/lib/platform/workflows/sync",
  decision: "allow",
  ruleId: "binding:bnd_0000000000000001",
  status: 200,
});

describe("postgres tenancy store: replicas", () => {
  let db: TestDatabase | undefined;
  let stores: PgStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    await db?.drop();
    db = undefined;
  });

  it("keeps one unbroken chain per org when two replicas (two pools) append at once: every row there once, seq 1…n", async () => {
    db = await createTestDatabase("auditrace");
    const clock = createManualClock(T0);
    const r = await replicas(db, 2, clock);
    stores = r.stores;
    const [a, b] = r.tenancy;
    const n = 60;
    // Interleaved: each replica's appends to acme race the other's (and each replica's own, on its pool of 4).
    await Promise.all(
      Array.from({ length: n }, (_, i) => [
        a!.audit.append("acme", row(`a${i}`, "tok_aaaaaaaaaaaa")),
        b!.audit.append("acme", row(`b${i}`, "tok_bbbbbbbbbbbb")),
        (i % 2 ? a : b)!.audit.append("beta", row(`x${i}`)),
      ]).flat(),
    );
    for (const [org, rows] of [
      ["acme", 2 * n],
      ["beta", n],
    ] as const) {
      const lines = await b!.auditLines(org);
      expect(verifyChain(lines, org)).toMatchObject({ ok: true, rows });
      const listed = await a!.audit.list(org);
      expect(listed.map((x) => x.seq)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
      expect(new Set(listed.map((x) => x.action)).size).toBe(rows);
    }
    const heads = await queryDb<{ org: string; seq: string; hash: string }>(db.url, "SELECT org, seq, hash FROM audit_heads ORDER BY org");
    const lastAcme = (await a!.audit.list("acme")).at(-1)!;
    expect(heads.map((h) => [h.org, Number(h.seq)])).toEqual([
      ["acme", 2 * n],
      ["beta", n],
    ]);
    expect(heads[0]!.hash).toBe(lastAcme.hash);
    expect(await b!.audit.orgs()).toEqual(["acme", "beta"]);
  });

  it("refuses to change or remove audit rows (append-only in the database), and verify names the row changed behind the trigger's back", async () => {
    db = await createTestDatabase("auditao");
    const r = await replicas(db, 1, createManualClock(T0));
    stores = r.stores;
    const [a] = r.tenancy;
    for (let i = 0; i < 3; i++) await a!.audit.append("acme", row(`r${i}`));
    await expect(queryDb(db.url, "UPDATE audit_rows SET line = line WHERE org = 'acme'")).rejects.toThrow("audit rows are append-only (UPDATE refused)");
    await expect(queryDb(db.url, "DELETE FROM audit_rows WHERE org = 'acme' AND seq = 2")).rejects.toThrow("audit rows are append-only (DELETE refused)");
    await expect(queryDb(db.url, "TRUNCATE audit_rows")).rejects.toThrow("append-only");
    // Someone with the table owner's rights turns the trigger off and edits a row: the chain shows it.
    await queryDb(
      db.url,
      `ALTER TABLE audit_rows DISABLE TRIGGER audit_rows_append_only;
       UPDATE audit_rows SET line = replace(line, '"decision":"allow"', '"decision":"deny"') WHERE org = 'acme' AND seq = 2;
       ALTER TABLE audit_rows ENABLE TRIGGER audit_rows_append_only`,
    );
    expect(verifyChain(await a!.auditLines("acme"), "acme")).toMatchObject({ ok: false, problem: { seq: 2, reason: "changed" } });
  });

  it("a change on one replica is what the other reads next: bindings, a role still bound, a deleted org", async () => {
    db = await createTestDatabase("tenshare");
    const clock = createManualClock(T0);
    const r = await replicas(db, 2, clock);
    stores = r.stores;
    const [a, b] = r.tenancy;
    await a!.tenancy.createOrg("acme", { quotas: { runsPerHour: 3 } });
    expect((await b!.tenancy.getOrg("acme"))?.quotas.runsPerHour).toBe(3);
    await b!.tenancy.createRole("acme", { name: "runner", actions: ["view", "run"] });
    const bnd = await a!.tenancy.createBinding("acme", { subject: "token:tok_0123456789ab", role: "runner", scope: "org/acme" });
    expect(await b!.tenancy.listBindings("acme")).toEqual([bnd]);
    await expect(b!.tenancy.deleteRole("acme", "runner")).rejects.toMatchObject({ code: "conflict" });
    // Racing: a binding to the role on one replica, the role's deletion on the other. Either the
    // binding lands and the role stays, or the role goes and the binding is refused; never a binding to a deleted role.
    await a!.tenancy.deleteBinding("acme", bnd.id);
    const [created, deleted] = await Promise.allSettled([
      a!.tenancy.createBinding("acme", { subject: "token:tok_0123456789ab", role: "runner", scope: "org/acme/lib/x" }),
      b!.tenancy.deleteRole("acme", "runner"),
    ]);
    const roles = (await a!.tenancy.listRoles("acme")).map((x) => x.name);
    const bindings = await b!.tenancy.listBindings("acme");
    if (created.status === "fulfilled") {
      expect(roles).toEqual(["runner"]);
      expect(bindings.map((x) => x.role)).toEqual(["runner"]);
      expect(deleted.status === "rejected" ? (deleted.reason as { code: string }).code : deleted.value).toBe("conflict");
    } else {
      expect((created.reason as { code: string }).code).toBe("invalid-input");
      expect(deleted).toEqual({ status: "fulfilled", value: true });
      expect([roles, bindings]).toEqual([[], []]);
    }
    expect(await b!.tenancy.deleteOrg("acme")).toBe(true);
    await expect(a!.tenancy.createBinding("acme", { subject: "token:tok_0123456789ab", role: "viewer", scope: "org/acme" })).rejects.toMatchObject({
      code: "not-found",
    });
    const rows = await queryDb<{ n: number }>(db.url, "SELECT (SELECT count(*) FROM org_roles)::int + (SELECT count(*) FROM org_bindings)::int AS n");
    expect(rows[0]!.n).toBe(0);
    const versions = await queryDb<{ version: number }>(db.url, "SELECT version FROM aicfg_schema ORDER BY version");
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("aicfg org/binding/audit with --config work on the PostgreSQL store, and audit verify exits 1 at a changed row", async () => {
    db = await createTestDatabase("tencli");
    const dir = tempDir("aicfg-tenancy-pgcli-");
    try {
      const config = join(dir.path, "daemon.yaml");
      writeFileSync(config, `libraries: [lib]\nstate_dir: state\nstore: { kind: postgres, url_env: AICFG_TEST_PG }\n`);
      const env = { AICFG_TEST_PG: db.url };
      const c = ["--config", config];
      expect((await cli(["org", "create", "acme", ...c], { env })).code).toBe(0);
      const b = await cli(["binding", "create", "--org", "acme", "--subject", "token:tok_0123456789ab", "--role", "viewer", ...c, "--json"], { env });
      expect(b.code).toBe(0);
      const listed = await cli(["binding", "list", "--org", "acme", ...c, "--json"], { env });
      expect(listed.json().bindings.map((x: { id: string }) => x.id)).toEqual([b.json().binding.id]);
      const lines = await queryDb<{ line: string }>(db.url, "SELECT line FROM audit_rows WHERE org = 'acme' ORDER BY seq");
      expect(lines.map((l) => JSON.parse(l.line).action)).toEqual(["org.create", "binding.create"]);
      const ok = await cli(["audit", "verify", "--org", "acme", ...c, "--json"], { env });
      expect([ok.code, ok.json().orgs[0].report]).toEqual([0, { ok: true, rows: 2, head: JSON.parse(lines[1]!.line).hash }]);
      expect(
        (await cli(["audit", "export", "--org", "acme", "--after", "1", ...c], { env })).out
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).seq),
      ).toEqual([2]);
      await queryDb(
        db.url,
        `ALTER TABLE audit_rows DISABLE TRIGGER audit_rows_append_only;
         UPDATE audit_rows SET line = replace(line, '"action":"org.create"', '"action":"org.rename"') WHERE org = 'acme' AND seq = 1;
         ALTER TABLE audit_rows ENABLE TRIGGER audit_rows_append_only`,
      );
      const bad = await cli(["audit", "verify", ...c], { env });
      expect(bad.code).toBe(1);
      expect(bad.err).toContain("audit_rows(org=acme) in the PostgreSQL store of");
      expect(bad.err).toContain("row 1 (line 1) was changed after it was written");
      expect(bad.err).not.toContain(db.url);
    } finally {
      dir.cleanup();
    }
  });
});
