// The daemon's HTTP API as one Hono app. Every request, in order: request id and trace context;
// Host/Origin allowlist (DNS-rebinding defence, 421/403); body size cap before any handler (API
// 1 MiB, webhooks 25 MiB, chunked bodies included); a credential on /v1, an API token or an OIDC
// JWT, turned into a principal with an org and grants (failures rate-limited per credential and
// per address, never locking out a valid token; then the per-token and per-org request budgets);
// the route's gate (its action somewhere in the caller's org); validation by the
// route's zod schemas; then one access-log line, the HTTP metric, for mutating calls an audit line,
// and for mutating calls and denials a row in the org's hash-chained audit.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { z } from "zod";
import { sha256 } from "../../library/hash.ts";
import { createLimiter, type Limiter } from "../auth/rate-limit.ts";
import { createOidcVerifier } from "../auth/oidc.ts";
import { createPrincipalResolver, type PrincipalResolver } from "../auth/principal.ts";
import { openTokenStore, type FileTokenStore, type Role, type TokenStore } from "../auth/token-store.ts";
import { systemClock, type Clock } from "../clock.ts";
import { memoryRequestBudget, openFileAuditStore, openFileTenancyStore } from "../tenancy/file-store.ts";
import { canWithin, DEFAULT_ORG, orgPath, type Action } from "../tenancy/policy.ts";
import type { AuditInput, AuditStore, RequestBudget, TenancyStore } from "../tenancy/types.ts";
import { createTelemetry, type Telemetry, type TelemetryOptions } from "../telemetry/telemetry.ts";
import { parseTraceparent } from "../telemetry/tracing.ts";
import { assertWebhookSecret, githubWebhookSecret, isLoopbackAddress, type ApiConfig } from "./config.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, errorBody, errorStatus } from "./errors.ts";
import { buildOpenApi } from "./openapi.ts";
import { gateDecision, sendJson } from "./respond.ts";
import type { ApiContext, ApiEnv, Principal, RouteDef, RouteServices } from "./route.ts";
import { adminRoutes } from "./routes-admin.ts";
import { healthRoutes } from "./routes-health.ts";
import { libraryRoutes } from "./routes-library.ts";
import { orgRoutes } from "./routes-orgs.ts";
import { runRoutes } from "./routes-runs.ts";
import { isJsonContentType, webhookRoutes } from "./routes-webhooks.ts";
import { mountDashboard, type Dashboard, type DashboardOptions } from "../ui/dashboard.ts";

export type AppOptions<T extends TokenStore = TokenStore> = {
  /** Shared observability (the daemon passes its own); created from `deps.bus` when absent. */
  telemetry?: Telemetry;
  telemetryOptions?: Partial<TelemetryOptions>;
  /** The API tokens (default: the file store in the state folder; the daemon passes the PostgreSQL one in cluster mode). */
  tokens?: T;
  /** Orgs, roles, bindings and users (default: the file store in the state folder). */
  tenancy?: TenancyStore;
  /** The hash-chained audit of authorization decisions (default: the file store in the state folder). */
  auditStore?: AuditStore;
  /** The orgs' requests-per-minute counts (default: in this process; the daemon passes the PostgreSQL one in cluster mode). */
  requestBudget?: RequestBudget;
  env?: Record<string, string | undefined>;
  /** The daemon's clock: token expiry, rate-limit windows, readiness lag, cache ages, audit and metrics. */
  clock?: Clock;
  /** The web dashboard under /ui: its session store (sign-in uses `principals`, as /v1 does). */
  dashboard?: DashboardOptions;
  /**
   * The token store's database did not answer at start: `opened` resolves once it does. Meanwhile
   * the API serves (the probes say not ready, credentials cannot be checked), the bind check counts
   * `adminsPending` admin tokens (the admin-token credential, adopted once it opened), and the local
   * admin token for the CLI is made once it opened.
   */
  tokensPending?: { opened: Promise<void>; adminsPending: number };
};

export type Api<T extends TokenStore = TokenStore> = {
  app: Hono<ApiEnv>;
  routes: readonly RouteDef[];
  telemetry: Telemetry;
  tokens: T;
  dashboard: Dashboard;
  tenancy: TenancyStore;
  auditStore: AuditStore;
  /** Credential → principal, the same check /v1 uses (for the dashboard's session exchange). */
  principals: PrincipalResolver;
  /** Shuts down telemetry the API created itself. */
  close: () => Promise<void>;
};

