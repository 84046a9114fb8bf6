// Probes, status and metrics (workflow-semantics §4.5): /livez answers while the process serves
// requests and checks nothing else; /readyz (and its alias /healthz) checks the store, the config,
// the scheduler tick, the watchers and, when an enabled workflow's git trigger is fed by GitHub
// pushes, the webhook secret, as application/health+json or, with `?verbose`, the Kubernetes-style
// `[+]name ok` text; /v1/status adds the optional features and whether anything uses them (an
// optional feature nothing uses is no readiness concern) and the caller's org's libraries and live
// runs; /metrics is Prometheus text, with an org label on per-library series and cut down to the
// caller's org for a principal of one org (org-view.ts).
import { z } from "zod";
import { VERSION } from "../version.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/metrics.ts";
import { githubWebhookSecret } from "./config.ts";
import type { ApiDeps, DaemonStatus } from "./deps.ts";
import { orgScopeOf, scopeMetrics } from "./org-view.ts";
import { canSeeLibrary, libraryOrg, sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import { HealthBody, StatusView } from "./schemas.ts";

const HEALTH_TYPE = "application/health+json";

type Check = z.infer<typeof HealthBody>["checks"] extends infer T ? (T extends Record<string, (infer C)[]> ? C : never) : never;
type Status = "pass" | "warn" | "fail";

const ProbeQuery = z.strictObject({ verbose: z.string().optional() });

function worst(statuses: Status[]): Status {
  return statuses.includes("fail") ? "fail" : statuses.includes("warn") ? "warn" : "pass";
}

function healthResponse(c: ApiContext, name: string, status: Status, checks: Record<string, Check[]> | undefined, verbose: boolean): Response {
  const code = status === "fail" ? 503 : 200;
  const headers = { "cache-control": "no-store" };
  if (verbose) {
    const lines = Object.entries(checks ?? { ping: [{ componentType: "system", status: "pass", time: "" } as Check] }).map(([k, [chk]]) => {
      const ok = chk!.status !== "fail";
      return `[${ok ? "+" : "-"}]${k} ${chk!.status === "pass" ? "ok" : chk!.status === "warn" ? "warn" : "failed"}${chk!.output ? `: ${chk!.output}` : ""}`;
    });
    lines.push(`${name} check ${status === "fail" ? "failed" : "passed"}`);
    return c.text(lines.join("\n") + "\n", code, headers);
  }
  const body = { status, version: VERSION, serviceId: "aicfg", description: `aicfg daemon ${name}`, ...(checks ? { checks } : {}) };
  return new Response(JSON.stringify(body), { status: code, headers: { ...headers, "content-type": HEALTH_TYPE } });
}

/** GitHub push webhooks: whether the secret is set, and the enabled workflows (`library/name`) whose git trigger they feed. */
type WebhookUse = { secretConfigured: boolean; usedBy: string[] };

/** The enabled workflows with a git trigger in a library checked out from GitHub: what push webhooks feed. */
async function webhookUsers(deps: ApiDeps): Promise<string[]> {
  const github = new Set(
    deps
      .libraries()
      .filter((l) => l.git)
      .map((l) => l.name),
  );
  return (await deps.listWorkflows())
    .filter((w) => w.state !== "disabled" && w.triggers.includes("git") && github.has(w.library))
    .map((w) => `${w.library}/${w.name}`);
}

function readinessChecks(status: DaemonStatus | undefined, failure: string | undefined, webhooks: WebhookUse, now: Date): Record<string, Check[]> {
  const time = now.toISOString();
  if (!status) {
    return { "daemon:status": [{ componentType: "system", status: "fail", time, output: failure ?? "status unavailable" }] };
  }
  const s = status;
  const check = (componentType: Check["componentType"], ok: boolean, output: string | undefined, extra: Partial<Check> = {}): Check[] => [
    { componentType, status: ok ? "pass" : "fail", time, ...(output ? { output } : {}), ...extra },
  ];
  const lagMs = s.scheduler.lastTickAt === undefined ? undefined : Math.max(0, now.getTime() - s.scheduler.lastTickAt);
  // Three missed intervals (and at least 30 s) before the scheduler is called stuck.
  const tickOk = lagMs !== undefined && lagMs <= Math.max(3 * s.scheduler.intervalMs, 30_000);
  const configStatus: Status = !s.config.ok ? "fail" : s.config.invalidWorkflows > 0 ? "warn" : "pass";
  return {
    "store:connection": check("datastore", s.store.ok, s.store.message),
    "config:workflows": [
      {
        componentType: "component",
        status: configStatus,
        time,
        observedValue: s.config.invalidWorkflows,
        observedUnit: "invalid workflows",
        ...(s.config.message
          ? { output: s.config.message }
          : configStatus === "warn"
            ? { output: `${s.config.invalidWorkflows} workflow(s) failed to load` }
            : {}),
      },
    ],
    "scheduler:tick": check(
      "component",
      tickOk,
      lagMs === undefined ? "the scheduler has not ticked yet" : tickOk ? undefined : `last tick ${Math.round(lagMs / 1000)}s ago`,
      {
        ...(lagMs === undefined ? {} : { observedValue: lagMs / 1000, observedUnit: "s" }),
      },
    ),
    "watcher:files": check(
      "component",
      s.watchers.ok,
      s.watchers.message,
      s.watchers.watchedPaths === undefined ? {} : { observedValue: s.watchers.watchedPaths, observedUnit: "paths" },
    ),
    // A plugin left out (bad pin, wrong apiVersion, setup threw) is a warning: the daemon runs without it.
    ...(s.plugins && (s.plugins.loaded.length || s.plugins.failed.length)
      ? {
          "plugins:load": [
            {
              componentType: "component",
              status: s.plugins.failed.length ? "warn" : "pass",
              time,
              observedValue: s.plugins.loaded.length,
              observedUnit: "plugins loaded",
              ...(s.plugins.failed.length
                ? { output: s.plugins.failed.map((f) => `${f.name} not loaded: ${f.error}${f.hint ? ` (${f.hint})` : ""}`).join("; ") }
                : {}),
            },
          ],
        }
      : {}),
    // Unused and unconfigured, webhooks are no readiness concern (/v1/status still reports them).
    ...(webhooks.secretConfigured || webhooks.usedBy.length > 0
      ? {
          "webhooks:secret": [
            {
              componentType: "component",
              status: webhooks.secretConfigured ? "pass" : "warn",
              time,
              ...(webhooks.secretConfigured
                ? {}
                : { output: `no GitHub webhook secret configured: every delivery is refused (git trigger of ${webhooks.usedBy.join(", ")})` }),
            },
          ],
        }
      : {}),
  };
}

function webhookNote(w: WebhookUse): string {
  if (w.usedBy.length === 0)
    return w.secretConfigured
      ? "configured; no enabled workflow has a git trigger fed by GitHub pushes"
      : "not configured and not used: no enabled workflow has a git trigger fed by GitHub pushes";
  return w.secretConfigured
    ? `configured; feeds ${w.usedBy.join(", ")}`
    : `not configured: pushes for ${w.usedBy.join(", ")} are refused (their git triggers still poll)`;
}

export function healthRoutes(s: RouteServices): RouteDef[] {
  const probeResponses = {
    200: { description: "ready (pass or warn)", schema: HealthBody, contentType: HEALTH_TYPE },
    503: { description: "not ready", schema: HealthBody, contentType: HEALTH_TYPE },
  };
  const evaluate = async (c: ApiContext): Promise<{ status: Status; checks: Record<string, Check[]>; webhooks: WebhookUse }> => {
    let status: DaemonStatus | undefined;
    let failure: string | undefined;
    let usedBy: string[] = [];
    try {
      status = await s.deps.status();
      usedBy = await webhookUsers(s.deps);
    } catch (e) {
      failure = s.telemetry.secrets.scrub(`status failed: ${(e as Error).message}`);
      s.telemetry.logger.error({ err: e, reqId: c.get("requestId") }, "readiness status failed");
    }
    const webhooks = { secretConfigured: githubWebhookSecret(s.config, s.env) !== undefined, usedBy };
    const checks = readinessChecks(status, failure, webhooks, s.now());
    return { status: worst(Object.values(checks).map((x) => x[0]!.status)), checks, webhooks };
  };
  const readyz = async (c: ApiContext, query: { verbose?: string | undefined }): Promise<Response> => {
    const r = await evaluate(c);
    return healthResponse(c, "readyz", r.status, r.checks, query.verbose !== undefined);
  };
  return [
    defineRoute({
      method: "GET",
      path: "/livez",
      access: "public",
      tag: "health",
      summary: "Liveness: the process answers (no dependency checks)",
      query: ProbeQuery,
      responses: { 200: { description: "alive", schema: HealthBody, contentType: HEALTH_TYPE } },
      handler: (c, { query }) => healthResponse(c, "livez", "pass", undefined, query.verbose !== undefined),
    }),
    defineRoute({
      method: "GET",
      path: "/readyz",
      access: "probe",
      tag: "health",
      summary: "Readiness: store, config, scheduler tick, watchers, and the webhook secret when a git trigger is fed by GitHub pushes",
      query: ProbeQuery,
      responses: probeResponses,
      handler: (c, { query }) => readyz(c, query),
    }),
    defineRoute({
      method: "GET",
      path: "/healthz",
      access: "probe",
      tag: "health",
      summary: "Alias of /readyz for older tooling",
      query: ProbeQuery,
      responses: probeResponses,
      handler: (c, { query }) => readyz(c, query),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/status",
      access: "viewer",
      tag: "health",
      summary: "Readiness checks plus the optional features (GitHub webhooks) and whether any workflow uses them",
      responses: { 200: { description: "status", schema: StatusView } },
      handler: async (c) => {
        const r = await evaluate(c);
        // A library-scoped token sees only its own library's workflows.
        const webhooks = { ...r.webhooks, usedBy: r.webhooks.usedBy.filter((w) => canSeeLibrary(c, w.slice(0, w.indexOf("/")))) };
        // The caller's org only (every org for the server admin): libraries, workflows, live runs, and the broken workflows among them.
        const scope = orgScopeOf(c);
        const workflows = (await s.deps.listWorkflows()).filter((w) => !scope || scope.workflow(w.library, w.name));
        const live = async (status: "running" | "queued") =>
          (await s.deps.listRuns({ status, limit: 200 })).items.filter((run) => !scope || scope.workflow(run.library, run.workflow)).length;
        const libraries = s.deps
          .libraries()
          .filter((l) => !scope || scope.library(l.name))
          .map((l) => {
            const mine = workflows.filter((w) => w.library === l.name);
            return {
              name: l.name,
              org: libraryOrg(c, l.name),
              workflows: mine.length,
              enabled: mine.filter((w) => w.state === "enabled").length,
              broken: mine.filter((w) => w.state === "broken").length,
            };
          });
        const checks = { ...r.checks };
        const config = checks["config:workflows"]?.[0];
        if (scope && config && config.status !== "fail") {
          // Another org's broken workflows are not this caller's to count.
          const broken = libraries.reduce((n, l) => n + l.broken, 0);
          const { output: _output, ...rest } = config;
          checks["config:workflows"] = [
            { ...rest, status: broken ? "warn" : "pass", observedValue: broken, ...(broken ? { output: `${broken} workflow(s) failed to load` } : {}) },
          ];
        }
        return sendJson(s.telemetry.secrets, 200, {
          status: r.status,
          version: VERSION,
          checks,
          features: { githubWebhooks: { ...webhooks, note: webhookNote(webhooks) } },
          scope: { org: scope?.org ?? null, libraries, runs: { running: await live("running"), queued: await live("queued") } },
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/metrics",
      access: "probe",
      tag: "health",
      summary: "Prometheus metrics (text exposition format 0.0.4)",
      responses: { 200: { description: "metrics", contentType: PROMETHEUS_CONTENT_TYPE } },
      handler: async (c) =>
        new Response(s.telemetry.secrets.scrub(scopeMetrics(await s.telemetry.metrics.render(), (l) => libraryOrg(c, l), orgScopeOf(c))), {
          status: 200,
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
        }),
    }),
  ];
}
