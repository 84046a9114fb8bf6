// The GitHub webhook receiver (security goals G04-G09): signature over raw bytes before parsing
// (GitHub's published test vector), fail-closed without a secret, JSON only, ping, push to a
// library's repo+branch, and at most one run per X-GitHub-Delivery, also across a restart.
import { createHmac } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApi } from "../../../src/daemon/api/app.ts";
import { parseApiConfig } from "../../../src/daemon/api/config.ts";
import { setupApi, WEBHOOK_SECRET, type Harness } from "./helpers.ts";

const AFTER = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

function sig(body: string | Uint8Array, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function pushBody(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after: AFTER,
    repository: { full_name: "Acme/Agents", id: 1 },
    pusher: { name: "octocat" },
    ...over,
  });
}

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

async function deliver(
  body: string | Uint8Array,
  opts: { event?: string; delivery?: string; signature?: string | null; contentType?: string | null; traceparent?: string; harness?: Harness } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.contentType !== null) headers["content-type"] = opts.contentType ?? "application/json";
  if (opts.signature !== null) headers["x-hub-signature-256"] = opts.signature ?? sig(body);
  headers["x-github-event"] = opts.event ?? "push";
  headers["x-github-delivery"] = opts.delivery ?? "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  if (opts.traceparent) headers.traceparent = opts.traceparent;
  return (opts.harness ?? h).call("POST", "/v1/webhooks/github", { body, headers });
}

describe("signature verification", () => {
  it("accepts GitHub's published test vector (then rejects the non-JSON body as 400, not 401)", async () => {
    h = await setupApi();
    expect(sig("Hello, World!", "It's a Secret to Everybody")).toBe(VECTOR_SIGNATURE);
    const res = await deliver("Hello, World!", { signature: VECTOR_SIGNATURE, event: "ping" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "invalid-request", message: "the body is not valid JSON" } });
    const wrongSecret = await setupApi({ env: { AICFG_GITHUB_WEBHOOK_SECRET: "another secret entirely" } });
    try {
      expect((await deliver("Hello, World!", { signature: VECTOR_SIGNATURE, event: "ping", harness: wrongSecret })).status).toBe(401);
    } finally {
      await wrongSecret.cleanup();
    }
  });

  it("agrees with @octokit/webhooks, GitHub's own library: what it signs is accepted, what it rejects is refused", async () => {
    h = await setupApi();
    const octokit = new Webhooks({ secret: WEBHOOK_SECRET });
    const body = JSON.stringify({ zen: "Design for failure. \u00e9\u2603", hook_id: 1 });
    const signed = await octokit.sign(body);
    expect(await octokit.verify(body, signed)).toBe(true);
    expect((await deliver(body, { signature: signed, event: "ping", delivery: "octo-1" })).status).toBe(200);
    const forged = await new Webhooks({ secret: "someone else's secret" }).sign(body);
    expect(await octokit.verify(body, forged)).toBe(false);
    expect((await deliver(body, { signature: forged, event: "ping", delivery: "octo-2" })).status).toBe(401);
  });

  it("refuses wrong, truncated, uppercase, sha1, missing and re-serialised signatures before parsing anything", async () => {
    h = await setupApi();
    const body = pushBody();
    const good = sig(body);
    const flipped = Buffer.from(body);
    flipped[10] = flipped[10]! ^ 1;
    const cases: [string, string | Uint8Array, string | null][] = [
      ["flipped byte", flipped, good],
      ["truncated", body, good.slice(0, -2)],
      ["uppercase hex", body, "sha256=" + good.slice(7).toUpperCase()],
      ["sha1", body, "sha1=" + createHmac("sha1", WEBHOOK_SECRET).update(body).digest("hex")],
      ["missing", body, null],
      ["empty", body, ""],
      ["re-serialised body", JSON.stringify(JSON.parse(body), null, 2), good],
      ["other secret", body, sig(body, "not the configured secret")],
    ];
    for (const [name, payload, signature] of cases) {
      const res = await deliver(payload, { signature, delivery: `d-${name.replace(/\W/g, "")}` });
      expect(res.status, name).toBe(401);
      const err = (await res.json()) as { error: { code: string } };
      expect(["bad-signature", "signature-missing"], name).toContain(err.error.code);
    }
    expect(h.daemon.deliveries()).toBe(0);
    expect(await h.daemon.runs()).toEqual([]);
  });

  it("verifies the exact bytes: a BOM or a non-UTF-8 body is never silently normalised", async () => {
    h = await setupApi();
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(pushBody())]);
    // Signed over the bytes without the BOM: must not verify.
    expect((await deliver(withBom, { signature: sig(pushBody()) })).status).toBe(401);
    const latin1 = new Uint8Array([...Buffer.from('{"a":"'), 0xe9, ...Buffer.from('"}')]);
    const res = await deliver(latin1, { signature: sig(latin1), event: "ping" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("the body is not valid UTF-8");
  });
});