const WEBHOOK_PREFIX = "/v1/webhooks/";
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
const AUDIT_ANONYMOUS_DENIALS_PER_MINUTE = 60;
/** The action a route's gate requires when it names only a role. */
const GATE_ACTION: Record<Role, Action> = { viewer: "view", editor: "update", admin: "manage-members" };

/** Is this Host header one we serve? Loopback names on our port, or a configured name. */
export function hostAllowed(host: string, bindings: { localPort?: number; transport?: "tcp" | "unix" }, config: ApiConfig): boolean {
  const h = host.toLowerCase();
  if (config.allowedHosts.some((a) => a.toLowerCase() === h)) return true;
  if (bindings.transport === "unix") return h === "localhost";
  const port = bindings.localPort ?? config.port;
  return LOOPBACK_NAMES.some((n) => h === `${n}:${port}` || (port === 80 && h === n));
}

function originAllowed(origin: string, bindings: { localPort?: number; transport?: "tcp" | "unix" }, config: ApiConfig): boolean {
  if (config.allowedOrigins.some((o) => o.toLowerCase() === origin.toLowerCase())) return true;
  const m = /^http:\/\/([^/]+)$/i.exec(origin);
  return !!m && hostAllowed(m[1]!, bindings, config);
}

export function createApi<T extends TokenStore = FileTokenStore>(deps: ApiDeps, config: ApiConfig, opts: AppOptions<T> = {}): Api<T> {
  const env = opts.env ?? process.env;
  assertWebhookSecret(config, env);
  const clock = opts.clock ?? systemClock;
  const now = () => new Date(clock.now());
  const ownTelemetry = !opts.telemetry;
  const telemetry = opts.telemetry ?? createTelemetry({ bus: deps.bus, stateDir: deps.stateDir, env, clock, ...opts.telemetryOptions });
  const tokens = (opts.tokens ?? openTokenStore(deps.stateDir, clock)) as T;
  const tenancy = opts.tenancy ?? openFileTenancyStore(deps.stateDir, clock);
  const auditStore = opts.auditStore ?? openFileAuditStore(deps.stateDir, clock);
  const oidc = config.oidc.issuers.length ? createOidcVerifier(config.oidc) : undefined;
  const principals = createPrincipalResolver({ tokens, tenancy, clock, ...(oidc ? { oidc } : {}) });
  const { secrets, logger, accessLogger, metrics, tracing, audit } = telemetry;
  secrets.add(githubWebhookSecret(config, env));

  const authFailures: Limiter = createLimiter({ limit: config.limits.authFailuresPerMinute, windowMs: 60_000, now: clock.now });
  const tokenRate: Limiter = createLimiter({ limit: config.limits.requestsPerMinutePerToken, windowMs: 60_000, now: clock.now });
  // Denials without a verified caller are audited up to this many per address per minute, so a
  // flood of bad credentials cannot fill the disk with audit rows (the access log still has every request).
  const anonymousDenials: Limiter = createLimiter({ limit: AUDIT_ANONYMOUS_DENIALS_PER_MINUTE, windowMs: 60_000, now: clock.now });
  // The orgs' requests-per-minute quotas: in this process, or shared by the replicas (PostgreSQL).
  const requestBudget = opts.requestBudget ?? memoryRequestBudget(clock);

  const services: RouteServices = { deps, config, telemetry, tokens, tenancy, auditStore, principals, env, now };
  let openapiDoc: unknown;
  const routes: RouteDef[] = [
    ...healthRoutes(services),
    ...adminRoutes(services, () => (openapiDoc ??= buildOpenApi(routes))),
    ...runRoutes(services),
    ...libraryRoutes(services),
    ...webhookRoutes(services),
    ...orgRoutes(services),
  ];

  const app = new Hono<ApiEnv>();

  const clientKey = (c: ApiContext): string => (c.env?.transport === "unix" ? "unix" : (c.env?.remoteAddress ?? "unknown"));
  // A request relayed by a proxy on this machine arrives from loopback but is not local: any
  // forwarding header makes it a remote client (so open-on-loopback probes need a token).
  const isLoopbackClient = (c: ApiContext): boolean =>
    !c.req.header("x-forwarded-for") &&
    !c.req.header("forwarded") &&
    !c.req.header("x-real-ip") &&
    (c.env?.transport === "unix" || isLoopbackAddress(c.env?.remoteAddress));

  /**
   * Authenticates the bearer token; throws 401, or 429 after repeated failures. Failures count
   * against the presented credential (its digest) and against the address. The credential's own
   * count locks out that credential wherever it comes from; the address count only slows invalid
   * credentials, so a valid token is never locked out by other credentials' failures (a bad token
   * in a script on the same machine must not lock out the CLI's local admin token).
   */
  const authenticate = async (c: ApiContext): Promise<Principal> => {
    const ip = `ip:${clientKey(c)}`;
    const header = c.req.header("authorization");
    if (!header)
      throw new ApiError(401, "auth-required", "this route needs an API token", {
        hint: "send 'Authorization: Bearer aicfg_…' (create one with 'aicfg token create') or an OIDC access token",
        headers: { "www-authenticate": 'Bearer realm="aicfg"' },
      });
    const m = /^Bearer +(\S+)$/i.exec(header);
    const credential = `credential:${sha256(m ? m[1]! : header).slice(0, 32)}`;
    const tooMany = (wait: number) =>
      new ApiError(429, "too-many-failures", "too many failed authentications", {
        headers: { "retry-after": String(wait) },
        hint: `retry in ${wait}s with a valid token`,
      });
    const waitCredential = authFailures.blocked(credential);
    if (waitCredential) throw tooMany(waitCredential);
    let check: Awaited<ReturnType<PrincipalResolver["resolve"]>>;
    try {
      check = m ? await principals.resolve(m[1]!) : { ok: false, status: 401, code: "invalid-token", message: "the API token is not valid" };
    } catch (e) {
      // A corrupt or unreadable token or tenancy store fails closed, without telling the caller where it is.
      logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "token store unreadable");
      throw new ApiError(503, "auth-unavailable", "tokens cannot be checked right now", { hint: "the daemon log says why" });
    }
    if (!check.ok) {
      if (check.status === 503)
        throw new ApiError(503, check.code, check.message, { hint: "retry later", headers: { "retry-after": String(check.retryAfter ?? 30) } });
      const retry = Math.max(authFailures.hit(ip), authFailures.hit(credential));
      if (retry) throw tooMany(retry);
      const expired = check.code === "token-expired";
      throw new ApiError(401, check.code, check.message, {
        hint: expired ? "create a new one with 'aicfg token create' (or sign in again)" : "check that the whole token was copied",
        headers: { "www-authenticate": `Bearer realm="aicfg", error="invalid_token"` },
      });
    }
    const principal = check.principal;
    c.set("principal", principal);
    const slow = tokenRate.hit(principal.token?.id ?? principal.actor);
    if (slow)
      throw new ApiError(429, "rate-limited", "this token made too many requests", {
        headers: { "retry-after": String(slow) },
        hint: `slow down; retry in ${slow}s`,
      });
    let orgWait: number;
    try {
      const org = await tenancy.getOrg(principal.org);
      orgWait = await requestBudget.hit(principal.org, org?.quotas.requestsPerMinute ?? 1);
    } catch (e) {
      // The shared count cannot be read (the database is down): refused, never let through uncounted.
      logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "org request quota unreadable");
      throw new ApiError(503, "quota-unavailable", "the org's request quota cannot be checked right now", {
        hint: "retry later; the daemon log says why",
        headers: { "retry-after": "5" },
      });
    }
    if (orgWait)
      throw new ApiError(429, "org-quota", `org ${principal.org} is over its quota of API requests per minute`, {
        headers: { "retry-after": String(orgWait) },
        hint: `retry in ${orgWait}s; an admin can raise it with 'aicfg org quota'`,
      });
    return principal;
  };

  /** One audit row per mutating request and per denial, in the caller's org's hash chain. */
  const auditDecision = async (c: ApiContext, status: number): Promise<void> => {
    const principal = c.get("principal");
    const d = c.get("decision");
    const route = c.get("route");
    // /v1 and the dashboard (/ui: sign-in, sign-out, run-now, cancel, and its denials) share the chain.
    const dashboard = route === "/ui" || route.startsWith("/ui/");
    if (route.startsWith(WEBHOOK_PREFIX) || !(route.startsWith("/v1/") || dashboard || status === 401 || status === 429)) return;
    const denied = d?.decision === "deny" || status === 401 || status === 403 || status === 429;
    if (!denied && !MUTATING.has(c.req.method)) return;
    if (!principal && anonymousDenials.hit(clientKey(c))) return;
    const row: AuditInput = {
      actor: principal ? { kind: principal.kind, id: principal.token?.id ?? principal.user?.id ?? principal.actor } : { kind: "anonymous", id: "anonymous" },
      action: c.get("auditAction") ?? d?.action ?? (status === 401 ? "authenticate" : `${c.req.method} ${route}`),
      resource: d?.resource ?? secrets.scrub(c.req.path).slice(0, 500),
      decision: denied ? "deny" : "allow",
      ruleId: d?.ruleId ?? (status === 401 ? "unauthenticated" : status === 429 ? "rate-limited" : "default-deny"),
      status,
      requestId: c.get("requestId"),
      ip: clientKey(c).slice(0, 100),
      details: { method: c.req.method, route },
    };
    try {
      await auditStore.append(principal?.org ?? DEFAULT_ORG, row);
    } catch (e) {
      logger.error({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "audit row not written");
    }
  };

  app.onError((err, c) => {
    const status = errorStatus(err);
    if (status >= 500)
      logger.error(
        { reqId: c.get("requestId"), err: { type: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } },
        "request failed",
      );
    return sendJson(secrets, status, errorBody(err, secrets), err instanceof ApiError ? err.headers : {});
  });
  app.notFound((c) =>
    sendJson(secrets, 404, {
      error: { code: "not-found", message: `no route ${c.req.method} ${c.req.path}`, hint: "see GET /v1/openapi.json for the routes" },
    }),
  );

  // 1. Request id, trace context, Host/Origin check; afterwards the access log, metric and audit line.
  app.use("*", async (c, next) => {
    const started = performance.now();
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("route", "unmatched");
    c.set("orgOfLibrary", (name: string) => deps.libraries().find((l) => l.name === name)?.org ?? DEFAULT_ORG);
    const parent = parseTraceparent(c.req.header("traceparent"));
    c.set("parent", parent);
    c.set("traceId", parent?.traceId);
    const bindings = c.env ?? {};
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const origin = c.req.header("origin");
    if (!hostAllowed(host, bindings, config)) {
      c.res = sendJson(secrets, 421, {
        error: {
          code: "misdirected-request",
          message: "this Host is not served here",
          hint: "use 127.0.0.1 or localhost with the daemon's port, or add the name to api.allowedHosts",
        },
      });
    } else if ((origin !== undefined && !originAllowed(origin, bindings, config)) || c.req.header("sec-fetch-site") === "cross-site") {
      c.res = sendJson(secrets, 403, {
        error: { code: "cross-origin", message: "cross-origin requests are refused", hint: "add the origin to api.allowedOrigins if it is yours" },
      });
    } else {
      await next();
    }
    c.res.headers.set("x-request-id", requestId);
    const status = c.res.status;
    const route = c.get("route");
    metrics.recordHttp(c.req.method, route, status, (performance.now() - started) / 1000);
    const principal = c.get("principal");
    // The access logger does not scrub whole lines: scrub the values a client controls here.
    const line: Record<string, unknown> = {
      reqId: secrets.scrub(requestId),
      method: c.req.method,
      route,
      path: secrets.scrub(c.req.path),
      status,
      ms: Math.round((performance.now() - started) * 100) / 100,
      remote: clientKey(c),
    };
    if (principal) line.actor = secrets.scrub(principal.actor);
    if (c.get("traceId")) line.traceId = c.get("traceId");
    if (c.get("runId")) line.runId = c.get("runId");
    accessLogger.info(line, "request");
    if (MUTATING.has(c.req.method)) {
      audit.record({
        actor: principal?.actor ?? (route.startsWith(WEBHOOK_PREFIX) ? (c.get("auditTarget") ?? "github") : "anonymous"),
        action: c.get("auditAction") ?? `${c.req.method} ${route}`,
        target: c.get("auditTarget") ?? c.req.path,
        outcome: status < 400 ? "ok" : status === 401 || status === 403 || status === 429 ? "denied" : "error",
        status,
        requestId,
        ...(c.get("runId") ? { runId: c.get("runId") } : {}),
      });
    }
    await auditDecision(c, status);
  });

  // 2. Body size cap before any handler runs (Hono's bodyLimit reads chunked bodies up to the cap).
  const tooLarge = (limit: number) => (_c: ApiContext) =>
    sendJson(secrets, 413, { error: { code: "payload-too-large", message: `the body is larger than ${limit} bytes`, hint: "send a smaller body" } });
  const apiLimit = bodyLimit({ maxSize: config.limits.apiBodyBytes, onError: tooLarge(config.limits.apiBodyBytes) });
  const hookLimit = bodyLimit({ maxSize: config.limits.webhookBodyBytes, onError: tooLarge(config.limits.webhookBodyBytes) });
  app.use("*", async (c, next) => {
    // GET and HEAD requests carry no body the app would read (fetch's Request cannot hold one).
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    if (c.req.raw.headers.has("content-length") && c.req.raw.headers.has("transfer-encoding")) {
      return sendJson(secrets, 400, { error: { code: "invalid-request", message: "Content-Length and Transfer-Encoding together are refused" } });
    }
    let reachedHandler = false;
    try {
      return await (c.req.path.startsWith(WEBHOOK_PREFIX) ? hookLimit : apiLimit)(c, async () => {
        reachedHandler = true;
        await next();
      });
    } catch (e) {
      if (reachedHandler) throw e;
      // The body stream broke while it was read (client aborted, malformed chunked encoding).
      logger.warn({ reqId: c.get("requestId"), err: { message: (e as Error).message } }, "request body could not be read");
      return sendJson(secrets, 400, { error: { code: "invalid-request", message: "the request body could not be read" } });
    }
  });

  // 3. Every /v1 route needs a valid token, on loopback too, except webhooks (signed instead).
  app.use("/v1/*", async (c, next) => {
    if (!c.req.path.startsWith(WEBHOOK_PREFIX)) await authenticate(c);
    await next();
  });

  const validate = <T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T => {
    if (!schema) return {} as T;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new ApiError(400, "invalid-request", `invalid ${where}: ${issues[0]!.path ? issues[0]!.path + ": " : ""}${issues[0]!.message}`, {
      details: { issues },
    });
  };

  for (const def of routes) {
    app.on(def.method, def.path, async (c) => {
      c.set("route", def.path);
      if (def.audit) c.set("auditAction", def.audit);
      if (def.access === "probe") {
        if (!(config.probes === "open" || (config.probes === "loopback-open" && isLoopbackClient(c)))) await authenticate(c);
        // An open probe still reads a valid credential, so /metrics answers for its org; one that fails is an anonymous scrape.
        else if (c.req.header("authorization")) await authenticate(c).catch(() => c.set("principal", undefined));
      } else if (def.access === "authenticated") {
        if (!c.get("principal")) await authenticate(c);
      } else if (def.access !== "public" && def.access !== "signature") {
        const p = c.get("principal") ?? (await authenticate(c));
        const action = def.action ?? GATE_ACTION[def.access];
        // The gate: the action somewhere in the caller's org; the handler then checks the resource itself.
        if (!gateDecision(c, action, orgPath(p.org), canWithin(p.grants, action, orgPath(p.org))))
          throw new ApiError(403, "forbidden", `${def.method} ${def.path} needs the ${action} action (the ${def.access} role has it)`, {
            hint: `ask an admin for a token with --role ${def.access}, or a role binding in your org`,
          });
      }
      const params = validate(def.params, c.req.param(), "path");
      const query = validate(def.query, c.req.query(), "query");
      let body: unknown = {};
      if (def.body) {
        if (!isJsonContentType(c.req.header("content-type"))) throw new ApiError(415, "unsupported-media-type", "the body must be application/json");
        const text = await c.req.text();
        let parsed: unknown;
        try {
          parsed = text.trim() ? JSON.parse(text) : {};
        } catch {
          throw new ApiError(400, "invalid-request", "the body is not valid JSON");
        }
        body = validate(def.body, parsed, "body");
      }
      if (!def.path.startsWith("/v1/")) return def.handler(c, { params, query, body } as never);
      const span = tracing.tracer.startSpan(
        `${def.method} ${def.path}`,
        { kind: SpanKind.SERVER, attributes: { "http.request.method": def.method, "http.route": def.path } },
        tracing.contextWithParent(c.get("parent")),
      );
      c.set("traceId", span.spanContext().traceId);
      c.set("parent", span.spanContext());
      try {
        const res = await def.handler(c, { params, query, body } as never);
        span.setAttribute("http.response.status_code", res.status);
        return res;
      } catch (e) {
        const status = errorStatus(e);
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    });
  }

  const dashboard = mountDashboard(app, services, opts.dashboard);

  return {
    app,
    routes,
    telemetry,
    tokens,
    dashboard,
    tenancy,
    auditStore,
    principals,
    close: async () => {
      if (ownTelemetry) await telemetry.shutdown();
    },
  };
}
