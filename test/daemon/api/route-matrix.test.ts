// Every route x method x caller (security goal G12): the list of routes is read from the app
// (app.routes) and must equal the matrix below, so a new route without a row fails this test.
// Each cell runs in a fresh harness (real token store, a real daemon behind the API bridge).
import { afterEach, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { setupApi, WEBHOOK_SECRET, type Harness } from "./helpers.ts";

type Caller = "none" | "badToken" | "badChecksum" | "expired" | "wrongLibrary" | "viewer" | "editor" | "admin";
const CALLERS: Caller[] = ["none", "badToken", "badChecksum", "expired", "wrongLibrary", "viewer", "editor", "admin"];

type Row = {
  /** The concrete request for this route. */
  path: string | ((h: Harness, id: string) => string);
  json?: unknown;
  /** Prepares state (e.g. a queued run) before the call; what it returns is the path's `id`. */
  setup?: (h: Harness) => Promise<string>;
  webhook?: boolean;
  /** Expected status per caller, in CALLERS order. */
  expect: [number, number, number, number, number, number, number, number];
};

const OPEN: Row["expect"] = [200, 200, 200, 200, 200, 200, 200, 200];
const VIEWER_GLOBAL: Row["expect"] = [401, 401, 401, 401, 200, 200, 200, 200];
const VIEWER_TEAM: Row["expect"] = [401, 401, 401, 401, 404, 200, 200, 200];

/** A run of team/sync that is still going (its step waits on the hold server). */
async function queuedRun(h: Harness): Promise<string> {
  return h.daemon.trigger("team", "sync");
}
const runPath = (suffix: string) => (_h: Harness, id: string) => `/v1/runs/${id}${suffix}`;

const MATRIX: Record<string, Row> = {
  "GET /livez": { path: "/livez", expect: OPEN },
  "GET /readyz": { path: "/readyz", expect: OPEN },
  "GET /healthz": { path: "/healthz", expect: OPEN },
  "GET /metrics": { path: "/metrics", expect: OPEN },
  "GET /v1/openapi.json": { path: "/v1/openapi.json", expect: VIEWER_GLOBAL },
  "GET /v1/status": { path: "/v1/status", expect: VIEWER_GLOBAL },
  "GET /v1/config": { path: "/v1/config", expect: [401, 401, 401, 401, 403, 403, 403, 200] },
  "GET /v1/tokens": { path: "/v1/tokens", expect: [401, 401, 401, 401, 403, 403, 403, 200] },
  "POST /v1/tokens": { path: "/v1/tokens", json: { role: "viewer" }, expect: [401, 401, 401, 401, 403, 403, 403, 201] },
  "DELETE /v1/tokens/:id": {
    path: (h) => `/v1/tokens/${h.api.tokens.list().find((t) => t.role === "viewer")!.id}`,
    expect: [401, 401, 401, 401, 403, 403, 403, 204],
  },
  "GET /v1/workflows": { path: "/v1/workflows", expect: VIEWER_GLOBAL },
  "GET /v1/workflows/:library/:workflow": { path: "/v1/workflows/team/sync", expect: VIEWER_TEAM },
  "POST /v1/workflows/:library/:workflow/runs": {
    path: "/v1/workflows/team/sync/runs",
    json: { inputs: {} },
    expect: [401, 401, 401, 401, 404, 403, 202, 202],
  },
  "POST /v1/workflows/:library/:workflow/enable": { path: "/v1/workflows/team/sync/enable", expect: [401, 401, 401, 401, 404, 403, 200, 200] },
  "POST /v1/workflows/:library/:workflow/disable": { path: "/v1/workflows/team/sync/disable", expect: [401, 401, 401, 401, 404, 403, 200, 200] },
  "GET /v1/runs": { path: "/v1/runs", expect: VIEWER_GLOBAL },
  "GET /v1/runs/:id": { path: runPath(""), setup: queuedRun, expect: VIEWER_TEAM },
  "GET /v1/runs/:id/logs": { path: runPath("/logs"), setup: queuedRun, expect: VIEWER_TEAM },
  "POST /v1/runs/:id/cancel": { path: runPath("/cancel"), setup: queuedRun, expect: [401, 401, 401, 401, 404, 403, 202, 202] },
  "POST /v1/runs/:id/rerun": { path: runPath("/rerun"), setup: queuedRun, expect: [401, 401, 401, 401, 404, 403, 202, 202] },
  "GET /v1/occurrences": { path: "/v1/occurrences", expect: VIEWER_GLOBAL },
  "GET /v1/libraries": { path: "/v1/libraries", expect: VIEWER_GLOBAL },
  "GET /v1/libraries/:library/health": { path: "/v1/libraries/team/health", expect: VIEWER_TEAM },
  "GET /v1/libraries/:library/conflicts": { path: "/v1/libraries/team/conflicts", expect: VIEWER_TEAM },
  "GET /v1/libraries/:library/agents": { path: "/v1/libraries/team/agents", expect: VIEWER_TEAM },
  "GET /v1/libraries/:library/agents/:agent": { path: "/v1/libraries/team/agents/reviewer", expect: VIEWER_TEAM },
  "GET /v1/libraries/:library/agents/:agent/export-plan": { path: "/v1/libraries/team/agents/reviewer/export-plan?target=claude-code", expect: VIEWER_TEAM },
  "GET /v1/tools": { path: "/v1/tools", expect: VIEWER_GLOBAL },
  // Authenticated by its signature, not by a token: every caller gets the same answer.
  "POST /v1/webhooks/github": { path: "/v1/webhooks/github", webhook: true, expect: OPEN },
};

function tokenFor(h: Harness, caller: Caller): string | undefined {
  switch (caller) {
    case "none":
      return undefined;
    case "badToken":
      return "not-a-token";
    case "badChecksum": {
      const t = h.tokens.admin;
      const last = t[t.length - 1] === "A" ? "B" : "A";
      return t.slice(0, -1) + last;
    }
    case "expired":
      return h.tokens.expired;
    case "wrongLibrary":
      return h.tokens.scopedEditor;
    default:
      return h.tokens[caller];
  }
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe("route x method x role matrix", () => {
  it("covers exactly the routes the app registers (the tenancy routes are in tenancy-matrix.test.ts)", async () => {
    harness = await setupApi();
    // The dashboard's /ui routes have their own matrix (test/daemon/ui/dashboard.test.ts): they take a session, not a token.
    const tenancy = new Set(harness.api.routes.filter((r) => r.tag === "orgs").map((r) => `${r.method} ${r.path}`));
    const registered = [...new Set(harness.api.app.routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/ui")).map((r) => `${r.method} ${r.path}`))]
      .filter((k) => !tenancy.has(k))
      .sort();
    expect(registered).toEqual(Object.keys(MATRIX).sort());
  });

  for (const [key, row] of Object.entries(MATRIX)) {
    const method = key.split(" ")[0]!;
    it(`${key}`, async () => {
      const got: number[] = [];
      for (const caller of CALLERS) {
        const h = await setupApi();
        try {
          const id = (await row.setup?.(h)) ?? "";
          const path = typeof row.path === "function" ? row.path(h, id) : row.path;
          const token = tokenFor(h, caller);
          if (row.webhook) {
            const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
            const res = await h.call(method, path, {
              body,
              ...(token ? { token } : {}),
              headers: {
                "content-type": "application/json",
                "x-github-event": "ping",
                "x-github-delivery": `d-${caller}`,
                "x-hub-signature-256": `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`,
              },
            });
            got.push(res.status);
          } else {
            const res = await h.call(method, path, {
              ...(token ? { token } : {}),
              ...(row.json !== undefined ? { json: row.json } : method === "POST" ? { json: {} } : {}),
            });
            got.push(res.status);
            expect(res.headers.get("access-control-allow-origin")).toBeNull();
            if (method === "GET") {
              const head = await h.call("HEAD", path, token ? { token } : {});
              expect(head.status, `HEAD ${path} as ${caller}`).toBe(res.status);
            }
          }
        } finally {
          await h.cleanup();
        }
      }
      expect(Object.fromEntries(CALLERS.map((c, i) => [c, got[i]]))).toEqual(Object.fromEntries(CALLERS.map((c, i) => [c, row.expect[i]])));
    });
  }

  it("probes need a token from a non-loopback client (api.probes = loopback-open)", async () => {
    harness = await setupApi();
    const remote = { remoteAddress: "10.1.2.3", localPort: 7411, transport: "tcp" as const };
    for (const path of ["/readyz", "/healthz", "/metrics"]) {
      expect((await harness.call("GET", path, { bindings: remote })).status).toBe(401);
      expect((await harness.call("GET", path, { bindings: remote, token: harness.tokens.viewer })).status).toBe(200);
    }
    expect((await harness.call("GET", "/livez", { bindings: remote })).status).toBe(200);
    // Relayed by a reverse proxy on this machine: loopback address, but not a local client.
    for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"]) {
      expect((await harness.call("GET", "/metrics", { headers: { [header]: "203.0.113.9" } })).status, header).toBe(401);
    }
  });

  it("api.probes = token closes the probes to loopback clients too, and open opens them to all", async () => {
    harness = await setupApi({ config: { probes: "token" } });
    expect((await harness.call("GET", "/metrics")).status).toBe(401);
    expect((await harness.call("GET", "/metrics", { token: harness.tokens.viewer })).status).toBe(200);
    await harness.cleanup();
    harness = await setupApi({ config: { probes: "open" } });
    expect((await harness.call("GET", "/readyz", { bindings: { remoteAddress: "192.0.2.7", localPort: 7411, transport: "tcp" } })).status).toBe(200);
  });

  it("a workflow that runs commands needs the admin role to trigger, enable or re-run", async () => {
    harness = await setupApi();
    const h = harness;
    expect((await h.call("POST", "/v1/workflows/team/backup/runs", { token: h.tokens.editor, json: { inputs: {} } })).status).toBe(403);
    expect((await h.call("POST", "/v1/workflows/team/backup/enable", { token: h.tokens.editor })).status).toBe(403);
    const ok = await h.call("POST", "/v1/workflows/team/backup/runs", { token: h.tokens.admin, json: { inputs: {} } });
    expect(ok.status).toBe(202);
    const { runId } = (await ok.json()) as { runId: string };
    expect((await h.call("POST", `/v1/runs/${runId}/rerun`, { token: h.tokens.editor })).status).toBe(403);
    expect((await h.call("POST", `/v1/runs/${runId}/rerun`, { token: h.tokens.admin })).status).toBe(202);
    // Cancelling stops work and runs nothing: editors may.
    expect((await h.call("POST", `/v1/runs/${runId}/cancel`, { token: h.tokens.editor })).status).toBe(202);
  });

  it("a library-scoped admin cannot manage tokens", async () => {
    harness = await setupApi();
    const h = harness;
    expect((await h.call("GET", "/v1/tokens", { token: h.tokens.scopedAdmin })).status).toBe(403);
    expect((await h.call("POST", "/v1/tokens", { token: h.tokens.scopedAdmin, json: { role: "admin" } })).status).toBe(403);
  });

  it("a scoped token sees only its library in lists", async () => {
    harness = await setupApi();
    const h = harness;
    await queuedRun(h);
    await h.daemon.trigger("other", "export");
    const runs = (await (await h.call("GET", "/v1/runs", { token: h.tokens.scopedEditor })).json()) as { items: { library: string }[] };
    expect(runs.items.map((r) => r.library)).toEqual(["other"]);
    const teamRuns = (await (await h.call("GET", "/v1/runs?library=team", { token: h.tokens.scopedEditor })).json()) as { items: unknown[] };
    expect(teamRuns.items).toEqual([]);
    const wfs = (await (await h.call("GET", "/v1/workflows", { token: h.tokens.scopedEditor })).json()) as { items: { library: string; name: string }[] };
    expect(wfs.items.map((w) => `${w.library}/${w.name}`)).toEqual(["other/export"]);
    const libs = (await (await h.call("GET", "/v1/libraries", { token: h.tokens.scopedEditor })).json()) as { items: { name: string }[] };
    expect(libs.items.map((l) => l.name)).toEqual(["other"]);
    const occ = (await (await h.call("GET", "/v1/occurrences", { token: h.tokens.scopedEditor })).json()) as { items: { library: string }[] };
    expect(occ.items.length).toBeGreaterThan(0);
    expect([...new Set(occ.items.map((o) => o.library))]).toEqual(["other"]);
    expect((await h.call("GET", "/v1/occurrences?library=team", { token: h.tokens.scopedEditor })).status).toBe(404);
  });

  it("OPTIONS never answers with CORS headers; unknown /v1 paths need a token before they 404", async () => {
    harness = await setupApi();
    const h = harness;
    for (const key of Object.keys(MATRIX)) {
      const path = key.split(" ")[1]!.replace(/:[a-z]+/g, "x");
      const res = await h.call("OPTIONS", path, { headers: { origin: "http://127.0.0.1:7411", "access-control-request-method": "POST" } });
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
      expect(res.status, path).toBe(path.startsWith("/v1/") && !path.startsWith("/v1/webhooks/") ? 401 : 404);
    }
    expect((await h.call("GET", "/v1/nope")).status).toBe(401);
    expect((await h.call("GET", "/v1/nope", { token: h.tokens.viewer })).status).toBe(404);
  });

  it("encoded traversal in path parameters is refused, never served", async () => {
    harness = await setupApi();
    const h = harness;
    const id = await queuedRun(h);
    const variants = ["%2e%2e", "..%2F..", "%252e%252e", `${id}%2F..`, ".%2e", "%2e%2e%2Fetc%2Fpasswd"];
    const templates = [
      "/v1/runs/{}",
      "/v1/runs/{}/logs",
      "/v1/workflows/{}/sync",
      "/v1/workflows/team/{}",
      "/v1/libraries/{}/agents",
      "/v1/libraries/team/agents/{}",
      "/v1/libraries/{}/health",
      "/v1/libraries/{}/conflicts",
    ];
    for (const t of templates) {
      for (const v of variants) {
        const res = await h.call("GET", t.replace("{}", v), { token: h.tokens.admin });
        expect([400, 404], `${t} ${v}`).toContain(res.status);
        const body = (await res.json()) as { error: { code: string } };
        expect(["invalid-request", "not-found"]).toContain(body.error.code);
      }
    }
  });
});
