// Tenancy through the HTTP API: bindings at scopes (inherited below, never above, never across
// orgs), custom roles, OIDC users and groups, quotas with 429 + Retry-After, the audit chain of
// decisions, and foreign or odd ids answering 404/400.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { verifyChain } from "../../../src/daemon/tenancy/audit-chain.ts";
import { auditFile } from "../../../src/daemon/tenancy/file-store.ts";
import { startIssuer, type TestIssuer } from "../../helpers/oidc-issuer.ts";
import { json, setupApi, type Harness } from "./helpers.ts";

let h: Harness | undefined;
let idp: TestIssuer | undefined;
afterEach(async () => {
  await h?.cleanup();
  await idp?.close();
  h = undefined;
  idp = undefined;
});

const LIMITS = { authFailuresPerMinute: 1_000_000, requestsPerMinutePerToken: 1_000_000 };

async function withAcme(config: Record<string, unknown> = {}): Promise<Harness> {
  h = await setupApi({ config: { limits: LIMITS, ...config } });
  await h.api.tenancy.createOrg("acme");
  return h;
}

describe("bindings and scopes", () => {
  it("a binding at one workflow grants that workflow only; at a library, everything in it; a token's own role stays its floor", async () => {
    const h = await withAcme();
    const bare = h.api.tokens.create({ role: "viewer", library: "other", name: "bare" });
    const sub = `token:${bare.record.id}`;
    // Its own grant (viewer of library other) does not reach team.
    expect((await h.call("GET", "/v1/workflows/team/sync", { token: bare.token })).status).toBe(404);
    const b = await h.api.tenancy.createBinding("default", { subject: sub, role: "editor", scope: "org/default/lib/team/workflows/sync" });
    expect((await h.call("GET", "/v1/workflows/team/sync", { token: bare.token })).status).toBe(200);
    expect((await h.call("GET", "/v1/workflows/team/backup", { token: bare.token })).status).toBe(404);
    const listed = await json(await h.call("GET", "/v1/workflows", { token: bare.token }));
    expect(listed.items.map((w: { library: string; name: string }) => `${w.library}/${w.name}`).sort()).toContain("team/sync");
    expect(listed.items.map((w: { library: string; name: string }) => `${w.library}/${w.name}`)).not.toContain("team/backup");
    expect((await h.call("POST", "/v1/workflows/team/sync/runs", { token: bare.token, json: { inputs: {} } })).status).toBe(202);
    // The library itself is not covered by a workflow binding (grants inherit down, never up).
    expect((await h.call("GET", "/v1/libraries/team/agents", { token: bare.token })).status).toBe(404);
    await h.api.tenancy.deleteBinding("default", b.id);
    expect((await h.call("GET", "/v1/workflows/team/sync", { token: bare.token })).status).toBe(404);
    await h.api.tenancy.createBinding("default", { subject: sub, role: "viewer", scope: "org/default/lib/team" });
    expect((await h.call("GET", "/v1/libraries/team/agents", { token: bare.token })).status).toBe(200);
    expect((await h.call("GET", "/v1/workflows/team/backup", { token: bare.token })).status).toBe(200);
    expect((await h.call("POST", "/v1/workflows/team/sync/runs", { token: bare.token, json: { inputs: {} } })).status).toBe(403);
  });

  it("a custom role grants exactly its actions", async () => {
    const h = await withAcme();
    const t = h.api.tokens.create({ role: "viewer", name: "runner" });
    await h.call("POST", "/v1/orgs/default/roles", { token: h.tokens.admin, json: { name: "runner", actions: ["view", "run"] } });
    const bind = await h.call("POST", "/v1/orgs/default/bindings", {
      token: h.tokens.admin,
      json: { subject: `token:${t.record.id}`, role: "runner", scope: "org/default/lib/team" },
    });
    expect(bind.status).toBe(201);
    expect((await h.call("POST", "/v1/workflows/team/sync/runs", { token: t.token, json: { inputs: {} } })).status).toBe(202);
    // run, but not update (enable/disable) nor cancel.
    expect((await h.call("POST", "/v1/workflows/team/sync/disable", { token: t.token })).status).toBe(403);
    const run = await h.daemon.trigger("team", "sync");
    expect((await h.call("POST", `/v1/runs/${run}/cancel`, { token: t.token })).status).toBe(403);
    // A role bound somewhere cannot be deleted.
    expect((await h.call("DELETE", "/v1/orgs/default/roles/runner", { token: h.tokens.admin })).status).toBe(409);
  });

  it("a binding whose scope names another org, a wildcard or an unknown role is refused (422); in another org the route answers 404", async () => {
    const h = await withAcme();
    const acmeAdmin = h.api.tokens.create({ role: "admin", org: "acme" }).token;
    for (const scope of ["org/default", "org/acme/lib/*", "org/acme/../default", "org/acme2", "org/acme/lib/x/agents/y"]) {
      const r = await h.call("POST", "/v1/orgs/acme/bindings", { token: acmeAdmin, json: { subject: "group:https://i|g", role: "viewer", scope } });
      expect(r.status, scope).toBe(422);
    }
    expect(
      (await h.call("POST", "/v1/orgs/acme/bindings", { token: acmeAdmin, json: { subject: "group:https://i|g", role: "owner", scope: "org/acme" } })).status,
    ).toBe(422);
    expect(
      (await h.call("POST", "/v1/orgs/default/bindings", { token: acmeAdmin, json: { subject: "group:https://i|g", role: "admin", scope: "org/default" } }))
        .status,
    ).toBe(404);
    expect(await h.api.tenancy.listBindings("default")).toEqual([]);
  });

  it("ids of another org, and odd ids, answer 404 or 400 (never 403, never another org's data)", async () => {
    const h = await withAcme();
    const acmeAdmin = h.api.tokens.create({ role: "admin", org: "acme" }).token;
    const run = await h.daemon.trigger("team", "sync");
    const defaultBinding = await h.api.tenancy.createBinding("default", { subject: "group:https://i|g", role: "viewer", scope: "org/default" });
    const defaultToken = h.api.tokens.create({ role: "viewer" }).record.id;
    for (const path of [
      `/v1/runs/${run}`,
      `/v1/runs/${run}/logs`,
      `/v1/orgs/default`,
      `/v1/orgs/default/audit`,
      `/v1/orgs/default/bindings`,
      `/v1/orgs/nope/roles`,
    ])
      expect((await h.call("GET", path, { token: acmeAdmin })).status, path).toBe(404);
    expect((await h.call("DELETE", `/v1/orgs/acme/bindings/${defaultBinding.id}`, { token: acmeAdmin })).status).toBe(404);
    expect((await h.call("DELETE", `/v1/orgs/acme/tokens/${defaultToken}`, { token: acmeAdmin })).status).toBe(404);
    expect((await h.call("DELETE", `/v1/tokens/${defaultToken}`, { token: acmeAdmin })).status).toBe(404);
    expect((await h.call("POST", `/v1/runs/${run}/cancel`, { token: acmeAdmin })).status).toBe(404);
    expect(await h.api.tenancy.getBinding("default", defaultBinding.id)).toBeDefined();
    expect(h.api.tokens.list().some((t) => t.id === defaultToken)).toBe(true);
    for (const id of ["*", "%2A", "0", "null", "..%2f", "%2e%2e%2fdefault"]) {
      const a = await h.call("GET", `/v1/runs/${id}`, { token: acmeAdmin });
      const b = await h.call("DELETE", `/v1/orgs/acme/bindings/${id}`, { token: acmeAdmin });
      const c = await h.call("GET", `/v1/orgs/${id}/roles`, { token: acmeAdmin });
      for (const [what, r] of [
        ["run", a],
        ["binding", b],
        ["org", c],
      ] as const)
        expect([400, 404], `${what} ${id}`).toContain(r.status);
    }
    // Lists of another org's principal show nothing of the default org.
    expect((await json(await h.call("GET", "/v1/runs", { token: acmeAdmin }))).items).toEqual([]);
    expect((await json(await h.call("GET", "/v1/workflows", { token: acmeAdmin }))).items).toEqual([]);
    expect((await json(await h.call("GET", "/v1/libraries", { token: acmeAdmin }))).items).toEqual([]);
    expect((await json(await h.call("GET", "/v1/orgs", { token: acmeAdmin }))).items.map((o: { id: string }) => o.id)).toEqual(["acme"]);
    expect((await json(await h.call("GET", "/v1/tokens", { token: acmeAdmin }))).items.every((t: { org?: string }) => t.org === "acme")).toBe(true);
  });
});