describe("fail closed and content types", () => {
  it("refuses every delivery when no secret is configured (503), even a well-formed one", async () => {
    h = await setupApi({ env: {} });
    const res = await deliver(pushBody(), { signature: sig(pushBody()) });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: {
        code: "webhook-secret-missing",
        message: "no GitHub webhook secret is configured, so every delivery is refused",
        hint: "set api.webhooks.github.secret or AICFG_GITHUB_WEBHOOK_SECRET",
      },
    });
    expect(await h.daemon.runs()).toEqual([]);
    const ready = await h.call("GET", "/readyz?verbose");
    expect(await ready.text()).toContain(
      "[+]webhooks:secret warn: no GitHub webhook secret configured: every delivery is refused (git trigger of team/sync)\n",
    );
  });

  it("takes the secret from the config as well", async () => {
    h = await setupApi({ env: {}, config: { webhooks: { github: { secret: "config-secret-0123456789" } } } });
    const body = JSON.stringify({ zen: "Design for failure." });
    const res = await deliver(body, { event: "ping", signature: sig(body, "config-secret-0123456789") });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "pong" });
  });

  it("accepts application/json only (415 otherwise)", async () => {
    h = await setupApi();
    const body = pushBody();
    for (const ct of [
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/jsonx",
      "application/json; charset=latin1",
      null,
    ]) {
      const res = await deliver(body, { contentType: ct });
      expect(res.status, String(ct)).toBe(415);
    }
    expect((await deliver(JSON.stringify({ zen: "x" }), { event: "ping", contentType: "application/json; charset=utf-8" })).status).toBe(200);
  });

  it("needs X-GitHub-Event and X-GitHub-Delivery", async () => {
    h = await setupApi();
    const body = pushBody();
    const res = await h.call("POST", "/v1/webhooks/github", { body, headers: { "content-type": "application/json", "x-hub-signature-256": sig(body) } });
    expect(res.status).toBe(400);
  });
});

