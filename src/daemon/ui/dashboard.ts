// The web dashboard under /ui, in the daemon's Hono app (behind its Host/Origin check, body limit,
// access log and audit): server-rendered pages, a session cookie exchanged from a credential at
// sign-in, a CSRF token on every action, the role checked on every page, action and stream, a strict
// CSP, and live updates over SSE. Data comes from the same ApiDeps the /v1 routes use.
import { assetText as asset } from "./assets.ts";
import type { Hono } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import { createTwoFilesPatch } from "diff";
import { agentTargetPlan, libraryAnalytics } from "../../adapters/analytics.ts";
import { loadLibrary } from "../../library/load.ts";
import { literalSecretValues, maskValues } from "../../library/literal-secrets.ts";
import { createLimiter } from "../auth/rate-limit.ts";
import type { Role } from "../auth/token-store.ts";
import type { DaemonEvent } from "../events.ts";
import { ApiError, errorStatus } from "../api/errors.ts";
import type { ApiContext, ApiEnv, RouteServices } from "../api/route.ts";
import type { RunDetail, WorkflowSummary } from "../api/deps.ts";
import { healthSection, matrixSection } from "./analytics-view.ts";
import { runsStrip, type Html } from "./charts.ts";
import { diffBody, errorPage, loginPage, n, page, runBody, runsTable, workflowBody, workflowList, type Layout } from "./pages.ts";
import { createSessionStore, csrfMatches, hasRole, tokenVerifier, type CredentialVerifier, type Session, type SessionStore } from "./session.ts";
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
  /** Credential -> verified principal (default: the API tokens). */
  verifier?: CredentialVerifier;
  sessions?: SessionStore;
};

export type Dashboard = { sessions: SessionStore };

type UiVars = { session: Session; cookie: string };

