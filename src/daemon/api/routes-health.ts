// Probes and metrics (workflow-semantics §4.5): /livez answers while the process serves requests
// and checks nothing else; /readyz (and its alias /healthz) checks the store, the config, the
// scheduler tick, the watchers and the webhook secret, as application/health+json or, with
// `?verbose`, the Kubernetes-style `[+]name ok` text; /metrics is Prometheus text.
import { z } from "zod";
import { VERSION } from "../version.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/metrics.ts";
import { githubWebhookSecret } from "./config.ts";
import type { DaemonStatus } from "./deps.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import { HealthBody } from "./schemas.ts";

export const HEALTH_TYPE = "application/health+json";

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

export function readinessChecks(status: DaemonStatus | undefined, failure: string | undefined, webhookSecret: boolean, now: Date): Record<string, Check[]> {
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
        ...(s.config.message ? { output: s.config.message } : configStatus === "warn" ? { output: `${s.config.invalidWorkflows} workflow(s) failed to load` } : {}),
      },
    ],
    "scheduler:tick": check("component", tickOk, lagMs === undefined ? "the scheduler has not ticked yet" : tickOk ? undefined : `last tick ${Math.round(lagMs / 1000)}s ago`, {
      ...(lagMs === undefined ? {} : { observedValue: lagMs / 1000, observedUnit: "s" }),
    }),
    "watcher:files": check("component", s.watchers.ok, s.watchers.message, s.watchers.watchedPaths === undefined ? {} : { observedValue: s.watchers.watchedPaths, observedUnit: "paths" }),
    "webhooks:secret": [
      {
        componentType: "component",
        status: webhookSecret ? "pass" : "warn",
        time,
        ...(webhookSecret ? {} : { output: "no GitHub webhook secret configured: every delivery is refused" }),
      },
    ],
  };
}

export function healthRoutes(s: RouteServices): RouteDef[] {
  const probeResponses = {
    200: { description: "ready (pass or warn)", schema: HealthBody, contentType: HEALTH_TYPE },
    503: { description: "not ready", schema: HealthBody, contentType: HEALTH_TYPE },
  };
  const readyz = async (c: ApiContext, query: { verbose?: string | undefined }): Promise<Response> => {
    let status: DaemonStatus | undefined;
    let failure: string | undefined;
    try {
      status = await s.deps.status();
    } catch (e) {
      failure = s.telemetry.secrets.scrub(`status failed: ${(e as Error).message}`);
      s.telemetry.logger.error({ err: e, reqId: c.get("requestId") }, "readiness status failed");
    }
    const checks = readinessChecks(status, failure, githubWebhookSecret(s.config, s.env) !== undefined, s.now());
    return healthResponse(c, "readyz", worst(Object.values(checks).map((x) => x[0]!.status)), checks, query.verbose !== undefined);
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
      summary: "Readiness: store, config, scheduler tick, watchers, webhook secret",
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
      path: "/metrics",
      access: "probe",
      tag: "health",
      summary: "Prometheus metrics (text exposition format 0.0.4)",
      responses: { 200: { description: "metrics", contentType: PROMETHEUS_CONTENT_TYPE } },
      handler: async () =>
        new Response(s.telemetry.secrets.scrub(await s.telemetry.metrics.render()), { status: 200, headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } }),
    }),
  ];
}