describe("libraries of an org", () => {
  it("a library assigned to acme (daemon.yaml libraries: [{ path, org }]) is acme's alone: its runs, workflows and agents", async () => {
    const h = await withAcme();
    const served = h.deps.libraries();
    h.deps.libraries = () => served.map((l) => (l.name === "other" ? { ...l, org: "acme" } : l));
    const acmeEditor = h.api.tokens.create({ role: "editor", org: "acme" }).token;
    const libs = await json(await h.call("GET", "/v1/libraries", { token: acmeEditor }));
    expect(libs.items.map((l: { name: string }) => l.name)).toEqual(["other"]);
    expect((await json(await h.call("GET", "/v1/libraries", { token: h.tokens.admin }))).items.map((l: { name: string }) => l.name)).toEqual(["team"]);
    const queued = await h.call("POST", "/v1/workflows/other/export/runs", { token: acmeEditor, json: { inputs: {} } });
    expect(queued.status).toBe(202);
    const { runId } = await json(queued);
    expect((await h.call("GET", `/v1/runs/${runId}`, { token: acmeEditor })).status).toBe(200);
    // The default org's admin (even the server admin) does not see acme's library through the library routes.
    expect((await h.call("GET", `/v1/runs/${runId}`, { token: h.tokens.admin })).status).toBe(404);
    expect((await h.call("GET", "/v1/workflows/other/export", { token: h.tokens.admin })).status).toBe(404);
    expect((await h.call("POST", `/v1/runs/${runId}/cancel`, { token: h.tokens.editor })).status).toBe(404);
    expect((await h.call("GET", "/v1/libraries/team/agents", { token: acmeEditor })).status).toBe(404);
    const runs = await json(await h.call("GET", "/v1/runs", { token: acmeEditor }));
    expect(runs.items.map((r: { library: string }) => r.library)).toEqual(["other"]);
    expect((await h.call("POST", `/v1/runs/${runId}/cancel`, { token: acmeEditor })).status).toBe(202);
    const acmeRows = await h.api.auditStore.list("acme");
    expect(acmeRows.map((r) => r.resource)).toContain("org/acme/lib/other/workflows/export");
  });

  it("daemon.yaml names a library's org; a bad org name is a config error", async () => {
    const { resolveDaemonConfig } = await import("../../../src/daemon/config.ts");
    const { tempDir } = await import("../../helpers/fixtures.ts");
    const d = tempDir("aicfg-cfg-");
    try {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(`${d.path}/lib-a`);
      writeFileSync(`${d.path}/daemon.yaml`, "libraries:\n  - path: lib-a\n    org: acme\n  - lib-b\n");
      const cfg = resolveDaemonConfig({ config: `${d.path}/daemon.yaml` }, d.path, {});
      expect(cfg.libraryOrg).toEqual({ [`${d.path}/lib-a`]: "acme" });
      writeFileSync(`${d.path}/daemon.yaml`, "libraries:\n  - path: lib-a\n    org: Not An Org\n");
      expect(() => resolveDaemonConfig({ config: `${d.path}/daemon.yaml` }, d.path, {})).toThrow(/org/);
    } finally {
      d.cleanup();
    }
  });
});