describe("events", () => {
  it("answers ping", async () => {
    h = await setupApi();
    const res = await deliver(JSON.stringify({ zen: "Speak like a human.", hook_id: 42 }), { event: "ping" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "pong" });
  });

  it("feeds a push to the library's repository and branch to its git trigger, 202 once queued", async () => {
    h = await setupApi();
    const res = await deliver(pushBody(), { delivery: "d-1" });
    expect(res.status).toBe(202);
    const runs = await h.daemon.runs();
    expect(runs).toHaveLength(1);
    const runId = runs[0]!.id;
    expect(await res.json()).toEqual({ status: "queued", runIds: [runId] });
    // The daemon's git trigger took the push: library team (repository acme/agents), branch main, commit AFTER.
    expect(runs[0]).toMatchObject({ library: "team", workflow: "sync", trigger: { kind: "git", branch: "main", after: AFTER } });
    expect(h.daemon.deliveries()).toBe(1);
    const audit = readFileSync(join(h.stateDir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(audit.find((a) => a.action === "webhook.github")).toMatchObject({
      actor: "github:d-1",
      action: "webhook.github",
      target: "github:d-1",
      outcome: "ok",
      status: 202,
      runId,
    });
  });

  it("ignores other repositories, other branches, tags, deleted branches and other events", async () => {
    h = await setupApi();
    const cases: [string, string][] = [
      ["push", pushBody({ repository: { full_name: "acme/elsewhere" } })],
      ["push", pushBody({ ref: "refs/heads/feature" })],
      ["push", pushBody({ ref: "refs/tags/v1.0.0" })],
      ["push", pushBody({ deleted: true, after: "0".repeat(40) })],
      ["issues", JSON.stringify({ action: "opened", files: { x: { filepath: "/etc/passwd" } } })],
    ];
    let n = 0;
    for (const [event, body] of cases) {
      const res = await deliver(body, { event, delivery: `ign-${n++}` });
      expect(res.status, body).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe("ignored");
    }
    expect(await h.daemon.runs()).toEqual([]);
    expect(h.daemon.deliveries()).toBe(0);
  });

  it("rejects a push payload without the fields it needs", async () => {
    h = await setupApi();
    expect((await deliver(JSON.stringify({ ref: "refs/heads/main" }))).status).toBe(400);
  });
});

describe("one run per delivery", () => {
  it("deduplicates a redelivery, including ten concurrent copies", async () => {
    h = await setupApi();
    const body = pushBody();
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(body, { delivery: "same-guid" })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(await h.daemon.runs()).toHaveLength(1);
    // Its run is still going (the step waits on the test): the redelivery is a duplicate, "being processed".
    const again = await deliver(body, { delivery: "same-guid" });
    expect(await again.json()).toEqual({ status: "duplicate", reason: "delivery same-guid is being processed" });
  });

  it("deduplicates after a restart: the API keeps no delivery state of its own", async () => {
    h = await setupApi();
    expect((await deliver(pushBody(), { delivery: "before-restart" })).status).toBe(202);
    const restarted = createApi(h.deps, parseApiConfig({}), {
      telemetry: h.api.telemetry,
      tokens: h.api.tokens,
      env: { AICFG_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
      clock: h.clock,
    });
    const body = pushBody();
    const res = await restarted.app.request(
      "http://127.0.0.1:7411/v1/webhooks/github",
      {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "before-restart", "x-hub-signature-256": sig(body) },
      },
      { remoteAddress: "140.82.112.1", localPort: 7411, transport: "tcp" },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("duplicate");
    expect(await h.daemon.runs()).toHaveLength(1);
  });

  it("forgets a delivery whose run could not be queued, so GitHub's redelivery is processed", async () => {
    h = await setupApi();
    // The run store fails when the git trigger queues the run.
    h.daemon.store.failNextCreate("ENOSPC: no space left on device, write");
    const first = await deliver(pushBody(), { delivery: "flaky" });
    // A store error is not one the API knows: 500, its message kept in the daemon log, not in the answer.
    expect(first.status).toBe(500);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("internal");
    expect(h.daemon.deliveries()).toBe(0);
    expect(await h.daemon.runs()).toEqual([]);
    const retry = await deliver(pushBody(), { delivery: "flaky" });
    expect(retry.status).toBe(202);
    expect(await h.daemon.runs()).toHaveLength(1);
  });
});

describe("size limit", () => {
  it("refuses a body over the webhook limit before verifying or parsing (413)", async () => {
    h = await setupApi({ config: { limits: { webhookBodyBytes: 64 * 1024 } } });
    const big = pushBody({ padding: "x".repeat(70 * 1024) });
    const res = await deliver(big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload-too-large");
    expect(await h.daemon.runs()).toEqual([]);
    const fits = pushBody({ padding: "x".repeat(60 * 1024) });
    expect((await deliver(fits, { delivery: "fits" })).status).toBe(202);
  });

  it("allows webhook bodies above the 1 MiB API limit (GitHub sends up to 25 MB)", async () => {
    h = await setupApi();
    const body = pushBody({ padding: "y".repeat(2 * 1024 * 1024) });
    expect((await deliver(body)).status).toBe(202);
  });
});
