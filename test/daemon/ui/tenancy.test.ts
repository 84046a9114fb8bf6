// The dashboard on the tenancy model, through the daemon's real Hono app: an OIDC user of a real
// loopback issuer signs in (the form, or Authorization: Bearer from an OIDC front end) and sees only
// the libraries of the issuer's org; another org's workflow, run, matrix and stream answer 404; a
// custom role without the run action sees but cannot run; every dashboard action and denial lands
// in the org's hash-chained audit, and the chain verifies.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { verifyChain } from "../../../src/daemon/tenancy/audit-chain.ts";
import { auditFile } from "../../../src/daemon/tenancy/file-store.ts";
import { startIssuer, type IssuerKey, type TestIssuer } from "../../helpers/oidc-issuer.ts";
import { setupApi, type Harness } from "../api/helpers.ts";
import { cookieValue, formPost, signIn, type UiSession } from "./helpers.ts";

let h: Harness | undefined;
let idp: TestIssuer | undefined;
afterEach(async () => {
  await h?.cleanup();
  await idp?.close();
  h = undefined;
  idp = undefined;
});

const LIMITS = { authFailuresPerMinute: 1_000_000, requestsPerMinutePerToken: 1_000_000 };

/** A daemon with the org acme owning library `other` (team stays in the default org), and an OIDC issuer for acme. */
async function setup(): Promise<{ h: Harness; sign: (sub: string, groups: string[]) => Promise<string>; issuer: string }> {
  idp = await startIssuer();
  const key: IssuerKey = await idp.newKey("ES256");
  idp.publish([key]);
  h = await setupApi({ config: { limits: LIMITS, oidc: { issuers: [{ issuer: idp.issuer, jwksUri: idp.jwksUri, org: "acme", audience: "aicfg" }] } } });
  await h.api.tenancy.createOrg("acme");
  const served = h.deps.libraries();
  h.deps.libraries = () => served.map((l) => (l.name === "other" ? { ...l, org: "acme" } : l));
  const s = Math.floor(h.clock.now() / 1000);
  const issuer = idp.issuer;
  return { h, issuer, sign: (sub, groups) => idp!.sign(key, { iss: issuer, aud: "aicfg", sub, groups }, { iat: s - 5 }) };
}

async function as(harness: Harness, credential: string): Promise<UiSession> {
  const { res, session } = await signIn(harness, credential);
  expect(res.status).toBe(303);
  return session!;
}

const rows = async (harness: Harness, org: string) => harness.api.auditStore.list(org);