describe("quotas", () => {
  it("runs per hour per org: 429 with Retry-After, then free again after the window; other orgs unaffected", async () => {
    h = await setupApi({ config: { limits: LIMITS } });
    await h.api.tenancy.updateQuotas("default", { runsPerHour: 2 });
    const go = () => h!.call("POST", "/v1/workflows/team/sync/runs", { token: h!.tokens.editor, json: { inputs: {} } });
    expect((await go()).status).toBe(202);
    // A refused trigger (bad inputs) does not use the quota.
    expect((await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: { nope: 1 } } })).status).toBe(422);
    expect((await go()).status).toBe(202);
    const third = await go();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(third.headers.get("retry-after"))).toBeLessThanOrEqual(3600);
    expect((await json(third)).error.code).toBe("org-quota");
    await h.clock.advance(3_600_000);
    expect((await go()).status).toBe(202);
  });

  it("API requests per minute per org, for all of its callers together", async () => {
    h = await setupApi({ config: { limits: LIMITS } });
    await h.api.tenancy.createOrg("acme", { quotas: { requestsPerMinute: 3 } });
    const a = h.api.tokens.create({ role: "viewer", org: "acme" }).token;
    const b = h.api.tokens.create({ role: "admin", org: "acme" }).token;
    expect((await h.call("GET", "/v1/whoami", { token: a })).status).toBe(200);
    expect((await h.call("GET", "/v1/whoami", { token: b })).status).toBe(200);
    expect((await h.call("GET", "/v1/orgs", { token: a })).status).toBe(200);
    const over = await h.call("GET", "/v1/whoami", { token: b });
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    // The default org has its own budget.
    expect((await h.call("GET", "/v1/whoami", { token: h.tokens.viewer })).status).toBe(200);
    await h.clock.advance(60_000);
    expect((await h.call("GET", "/v1/whoami", { token: b })).status).toBe(200);
  });
});

