// Request-level defences: Host and Origin allowlists (DNS rebinding, G11), failed-auth and
// per-token rate limits (G14), bad-checksum tokens rejected without a store read (G13), the secret
// canary never leaving through API output, errors or logs (G18), and the audit log.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AicfgError } from "../../../src/library/diagnostics.ts";
import { nodeBin, until } from "../harness.ts";
import { CANARY, setupApi, type Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

describe("Host and Origin", () => {
  it("refuses foreign and look-alike Host headers on every route, probes included (421)", async () => {
    h = await setupApi();
    const hosts = [
      "evil.example",
      "127.0.0.1.nip.io:7411",
      "127.0.0.1:7412",
      "localhost:80",
      "127.0.0.1",
      "localhost.evil.example:7411",
      "[::1]:7410",
      "0.0.0.0:7411",
      "LOCALHOST:7411.evil",
    ];
    for (const host of hosts) {
      for (const path of ["/livez", "/readyz", "/metrics", "/v1/runs"]) {
        const res = await h.call("GET", path, { headers: { host }, token: h.tokens.admin });
        expect(res.status, `${host} ${path}`).toBe(421);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("misdirected-request");
      }
    }
    for (const host of ["127.0.0.1:7411", "localhost:7411", "[::1]:7411", "LocalHost:7411"]) {
      expect((await h.call("GET", "/livez", { headers: { host } })).status, host).toBe(200);
    }
  });

  it("accepts configured names exactly", async () => {
    h = await setupApi({ config: { allowedHosts: ["aicfg.example.com"] } });
    expect((await h.call("GET", "/livez", { headers: { host: "aicfg.example.com" } })).status).toBe(200);
    expect((await h.call("GET", "/livez", { headers: { host: "aicfg.example.com:8080" } })).status).toBe(421);
    expect((await h.call("GET", "/livez", { headers: { host: "x.aicfg.example.com" } })).status).toBe(421);
  });

  it("refuses a cross-site browser request: foreign Origin, null Origin or Sec-Fetch-Site cross-site (403), with no state change", async () => {
    h = await setupApi();
    const attempts: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "http://127.0.0.1:7412" },
      { origin: "https://127.0.0.1:7411" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of attempts) {
      const res = await h.call("POST", "/v1/workflows/team/sync/runs", {
        token: h.tokens.admin,
        body: "{}",
        headers: { ...headers, "content-type": "text/plain" },
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
    expect(await h.daemon.runs()).toEqual([]);
    const sameOrigin = await h.call("POST", "/v1/workflows/team/sync/runs", {
      token: h.tokens.admin,
      json: {},
      headers: { origin: "http://127.0.0.1:7411", "sec-fetch-site": "same-origin" },
    });
    expect(sameOrigin.status).toBe(202);
  });

  it("over a unix socket accepts Host localhost (what curl --unix-socket sends)", async () => {
    h = await setupApi();
    const bindings = { transport: "unix" as const };
    expect((await h.call("GET", "/readyz", { headers: { host: "localhost" }, bindings })).status).toBe(200);
    expect((await h.call("GET", "/readyz", { headers: { host: "evil.example" }, bindings })).status).toBe(421);
  });
});

describe("authentication", () => {
  it("rejects a token with a bad checksum without reading the token store", async () => {
    h = await setupApi();
    await h.call("GET", "/v1/runs", { token: h.tokens.viewer });
    const reads = h.api.tokens.reads();
    const t = h.tokens.viewer;
    const bad = t.slice(0, 20) + (t[20] === "a" ? "b" : "a") + t.slice(21);
    const res = await h.call("GET", "/v1/runs", { token: bad });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: "invalid-token", message: "the API token is not valid", hint: "check that the whole token was copied" },
    });
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="aicfg", error="invalid_token"');
    expect(h.api.tokens.reads()).toBe(reads);
  });

  it("says when a token has expired", async () => {
    h = await setupApi();
    const res = await h.call("GET", "/v1/runs", { token: h.tokens.expired });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("token-expired");
  });

  it("throttles a failing token with 429 and Retry-After, then lets it try again after the window", async () => {
    h = await setupApi({ config: { limits: { authFailuresPerMinute: 5 } } });
    const bad = `aicfg_${"x".repeat(49)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await h.call("GET", "/v1/runs", { token: bad })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const blocked = await h.call("GET", "/v1/runs", { token: bad });
    expect(blocked.headers.get("retry-after")).toBe("60");
    // The failing credential is locked out from any address.
    expect((await h.call("GET", "/v1/runs", { token: bad, bindings: { remoteAddress: "127.0.0.2", localPort: 7411, transport: "tcp" } })).status).toBe(429);
    h.clock.jump(45_000);
    expect((await h.call("GET", "/v1/runs", { token: bad })).headers.get("retry-after")).toBe("15");
    h.clock.jump(16_000);
    expect((await h.call("GET", "/v1/runs", { token: bad })).status).toBe(401);
  });

  it("never locks out a valid token because other credentials failed from its address", async () => {
    h = await setupApi({ config: { limits: { authFailuresPerMinute: 5 } } });
    for (let i = 0; i < 12; i++) await h.call("GET", "/v1/runs", { token: `aicfg_${String(i).padStart(49, "y")}` });
    expect((await h.call("GET", "/v1/runs", { token: h.tokens.viewer })).status).toBe(200);
    expect((await h.call("GET", "/v1/runs", { token: h.tokens.admin })).status).toBe(200);
  });

  it("slows new invalid credentials from an address that keeps failing (a token guesser rotating guesses)", async () => {
    h = await setupApi({ config: { limits: { authFailuresPerMinute: 5 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await h.call("GET", "/v1/runs", { token: `aicfg_${String(i).padStart(49, "z")}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // Another address is not slowed.
    expect(
      (await h.call("GET", "/v1/runs", { token: `aicfg_${"q".repeat(49)}`, bindings: { remoteAddress: "127.0.0.2", localPort: 7411, transport: "tcp" } }))
        .status,
    ).toBe(401);
  });

  it("limits requests per token", async () => {
    h = await setupApi({ config: { limits: { requestsPerMinutePerToken: 3 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await h.call("GET", "/v1/workflows", { token: h.tokens.viewer })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await h.call("GET", "/v1/workflows", { token: h.tokens.editor })).status).toBe(200);
  });

  it("fails closed (503) when the token store is corrupt, while liveness still answers", async () => {
    h = await setupApi();
    writeFileSync(join(h.stateDir, "tokens.json"), "{ not json");
    const res = await h.call("GET", "/v1/runs", { token: h.tokens.admin });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "auth-unavailable", message: "tokens cannot be checked right now", hint: "the daemon log says why" } });
    expect((await h.call("GET", "/livez")).status).toBe(200);
    expect(h.logs.some((l) => l.includes("token store unreadable") && l.includes("is not valid JSON"))).toBe(true);
  });

  it("accepts only the Bearer scheme", async () => {
    h = await setupApi();
    expect((await h.call("GET", "/v1/runs", { headers: { authorization: `Basic ${h.tokens.viewer}` } })).status).toBe(401);
    expect((await h.call("GET", "/v1/runs", { headers: { authorization: `bearer ${h.tokens.viewer}` } })).status).toBe(200);
  });
});

