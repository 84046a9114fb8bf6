// The dashboard through the daemon's real Hono app (a real daemon behind the API bridge, real
// tokens resolved to principals as /v1 resolves them): sign-in and the session cookie, CSRF on every
// action, the policy on every page, action and stream, the CSP and escaping of library strings,
// live updates over SSE, secrets masked in diffs, actions in the hash-chained audit.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CANARY, setupApi, type Harness } from "../api/helpers.ts";
import { CSP } from "../../../src/daemon/ui/dashboard.ts";
import { verifyChain } from "../../../src/daemon/tenancy/audit-chain.ts";
import { auditFile } from "../../../src/daemon/tenancy/file-store.ts";
import { cookieValue, formPost, hiddenValue, setCookieLine, signIn, type UiSession } from "./helpers.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const XSS_NAME = `<script>alert("name")</script>`;
const XSS_DESC = `"><img src=x onerror=alert(1)> & <svg onload=alert(2)>`;

async function as(h: Harness, role: "viewer" | "editor" | "admin" | "scopedEditor"): Promise<UiSession> {
  const { session, res } = await signIn(h, h.tokens[role]);
  expect(res.status).toBe(303);
  return session!;
}

/** Reads SSE events from a streaming response until `until` says stop (or the stream ends). */
async function readEvents(res: Response, until: (events: { event: string; data: string }[]) => boolean): Promise<{ event: string; data: string }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buf = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1];
      const data = /^data: ?(.*)$/m.exec(block)?.[1];
      if (event) events.push({ event, data: data ?? "" });
    }
    if (until(events)) {
      await reader.cancel();
      return events;
    }
  }
  return events;
}

describe("sign-in and the session cookie", () => {
  it("exchanges a token for an HttpOnly, SameSite=Strict session cookie and sends anonymous pages to the form", async () => {
    harness = await setupApi();
    const h = harness;
    const anon = await h.call("GET", "/ui/workflows/team/sync");
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/ui/login?next=%2Fui%2Fworkflows%2Fteam%2Fsync");
    expect((await h.call("GET", "/ui/events")).status).toBe(401);
    const { res, session } = await signIn(h, h.tokens.viewer);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui");
    const line = setCookieLine(res, "aicfg_session")!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).toMatch(/Path=\/ui/);
    expect(line).not.toMatch(/Secure/);
    const page = await session!.get("/ui");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe(CSP);
    expect(await page.text()).toContain("token:");
    // The cookie is not the token, and the token never reaches a page.
    expect(session!.cookie).not.toContain(h.tokens.viewer);
  });

  it("marks the cookie Secure when the dashboard is reached over TLS", async () => {
    harness = await setupApi({ config: { allowedHosts: ["aicfg.example.com"], allowedOrigins: ["https://aicfg.example.com"] } });
    const h = harness;
    const form = await h.call("GET", "/ui/login", { headers: { host: "aicfg.example.com" } });
    const pre = cookieValue(form, "aicfg_login")!;
    const res = await formPost(
      h,
      "/ui/login",
      { _csrf: hiddenValue(await form.text(), "_csrf")!, credential: h.tokens.viewer },
      { cookie: `aicfg_login=${pre}`, origin: "https://aicfg.example.com", host: "aicfg.example.com" },
    );
    expect(res.status).toBe(303);
    expect(setCookieLine(res, "aicfg_session")).toMatch(/; Secure/);
  });

  it("refuses a bad token, a sign-in without the form's token, and slows repeated failures", async () => {
    harness = await setupApi();
    const h = harness;
    const bad = await signIn(h, "aicfg_not-a-real-token");
    expect(bad.res.status).toBe(401);
    expect(await bad.res.text()).toContain("That token is not valid.");
    const noPre = await formPost(h, "/ui/login", { _csrf: "x", credential: h.tokens.admin });
    expect(noPre.status).toBe(403);
    expect(cookieValue(noPre, "aicfg_session")).toBeUndefined();
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await signIn(h, "wrong")).res.status;
    expect(last).toBe(429);
    // A valid token still signs in from that address.
    expect((await signIn(h, h.tokens.viewer)).res.status).toBe(303);
  });

  it("ends the session on sign-out and when its token is revoked", async () => {
    harness = await setupApi();
    const h = harness;
    const editor = await as(h, "editor");
    expect((await editor.post("/ui/logout", { _csrf: "wrong" })).status).toBe(403);
    const out = await editor.post("/ui/logout", { _csrf: editor.csrf });
    expect(out.status).toBe(303);
    expect((await editor.get("/ui")).status).toBe(303);
    const viewer = await as(h, "viewer");
    expect((await viewer.get("/ui")).status).toBe(200);
    h.api.tokens.revoke(h.api.tokens.list().find((t) => t.name === "viewer")!.id);
    expect((await viewer.get("/ui")).status).toBe(303);
  });
});