describe("audit chain of decisions", () => {
  it("denials without a verified caller are audited at most 60 per address per minute", async () => {
    h = await setupApi({ config: { limits: LIMITS } });
    for (let i = 0; i < 75; i++) expect((await h.call("GET", "/v1/runs", { token: `aicfg_guess${i}` })).status).toBe(401);
    expect((await h.api.auditStore.list("default")).length).toBe(60);
    await h.clock.advance(60_000);
    await h.call("GET", "/v1/runs");
    expect((await h.api.auditStore.list("default")).length).toBe(61);
  });

  it("records every mutating request and every denial in the caller's org, without credentials; a changed row breaks the chain", async () => {
    const h = await withAcme();
    const acmeViewer = h.api.tokens.create({ role: "viewer", org: "acme" }).token;
    await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: {} } });
    await h.call("GET", "/v1/tokens", { token: h.tokens.viewer }); // 403
    await h.call("GET", "/v1/workflows/team/sync", { token: acmeViewer }); // 404 (another org's library)
    await h.call("GET", "/v1/runs", { token: "aicfg_notatoken" }); // 401
    await h.call("GET", "/v1/workflows", { token: h.tokens.viewer }); // an allowed read: no row
    const rows = await h.api.auditStore.list("default");
    expect(rows.map((r) => [r.action, r.decision, r.status])).toEqual([
      ["run.trigger", "allow", 202],
      ["manage-members", "deny", 403],
      ["authenticate", "deny", 401],
    ]);
    expect(rows[0]!.resource).toBe("org/default/lib/team/workflows/sync");
    expect(rows[1]).toMatchObject({ resource: "org/default", ruleId: "default-deny", actor: { kind: "token" } });
    const acme = await h.api.auditStore.list("acme");
    expect(acme.map((r) => [r.decision, r.status, r.resource])).toEqual([["deny", 404, "org/default/lib/team"]]);
    const text = readFileSync(auditFile(h.stateDir, "default"), "utf8");
    for (const t of Object.values(h.tokens)) expect(text).not.toContain(t);
    expect(text).not.toContain("aicfg_notatoken");
    const ok = await json(await h.call("GET", "/v1/orgs/default/audit/verify", { token: h.tokens.admin }));
    expect(ok).toMatchObject({ ok: true, rows: 3 });
    const lines = text.split("\n");
    lines[1] = lines[1]!.replace('"deny"', '"allow"');
    writeFileSync(auditFile(h.stateDir, "default"), lines.join("\n"));
    expect(verifyChain(readFileSync(auditFile(h.stateDir, "default"), "utf8").split("\n"))).toMatchObject({
      ok: false,
      problem: { line: 2, reason: "changed" },
    });
    const page = await json(await h.call("GET", "/v1/orgs/default/audit?after=1&limit=1", { token: h.tokens.admin }));
    expect(page.items.map((r: { seq: number }) => r.seq)).toEqual([2]);
    expect(page.next).toBe(2);
  });
});