describe("request bodies", () => {
  it("answers 400 and runs nothing when the body stream breaks while it is read", async () => {
    h = await setupApi();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent++ < 3) ctrl.enqueue(new TextEncoder().encode('{"inputs":{'));
        else ctrl.error(new Error("connection reset by peer"));
      },
    });
    const req = new Request("http://127.0.0.1:7411/v1/workflows/team/sync/runs", {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${h.tokens.editor}`, "content-type": "application/json", "transfer-encoding": "chunked" },
      duplex: "half",
    } as RequestInit);
    const res = await h.api.app.fetch(req, { remoteAddress: "127.0.0.1", localPort: 7411, transport: "tcp" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "invalid-request", message: "the request body could not be read" } });
    expect(await h.daemon.runs()).toEqual([]);
  });
});

describe("the secret canary", () => {
  it("never appears in API output, error bodies, metrics or log lines", async () => {
    h = await setupApi();
    h.api.telemetry.secrets.add(CANARY);
    // A real run that leaks: its program prints the canary to stdout and stderr and fails with it.
    const leak = [
      `console.log(${JSON.stringify(`git push https://x:${CANARY}@github.com/acme/agents failed`)});`,
      `console.error(${JSON.stringify(`env: API_KEY=${JSON.stringify(CANARY)} GITHUB_TOKEN=ghp_${"a".repeat(36)}`)});`,
      `console.error(${JSON.stringify(`command 'curl -H "Authorization: ${CANARY}"' exited 1`)});`,
      "process.exit(1);",
    ].join(" ");
    writeFileSync(
      join(h.daemon.libs.team, "workflows", "leak.yaml"),
      `name: leak\non:\n  manual: true\nsteps:\n  - id: main\n    uses: shell\n    with:\n      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(leak)}]\n`,
    );
    await h.daemon.handle.reload();
    const id = await h.daemon.trigger("team", "leak");
    const finished = await h.daemon.waitFor(id, ["failure"]);
    // The daemon's own record has the canary: only the API's scrubbing keeps it in.
    expect(JSON.stringify(finished) + JSON.stringify(await h.daemon.handle.store.readLog(id))).toContain(CANARY);
    // A bridge failure whose message carries the secret.
    const getWorkflow = h.deps.getWorkflow;
    h.deps.getWorkflow = async (library, name) => {
      if (name === "boom") throw new AicfgError("invalid-input", `cannot read workflow: token ${CANARY} rejected`);
      return getWorkflow(library, name);
    };
    h.api.telemetry.logger.error({ err: new Error(`spawn failed with API_KEY=${CANARY}`), command: `uvx --key ${CANARY}` }, `mcp server failed: ${CANARY}`);

    const bodies: string[] = [];
    const gets = [
      "/livez",
      "/readyz?verbose",
      "/metrics",
      "/v1/openapi.json",
      "/v1/tokens",
      "/v1/config",
      "/v1/workflows",
      "/v1/workflows/team/sync",
      "/v1/workflows/team/boom",
      "/v1/runs",
      `/v1/runs/${id}`,
      `/v1/runs/${id}/logs`,
      "/v1/occurrences",
      "/v1/libraries",
      "/v1/libraries/team/health",
      "/v1/libraries/team/agents",
      "/v1/libraries/team/agents/reviewer",
      "/v1/libraries/team/agents/reviewer/export-plan?target=claude-code",
      "/v1/tools",
      `/v1/runs/${CANARY}`,
      `/nothing-${CANARY}`,
    ];
    for (const path of gets) {
      const res = await h.call("GET", path, { token: h.tokens.admin });
      // The request path itself is not recorded: two of them carry the canary on purpose.
      bodies.push(`${res.status} ${[...res.headers].join(" ")} ${await res.text()}`);
    }
    const post = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.admin, json: { inputs: { [CANARY.slice(0, 10)]: CANARY } } });
    bodies.push(await post.text());
    const all = bodies.join("\n");
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain("ghp_aaaa");
    expect(all).toContain("[redacted]");
    const logs = h.logs.join("");
    expect(logs).not.toContain(CANARY);
    expect(logs).toContain("mcp server failed: [redacted]");
    const audit = readFileSync(join(h.stateDir, "audit.jsonl"), "utf8");
    expect(audit).not.toContain(CANARY);
  });
});

describe("audit log and access log", () => {
  it("records every mutating call with its actor and outcome, and one access-log line per request", async () => {
    h = await setupApi();
    const { runId } = (await (
      await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: {}, headers: { "x-request-id": "req-42" } })
    ).json()) as { runId: string };
    await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.viewer, json: {} });
    await h.call("POST", `/v1/runs/${runId}/cancel`, { json: {} });
    await h.call("GET", "/v1/runs", { token: h.tokens.viewer });
    await h.daemon.waitFor(runId, ["running"]);
    const audit = readFileSync(join(h.stateDir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const editorId = h.api.tokens.list().find((t) => t.name === "editor")!.id;
    const viewerId = h.api.tokens.list().find((t) => t.name === "viewer")!.id;
    const entries = audit.map(({ ts: _ts, ...rest }) => rest);
    // The daemon starts the run as soon as it is queued: its line lands between the API's lines.
    expect(entries.filter((e) => e.action !== "run.started")).toEqual([
      { actor: `token:${editorId}(editor)`, action: "run.trigger", target: "team/sync", outcome: "ok", status: 202, requestId: "req-42", runId },
      {
        actor: `token:${viewerId}(viewer)`,
        action: "run.trigger",
        target: "/v1/workflows/team/sync/runs",
        outcome: "denied",
        status: 403,
        requestId: expect.any(String),
      },
      { actor: "anonymous", action: "POST unmatched", target: `/v1/runs/${runId}/cancel`, outcome: "denied", status: 401, requestId: expect.any(String) },
    ]);
    expect(entries.filter((e) => e.action === "run.started")).toEqual([
      { actor: "system:api", action: "run.started", target: "team/sync", outcome: "ok", runId, details: { attempt: 1 } },
    ]);
    const lines = h.logs.map((l) => JSON.parse(l));
    expect(lines.length).toBe(4);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "request",
      reqId: "req-42",
      method: "POST",
      route: "/v1/workflows/:library/:workflow/runs",
      status: 202,
      runId,
      actor: `token:${editorId}(editor)`,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(lines[3]).toMatchObject({ method: "GET", route: "/v1/runs", status: 200 });
  });
});

describe("traces", () => {
  it("continues an incoming traceparent: request span, then the run span and its step span in the same trace", async () => {
    h = await setupApi();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await h.call("POST", "/v1/workflows/team/sync/runs", {
      token: h.tokens.editor,
      json: {},
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const { runId } = (await res.json()) as { runId: string };
    await until(() => h.daemon.hold.held() === 1, "the step to reach the hold server");
    // The notify step's receiver answers 500: the step and the run fail.
    h.daemon.hold.release(500);
    await h.daemon.waitFor(runId, ["failure"]);
    await until(() => h.spans.getFinishedSpans().length === 3, "the run's spans to end");
    const spans = h.spans.getFinishedSpans();
    const names = spans.map((s) => s.name).sort();
    expect(names).toEqual(["POST /v1/workflows/:library/:workflow/runs", "RUN sync", "notify main"]);
    for (const s of spans) expect(s.spanContext().traceId).toBe(traceId);
    const req = spans.find((s) => s.name.startsWith("POST"))!;
    const run = spans.find((s) => s.name === "RUN sync")!;
    const step = spans.find((s) => s.name === "notify main")!;
    expect(req.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(run.parentSpanContext?.spanId).toBe(req.spanContext().spanId);
    expect(step.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(run.attributes).toMatchObject({
      "cicd.pipeline.name": "sync",
      "cicd.pipeline.run.id": runId,
      "cicd.pipeline.action.name": "RUN",
      "cicd.pipeline.result": "failure",
      "aicfg.trigger": "api",
      "aicfg.library": "team",
    });
    expect(step.attributes).toMatchObject({
      "cicd.pipeline.task.name": "main",
      "cicd.pipeline.task.type": "notify",
      "cicd.pipeline.task.run.result": "failure",
    });
    const log = JSON.parse(h.logs[0]!);
    expect(log.traceId).toBe(traceId);
  });
});
