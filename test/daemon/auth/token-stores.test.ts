// The token store conformance suite on the file store and on PostgreSQL (a database of its own per
// test), then the cluster case: two API instances (two daemons, two pools) on one database, where a
// token created through one is accepted by the other and a revocation through one is refused by the
// other on the next request (the replicas: test/daemon/api/pg-replicas.ts); and each replica's
// local admin token survives the other's start.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureLocalAdminToken, openTokenStore, TOKENS_FILE } from "../../../src/daemon/auth/token-store.ts";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { openPgStore, type PgStore } from "../../../src/daemon/store/pg/pg-store.ts";
import { cli } from "../../cli/helpers.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { createTestDatabase, queryDb, type TestDatabase } from "../../helpers/pg.ts";
import { T0 } from "../api/api-daemon.ts";
import { apiReplicas } from "../api/pg-replicas.ts";
import { tokenStoreConformance } from "./token-conformance.ts";

tokenStoreConformance("file", async () => {
  const dir = tempDir("aicfg-tokens-");
  const clock = createManualClock(T0);
  return {
    store: openTokenStore(dir.path, clock),
    clock,
    other: async () => openTokenStore(dir.path, clock),
    stored: async () => {
      try {
        return readFileSync(join(dir.path, TOKENS_FILE), "utf8");
      } catch {
        return "";
      }
    },
    cleanup: async () => dir.cleanup(),
  };
});

tokenStoreConformance("postgres", async () => {
  const db = await createTestDatabase("tokens");
  const clock = createManualClock(T0);
  const opened: PgStore[] = [];
  const open = async () => {
    const s = await openPgStore({ url: db.url, instance: `tokens-${opened.length}`, pid: 1, retries: 5 });
    opened.push(s);
    return s.tokenStore(clock);
  };
  return {
    store: await open(),
    clock,
    other: open,
    stored: async () => JSON.stringify(await queryDb(db.url, "SELECT * FROM api_tokens")),
    cleanup: async () => {
      for (const s of opened) await s.close().catch(() => {});
      await db.drop();
    },
  };
});

describe("tokens on PostgreSQL: two API instances on one database", () => {
  let db: TestDatabase | undefined;
  const replicas = apiReplicas(() => db!.url);
  afterEach(async () => {
    await replicas.stop();
    await db?.drop();
    db = undefined;
  });

  it("a token created on A is accepted on B; revoked on A, B refuses it on the next request", async () => {
    db = await createTestDatabase("tokens2api");
    const a = await replicas.start("a");
    const b = await replicas.start("b");
    const adminA = await ensureLocalAdminToken(a.dir, a.tokens);
    const adminB = await ensureLocalAdminToken(b.dir, b.tokens);
    // Each replica's local admin token is its own: B's start did not revoke A's.
    expect((await a.call("GET", "/v1/whoami", adminA)).status).toBe(200);
    expect((await b.call("GET", "/v1/whoami", adminB)).status).toBe(200);
    expect((await a.tokens.list()).filter((t) => t.name === "local-admin").length).toBe(2);

    const created = await a.call("POST", "/v1/tokens", adminA, { role: "viewer", name: "shared" });
    expect(created.status).toBe(201);
    const { token, record } = (await created.json()) as { token: string; record: { id: string } };
    const onB = await b.call("GET", "/v1/whoami", token);
    expect(onB.status).toBe(200);
    expect(JSON.stringify(await onB.json())).toContain(record.id);
    expect((await b.call("GET", "/v1/tokens", adminB)).status).toBe(200);

    expect((await a.call("DELETE", `/v1/tokens/${record.id}`, adminA)).status).toBe(204);
    expect((await b.call("GET", "/v1/whoami", token)).status).toBe(401);
    expect((await a.call("GET", "/v1/whoami", token)).status).toBe(401);
    // Only digests are in the database.
    const rows = JSON.stringify(await queryDb(db.url, "SELECT * FROM api_tokens"));
    for (const t of [adminA, adminB, token]) expect(rows).not.toContain(t);
  });
});

describe("aicfg token with --config on PostgreSQL", () => {
  it("creates, lists and revokes the tokens the replicas share (nothing in the state folder)", async () => {
    const db = await createTestDatabase("tokencli");
    const dir = tempDir("aicfg-tokencli-");
    const pg = await openPgStore({ url: db.url, instance: "check", pid: 1, retries: 5 });
    try {
      const config = join(dir.path, "daemon.yaml");
      writeFileSync(config, "libraries: [lib]\nstate_dir: state\nstore: { kind: postgres, url_env: AICFG_TEST_PG }\n");
      const env = { AICFG_TEST_PG: db.url };
      const c = ["--config", config];
      const made = await cli(["token", "create", "--role", "viewer", "--name", "grafana", ...c, "--json"], { env });
      expect(made.code).toBe(0);
      const { token, record } = made.json() as { token: string; record: { id: string } };
      expect(await pg.tokenStore(createManualClock(T0)).verify(token, new Date(T0))).toMatchObject({ ok: true, token: { id: record.id, name: "grafana" } });
      expect((await cli(["token", "create", "--role", "viewer", "--org", "nope", ...c], { env })).code).toBe(1);
      const listed = await cli(["token", "list", ...c, "--json"], { env });
      expect(listed.json().tokens.map((t: { id: string }) => t.id)).toEqual([record.id]);
      expect(listed.out).not.toContain(token);
      expect(() => readFileSync(join(dir.path, "state", TOKENS_FILE))).toThrow();
      expect((await cli(["token", "revoke", record.id, ...c], { env })).code).toBe(0);
      expect(await pg.tokenStore(createManualClock(T0)).verify(token, new Date(T0))).toEqual({ ok: false, reason: "unknown" });
      expect((await cli(["token", "revoke", record.id, ...c], { env })).code).toBe(1);
    } finally {
      await pg.close();
      dir.cleanup();
      await db.drop();
    }
  });
});