describe("OIDC principals through the API", () => {
  async function withIssuer() {
    idp = await startIssuer();
    const key = await idp.newKey("ES256");
    idp.publish([key]);
    const harness = await withAcme({ oidc: { issuers: [{ issuer: idp.issuer, jwksUri: idp.jwksUri, org: "acme", audience: "aicfg" }] } });
    const s = Math.floor(harness.clock.now() / 1000);
    const sign = (sub: string, groups: string[]) => idp!.sign(key, { iss: idp!.issuer, aud: "aicfg", sub, groups }, { iat: s - 5 });
    return { h: harness, sign };
  }

  it("a signed-in user has no access until a binding grants it; groups come from each token; users are recorded by issuer and subject", async () => {
    const { h, sign } = await withIssuer();
    const jwt = await sign("u-1", ["eng"]);
    const who = await json(await h.call("GET", "/v1/whoami", { token: jwt }));
    expect(who).toMatchObject({ kind: "user", org: "acme", serverAdmin: false, grants: [] });
    expect(who.subjects).toEqual([`user:${idp!.issuer}|u-1`, `group:${idp!.issuer}|eng`]);
    expect((await h.call("GET", "/v1/orgs/acme/roles", { token: jwt })).status).toBe(404);
    expect((await h.call("GET", "/v1/workflows", { token: jwt })).status).toBe(403);
    await h.api.tenancy.createBinding("acme", { subject: `group:${idp!.issuer}|eng`, role: "admin", scope: "org/acme" });
    expect((await h.call("GET", "/v1/orgs/acme/roles", { token: jwt })).status).toBe(200);
    const users = await json(await h.call("GET", "/v1/orgs/acme/users", { token: jwt }));
    expect(users.items).toMatchObject([{ issuer: idp!.issuer, subject: "u-1", groups: ["eng"] }]);
    // Removed from the group at the IdP: the next token has no access.
    expect((await h.call("GET", "/v1/orgs/acme/roles", { token: await sign("u-1", []) })).status).toBe(404);
    // An OIDC user of acme never reaches the default org.
    expect((await h.call("GET", "/v1/orgs/default/roles", { token: jwt })).status).toBe(404);
    expect((await h.call("GET", "/v1/workflows/team/sync", { token: jwt })).status).toBe(404);
  });

  it("bad JWTs answer 401 and an unreachable JWKS 503 with Retry-After, never access", async () => {
    const { h, sign } = await withIssuer();
    const wrongAud = await idp!.sign((await idp!.newKey("ES256", "k-x")) as never, { iss: idp!.issuer, aud: "aicfg", sub: "x" }, { iat: 0 });
    const r = await h.call("GET", "/v1/whoami", { token: wrongAud });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toContain("invalid_token");
    idp!.fail(true);
    // A new issuer key set was never fetched by this daemon: nothing to trust.
    const h2 = await setupApi({ config: { oidc: { issuers: [{ issuer: idp!.issuer, jwksUri: idp!.jwksUri, org: "default", audience: "aicfg" }] } } });
    try {
      const down = await h2.call("GET", "/v1/whoami", { token: await sign("u-2", []) });
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toMatch(/^\d+$/);
    } finally {
      await h2.cleanup();
    }
  });
});

describe("per-org views of /metrics and /v1/status", () => {
  it("an org's admin sees only its org's libraries, workflows and runs; the server admin sees every org, each per-library series labelled with its org", async () => {
    h = await setupApi({ config: { limits: LIMITS } });
    const served = h.deps.libraries();
    h.deps.libraries = () => served.map((l) => (l.name === "other" ? { ...l, org: "acme" } : l));
    await h.api.tenancy.createOrg("acme");
    const acme = h.api.tokens.create({ role: "admin", org: "acme", name: "acme-admin" }).token;
    const mine = await h.daemon.trigger("other", "export");
    const theirs = await h.daemon.trigger("team", "sync");
    await h.daemon.waitFor(mine, ["running"]);
    await h.daemon.waitFor(theirs, ["running"]);
    const series = async (token: string) => (await (await h!.call("GET", "/metrics", { token })).text()).split("\n").filter((l) => l && !l.startsWith("#"));

    const scoped = await series(acme);
    expect(scoped).toContain('aicfg_runs_started_total{org="acme",library="other",workflow="export",trigger="manual"} 1');
    expect(scoped).toContain('aicfg_runs_active{org="acme",library="other",workflow="export"} 1');
    // Nothing of the default org, nor the server-wide series that mix orgs; the build's are public.
    expect(scoped.filter((l) => l.includes('library="team"') || l.includes('org="default"'))).toEqual([]);
    expect(scoped.filter((l) => /^aicfg_(http_request|trigger_events|step_duration)/.test(l))).toEqual([]);
    expect(scoped.some((l) => l.startsWith("aicfg_build_info{"))).toBe(true);

    const all = await series(h.tokens.admin);
    expect(all).toContain('aicfg_runs_active{org="acme",library="other",workflow="export"} 1');
    expect(all).toContain('aicfg_runs_active{org="default",library="team",workflow="sync"} 1');
    expect(all.filter((l) => l.includes("library=") && !/\{org="(acme|default)",library=/.test(l))).toEqual([]);

    const status = async (token: string) => (await json(await h!.call("GET", "/v1/status", { token }))).scope;
    const acmeView = await status(acme);
    expect(acmeView).toEqual({
      org: "acme",
      libraries: [{ name: "other", org: "acme", workflows: 1, enabled: 1, broken: 0 }],
      runs: { running: 1, queued: 0 },
    });
    const serverView = await status(h.tokens.admin);
    expect(serverView.org).toBe(null);
    expect(serverView.libraries.map((l: { name: string; org: string }) => `${l.org}/${l.name}`)).toEqual(["default/team", "acme/other"]);
    expect(serverView.runs.running).toBe(2);
    // A default-org viewer sees its org only.
    expect((await status(h.tokens.viewer)).libraries.map((l: { name: string }) => l.name)).toEqual(["team"]);
    h.daemon.hold.release();
  });
});
