// The /v1 REST routes against a real daemon (through the API bridge) and a real two-layer library on disk:
// workflows, runs with filters and cursor pagination, logs, cancel, re-run, occurrences, agents
// with provenance, export plans, library health, tools, the OpenAPI document and error shapes.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { listAdapters } from "../../../src/adapters/registry.ts";
import { RunPage, WorkflowDetail } from "../../../src/daemon/api/schemas.ts";
import { until } from "../harness.ts";
import { json, setupApi, type Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

describe("workflows", () => {
  it("lists, gets with next occurrences, and enables/disables", async () => {
    h = await setupApi();
    const list = await json(await h.call("GET", "/v1/workflows?library=team", { token: h.tokens.viewer }));
    expect(list.items.map((w: { name: string }) => w.name).sort()).toEqual(["backup", "sync"]);
    const one = await json(await h.call("GET", "/v1/workflows/team/sync", { token: h.tokens.viewer }));
    expect(WorkflowDetail.parse(one)).toEqual(one);
    // The yearly cron, planned from the daemon's clock (2026-11-24).
    expect(one.nextOccurrences.slice(0, 2)).toEqual(["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"]);
    expect(one).toMatchObject({
      file: join(h.daemon.libs.team, "workflows", "sync.yaml"),
      inputs: { target: { type: "string", required: false, default: "all" } },
      runsCommands: false,
    });
    const off = await json(await h.call("POST", "/v1/workflows/team/sync/disable", { token: h.tokens.editor }));
    expect(off.state).toBe("disabled");
    const on = await json(await h.call("POST", "/v1/workflows/team/sync/enable", { token: h.tokens.editor }));
    expect(on.state).toBe("enabled");
    const missing = await h.call("GET", "/v1/workflows/team/nope", { token: h.tokens.viewer });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: "not-found", message: "workflow team/nope not found", hint: "list workflows with GET /v1/workflows" },
    });
  });

  it("triggers a run with inputs; bad inputs and bad bodies are precise errors", async () => {
    h = await setupApi();
    const res = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: { target: "claude-code" } } });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect(res.headers.get("location")).toBe(`/v1/runs/${runId}`);
    expect(await h.daemon.run(runId)).toMatchObject({
      inputs: { target: "claude-code" },
      trigger: { kind: "api" },
      actor: expect.stringMatching(/^token:tok_[0-9a-f]{12}\(editor\)$/),
    });

    const unknown = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: { nope: 1 } } });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toEqual({ error: { code: "invalid-input", message: "workflow 'sync' has no input 'nope'", hint: "declared inputs: target" } });
    const wrongType = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: { target: 3 } } });
    expect(wrongType.status).toBe(422);

    const extra = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: {}, shell: "rm -rf /" } });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { code: string; message: string } }).error.code).toBe("invalid-request");

    const notJson = await h.call("POST", "/v1/workflows/team/sync/runs", {
      token: h.tokens.editor,
      body: "{",
      headers: { "content-type": "application/json" },
    });
    expect(await notJson.json()).toEqual({ error: { code: "invalid-request", message: "the body is not valid JSON" } });
    const textPlain = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, body: "{}", headers: { "content-type": "text/plain" } });
    expect(textPlain.status).toBe(415);

    // The file on disk breaks: the last good version stays loaded, marked broken, and does not run.
    writeFileSync(join(h.daemon.libs.team, "workflows", "sync.yaml"), "name: sync\nsteps: [\n");
    await h.daemon.handle.reload();
    expect((await json(await h.call("GET", "/v1/workflows/team/sync", { token: h.tokens.viewer }))).state).toBe("broken");
    const broken = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: {} });
    expect(broken.status).toBe(409);
  });

  it("refuses bodies over 1 MiB on /v1 before the handler runs", async () => {
    h = await setupApi();
    const big = JSON.stringify({ inputs: { target: "x".repeat(1024 * 1024) } });
    const res = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, body: big, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(await h.daemon.runs()).toEqual([]);
  });
});

