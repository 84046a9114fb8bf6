// The generated tenancy matrix (team-scale design §3.5): every route the app registers × caller role
// (viewer, editor, admin) × the caller's org (default, acme) × token state (valid, expired,
// revoked) plus anonymous, against every target org the route has; for GET routes the HEAD variant
// too. The expected status comes from the rules, not from a hand-written table: expired and revoked
// tokens 401; a caller of another org gets 404 for anything addressed in that org (never 403);
// inside its org, a missing action is 403; the server admin (the default org's unscoped admin)
// acts in every org. A route without a spec fails the coverage test.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { setupApi, WEBHOOK_SECRET, type Harness } from "./helpers.ts";

type RoleName = "viewer" | "editor" | "admin";
const ROLES: RoleName[] = ["viewer", "editor", "admin"];
const ORGS = ["default", "acme"] as const;
type Org = (typeof ORGS)[number];
const STATES = ["valid", "expired", "revoked"] as const;
type State = (typeof STATES)[number];

type Caller = { role: RoleName; org: Org; state: State } | "anonymous";
const CALLERS: Caller[] = ["anonymous", ...ROLES.flatMap((role) => ORGS.flatMap((org) => STATES.map((state) => ({ role, org, state }))))];

/** What the rules decide for a valid caller. */
type Who = { role: RoleName; org: Org; rank: number; sameOrg: boolean; serverAdmin: boolean };
const RANK: Record<RoleName, number> = { viewer: 0, editor: 1, admin: 2 };

type Ctx = { h: Harness; target: string; n: number };
type Spec = {
  /** Target orgs (default for routes whose resources live in the default org). */
  targets?: readonly string[];
  path: (ctx: Ctx, id: string) => string;
  json?: (ctx: Ctx) => unknown;
  setup?: (ctx: Ctx) => Promise<string>;
  webhook?: boolean;
  /** Status for a caller with a valid token; anonymous, expired and revoked follow from `open`. */
  expect: (w: Who) => number;
  /** Needs no token (probes from loopback, signed webhooks). */
  open?: boolean;
};

const BOTH = ORGS;
const DEFAULT_ONLY = ["default"] as const;

/** Any valid caller. */
const anyone = (ok: number) => () => ok;
/** A route of the default org's libraries: the gate needs `minRank` in the caller's own org, then the resource must be in it (404 otherwise). */
const library = (minRank: number, ok: number) => (w: Who) => (w.rank < minRank ? 403 : w.org !== "default" ? 404 : ok);
/** A /v1/orgs/:org route: server admin everywhere; another org is absent; inside the org the action decides. */
const inOrg = (minRank: number, ok: number) => (w: Who) => (w.serverAdmin ? ok : !w.sameOrg ? 404 : w.rank < minRank ? 403 : ok);
const serverAdmin = (ok: number) => (w: Who) => (w.serverAdmin ? ok : 403);

const queuedRun = (ctx: Ctx) => ctx.h.daemon.trigger("team", "sync");

