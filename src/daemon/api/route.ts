// The declarative shape of one API route: method, path, who may call it, the zod schemas of its
// inputs and outputs, and its handler. The app registers routes from these definitions, enforcing
// access and validation in one place, and the OpenAPI document is generated from the same list.
import type { Context } from "hono";
import type { SpanContext } from "@opentelemetry/api";
import type { z } from "zod";
import type { ApiConfig } from "./config.ts";
import type { ApiDeps } from "./deps.ts";
import type { Principal, PrincipalResolver } from "../auth/principal.ts";
import type { Role, TokenStore } from "../auth/token-store.ts";
import type { Action } from "../tenancy/policy.ts";
import type { AuditStore, TenancyStore } from "../tenancy/types.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";

/** Connection facts the per-runtime server passes to the app (Hono's `c.env`). */
export type ApiBindings = {
  /** The client's address; undefined is treated as not loopback (fail closed). */
  remoteAddress?: string;
  /** The local port the request arrived on (for the Host check). */
  localPort?: number;
  transport?: "tcp" | "unix";
};

export type { Principal };

/** The authorization decision a request ended with (the audit row's decision, action, resource and rule). */
type RequestDecision = { decision: "allow" | "deny"; action: string; resource: string; ruleId: string };

type ApiVariables = {
  requestId: string;
  principal: Principal | undefined;
  route: string;
  traceId: string | undefined;
  parent: SpanContext | undefined;
  auditAction: string | undefined;
  auditTarget: string | undefined;
  runId: string | undefined;
  decision: RequestDecision | undefined;
  /** The org a served library belongs to (the default org for a name the daemon does not serve). */
  orgOfLibrary: (library: string) => string;
};

export type ApiEnv = { Bindings: ApiBindings; Variables: ApiVariables };
export type ApiContext = Context<ApiEnv>;

/**
 * Who may call a route: `public` anyone (liveness only), `probe` loopback or a token depending on
 * `api.probes`, `signature` a verified webhook signature, `authenticated` any verified principal
 * (the handler decides the rest), else a principal holding the route's action somewhere in its org
 * (the role named is the built-in role that has it, shown in the OpenAPI document).
 */
type Access = "public" | "probe" | "signature" | "authenticated" | Role;

export type RouteServices = {
  deps: ApiDeps;
  config: ApiConfig;
  telemetry: Telemetry;
  tokens: TokenStore;
  tenancy: TenancyStore;
  auditStore: AuditStore;
  principals: PrincipalResolver;
  env: Record<string, string | undefined>;
  now: () => Date;
};

type AnyObject = z.ZodType<Record<string, unknown>>;

type ResponseSpec = { description: string; schema?: z.ZodType; contentType?: string };

export type RouteDef<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B extends z.ZodType = z.ZodType> = {
  method: "GET" | "POST" | "DELETE";
  /** Hono path, e.g. `/v1/runs/:id`. */
  path: string;
  access: Access;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, ResponseSpec>;
  /** The audit action of a mutating route, e.g. `run.cancel`. */
  audit?: string;
  /** The action the route's gate requires somewhere in the caller's org (default: view for viewer, update for editor, manage-members for admin). */
  action?: Action;
  handler: (c: ApiContext, input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }) => Promise<Response> | Response;
};

/** Keeps each route's handler typed by its own schemas. */
export function defineRoute<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B extends z.ZodType = z.ZodType>(
  def: RouteDef<P, Q, B>,
): RouteDef {
  return def as unknown as RouteDef;
}