describe("runs", () => {
  it("lists newest first with filters and cursor pagination", async () => {
    h = await setupApi();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      if (i < 3)
        ids.push((await json(await h.call("POST", `/v1/workflows/${i % 2 ? "other/export" : "team/sync"}/runs`, { token: h.tokens.editor, json: {} }))).runId);
      else ids.push(await h.daemon.trigger(i % 2 ? "other" : "team", i % 2 ? "export" : "sync"));
      await h.clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = RunPage.parse(await json(await h.call("GET", `/v1/runs?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: h.tokens.viewer })));
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const filtered = await json(await h.call("GET", "/v1/runs?library=team&trigger=api", { token: h.tokens.viewer }));
    expect(filtered.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[0]]);
    const bad = await h.call("GET", "/v1/runs?limit=0", { token: h.tokens.viewer });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        code: "invalid-request",
        message: "invalid query: limit: Too small: expected number to be >=1",
        details: { issues: [{ path: "limit", message: "Too small: expected number to be >=1" }] },
      },
    });
    expect((await h.call("GET", "/v1/runs?status=exploded", { token: h.tokens.viewer })).status).toBe(400);
    expect((await h.call("GET", "/v1/runs?cursor=../../etc", { token: h.tokens.viewer })).status).toBe(400);
  });

  it("gets a run with its steps and its logs after a sequence number", async () => {
    h = await setupApi();
    const id = await h.daemon.trigger("team", "sync", { inputs: { target: "codex" } });
    await h.daemon.waitFor(id, ["running"]);
    await until(() => h.daemon.hold.held() === 1, "the step to reach the hold server");
    await h.clock.advance(1200);
    h.daemon.hold.release();
    await h.daemon.waitFor(id, ["success"]);
    const run = await json(await h.call("GET", `/v1/runs/${id}`, { token: h.tokens.viewer }));
    expect(run).toMatchObject({
      id,
      status: "success",
      inputs: { target: "codex" },
      durationMs: 1200,
      steps: [{ id: "main", action: "notify", status: "success", durationMs: 1200 }],
    });
    expect(h.daemon.hold.bodies.map((b) => JSON.parse(b).message)).toEqual(["target codex"]);
    const all = await json(await h.call("GET", `/v1/runs/${id}/logs`, { token: h.tokens.viewer }));
    expect(all.items.length).toBeGreaterThan(1);
    expect(all.items.map((l: { seq: number }) => l.seq)).toEqual(all.items.map((_: unknown, i: number) => i + 1));
    const after = await json(await h.call("GET", `/v1/runs/${id}/logs?after=1`, { token: h.tokens.viewer }));
    expect(after.items).toEqual(all.items.slice(1));
    expect((await h.call("GET", "/v1/runs/run-999999/logs", { token: h.tokens.viewer })).status).toBe(404);
  });

  it("cancels once (409 after it finished) and re-runs with the same inputs", async () => {
    h = await setupApi();
    // The first run holds the workflow's group, so this one waits in the queue.
    await h.daemon.trigger("team", "sync");
    const id = await h.daemon.trigger("team", "sync", { inputs: { target: "codex" } });
    expect((await h.daemon.run(id)).status).toBe("queued");
    const c1 = await h.call("POST", `/v1/runs/${id}/cancel`, { token: h.tokens.editor });
    expect(c1.status).toBe(202);
    expect(((await c1.json()) as { status: string }).status).toBe("cancelled");
    const c2 = await h.call("POST", `/v1/runs/${id}/cancel`, { token: h.tokens.editor });
    expect(c2.status).toBe(409);
    expect(await c2.json()).toEqual({
      error: { code: "conflict", message: `run ${id} already finished (cancelled)`, hint: "re-run it with POST /v1/runs/{id}/rerun" },
    });
    const re = await json(await h.call("POST", `/v1/runs/${id}/rerun`, { token: h.tokens.editor }));
    expect(re).toEqual({ runId: expect.any(String), status: "queued" });
    expect(re.runId).not.toBe(id);
    expect((await h.daemon.run(re.runId)).inputs).toEqual({ target: "codex" });
  });

  it("lists occurrences by kind", async () => {
    h = await setupApi();
    const planned = await json(await h.call("GET", "/v1/occurrences?kind=planned&library=team", { token: h.tokens.viewer }));
    expect(planned.items.length).toBeGreaterThan(0);
    expect(planned.items.at(-1)).toEqual({ library: "team", workflow: "sync", scheduledAt: "2027-01-01T00:00:00.000Z", kind: "planned" });
    for (const o of planned.items) expect(o).toMatchObject({ workflow: "sync", kind: "planned" });
    const missed = await json(await h.call("GET", "/v1/occurrences?kind=missed", { token: h.tokens.viewer }));
    expect(missed.items).toEqual([]);
  });
});

describe("library views", () => {
  it("shows the effective agent with the layer of each field, masking literal MCP secrets", async () => {
    h = await setupApi();
    const res = await json(await h.call("GET", "/v1/libraries/team/agents/reviewer", { token: h.tokens.viewer }));
    expect(res.provenance).toEqual({ description: "team", model: "org", instructions: "org", mcp: "team", tags: "team", name: "team", targets: "manifest" });
    expect(res.agent.description).toBe("Reviews the team's changes");
    expect(res.agent.model).toBe("claude-sonnet-4");
    expect(res.agent.mcpServers).toEqual({ fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "[redacted]", OTHER: "${FETCH_TOKEN}" } } });
    const list = await json(await h.call("GET", "/v1/libraries/team/agents", { token: h.tokens.viewer }));
    expect(list.items).toEqual([
      {
        name: "reviewer",
        description: "Reviews the team's changes",
        layer: "team",
        layers: ["org", "team"],
        file: join(h.stateDir, "libs/team/agents/reviewer.md"),
        targets: ["claude-code"],
        tags: ["quality"],
      },
    ]);
    expect((await h.call("GET", "/v1/libraries/team/agents/nobody", { token: h.tokens.viewer })).status).toBe(404);
    expect((await h.call("GET", "/v1/libraries/nolib/agents", { token: h.tokens.viewer })).status).toBe(404);
  });

  it("plans an export per target as a dry run, writing nothing", async () => {
    h = await setupApi();
    const res = await json(await h.call("GET", "/v1/libraries/team/agents/reviewer/export-plan?target=claude-code", { token: h.tokens.viewer }));
    expect(res.target).toBe("claude-code");
    expect(res.scope).toBe("project");
    expect(res.entries.length).toBeGreaterThan(0);
    for (const e of res.entries) {
      expect(e.action).toBe("create");
      expect(e.path.startsWith(join(h.stateDir, "libs", "project") + "/")).toBe(true);
      expect(Object.keys(e).sort()).toEqual(["action", "kind", "path", "secret", "targets"]);
      expect(e.targets).toEqual(["claude-code"]);
      expect(existsSync(e.path)).toBe(false);
    }
    expect(existsSync(join(h.stateDir, "exports.json"))).toBe(false);
    const unknown = await h.call("GET", "/v1/libraries/team/agents/reviewer/export-plan?target=notepad", { token: h.tokens.viewer });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string; hint: string } }).error).toMatchObject({
      code: "unknown-target",
      hint: expect.stringContaining("claude-code"),
    });
  });

  it("plans an export to every target with target=all", async () => {
    h = await setupApi();
    const res = await json(await h.call("GET", "/v1/libraries/team/agents/reviewer/export-plan?target=all", { token: h.tokens.viewer }));
    expect(res.target).toBe("all");
    const projectTargets = listAdapters()
      .filter((a) => a.scopes.includes("project"))
      .map((a) => a.id)
      .sort();
    expect(projectTargets.length).toBeGreaterThan(20);
    expect([...res.targets].sort()).toEqual(projectTargets);
    const covered = new Set(res.entries.flatMap((e: { targets: string[] }) => e.targets));
    expect([...covered].sort()).toEqual(projectTargets);
    expect(res.errors).toEqual([]);
    expect(res.entries.every((e: { path: string }) => !existsSync(e.path))).toBe(true);
  });

  it("reports library health with counts and diagnostics", async () => {
    h = await setupApi();
    const res = await json(await h.call("GET", "/v1/libraries/team/health", { token: h.tokens.viewer }));
    expect(res).toMatchObject({
      library: "team",
      status: "warn",
      layers: ["org", "team"],
      counts: { agents: 1, knowledge: 0, mcp: 1, skills: 0, commands: 0, workflowDirs: 1 },
      errors: 0,
    });
    expect(res.diagnostics.map((d: { code: string }) => d.code).sort()).toEqual(["empty-instructions", "layer-override"]);
  });

  it("lists the registered tools with their detection", async () => {
    h = await setupApi();
    const res = await json(await h.call("GET", "/v1/tools", { token: h.tokens.viewer }));
    const ids = res.items.map((t: { id: string }) => t.id);
    expect(ids).toContain("claude-code");
    for (const t of res.items) expect(typeof t.installed).toBe("boolean");
    expect(res.detectedAt).toBe("2026-11-24T10:00:00.000Z");
  });
});

describe("tokens over the API", () => {
  it("creates (shown once, stored as a digest), lists without digests, and revokes", async () => {
    h = await setupApi();
    const created = await h.call("POST", "/v1/tokens", { token: h.tokens.admin, json: { role: "viewer", library: "team", expires: "30d", name: "grafana" } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { token: string; record: { id: string; expiresAt: string; library: string } };
    expect(body.token).toMatch(/^aicfg_[0-9A-Za-z]{49}$/);
    expect(body.record).toMatchObject({ role: "viewer", library: "team", name: "grafana", expiresAt: "2026-12-24T10:00:00.000Z" });
    expect(readFileSync(join(h.stateDir, "tokens.json"), "utf8")).not.toContain(body.token);
    const works = await h.call("GET", "/v1/workflows", { token: body.token });
    expect(works.status).toBe(200);
    const list = await json(await h.call("GET", "/v1/tokens", { token: h.tokens.admin }));
    for (const t of list.items) expect(t.digest).toBeUndefined();
    expect((await h.call("DELETE", `/v1/tokens/${body.record.id}`, { token: h.tokens.admin })).status).toBe(204);
    expect((await h.call("GET", "/v1/workflows", { token: body.token })).status).toBe(401);
    expect((await h.call("DELETE", `/v1/tokens/${body.record.id}`, { token: h.tokens.admin })).status).toBe(404);
    const badExpiry = await h.call("POST", "/v1/tokens", { token: h.tokens.admin, json: { role: "viewer", expires: "soon" } });
    expect(badExpiry.status).toBe(422);
  });
});

describe("config", () => {
  it("shows the effective API settings to admins, never the webhook secret", async () => {
    h = await setupApi({ config: { allowedHosts: ["aicfg.example.com"] } });
    const res = await json(await h.call("GET", "/v1/config", { token: h.tokens.admin }));
    expect(res).toEqual({
      api: {
        host: "127.0.0.1",
        port: 7411,
        allowedHosts: ["aicfg.example.com"],
        allowedOrigins: [],
        probes: "loopback-open",
        limits: {
          apiBodyBytes: 1048576,
          webhookBodyBytes: 26214400,
          webhookSmallBodyBytes: 1048576,
          webhookConcurrentBodies: 2,
          authFailuresPerMinute: 10,
          requestsPerMinutePerToken: 1200,
        },
        webhooks: { github: { secretConfigured: true } },
        oidc: { issuers: [] },
      },
    });
  });
});

describe("OpenAPI", () => {
  it("documents every route with schemas generated from zod", async () => {
    h = await setupApi();
    const doc = await json(await h.call("GET", "/v1/openapi.json", { token: h.tokens.viewer }));
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ":$1")}`),
    );
    // The dashboard's HTML pages under /ui are not part of the JSON API (test/daemon/ui has their matrix).
    const registered = [...new Set(h.api.app.routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/ui")).map((r) => `${r.method} ${r.path}`))];
    expect(documented.sort()).toEqual(registered.sort());
    const runs = doc.paths["/v1/runs"].get;
    expect(runs.parameters.map((p: { name: string }) => p.name)).toEqual(["library", "workflow", "status", "trigger", "cursor", "limit"]);
    expect(runs.responses["200"].content["application/json"].schema).toEqual(
      JSON.parse(JSON.stringify((({ $schema: _s, ...rest }) => rest)(z.toJSONSchema(RunPage, { io: "output" }) as Record<string, unknown>))),
    );
    expect(doc.paths["/v1/webhooks/github"].post.security).toEqual([]);
    expect(doc.paths["/v1/workflows/{library}/{workflow}/runs"].post.requestBody.content["application/json"].schema.properties.inputs.type).toBe("object");
  });
});