describe("OIDC sign-in", () => {
  it("an OIDC user signs in with the form and sees only the libraries of the issuer's org", async () => {
    const { h, sign, issuer } = await setup();
    const teamRun = await h.daemon.trigger("team", "sync");
    const otherRun = await h.daemon.trigger("other", "export");
    // Signed in at the IdP but granted nothing in acme: no session, and a reason.
    const jwt = await sign("alice", ["eng"]);
    const none = await signIn(h, jwt);
    expect(none.res.status).toBe(403);
    expect(cookieValue(none.res, "aicfg_session")).toBeUndefined();
    expect(await none.res.text()).toContain("no role is granted to you there");
    await h.api.tenancy.createBinding("acme", { subject: `group:${issuer}|eng`, role: "viewer", scope: "org/acme" });
    const alice = await as(h, jwt);
    const overview = await (await alice.get("/ui")).text();
    expect(overview).toMatch(/user:usr_[0-9a-f]{16} · org acme/);
    expect(overview).toContain("other/export");
    expect(overview).toContain(otherRun);
    expect(overview).not.toContain("team/sync");
    expect(overview).not.toContain(teamRun);
    expect(overview).toContain('href="/ui/libraries/other/matrix"');
    expect(overview).not.toContain('href="/ui/libraries/team/matrix"');
    expect((await alice.get("/ui/workflows/other/export")).status).toBe(200);
    expect((await alice.get(`/ui/runs/${otherRun}`)).status).toBe(200);
    expect((await alice.get("/ui/libraries/other/matrix")).status).toBe(200);
    expect((await alice.get("/ui/workflows/team/sync")).status).toBe(404);
    // A viewer binding: no run button, and the run is refused.
    expect(await (await alice.get("/ui/workflows/other/export")).text()).toContain("needs the run action");
    expect((await alice.post("/ui/workflows/other/export/run", { _csrf: alice.csrf })).status).toBe(403);
    // The binding removed: the session's next request has nothing left in acme.
    const [b] = await h.api.tenancy.listBindings("acme");
    await h.api.tenancy.deleteBinding("acme", b!.id);
    expect((await alice.get("/ui/workflows/other/export")).status).toBe(403);
    // The sign-ins are in acme's chain: the refusal and the session, with the user and never the JWT.
    const acme = await rows(h, "acme");
    const logins = acme.filter((r) => r.action === "ui.login");
    expect(logins.map((r) => [r.decision, r.status])).toEqual([
      ["deny", 403],
      ["allow", 303],
    ]);
    expect(logins[1]!.actor).toMatchObject({ kind: "user", id: expect.stringMatching(/^usr_/) });
    expect(acme.some((r) => r.action === "run.trigger" && r.decision === "deny" && r.resource === "org/acme/lib/other/workflows/export")).toBe(true);
    const text = readFileSync(auditFile(h.stateDir, "acme"), "utf8");
    expect(text).not.toContain(jwt);
    expect(verifyChain(text.split("\n"), "acme")).toMatchObject({ ok: true });
  });

  it("an OIDC front end exchanges its token with Authorization: Bearer; a bad one is refused and throttled", async () => {
    const { h, sign, issuer } = await setup();
    await h.api.tenancy.createBinding("acme", { subject: `user:${issuer}|bob`, role: "editor", scope: "org/acme/lib/other" });
    const jwt = await sign("bob", []);
    const res = await formPost(h, "/ui/login", { next: "/ui/workflows/other/export" }, { authorization: `Bearer ${jwt}` });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/workflows/other/export");
    const cookie = `aicfg_session=${cookieValue(res, "aicfg_session")}`;
    const page = await h.call("GET", "/ui/workflows/other/export", { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Run now</button>");
    // A forged token (signed by a key the issuer does not publish) is refused, and again and again until 429.
    const stranger = await idp!.newKey("ES256", "not-published");
    const forged = await idp!.sign(stranger, { iss: issuer, aud: "aicfg", sub: "bob" }, { iat: Math.floor(h.clock.now() / 1000) - 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await formPost(h, "/ui/login", {}, { authorization: `Bearer ${forged}` })).status);
    expect(statuses).toEqual([401, 401, 401]);
  });
});

describe("another org's library answers 404", () => {
  it("a user of org acme gets 404 for the default org's workflow page, run page, matrix, diff, stream and run-now; the server admin gets 404 for acme's", async () => {
    const { h } = await setup();
    const teamRun = await h.daemon.trigger("team", "sync");
    const otherRun = await h.daemon.trigger("other", "export");
    const acmeAdmin = await as(h, h.api.tokens.create({ role: "admin", org: "acme", name: "acme-admin" }).token);
    for (const path of [
      "/ui/workflows/team/sync",
      `/ui/runs/${teamRun}`,
      "/ui/libraries/team/matrix",
      "/ui/libraries/team/health",
      "/ui/libraries/team/diff/reviewer/claude-code",
      `/ui/events?run=${teamRun}`,
    ])
      expect((await acmeAdmin.get(path)).status, path).toBe(404);
    expect((await acmeAdmin.post("/ui/workflows/team/sync/run", { _csrf: acmeAdmin.csrf })).status).toBe(404);
    expect((await acmeAdmin.post(`/ui/runs/${teamRun}/cancel`, { _csrf: acmeAdmin.csrf })).status).toBe(404);
    expect((await h.daemon.runs()).filter((r) => r.library === "team")).toHaveLength(1);
    // Its own org's library is there.
    expect((await acmeAdmin.get("/ui/libraries/other/matrix")).status).toBe(200);
    // The default org's server admin sees team, not acme's library.
    const admin = await as(h, h.tokens.admin);
    expect((await admin.get("/ui/workflows/team/sync")).status).toBe(200);
    for (const path of ["/ui/workflows/other/export", `/ui/runs/${otherRun}`, "/ui/libraries/other/matrix", `/ui/events?run=${otherRun}`])
      expect((await admin.get(path)).status, path).toBe(404);
    // The denials are in the caller's org's chain.
    const acme = await rows(h, "acme");
    expect(acme.filter((r) => r.decision === "deny" && r.status === 404).map((r) => r.resource)).toEqual(
      expect.arrayContaining(["org/default/lib/team", `run ${teamRun}`]),
    );
  });

  it("the overview stream never carries another org's runs", async () => {
    const { h } = await setup();
    const acmeViewer = await as(h, h.api.tokens.create({ role: "viewer", org: "acme", name: "acme-viewer" }).token);
    const res = await acmeViewer.get("/ui/events");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const teamRun = await h.daemon.trigger("team", "sync");
    const otherRun = await h.daemon.trigger("other", "export");
    await h.daemon.waitFor(otherRun, ["running"]);
    await h.daemon.waitFor(teamRun, ["running"]);
    const deadline = Date.now() + 10_000;
    while (!text.includes(otherRun) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    expect(text).toContain(otherRun);
    expect(text).not.toContain(teamRun);
  });
});

describe("custom roles", () => {
  it("a custom role without the run action sees the workflow but cannot run it; with cancel it can cancel", async () => {
    const { h } = await setup();
    await h.api.tenancy.createRole("default", { name: "operator", actions: ["view", "list", "cancel"] });
    // Its own grant (viewer of library other, an acme library now) reaches nothing in team; the binding does.
    const t = h.api.tokens.create({ role: "viewer", name: "operator" });
    await h.api.tenancy.createBinding("default", { subject: `token:${t.record.id}`, role: "operator", scope: "org/default/lib/team" });
    const op = await as(h, t.token);
    const page = await (await op.get("/ui/workflows/team/sync")).text();
    expect(page).not.toContain("Run now</button>");
    expect(page).toContain("needs the run action");
    expect((await op.post("/ui/workflows/team/sync/run", { _csrf: op.csrf })).status).toBe(403);
    expect(await h.daemon.runs()).toHaveLength(0);
    const run = await h.daemon.trigger("team", "sync");
    expect(await (await op.get(`/ui/runs/${run}`)).text()).toContain("Cancel run</button>");
    expect((await op.post(`/ui/runs/${run}/cancel`, { _csrf: op.csrf })).status).toBe(303);
    const rows2 = await rows(h, "default");
    const trigger = rows2.find((r) => r.action === "run.trigger")!;
    expect(trigger).toMatchObject({ decision: "deny", status: 403, ruleId: "default-deny", resource: "org/default/lib/team/workflows/sync" });
    expect(trigger.details).toMatchObject({ route: "/ui/workflows/:library/:workflow/run" });
    const cancel = rows2.find((r) => r.action === "run.cancel")!;
    expect(cancel).toMatchObject({ decision: "allow", status: 303, actor: { kind: "token", id: t.record.id } });
    expect(cancel.ruleId).toMatch(/^binding:bnd_/);
    expect((await op.post("/ui/logout", { _csrf: op.csrf })).status).toBe(303);
    expect((await rows(h, "default")).at(-1)).toMatchObject({ action: "ui.logout", decision: "allow" });
    expect(verifyChain(readFileSync(auditFile(h.stateDir, "default"), "utf8").split("\n"), "default")).toMatchObject({ ok: true });
  });
});