describe("roles and CSRF on every page, action and stream", () => {
  it("a viewer reads every page but sees no run button and is refused the action", async () => {
    harness = await setupApi();
    const h = harness;
    const runId = await h.daemon.trigger("team", "sync");
    const viewer = await as(h, "viewer");
    for (const path of [
      "/ui",
      "/ui/workflows/team/sync",
      `/ui/runs/${runId}`,
      "/ui/libraries/team/matrix",
      "/ui/libraries/team/health",
      "/ui/libraries/team/diff/reviewer/claude-code",
    ]) {
      const res = await viewer.get(path);
      expect(res.status, path).toBe(200);
      const text = await res.text();
      // No inline script or style: only the one script file, no style attributes.
      expect(text.match(/<script\b[^>]*>/g), path).toEqual([`<script src="/ui/assets/app.js?v=1" defer>`]);
      expect(text, path).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    }
    const wf = await (await viewer.get("/ui/workflows/team/sync")).text();
    expect(wf).not.toContain("Run now</button>");
    expect(wf).toContain("can read this workflow but not run it");
    const refused = await viewer.post("/ui/workflows/team/sync/run", { _csrf: viewer.csrf });
    expect(refused.status).toBe(403);
    expect((await h.daemon.runs()).length).toBe(1);
    expect((await viewer.post(`/ui/runs/${runId}/cancel`, { _csrf: viewer.csrf })).status).toBe(403);
  });

  it("an editor runs a workflow only with the CSRF token; one that runs commands needs an admin", async () => {
    harness = await setupApi();
    const h = harness;
    const editor = await as(h, "editor");
    expect((await editor.post("/ui/workflows/team/sync/run", {})).status).toBe(403);
    expect((await editor.post("/ui/workflows/team/sync/run", { _csrf: "a".repeat(32) })).status).toBe(403);
    expect(await h.daemon.runs()).toHaveLength(0);
    const ok = await editor.post("/ui/workflows/team/sync/run", { _csrf: editor.csrf, "input.target": "claude-code" });
    expect(ok.status).toBe(303);
    const runs = await h.daemon.runs();
    expect(runs).toHaveLength(1);
    expect(ok.headers.get("location")).toBe(`/ui/runs/${runs[0]!.id}`);
    expect(runs[0]!.inputs).toEqual({ target: "claude-code" });
    expect(runs[0]!.actor).toMatch(/^token:tok_[0-9a-f]{12}\(editor\)$/);
    const json = await editor.post("/ui/workflows/team/sync/run", {}, { accept: "application/json", "x-csrf-token": editor.csrf });
    expect(json.status).toBe(202);
    expect(((await json.json()) as { url: string }).url).toMatch(/^\/ui\/runs\//);
    expect((await editor.post("/ui/workflows/team/backup/run", { _csrf: editor.csrf })).status).toBe(403);
    const admin = await as(h, "admin");
    expect((await admin.post("/ui/workflows/team/backup/run", { _csrf: admin.csrf })).status).toBe(303);
    // The audit log names the action and the actor.
    const audit = readFileSync(join(h.stateDir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; actor: string; outcome: string; target: string });
    const triggers = audit.filter((e) => e.action === "run.trigger");
    expect(triggers.filter((e) => e.outcome === "ok").map((e) => e.target)).toEqual(["team/sync", "team/sync", "team/backup"]);
    expect(triggers.filter((e) => e.outcome === "denied").length).toBeGreaterThanOrEqual(3);
    expect(triggers.every((e) => e.actor.startsWith("token:tok_"))).toBe(true);
    // And the org's hash-chained audit: the policy decision of each, as /v1 records it.
    const chained = (await h.api.auditStore.list("default")).filter((r) => r.action === "run.trigger");
    expect(chained.filter((r) => r.decision === "allow").map((r) => r.resource)).toEqual([
      "org/default/lib/team/workflows/sync",
      "org/default/lib/team/workflows/sync",
      "org/default/lib/team/workflows/backup",
    ]);
    // The two posts without the session's CSRF token are denials by the CSRF check.
    expect(chained.filter((r) => r.ruleId === "csrf").map((r) => [r.decision, r.status])).toEqual([
      ["deny", 403],
      ["deny", 403],
    ]);
    // The editor's try at backup was refused for run-commands (the action /v1 requires for a workflow that runs commands).
    expect(chained.find((r) => r.decision === "deny" && r.resource === "org/default/lib/team/workflows/backup")).toMatchObject({ ruleId: "default-deny" });
    expect(verifyChain(readFileSync(auditFile(h.stateDir, "default"), "utf8").split("\n"), "default")).toMatchObject({ ok: true });
  });

  it("a library-scoped session sees only its library", async () => {
    harness = await setupApi();
    const h = harness;
    const teamRun = await h.daemon.trigger("team", "sync");
    const scoped = await as(h, "scopedEditor");
    expect((await scoped.get("/ui/workflows/team/sync")).status).toBe(404);
    expect((await scoped.get(`/ui/runs/${teamRun}`)).status).toBe(404);
    expect((await scoped.get("/ui/libraries/team/matrix")).status).toBe(404);
    expect((await scoped.get(`/ui/events?run=${teamRun}`)).status).toBe(404);
    expect((await scoped.post("/ui/workflows/team/sync/run", { _csrf: scoped.csrf })).status).toBe(404);
    expect((await scoped.get("/ui/workflows/other/export")).status).toBe(200);
    expect(await (await scoped.get("/ui")).text()).not.toContain("team/sync");
  });
});

describe("library strings are escaped", () => {
  it("renders XSS payloads in agent names and descriptions as text", async () => {
    harness = await setupApi();
    const h = harness;
    writeFileSync(
      join(h.daemon.libs.team, "agents", "xss.md"),
      `---\ndisplayName: ${JSON.stringify(XSS_NAME)}\ndescription: ${JSON.stringify(XSS_DESC)}\ntags: ["<b>t</b>"]\n---\nHello <script>alert(3)</script>\n`,
    );
    const viewer = await as(h, "viewer");
    for (const path of ["/ui/libraries/team/matrix", "/ui/libraries/team/health", "/ui/libraries/team/diff/xss/claude-code"]) {
      const text = await (await viewer.get(path)).text();
      expect(text, path).not.toContain("<script>alert");
      expect(text, path).not.toContain("<img src=x");
      expect(text, path).not.toContain("<svg onload");
    }
    const health = await (await viewer.get("/ui/libraries/team/health")).text();
    expect(health).toContain("&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;");
    expect(health).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &lt;svg onload=alert(2)&gt;");
    const diff = await (await viewer.get("/ui/libraries/team/diff/xss/claude-code")).text();
    expect(diff).toContain("Hello &lt;script&gt;alert(3)&lt;/script&gt;");
  });

  it("masks literal MCP secrets in diffs", async () => {
    harness = await setupApi();
    const h = harness;
    const viewer = await as(h, "viewer");
    const res = await viewer.get("/ui/libraries/team/diff/reviewer/claude-code");
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain("mcp");
    expect(text).not.toContain(CANARY);
  });
});

describe("live updates over SSE", () => {
  it("streams a run from running to success, with its log lines", async () => {
    harness = await setupApi();
    const h = harness;
    const runId = await h.daemon.trigger("team", "sync");
    await h.daemon.waitFor(runId, ["running"]);
    const viewer = await as(h, "viewer");
    const res = await viewer.get(`/ui/events?run=${runId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("content-security-policy")).toBe(CSP);
    const released = (async () => {
      for (let i = 0; i < 400 && h.daemon.hold.held() === 0; i++) await new Promise((r) => setTimeout(r, 5));
      h.daemon.hold.release();
    })();
    const events = await readEvents(res, (ev) => ev.some((e) => e.event === "run" && JSON.parse(e.data).status === "success"));
    await released;
    const statuses = events.filter((e) => e.event === "run").map((e) => JSON.parse(e.data).status as string);
    expect(statuses[0]).toBe("running");
    expect(statuses.at(-1)).toBe("success");
    const logs = events.filter((e) => e.event === "log").map((e) => JSON.parse(e.data).message as string);
    expect(logs.some((m) => m.includes("started"))).toBe(true);
    expect(logs.some((m) => m.includes("run finished: success"))).toBe(true);
  });

  it("closes the stream when the session signs out", async () => {
    harness = await setupApi();
    const h = harness;
    const editor = await as(h, "editor");
    const res = await editor.get("/ui/events");
    expect(res.status).toBe(200);
    const reading = readEvents(res, (ev) => ev.some((e) => e.event === "end"));
    await new Promise((r) => setTimeout(r, 20));
    expect((await editor.post("/ui/logout", { _csrf: editor.csrf })).status).toBe(303);
    const events = await reading;
    expect(events.map((e) => e.event)).toContain("end");
  });
});

describe("the /ui route x role matrix", () => {
  // Expected status per caller: anonymous, viewer, editor, admin (POSTs carry the session's CSRF token).
  const MATRIX: Record<string, { path: (run: string) => string; expect: [number, number, number, number] }> = {
    "GET /ui": { path: () => "/ui", expect: [303, 200, 200, 200] },
    "GET /ui/assets/app.js": { path: () => "/ui/assets/app.js", expect: [200, 200, 200, 200] },
    "GET /ui/assets/app.css": { path: () => "/ui/assets/app.css", expect: [200, 200, 200, 200] },
    "GET /ui/assets/icon.svg": { path: () => "/ui/assets/icon.svg", expect: [200, 200, 200, 200] },
    "GET /ui/login": { path: () => "/ui/login", expect: [200, 200, 200, 200] },
    "POST /ui/login": { path: () => "/ui/login", expect: [403, 403, 403, 403] },
    "POST /ui/logout": { path: () => "/ui/logout", expect: [401, 303, 303, 303] },
    "GET /ui/workflows/:library/:workflow": { path: () => "/ui/workflows/team/sync", expect: [303, 200, 200, 200] },
    "POST /ui/workflows/:library/:workflow/run": { path: () => "/ui/workflows/team/sync/run", expect: [401, 403, 303, 303] },
    "GET /ui/runs/:id": { path: (run) => `/ui/runs/${run}`, expect: [303, 200, 200, 200] },
    "POST /ui/runs/:id/cancel": { path: (run) => `/ui/runs/${run}/cancel`, expect: [401, 403, 303, 303] },
    "GET /ui/events": { path: () => "/ui/events?run=none-such", expect: [401, 404, 404, 404] },
    "GET /ui/libraries/:library/matrix": { path: () => "/ui/libraries/team/matrix", expect: [303, 200, 200, 200] },
    "GET /ui/libraries/:library/health": { path: () => "/ui/libraries/team/health", expect: [303, 200, 200, 200] },
    "GET /ui/libraries/:library/diff/:agent/:target": { path: () => "/ui/libraries/team/diff/reviewer/claude-code", expect: [303, 200, 200, 200] },
  };

  it("covers exactly the /ui routes the app registers", async () => {
    harness = await setupApi();
    const registered = [...new Set(harness.api.app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/ui")).map((r) => `${r.method} ${r.path}`))];
    expect(registered.sort()).toEqual(Object.keys(MATRIX).sort());
  });

  for (const [key, row] of Object.entries(MATRIX)) {
    it(key, async () => {
      const got: number[] = [];
      for (const caller of ["anonymous", "viewer", "editor", "admin"] as const) {
        const h = await setupApi();
        try {
          const run = await h.daemon.trigger("team", "sync");
          const session = caller === "anonymous" ? undefined : await as(h, caller);
          const path = row.path(run);
          const res = key.startsWith("POST")
            ? await formPost(h, path, { _csrf: session?.csrf ?? "" }, session ? { cookie: session.cookie } : {})
            : await h.call("GET", path, session ? { headers: { cookie: session.cookie } } : {});
          got.push(res.status);
          expect(res.headers.get("content-security-policy"), `${key} as ${caller}`).toBe(CSP);
          await res.body?.cancel();
        } finally {
          await h.cleanup();
        }
      }
      expect(got).toEqual(row.expect);
    });
  }
});