export function mountDashboard(app: Hono<ApiEnv>, s: RouteServices, opts: DashboardOptions = {}): Dashboard {
  const { deps, telemetry } = s;
  const secrets = telemetry.secrets;
  const nowMs = () => s.now().getTime();
  const verifier = opts.verifier ?? tokenVerifier(s.tokens);
  const sessions = opts.sessions ?? createSessionStore({ now: nowMs });
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
  const visible = (sess: Session, library: string) => sess.principal.library === undefined || sess.principal.library === library;
  const libraries = (sess: Session) =>
    deps
      .libraries()
      .filter((l) => visible(sess, l.name))
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

  /** The session of the request, or an answer: pages go to the sign-in form, actions and streams get 401. */
  const withSession =
    (route: string, need: Role, handler: (c: ApiContext, sess: Session) => Promise<Response> | Response, audit?: string) =>
    async (c: ApiContext): Promise<Response> => {
      c.set("route", route);
      if (audit) c.set("auditAction", audit);
      const cookie = getCookie(c, SESSION_COOKIE);
      const sess = sessions.get(cookie);
      if (!sess) {
        if (c.req.method === "GET" && !wantsJson(c) && route !== "/ui/events")
          return c.redirect(`/ui/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
        return fail(c, new ApiError(401, "auth-required", "sign in first", { hint: "open /ui/login" }));
      }
      ui.set(c.req.raw, { session: sess, cookie: cookie! });
      const t = sess.principal.token;
      c.set("principal", t ? { token: t, actor: sess.principal.actor } : undefined);
      try {
        if (c.req.method === "POST") {
          const form = await formOf(c);
          const presented = c.req.header("x-csrf-token") ?? (typeof form._csrf === "string" ? form._csrf : undefined);
          if (!csrfMatches(sess.csrf, presented))
            throw new ApiError(403, "csrf", "the form's CSRF token is missing or wrong", { hint: "reload the page and try again" });
        }
        if (!hasRole(sess.principal, need))
          throw new ApiError(403, "forbidden", `this needs the ${need} role`, { hint: `ask an admin for a token with --role ${need}` });
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
    if (!pre || !csrfMatches(pre, typeof form._csrf === "string" ? form._csrf : undefined)) return again(403, "The sign-in form expired. Try again.");
    // As on /v1: failures from an address slow invalid credentials only, never a valid one.
    const ip = `ip:${c.env?.remoteAddress ?? "unknown"}`;
    const credential = typeof form.credential === "string" ? form.credential : "";
    let check: Awaited<ReturnType<CredentialVerifier>>;
    try {
      check = await verifier(credential, s.now());
    } catch (e) {
      telemetry.logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "credential check failed");
      return again(503, "Credentials cannot be checked right now; the daemon log says why.");
    }
    if (!check.ok) {
      const wait = signInFailures.hit(ip);
      if (wait) return again(429, `Too many failed sign-ins; wait ${wait} s.`);
      return again(401, check.reason === "expired" ? "That token has expired." : "That token is not valid.");
    }
    const { cookie } = sessions.create(check.principal);
    c.set("principal", check.principal.token ? { token: check.principal.token, actor: check.principal.actor } : undefined);
    deleteCookie(c, LOGIN_COOKIE, { path: "/ui" });
    setCookie(c, SESSION_COOKIE, cookie, { httpOnly: true, sameSite: "Strict", path: "/ui", secure: isTls(c) });
    return c.redirect(next, 303);
  });
  app.post(
    "/ui/logout",
    withSession(
      "/ui/logout",
      "viewer",
      (c) => {
        sessions.end(ui.get(c.req.raw)!.cookie);
        deleteCookie(c, SESSION_COOKIE, { path: "/ui" });
        return c.redirect("/ui/login", 303);
      },
      "ui.logout",
    ),
  );

  const seeRun = async (sess: Session, id: string): Promise<RunDetail> => {
    if (!RUN_ID.test(id)) throw new ApiError(404, "not-found", `run ${id} not found`);
    const run = await deps.getRun(id);
    if (!run || !visible(sess, run.library)) throw new ApiError(404, "not-found", `run ${id} not found`);
    return run;
  };
  const seeLibrary = (sess: Session, library: string) => {
    const info = SLUG.test(library) && visible(sess, library) ? deps.libraries().find((l) => l.name === library) : undefined;
    if (!info) throw new ApiError(404, "not-found", `library ${library} not found`);
    return info;
  };
  /** Who may run a workflow: editors, admins when it runs commands (as POST /v1/.../runs). */
  const mayRun = (sess: Session, wf: WorkflowSummary): { allowed: boolean; why?: string } => {
    if (!hasRole(sess.principal, "editor")) return { allowed: false, why: "Your role (viewer) can read this workflow but not run it." };
    if (wf.runsCommands && !hasRole(sess.principal, "admin")) return { allowed: false, why: "This workflow runs commands: only admins can run it." };
    if (wf.state === "broken") return { allowed: false, why: "This workflow has errors and cannot run." };
    return { allowed: true };
  };

  app.get(
    "/ui",
    withSession("/ui", "viewer", async (c, sess) => {
      const now = nowMs();
      const [page1, workflows, status] = await Promise.all([deps.listRuns({ limit: 200 }), deps.listWorkflows(), deps.status()]);
      const runs = page1.items.filter((r) => visible(sess, r.library));
      const wfs = workflows.filter((w) => visible(sess, w.library));
      const counts = new Map<string, number>();
      for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const lastByWf = new Map<string, string>();
      for (const r of runs) if (!lastByWf.has(`${r.library}/${r.workflow}`) && !ACTIVE.has(r.status)) lastByWf.set(`${r.library}/${r.workflow}`, r.status);
      const failing = wfs.filter((w) => ["failure", "timed_out", "interrupted"].includes(lastByWf.get(`${w.library}/${w.name}`) ?? "") || w.state === "broken");
      const next = wfs.filter((w) => w.nextRunAt).sort((a, b) => (a.nextRunAt! < b.nextRunAt! ? -1 : 1));
      const missed = (await deps.listOccurrences({ limit: 50 })).filter((o) => visible(sess, o.library) && (o.kind === "missed" || o.kind === "skipped"));
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
    withSession("/ui/workflows/:library/:workflow", "viewer", async (c, sess) => {
      const library = param(c, "library");
      const workflow = param(c, "workflow");
      seeLibrary(sess, library);
      const wf = SLUG.test(workflow) ? await deps.getWorkflow(library, workflow) : undefined;
      if (!wf) throw new ApiError(404, "not-found", `workflow ${library}/${workflow} not found`);
      const [occ, runs] = await Promise.all([deps.listOccurrences({ library, workflow, limit: 200 }), deps.listRuns({ library, workflow, limit: 25 })]);
      const body = workflowBody(wf, occ, runsTable(runs.items, "Runs of this workflow", fmt), { ...mayRun(sess, wf), csrf: sess.csrf }, fmt);
      return sendPage(c, page(layout(c, `${library}/${workflow}`, { current: "workflows", stream: "/ui/events" }), body));
    }),
  );

  app.post(
    "/ui/workflows/:library/:workflow/run",
    withSession(
      "/ui/workflows/:library/:workflow/run",
      "editor",
      async (c, sess) => {
        const library = param(c, "library");
        const workflow = param(c, "workflow");
        c.set("auditTarget", `${library}/${workflow}`);
        seeLibrary(sess, library);
        const wf = SLUG.test(workflow) ? await deps.getWorkflow(library, workflow) : undefined;
        if (!wf) throw new ApiError(404, "not-found", `workflow ${library}/${workflow} not found`);
        const may = mayRun(sess, wf);
        if (!may.allowed) throw new ApiError(wf.state === "broken" ? 409 : 403, wf.state === "broken" ? "conflict" : "forbidden", may.why!);
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
    withSession("/ui/runs/:id", "viewer", async (c, sess) => {
      const run = await seeRun(sess, param(c, "id"));
      const logs = (await deps.getRunLogs(run.id, { after: -1, limit: 5000 })) ?? [];
      const after = logs.length ? logs[logs.length - 1]!.seq : 0;
      const body = runBody(run, logs, { allowed: hasRole(sess.principal, "editor"), csrf: sess.csrf }, fmt);
      return sendPage(c, page(layout(c, `Run ${run.id}`, { stream: `/ui/events?run=${encodeURIComponent(run.id)}&after=${after}` }), body));
    }),
  );

  app.post(
    "/ui/runs/:id/cancel",
    withSession(
      "/ui/runs/:id/cancel",
      "editor",
      async (c, sess) => {
        const run = await seeRun(sess, param(c, "id"));
        c.set("auditTarget", run.id);
        c.set("runId", run.id);
        if (!(await deps.cancelRun(run.id, sess.principal.actor))) throw new ApiError(409, "conflict", `run ${run.id} already finished (${run.status})`);
        return c.redirect(`/ui/runs/${run.id}`, 303);
      },
      "run.cancel",
    ),
  );

  // Live updates: run status changes of every visible run, and with ?run= that run's log lines (resumable with Last-Event-ID).
  app.get(
    "/ui/events",
    withSession("/ui/events", "viewer", async (c, sess) => {
      const only = c.req.query("run");
      if (only !== undefined) await seeRun(sess, only);
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
          if (!run || !visible(sess, run.library) || closed) return;
          await stream.writeSSE({ event: "run", data: secrets.scrub(JSON.stringify(run)) });
        };
        const sendLogs = async () => {
          if (!only || closed) return;
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
            if ("library" in e && !visible(sess, e.library)) return;
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
          if (!sessions.get(ui.get(c.req.raw)!.cookie)) {
            closed = true;
            void stream.close();
            return;
          }
          enqueue(() => stream.write(": ping\n\n").then(() => {}));
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
    withSession("/ui/libraries/:library/matrix", "viewer", (c, sess) => {
      const info = seeLibrary(sess, param(c, "library"));
      const a = libraryAnalytics({ library: loadLibrary(info.root), stateDir: deps.stateDir });
      const body = h`<h1>Library ${info.name}: agents × targets</h1><p>Each cell links to the diff between the library and what is on disk.</p>${matrixSection(
        a,
        (agent, target) => `/ui/libraries/${encodeURIComponent(info.name)}/diff/${encodeURIComponent(agent)}/${encodeURIComponent(target)}`,
      )}`;
      return sendPage(c, page(layout(c, `${info.name}: matrix`, { current: "libraries" }), body));
    }),
  );

  app.get(
    "/ui/libraries/:library/health",
    withSession("/ui/libraries/:library/health", "viewer", (c, sess) => {
      const info = seeLibrary(sess, param(c, "library"));
      const a = libraryAnalytics({ library: loadLibrary(info.root), stateDir: deps.stateDir });
      const body = h`<h1>Library ${info.name}: health</h1><p>${n(a.agents.length)} agents, ${n(a.knowledge.length)} knowledge files, ${n(a.targets.length)} targets; ${n(a.errors.length)} errors, ${n(a.warnings.length)} warnings.</p>${healthSection(a)}`;
      return sendPage(c, page(layout(c, `${info.name}: health`, { current: "libraries" }), body));
    }),
  );

  app.get(
    "/ui/libraries/:library/diff/:agent/:target",
    withSession("/ui/libraries/:library/diff/:agent/:target", "viewer", (c, sess) => {
      const info = seeLibrary(sess, param(c, "library"));
      const agent = param(c, "agent");
      const target = param(c, "target");
      const lib = loadLibrary(info.root);
      if (!SLUG.test(agent) || !lib.agents.has(agent)) throw new ApiError(404, "not-found", `agent ${agent} not found`);
      if (!TARGET.test(target)) throw new ApiError(404, "not-found", `target ${target} not found`);
      const plan = agentTargetPlan({ library: lib, stateDir: deps.stateDir, agent, target });
      const mask = literalSecretValues(lib);
      const entries = plan.entries.map((e) => {
        const base = { path: e.path, action: e.action, ...(e.reason ? { reason: e.reason } : {}) };
        if (e.secret) return { ...base, hidden: "This file holds secret values: its text is not shown." };
        if (e.action === "unchanged" || (e.before === undefined && e.after === undefined)) return base;
        const patch = createTwoFilesPatch(e.path, e.path, e.before ?? "", e.after ?? "", "on disk", "from the library", { context: 3 });
        return { ...base, patch: maskValues(patch, mask) };
      });
      const errs = plan.errors.length ? h`<div class="error" role="alert"><ul>${plan.errors.map((d) => h`<li>${d.message}</li>`)}</ul></div>` : "";
      return sendPage(c, page(layout(c, `${agent} in ${target}`, { current: "libraries" }), h`${errs}${diffBody(info.name, agent, target, entries)}`));
    }),
  );

  return { sessions };
}