const SPECS: Record<string, Spec> = {
  "GET /livez": { path: () => "/livez", open: true, expect: anyone(200) },
  "GET /readyz": { path: () => "/readyz", open: true, expect: anyone(200) },
  "GET /healthz": { path: () => "/healthz", open: true, expect: anyone(200) },
  "GET /metrics": { path: () => "/metrics", open: true, expect: anyone(200) },
  "POST /v1/webhooks/github": { path: () => "/v1/webhooks/github", webhook: true, open: true, expect: anyone(200) },
  "GET /v1/openapi.json": { path: () => "/v1/openapi.json", expect: anyone(200) },
  "GET /v1/status": { path: () => "/v1/status", expect: anyone(200) },
  "GET /v1/config": { path: () => "/v1/config", expect: serverAdmin(200) },
  "GET /v1/tokens": { path: () => "/v1/tokens", expect: (w) => (w.rank < 2 ? 403 : 200) },
  "POST /v1/tokens": { path: () => "/v1/tokens", json: () => ({ role: "viewer" }), expect: (w) => (w.rank < 2 ? 403 : 201) },
  "DELETE /v1/tokens/:id": {
    path: (_c, id) => `/v1/tokens/${id}`,
    setup: async (c) => c.h.api.tokens.create({ role: "viewer", name: `t${c.n}` }).record.id,
    // A default-org token id is absent for an acme admin.
    expect: (w) => (w.rank < 2 ? 403 : w.org !== "default" ? 404 : 204),
  },
  "GET /v1/workflows": { path: () => "/v1/workflows", expect: anyone(200) },
  "GET /v1/workflows/:library/:workflow": { path: () => "/v1/workflows/team/sync", expect: library(0, 200) },
  "POST /v1/workflows/:library/:workflow/runs": { path: () => "/v1/workflows/team/sync/runs", json: () => ({ inputs: {} }), expect: library(1, 202) },
  "POST /v1/workflows/:library/:workflow/enable": { path: () => "/v1/workflows/team/sync/enable", expect: library(1, 200) },
  "POST /v1/workflows/:library/:workflow/disable": { path: () => "/v1/workflows/team/sync/disable", expect: library(1, 200) },
  "GET /v1/runs": { path: () => "/v1/runs", expect: anyone(200) },
  "GET /v1/runs/:id": { path: (_c, id) => `/v1/runs/${id}`, setup: queuedRun, expect: library(0, 200) },
  "GET /v1/runs/:id/logs": { path: (_c, id) => `/v1/runs/${id}/logs`, setup: queuedRun, expect: library(0, 200) },
  "POST /v1/runs/:id/cancel": { path: (_c, id) => `/v1/runs/${id}/cancel`, setup: queuedRun, expect: library(1, 202) },
  "POST /v1/runs/:id/rerun": { path: (_c, id) => `/v1/runs/${id}/rerun`, setup: queuedRun, expect: library(1, 202) },
  "GET /v1/occurrences": { path: () => "/v1/occurrences", expect: anyone(200) },
  "GET /v1/libraries": { path: () => "/v1/libraries", expect: anyone(200) },
  "GET /v1/libraries/:library/health": { path: () => "/v1/libraries/team/health", expect: library(0, 200) },
  "GET /v1/libraries/:library/conflicts": { path: () => "/v1/libraries/team/conflicts", expect: library(0, 200) },
  "GET /v1/libraries/:library/agents": { path: () => "/v1/libraries/team/agents", expect: library(0, 200) },
  "GET /v1/libraries/:library/agents/:agent": { path: () => "/v1/libraries/team/agents/reviewer", expect: library(0, 200) },
  "GET /v1/libraries/:library/agents/:agent/export-plan": {
    path: () => "/v1/libraries/team/agents/reviewer/export-plan?target=claude-code",
    expect: library(0, 200),
  },
  "GET /v1/tools": { path: () => "/v1/tools", expect: anyone(200) },

  "GET /v1/whoami": { path: () => "/v1/whoami", expect: anyone(200) },
  "GET /v1/orgs": { path: () => "/v1/orgs", expect: anyone(200) },
  "POST /v1/orgs": { path: () => "/v1/orgs", json: (c) => ({ id: `new-${c.n}` }), expect: serverAdmin(201) },
  "GET /v1/orgs/:org": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}`, expect: inOrg(0, 200) },
  "DELETE /v1/orgs/:org": {
    targets: ["default", "fresh"],
    path: (_c, id) => `/v1/orgs/${id}`,
    setup: async (c) => (c.target === "fresh" ? (await c.h.api.tenancy.createOrg(`gone-${c.n}`)).id : "default"),
    // Only the server admin deletes orgs; the default org cannot be deleted (409, in expected()).
    expect: serverAdmin(204),
  },
  "POST /v1/orgs/:org/quotas": {
    targets: BOTH,
    path: (c) => `/v1/orgs/${c.target}/quotas`,
    json: () => ({ requestsPerMinute: 100_000 }),
    expect: serverAdmin(200),
  },
  "GET /v1/orgs/:org/roles": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/roles`, expect: inOrg(0, 200) },
  "POST /v1/orgs/:org/roles": {
    targets: BOTH,
    path: (c) => `/v1/orgs/${c.target}/roles`,
    json: (c) => ({ name: `role-${c.n}`, actions: ["view", "run"] }),
    expect: inOrg(2, 201),
  },
  "DELETE /v1/orgs/:org/roles/:role": {
    targets: BOTH,
    path: (c, id) => `/v1/orgs/${c.target}/roles/${id}`,
    setup: async (c) => (await c.h.api.tenancy.createRole(c.target, { name: `gone-${c.n}`, actions: ["view"] })).name,
    expect: inOrg(2, 204),
  },
  "GET /v1/orgs/:org/bindings": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/bindings`, expect: inOrg(2, 200) },
  "POST /v1/orgs/:org/bindings": {
    targets: BOTH,
    path: (c) => `/v1/orgs/${c.target}/bindings`,
    json: (c) => ({ subject: "group:https://idp.example|eng", role: "viewer", scope: `org/${c.target}/lib/l${c.n}` }),
    expect: inOrg(2, 201),
  },
  "DELETE /v1/orgs/:org/bindings/:id": {
    targets: BOTH,
    path: (c, id) => `/v1/orgs/${c.target}/bindings/${id}`,
    setup: async (c) =>
      (await c.h.api.tenancy.createBinding(c.target, { subject: "group:https://idp.example|ops", role: "viewer", scope: `org/${c.target}/lib/l${c.n}` })).id,
    expect: inOrg(2, 204),
  },
  "GET /v1/orgs/:org/users": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/users`, expect: inOrg(2, 200) },
  "GET /v1/orgs/:org/tokens": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/tokens`, expect: inOrg(2, 200) },
  "POST /v1/orgs/:org/tokens": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/tokens`, json: () => ({ role: "viewer" }), expect: inOrg(2, 201) },
  "DELETE /v1/orgs/:org/tokens/:id": {
    targets: BOTH,
    path: (c, id) => `/v1/orgs/${c.target}/tokens/${id}`,
    setup: async (c) => c.h.api.tokens.create({ role: "viewer", org: c.target, name: `t${c.n}` }).record.id,
    expect: inOrg(2, 204),
  },
  "GET /v1/orgs/:org/audit": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/audit`, expect: inOrg(2, 200) },
  "GET /v1/orgs/:org/audit/verify": { targets: BOTH, path: (c) => `/v1/orgs/${c.target}/audit/verify`, expect: inOrg(2, 200) },
};

function expected(key: string, spec: Spec, caller: Caller, target: string): number {
  if (spec.open) return 200;
  if (caller === "anonymous" || caller.state !== "valid") return 401;
  const w: Who = {
    role: caller.role,
    org: caller.org,
    rank: RANK[caller.role],
    sameOrg: caller.org === target,
    serverAdmin: caller.org === "default" && caller.role === "admin",
  };
  if (key === "DELETE /v1/orgs/:org" && w.serverAdmin && target === "default") return 409;
  return spec.expect(w);
}

type Tokens = Record<string, string>;
const tokenKey = (c: Exclude<Caller, "anonymous">) => `${c.org}/${c.role}/${c.state}`;

async function harnessWithOrgs(): Promise<{ h: Harness; tokens: Tokens }> {
  const h = await setupApi({ config: { limits: { authFailuresPerMinute: 1_000_000, requestsPerMinutePerToken: 1_000_000 } } });
  await h.api.tenancy.createOrg("acme", { quotas: { requestsPerMinute: 100_000, runsPerHour: 100_000 } });
  await h.api.tenancy.updateQuotas("default", { requestsPerMinute: 100_000, runsPerHour: 100_000 });
  const tokens: Tokens = {};
  for (const c of CALLERS) {
    if (c === "anonymous") continue;
    const { token, record } = h.api.tokens.create({
      role: c.role,
      org: c.org,
      name: tokenKey(c),
      ...(c.state === "expired" ? { expiresAt: new Date(h.clock.now() - 60_000) } : {}),
    });
    if (c.state === "revoked") h.api.tokens.revoke(record.id);
    tokens[tokenKey(c)] = token;
  }
  return { h, tokens };
}

let cells = 0;
let requests = 0;
afterAll(() => {
  // The matrix size, printed for the record (CI logs) and asserted below.
  console.log(`tenancy matrix: ${Object.keys(SPECS).length} routes, ${cells} cells (route x target org x caller), ${requests} requests with HEAD variants`);
});

describe("tenancy matrix: route x role x org x token state", () => {
  let shared: { h: Harness; tokens: Tokens };
  beforeAll(async () => {
    shared = await harnessWithOrgs();
  });
  afterAll(async () => {
    await shared.h.cleanup();
  });

  it("covers exactly the routes the app registers", () => {
    // The dashboard's /ui routes take a session, not a bearer token: their org x policy checks are in test/daemon/ui/tenancy.test.ts.
    const registered = [
      ...new Set(shared.h.api.app.routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/ui")).map((r) => `${r.method} ${r.path}`)),
    ].sort();
    expect(registered).toEqual(Object.keys(SPECS).sort());
  });

  for (const [key, spec] of Object.entries(SPECS)) {
    const method = key.split(" ")[0]!;
    it(key, async () => {
      const { h, tokens } = await harnessWithOrgs();
      try {
        let n = 0;
        const got: Record<string, number> = {};
        const want: Record<string, number> = {};
        for (const target of spec.targets ?? DEFAULT_ONLY) {
          for (const caller of CALLERS) {
            const ctx: Ctx = { h, target, n: n++ };
            const id = (await spec.setup?.(ctx)) ?? "";
            const path = spec.path(ctx, id);
            const token = caller === "anonymous" ? undefined : tokens[tokenKey(caller)];
            const label = `${target} <- ${caller === "anonymous" ? "anonymous" : tokenKey(caller)}`;
            let res: Response;
            if (spec.webhook) {
              const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
              res = await h.call(method, path, {
                body,
                ...(token ? { token } : {}),
                headers: {
                  "content-type": "application/json",
                  "x-github-event": "ping",
                  "x-github-delivery": `d-${n}`,
                  "x-hub-signature-256": `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`,
                },
              });
            } else {
              const json = spec.json?.(ctx);
              res = await h.call(method, path, { ...(token ? { token } : {}), ...(json !== undefined ? { json } : method === "POST" ? { json: {} } : {}) });
            }
            requests++;
            cells++;
            got[label] = res.status;
            want[label] = expected(key, spec, caller, target);
            if (method === "GET") {
              const head = await h.call("HEAD", path, token ? { token } : {});
              requests++;
              got[`HEAD ${label}`] = head.status;
              want[`HEAD ${label}`] = want[label];
            }
          }
        }
        expect(got).toEqual(want);
      } finally {
        await h.cleanup();
      }
    });
  }

  it("has the size the dimensions give", () => {
    const perTarget = CALLERS.length;
    const size = Object.values(SPECS).reduce((sum, s) => sum + (s.targets ?? DEFAULT_ONLY).length * perTarget, 0);
    expect(perTarget).toBe(19);
    expect(cells).toBe(size);
  });
});
