// The web dashboard under /ui, in the daemon's Hono app (behind its Host/Origin check, body limit,
// access log and audit): server-rendered pages, a session cookie exchanged at sign-in from an API
// token or an OIDC JWT through the resolver /v1 uses (the session keeps the Principal and refreshes
// it on every request), a CSRF token on every action, the same policy checks as /v1 on every page,
// action and stream (respond.ts: a library of another org, or not granted, is 404; an action not
// granted is 403), a row in the org's hash-chained audit for every action and denial (app.ts), a
// strict CSP, and live updates over SSE. Data comes from the same ApiDeps the /v1 routes use.
import { assetText as asset } from "./assets.ts";
import type { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import { createTwoFilesPatch } from "diff";
import { agentTargetPlan } from "../../adapters/analytics.ts";
import { loadLibrary } from "../../library/load.ts";
import type { Library } from "../../library/model.ts";
import { sha256 } from "../../library/hash.ts";
import { literalSecretValues, maskValues } from "../../library/literal-secrets.ts";
import { createLimiter } from "../auth/rate-limit.ts";
import type { Principal } from "../auth/principal.ts";
import { can, canWithin, DEFAULT_ORG, libraryPath, orgPath, workflowPath } from "../tenancy/policy.ts";
import type { DaemonEvent } from "../events.ts";
import { ApiError, errorStatus } from "../api/errors.ts";
import type { ApiContext, ApiEnv, RouteServices } from "../api/route.ts";
import type { LibraryInfo, RunDetail, WorkflowSummary } from "../api/deps.ts";
import { canSeeWorkflow, gateDecision, libraryOrg, requireAction, requireLibrary, requireWholeLibrary, requireWorkflow } from "../api/respond.ts";
import { analyticsByRoot, exportRootsOf, type ExportRoot } from "./export-roots.ts";
import { healthSection, matrixSection } from "./analytics-view.ts";
import { runsStrip, type Html } from "./charts.ts";
import { diffBody, errorPage, loginPage, n, page, runBody, runsTable, workflowBody, workflowList, type Layout } from "./pages.ts";
import { createSessionStore, csrfMatches, type Session, type SessionStore } from "./session.ts";
import { html } from "hono/html";

const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;

const SESSION_COOKIE = "aicfg_session";
const LOGIN_COOKIE = "aicfg_login";
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TARGET = /^[a-z0-9][a-z0-9-]*$/;
const PING_MS = 15_000;
const RUN_POLL_MS = 2_000;
const ACTIVE = new Set(["queued", "running"]);

const param = (c: ApiContext, name: string): string => c.req.param(name) ?? "";

export type DashboardOptions = {
  /** The session store (default: in memory, principals refreshed with the API's resolver). */
  sessions?: SessionStore;
};

export type Dashboard = { sessions: SessionStore };

type UiVars = { session: Session; cookie: string };

export function mountDashboard(app: Hono<ApiEnv>, s: RouteServices, opts: DashboardOptions = {}): Dashboard {
  const { deps, telemetry } = s;
  const secrets = telemetry.secrets;
  const nowMs = () => s.now().getTime();
  const sessions =
    opts.sessions ??
    createSessionStore({
      now: nowMs,
      refresh: async (p) => {
        const r = await s.principals.refresh(p);
        return r.ok ? r.principal : undefined;
      },
    });
  const signInFailures = createLimiter({ limit: s.config.limits.authFailuresPerMinute, windowMs: 60_000, now: nowMs });
  const js = asset("app.js");
  const css = asset("app.css");
  const ui = new WeakMap<Request, UiVars>();

  const fmt = (iso: string | undefined): string =>
    iso
      ? iso
          .replace("T", " ")
          .replace(/\.\d+Z$/, " UTC")
          .replace(/Z$/, " UTC")
      : "—";
  /** The whole library is visible (its matrix, health and diffs; as GET /v1/libraries/:library/agents). */
  const seesWholeLibrary = (p: Principal, l: LibraryInfo) => {
    const org = l.org ?? DEFAULT_ORG;
    return p.org === org && can(p.grants, "view", libraryPath(org, l.name)).allow;
  };
  const libraries = (sess: Session) =>
    deps
      .libraries()
      .filter((l) => seesWholeLibrary(sess.principal, l))
      .map((l) => l.name);
  const layout = (c: ApiContext, title: string, extra: Partial<Layout> = {}): Layout => {
    const v = ui.get(c.req.raw)!;
    return { title, principal: v.session.principal, csrf: v.session.csrf, libraries: libraries(v.session), ...extra };
  };
  const wantsJson = (c: ApiContext) => (c.req.header("accept") ?? "").includes("application/json");
  /** Every response of the dashboard, page or not. */
  const secure = (res: Response): Response => {
    res.headers.set("content-security-policy", CSP);
    res.headers.set("x-content-type-options", "nosniff");
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts, which the Origin check refuses.
    res.headers.set("referrer-policy", "same-origin");
    res.headers.set("x-frame-options", "DENY");
    res.headers.set("cross-origin-opener-policy", "same-origin");
    if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    return res;
  };
  const sendPage = (c: ApiContext, body: Html, status = 200): Response =>
    new Response(secrets.scrub(String(body)), { status, headers: { "content-type": "text/html; charset=utf-8" } });
  const isTls = (c: ApiContext) => new URL(c.req.url).protocol === "https:" || (c.req.header("origin") ?? "").startsWith("https://");
  const safeNext = (next: string | undefined): string => (next && /^\/ui(?:\/[A-Za-z0-9._~%/?=&-]*)?$/.test(next) && !next.startsWith("//") ? next : "/ui");

  const fail = (c: ApiContext, e: unknown): Response => {
    const status = errorStatus(e);
    const message = e instanceof ApiError || status < 500 ? (e as Error).message : "internal error";
    if (status >= 500) telemetry.logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "dashboard request failed");
    if (wantsJson(c) || c.req.method !== "GET")
      return new Response(secrets.scrub(JSON.stringify({ error: { code: (e as { code?: string }).code ?? "internal", message } })), {
        status,
        headers: { "content-type": "application/json; charset=utf-8" },
      });
    const v = ui.get(c.req.raw);
    const l: Layout = v ? layout(c, "Error") : { title: "Error" };
    return sendPage(c, errorPage(l, status, message, e instanceof ApiError ? e.hint : undefined), status);
  };

  // Security headers on everything under /ui; the session (when any) is looked up once.
  app.use("/ui/*", async (c, next) => {
    await next();
    c.res = secure(c.res);
  });
  app.use("/ui", async (c, next) => {
    await next();
    c.res = secure(c.res);
  });

  const assetRoute = (path: string, body: string, type: string) =>
    app.get(path, (c) => {
      c.set("route", path);
      return new Response(body, { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });
    });
  assetRoute("/ui/assets/app.js", js, "text/javascript; charset=utf-8");
  assetRoute("/ui/assets/app.css", css, "text/css; charset=utf-8");
  assetRoute("/ui/assets/icon.svg", asset("icon.svg"), "image/svg+xml");

  /**
   * The session of the request, or an answer: pages go to the sign-in form, actions and streams get
   * 401. The session's principal is refreshed first (a revoked token or a deleted org ends it) and
   * set as the request's principal, so the checks below are respond.ts's, as on /v1; the gate is a
   * grant of view somewhere in the principal's org (a user whose bindings were removed sees nothing).
   */
  const withSession =
    (route: string, handler: (c: ApiContext, sess: Session) => Promise<Response> | Response, audit?: string) =>
    async (c: ApiContext): Promise<Response> => {
      c.set("route", route);
      if (audit) c.set("auditAction", audit);
      const cookie = getCookie(c, SESSION_COOKIE);
      let sess: Session | undefined;
      try {
        sess = await sessions.get(cookie);
      } catch (e) {
        telemetry.logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "session check failed");
        return fail(c, new ApiError(503, "auth-unavailable", "the session cannot be checked right now", { hint: "the daemon log says why" }));
      }
      if (!sess) {
        if (c.req.method === "GET" && !wantsJson(c) && route !== "/ui/events")
          return c.redirect(`/ui/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
        return fail(c, new ApiError(401, "auth-required", "sign in first", { hint: "open /ui/login" }));
      }
      ui.set(c.req.raw, { session: sess, cookie: cookie! });
      c.set("principal", sess.principal);
      try {
        if (c.req.method === "POST") {
          const form = await formOf(c);
          const presented = c.req.header("x-csrf-token") ?? (typeof form._csrf === "string" ? form._csrf : undefined);
          if (!csrfMatches(sess.csrf, presented)) {
            c.set("decision", { decision: "deny", action: audit ?? route, resource: secrets.scrub(c.req.path).slice(0, 500), ruleId: "csrf" });
            throw new ApiError(403, "csrf", "the form's CSRF token is missing or wrong", { hint: "reload the page and try again" });
          }
        }
        const org = orgPath(sess.principal.org);
        if (route !== "/ui/logout" && !gateDecision(c, "view", org, canWithin(sess.principal.grants, "view", org)))
          throw new ApiError(403, "forbidden", `nothing in org ${sess.principal.org} is granted to ${sess.principal.actor}`, {
            hint: "ask an admin of the org for a role binding (aicfg binding create)",
          });
        return await handler(c, sess);
      } catch (e) {
        return fail(c, e);
      }
    };
  const forms = new WeakMap<Request, Record<string, string | File>>();
  const formOf = async (c: ApiContext): Promise<Record<string, string | File>> => {
    let f = forms.get(c.req.raw);
    if (!f) {
      const type = c.req.header("content-type") ?? "";
      f =
        type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")
          ? ((await c.req.parseBody()) as Record<string, string | File>)
          : {};
      forms.set(c.req.raw, f);
    }
    return f;
  };

  // Sign-in: a pre-session cookie and the same value in the form (login CSRF), then the credential.
  app.get("/ui/login", (c) => {
    c.set("route", "/ui/login");
    const pre = crypto.randomUUID();
    setCookie(c, LOGIN_COOKIE, pre, { httpOnly: true, sameSite: "Strict", path: "/ui", secure: isTls(c), maxAge: 600 });
    const res = sendPage(c, loginPage({ pre, next: safeNext(c.req.query("next")) }));
    for (const v of c.res.headers.getSetCookie()) res.headers.append("set-cookie", v);
    return res;
  });
  app.post("/ui/login", async (c) => {
    c.set("route", "/ui/login");
    c.set("auditAction", "ui.login");
    const form = await formOf(c);
    const pre = getCookie(c, LOGIN_COOKIE);
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const again = (status: number, error: string) => {
      const fresh = crypto.randomUUID();
      setCookie(c, LOGIN_COOKIE, fresh, { httpOnly: true, sameSite: "Strict", path: "/ui", secure: isTls(c), maxAge: 600 });
      const res = sendPage(c, loginPage({ pre: fresh, next, error }), status);
      for (const v of c.res.headers.getSetCookie()) res.headers.append("set-cookie", v);
      return res;
    };
    // An OIDC front end exchanges its access token with `Authorization: Bearer <jwt>` (a header no
    // cross-site form can set, and the Origin check stands before this): no sign-in form, no login cookie.
    const bearer = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!bearer && (!pre || !csrfMatches(pre, typeof form._csrf === "string" ? form._csrf : undefined)))
      return again(403, "The sign-in form expired. Try again.");
    const credential = (bearer ?? (typeof form.credential === "string" ? form.credential : "")).trim();
    // As on /v1, before the credential is checked: a credential that failed too often is refused
    // wherever it comes from; failures from an address slow invalid credentials only, never a valid one.
    const ip = `ip:${c.env?.remoteAddress ?? "unknown"}`;
    const credentialKey = `credential:${sha256(credential).slice(0, 32)}`;
    const blocked = signInFailures.blocked(credentialKey);
    if (blocked) return again(429, `Too many failed sign-ins; wait ${blocked} s.`);
    let check: Awaited<ReturnType<typeof s.principals.resolve>>;
    try {
      check = credential ? await s.principals.resolve(credential) : { ok: false, status: 401, code: "invalid-token", message: "no credential" };
    } catch (e) {
      telemetry.logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "credential check failed");
      return again(503, "Credentials cannot be checked right now; the daemon log says why.");
    }
    if (!check.ok) {
      if (check.status === 503) return again(503, "The identity provider cannot be reached right now; try again in a moment.");
      const wait = Math.max(signInFailures.hit(ip), signInFailures.hit(credentialKey));
      if (wait) return again(429, `Too many failed sign-ins; wait ${wait} s.`);
      return again(401, check.code === "token-expired" ? "That token has expired." : "That token is not valid.");
    }
    const principal = check.principal;
    c.set("principal", principal);
    const org = orgPath(principal.org);
    // Signed in with nothing granted (an OIDC user without a binding): no session, and the audit says why.
    if (!gateDecision(c, "view", org, canWithin(principal.grants, "view", org)))
      return again(403, `You are ${principal.actor} in org ${principal.org}, but no role is granted to you there. Ask an admin of the org for a role binding.`);
    const { cookie } = sessions.create(principal);
    deleteCookie(c, LOGIN_COOKIE, { path: "/ui" });
    setCookie(c, SESSION_COOKIE, cookie, { httpOnly: true, sameSite: "Strict", path: "/ui", secure: isTls(c) });
    return c.redirect(next, 303);
  });
  app.post(
    "/ui/logout",
    withSession(
      "/ui/logout",
      (c) => {
        sessions.end(ui.get(c.req.raw)!.cookie);
        deleteCookie(c, SESSION_COOKIE, { path: "/ui" });
        return c.redirect("/ui/login", 303);
      },
      "ui.logout",
    ),
  );

  /** A run of a workflow the principal may see, else 404 (as GET /v1/runs/:id; the denial is audited). */
  const seeRun = async (c: ApiContext, id: string): Promise<RunDetail> => {
    const run = RUN_ID.test(id) ? await deps.getRun(id) : undefined;
    if (!run || !canSeeWorkflow(c, run.library, run.workflow)) {
      c.set("decision", { decision: "deny", action: "view", resource: `run ${id}`, ruleId: "default-deny" });
      throw new ApiError(404, "not-found", `run ${id} not found`);
    }
    c.set("runId", run.id);
    return run;
  };
  const libraryInfo = (library: string, what: string): LibraryInfo => {
    const info = SLUG.test(library) ? deps.libraries().find((l) => l.name === library) : undefined;
    if (!info) throw new ApiError(404, "not-found", `${what} not found`);
    return info;
  };
  /** The library itself (matrix, health, diffs): a grant covering the whole library, in the principal's org. */
  const seeWholeLibrary = (c: ApiContext, library: string): LibraryInfo => {
    if (!SLUG.test(library)) throw new ApiError(404, "not-found", `library ${library} not found`);
    requireWholeLibrary(c, library, `library ${library}`);
    return libraryInfo(library, `library ${library}`);
  };
  /** A workflow the principal may see (its library in the principal's org, a grant covering it), else 404. */
  const seeWorkflow = async (c: ApiContext, library: string, workflow: string) => {
    const what = `workflow ${library}/${workflow}`;
    if (!SLUG.test(library) || !SLUG.test(workflow)) throw new ApiError(404, "not-found", `${what} not found`);
    requireLibrary(c, library, what);
    requireWorkflow(c, library, workflow, what);
    const wf = await deps.getWorkflow(library, workflow);
    if (!wf) throw new ApiError(404, "not-found", `${what} not found`);
    return wf;
  };
  /** Who may run a workflow: the run action on it, and run-commands when it runs commands (as POST /v1/.../runs). */
  const mayRun = (c: ApiContext, p: Principal, wf: WorkflowSummary): { allowed: boolean; why?: string } => {
    const resource = workflowPath(libraryOrg(c, wf.library), wf.library, wf.name);
    if (!can(p.grants, "run", resource).allow) return { allowed: false, why: "You can read this workflow but not run it: that needs the run action." };
    if (wf.runsCommands && !can(p.grants, "run-commands", resource).allow)
      return { allowed: false, why: "This workflow runs commands: running it needs the run-commands action (an admin's)." };
    if (wf.state === "broken") return { allowed: false, why: "This workflow has errors and cannot run." };
    return { allowed: true };
  };
  const mayCancel = (c: ApiContext, p: Principal, run: RunDetail) =>
    can(p.grants, "cancel", workflowPath(libraryOrg(c, run.library), run.library, run.workflow)).allow;

  /** Where the library's exports go, and the analytics against each root. */
  const rootsOf = async (info: LibraryInfo, lib: Library): Promise<ExportRoot[]> =>
    exportRootsOf(lib, deps.exportSteps?.(info.name) ?? [], { stateDir: deps.stateDir, env: process.env });
  const libraryOf = (info: LibraryInfo): Library => deps.loadLibrary?.(info.name) ?? loadLibrary(info.root);
  const rootsText = (roots: readonly ExportRoot[], only?: number): Html =>
    h`<div class="roots"><p>${roots.length > 1 ? `Compared with ${n(roots.length)} export roots (the cell says which):` : "Compared with the export root:"}</p><ul class="plain">${roots.map(
      (r, i) =>
        h`<li${only === i ? h` aria-current="true"` : ""}>${roots.length > 1 ? h`<strong>R${i + 1}</strong> ` : ""}<code>${r.folder}</code> (${r.scope} scope${r.targets ? `; targets ${r.targets.join(", ")}` : ""}${r.agents ? `; agents ${r.agents.join(", ")}` : ""}), written by ${r.by.join(", ")}${r.notes.length ? h` <span class="muted">${r.notes.join("; ")}</span>` : ""}</li>`,
    )}</ul></div>`;
  const rootIndex = (c: ApiContext, roots: readonly ExportRoot[]): number | undefined => {
    const q = c.req.query("root");
    if (q === undefined) return undefined;
    const i = Number(q) - 1;
    if (!Number.isInteger(i) || i < 0 || i >= roots.length)
      throw new ApiError(404, "not-found", `export root ${q} not found`, { hint: `roots are 1 to ${roots.length}` });
    return i;
  };

  app.get(
    "/ui",
    withSession("/ui", async (c) => {
      const now = nowMs();
      const [page1, workflows, status] = await Promise.all([deps.listRuns({ limit: 200 }), deps.listWorkflows(), deps.status()]);
      const runs = page1.items.filter((r) => canSeeWorkflow(c, r.library, r.workflow));
      const wfs = workflows.filter((w) => canSeeWorkflow(c, w.library, w.name));
      const counts = new Map<string, number>();
      for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const lastByWf = new Map<string, string>();
      for (const r of runs) if (!lastByWf.has(`${r.library}/${r.workflow}`) && !ACTIVE.has(r.status)) lastByWf.set(`${r.library}/${r.workflow}`, r.status);
      const failing = wfs.filter((w) => ["failure", "timed_out", "interrupted"].includes(lastByWf.get(`${w.library}/${w.name}`) ?? "") || w.state === "broken");
      const next = wfs.filter((w) => w.nextRunAt).sort((a, b) => (a.nextRunAt! < b.nextRunAt! ? -1 : 1));
      const missed = (await deps.listOccurrences({ limit: 50 })).filter(
        (o) => canSeeWorkflow(c, o.library, o.workflow) && (o.kind === "missed" || o.kind === "skipped"),
      );
      const tiles = ["success", "failure", "running", "queued", "cancelled", "timed_out", "interrupted", "skipped"];
      const checks = [
        ["store", status.store.ok],
        ["config", status.config.ok],
        ["watchers", status.watchers.ok],
      ] as const;
      const body = h`<h1>Overview</h1>
<h2>Health</h2><ul class="tiles">${checks.map(([k, ok]) => h`<li><span class="n">${ok ? "ok" : "failing"}</span>${k}</li>`)}<li><span class="n">${status.config.invalidWorkflows}</span>invalid workflows</li></ul>
<h2>Runs by status</h2><p class="muted">The latest ${n(runs.length)} runs.</p><ul class="tiles">${tiles.map((t) => h`<li><span class="n">${n(counts.get(t) ?? 0)}</span><span class="status status-${t}">${t}</span></li>`)}</ul>
<h2>Last 24 hours</h2>${runsStrip(
        "timeline",
        "Runs of the last 24 hours, one mark per run, coloured by status",
        now - 86_400_000,
        now,
        runs.map((r) => ({
          at: Date.parse(r.createdAt),
          status: r.status,
          label: `${r.library}/${r.workflow} ${r.status} at ${fmt(r.createdAt)}`,
          href: `/ui/runs/${r.id}`,
        })),
      )}
<h2>Failing workflows</h2>${failing.length ? workflowList(failing, "Workflows whose last run failed, or that have errors", fmt) : h`<p>None.</p>`}
<h2>Next runs</h2>${next.length ? workflowList(next.slice(0, 10), "The next scheduled runs", fmt) : h`<p class="muted">Nothing scheduled.</p>`}
<h2>Missed and skipped occurrences</h2>${
        missed.length
          ? h`<ul class="plain">${missed.slice(0, 20).map((o) => h`<li>${fmt(o.scheduledAt)} <a href="/ui/workflows/${o.library}/${o.workflow}">${o.library}/${o.workflow}</a>: <span class="status status-${o.kind}">${o.kind}</span> ${o.reason ?? ""}</li>`)}</ul>`
          : h`<p class="muted">None.</p>`
      }
<h2>All workflows</h2>${workflowList(wfs, "Workflows", fmt)}
<h2>Recent runs</h2>${runsTable(runs.slice(0, 25), "The latest runs", fmt)}`;
      return sendPage(c, page(layout(c, "Overview", { current: "overview", stream: "/ui/events" }), body));
    }),
  );

  app.get(
    "/ui/workflows/:library/:workflow",
    withSession("/ui/workflows/:library/:workflow", async (c, sess) => {
      const library = param(c, "library");
      const workflow = param(c, "workflow");
      const wf = await seeWorkflow(c, library, workflow);
      const [occ, runs] = await Promise.all([deps.listOccurrences({ library, workflow, limit: 200 }), deps.listRuns({ library, workflow, limit: 25 })]);
      const body = workflowBody(wf, occ, runsTable(runs.items, "Runs of this workflow", fmt), { ...mayRun(c, sess.principal, wf), csrf: sess.csrf }, fmt);
      return sendPage(c, page(layout(c, `${library}/${workflow}`, { current: "workflows", stream: "/ui/events" }), body));
    }),
  );

  app.post(
    "/ui/workflows/:library/:workflow/run",
    withSession(
      "/ui/workflows/:library/:workflow/run",
      async (c, sess) => {
        const library = param(c, "library");
        const workflow = param(c, "workflow");
        c.set("auditTarget", `${library}/${workflow}`);
        const wf = await seeWorkflow(c, library, workflow);
        // The same checks as POST /v1/workflows/:library/:workflow/runs (each leaves its decision for the audit row).
        const resource = workflowPath(libraryOrg(c, library), library, workflow);
        requireAction(c, "run", resource, `run on workflow ${library}/${workflow}`);
        if (wf.runsCommands) requireAction(c, "run-commands", resource, `workflow ${library}/${workflow} runs commands`);
        if (wf.state === "broken") throw new ApiError(409, "conflict", `workflow ${library}/${workflow} has errors and cannot run`);
        const form = await formOf(c);
        const inputs: Record<string, string | number | boolean> = {};
        for (const [k, v] of Object.entries(form)) {
          if (!k.startsWith("input.") || typeof v !== "string") continue;
          const name = k.slice("input.".length);
          const spec = wf.inputs[name];
          if (!spec || (v === "" && !spec.required)) continue;
          inputs[name] = spec.type === "number" ? Number(v) : spec.type === "boolean" ? v === "true" : v;
        }
        const runId = await deps.triggerRun(library, workflow, { inputs, trigger: "api", actor: sess.principal.actor });
        c.set("runId", runId);
        if (wantsJson(c))
          return new Response(JSON.stringify({ runId, status: "queued", url: `/ui/runs/${runId}` }), {
            status: 202,
            headers: { "content-type": "application/json" },
          });
        return c.redirect(`/ui/runs/${runId}`, 303);
      },
      "run.trigger",
    ),
  );

  app.get(
    "/ui/runs/:id",
    withSession("/ui/runs/:id", async (c, sess) => {
      const run = await seeRun(c, param(c, "id"));
      const logs = (await deps.getRunLogs(run.id, { after: -1, limit: 5000 })) ?? [];
      const after = logs.length ? logs[logs.length - 1]!.seq : 0;
      const body = runBody(run, logs, { allowed: mayCancel(c, sess.principal, run), csrf: sess.csrf }, fmt);
      return sendPage(c, page(layout(c, `Run ${run.id}`, { stream: `/ui/events?run=${encodeURIComponent(run.id)}&after=${after}` }), body));
    }),
  );

  app.post(
    "/ui/runs/:id/cancel",
    withSession(
      "/ui/runs/:id/cancel",
      async (c, sess) => {
        c.set("auditTarget", param(c, "id"));
        const run = await seeRun(c, param(c, "id"));
        requireAction(c, "cancel", workflowPath(libraryOrg(c, run.library), run.library, run.workflow), `cancelling a run of ${run.library}/${run.workflow}`);
        if (!(await deps.cancelRun(run.id, sess.principal.actor))) throw new ApiError(409, "conflict", `run ${run.id} already finished (${run.status})`);
        return c.redirect(`/ui/runs/${run.id}`, 303);
      },
      "run.cancel",
    ),
  );

  // Live updates: run status changes of every visible run, and with ?run= that run's log lines (resumable with Last-Event-ID).
  app.get(
    "/ui/events",
    withSession("/ui/events", async (c, sess) => {
      const only = c.req.query("run");
      const onlyRun = only !== undefined ? await seeRun(c, only) : undefined;
      const lastId = Number(c.req.header("last-event-id") ?? "");
      let after = Math.max(Number(c.req.query("after") ?? "0") || 0, Number.isFinite(lastId) ? lastId : 0);
      return streamSSE(c, async (stream) => {
        let chain = Promise.resolve();
        let closed = false;
        const done = new Promise<void>((r) => {
          const finish = () => {
            closed = true;
            r();
          };
          stream.onAbort(finish);
          sess.ended.addEventListener("abort", finish, { once: true });
          if (sess.ended.aborted) finish();
        });
        const sendRun = async (id: string) => {
          const run = await deps.getRun(id);
          // c's principal is the session's, refreshed by every ping: a binding removed meanwhile hides the run.
          if (!run || !canSeeWorkflow(c, run.library, run.workflow) || closed) return;
          await stream.writeSSE({ event: "run", data: secrets.scrub(JSON.stringify(run)) });
        };
        const sendLogs = async () => {
          if (!only || !onlyRun || closed || !canSeeWorkflow(c, onlyRun.library, onlyRun.workflow)) return;
          const lines = (await deps.getRunLogs(only, { after, limit: 1000 })) ?? [];
          for (const l of lines) {
            after = Math.max(after, l.seq);
            await stream.writeSSE({ event: "log", id: String(l.seq), data: secrets.scrub(JSON.stringify(l)) });
          }
        };
        const enqueue = (work: () => Promise<void>) => {
          chain = chain.then(work).catch(() => {});
        };
        const onEvent = (e: DaemonEvent) => {
          if (closed) return;
          if (e.type === "run.started" || e.type === "run.finished" || e.type === "step.finished") {
            if (only && e.runId !== only) return;
            if ("library" in e && "workflow" in e && !canSeeWorkflow(c, e.library, e.workflow)) return;
            enqueue(async () => {
              await sendLogs();
              await sendRun(e.runId);
            });
          } else if (e.type === "run.log" && only && e.runId === only) enqueue(sendLogs);
        };
        const unsubscribe = deps.bus.subscribe(onEvent);
        // Another replica may run it: a slow poll while the run is active catches what this bus never sees.
        const poll = only
          ? setInterval(
              () =>
                enqueue(async () => {
                  await sendLogs();
                  await sendRun(only);
                }),
              RUN_POLL_MS,
            )
          : undefined;
        const ping = setInterval(() => {
          enqueue(async () => {
            const live = await sessions.get(ui.get(c.req.raw)!.cookie).catch(() => undefined);
            if (!live) {
              closed = true;
              await stream.close();
              return;
            }
            c.set("principal", live.principal);
            await stream.write(": ping\n\n");
          });
        }, PING_MS);
        if (only)
          enqueue(async () => {
            await sendLogs();
            await sendRun(only);
          });
        else enqueue(() => stream.write(": connected\n\n").then(() => {}));
        await done;
        unsubscribe();
        clearInterval(ping);
        if (poll) clearInterval(poll);
        await chain;
        if (!stream.aborted) {
          await stream.writeSSE({ event: "end", data: "session ended" }).catch(() => {});
          await stream.close();
        }
      });
    }),
  );

  app.get(
    "/ui/libraries/:library/matrix",
    withSession("/ui/libraries/:library/matrix", async (c) => {
      const info = seeWholeLibrary(c, param(c, "library"));
      const lib = libraryOf(info);
      const all = await rootsOf(info, lib);
      const only = rootIndex(c, all);
      const roots = only === undefined ? all : [all[only]!];
      const a = analyticsByRoot(lib, roots);
      const base = `/ui/libraries/${encodeURIComponent(info.name)}`;
      const pick =
        all.length > 1
          ? h`<p>Show one root: ${all.map((_, i) => h`<a href="${base}/matrix?root=${i + 1}"${only === i ? h` aria-current="page"` : ""}>R${i + 1}</a> `)}${only !== undefined ? h`<a href="${base}/matrix">all</a>` : ""}</p>`
          : "";
      const rootNo = (agent: string, target: string) => {
        const i = a.rootOf(agent, target);
        return i === undefined ? undefined : (only ?? i);
      };
      const body = h`<h1>Library ${info.name}: agents × targets</h1><p>Each cell links to the diff between the library and what is on disk where the library's export workflows write.</p>${rootsText(all, only)}${pick}${matrixSection(
        a.merged,
        (agent, target) => {
          const i = rootNo(agent, target);
          return `${base}/diff/${encodeURIComponent(agent)}/${encodeURIComponent(target)}${i !== undefined && all.length > 1 ? `?root=${i + 1}` : ""}`;
        },
        { folders: all.map((r) => r.folder), rootOf: rootNo },
      )}`;
      return sendPage(c, page(layout(c, `${info.name}: matrix`, { current: "libraries" }), body));
    }),
  );

  app.get(
    "/ui/libraries/:library/health",
    withSession("/ui/libraries/:library/health", async (c) => {
      const info = seeWholeLibrary(c, param(c, "library"));
      const lib = libraryOf(info);
      const roots = await rootsOf(info, lib);
      const a = analyticsByRoot(lib, roots).merged;
      const body = h`<h1>Library ${info.name}: health</h1><p>${n(a.agents.length)} agents, ${n(a.knowledge.length)} knowledge files, ${n(a.targets.length)} targets; ${n(a.errors.length)} errors, ${n(a.warnings.length)} warnings.</p>${rootsText(roots)}${healthSection(a)}`;
      return sendPage(c, page(layout(c, `${info.name}: health`, { current: "libraries" }), body));
    }),
  );

  app.get(
    "/ui/libraries/:library/diff/:agent/:target",
    withSession("/ui/libraries/:library/diff/:agent/:target", async (c) => {
      const info = seeWholeLibrary(c, param(c, "library"));
      const agent = param(c, "agent");
      const target = param(c, "target");
      const lib = libraryOf(info);
      if (!SLUG.test(agent) || !lib.agents.has(agent)) throw new ApiError(404, "not-found", `agent ${agent} not found`);
      if (!TARGET.test(target)) throw new ApiError(404, "not-found", `target ${target} not found`);
      const roots = await rootsOf(info, lib);
      // The root asked for, else the one the matrix compares this cell with.
      const i =
        rootIndex(c, roots) ??
        Math.max(
          0,
          roots.findIndex((r) => (!r.targets || r.targets.includes(target)) && (!r.agents || r.agents.includes(agent))),
        );
      const r = roots[i]!;
      const plan = agentTargetPlan({
        library: lib,
        stateDir: r.stateDir,
        agent,
        target,
        scope: r.scope,
        ...(r.root ? { root: r.root } : {}),
      });
      const mask = literalSecretValues(lib);
      const entries = plan.entries.map((e) => {
        const base = { path: e.path, action: e.action, ...(e.reason ? { reason: e.reason } : {}) };
        if (e.secret) return { ...base, hidden: "This file holds secret values: its text is not shown." };
        if (e.action === "unchanged" || (e.before === undefined && e.after === undefined)) return base;
        const patch = createTwoFilesPatch(e.path, e.path, e.before ?? "", e.after ?? "", "on disk", "from the library", { context: 3 });
        return { ...base, patch: maskValues(patch, mask) };
      });
      const errs = plan.errors.length ? h`<div class="error" role="alert"><ul>${plan.errors.map((d) => h`<li>${d.message}</li>`)}</ul></div>` : "";
      const where = h`<p>On disk under <code>${r.folder}</code>${roots.length > 1 ? ` (root R${i + 1})` : ""}, written by ${r.by.join(", ")}.</p>`;
      return sendPage(c, page(layout(c, `${agent} in ${target}`, { current: "libraries" }), h`${errs}${diffBody(info.name, agent, target, entries, where)}`));
    }),
  );

  return { sessions };
}
