// /v1 admin and meta routes: API token management (the caller's org's tokens, for a principal with
// manage-members on the org), the effective API settings (server admin), and the OpenAPI document.
import { tokenOrg } from "../auth/principal.ts";
import { parseExpiry, tokenView } from "../auth/token-store.ts";
import { orgResource } from "../tenancy/policy.ts";
import { ApiError } from "./errors.ts";
import { requireAction, requireServerAdmin, sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import { githubWebhookSecret } from "./config.ts";
import { ApiSettingsView, ErrorBody, TokenCreateRequest, TokenCreated, TokenList, TokenParams } from "./schemas.ts";

/** Token management needs manage-members on the whole org (a library-scoped admin token cannot); returns the org. */
function requireUnscopedAdmin(c: ApiContext): string {
  const org = c.get("principal")!.org;
  requireAction(c, "manage-members", orgResource(org, "tokens"), "managing tokens needs an admin of the whole org (not of one library)");
  return org;
}

export function adminRoutes(s: RouteServices, openapi: () => unknown): RouteDef[] {
  const secrets = s.telemetry.secrets;
  return [
    defineRoute({
      method: "GET",
      path: "/v1/openapi.json",
      access: "viewer",
      tag: "meta",
      summary: "This API's OpenAPI 3.1 document, generated from its zod schemas",
      responses: { 200: { description: "OpenAPI document", contentType: "application/json" } },
      handler: () => sendJson(undefined, 200, openapi()),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/config",
      access: "admin",
      tag: "meta",
      summary: "The effective API settings (the webhook secret only as configured or not)",
      responses: { 200: { description: "settings", schema: ApiSettingsView }, 403: { description: "not an admin", schema: ErrorBody } },
      handler: (c) => {
        requireServerAdmin(c, "the daemon's settings are instance-wide");
        const { webhooks: _w, oidc, ...rest } = s.config;
        return sendJson(secrets, 200, {
          api: {
            ...rest,
            webhooks: { github: { secretConfigured: githubWebhookSecret(s.config, s.env) !== undefined } },
            oidc: { issuers: oidc.issuers.map((i) => ({ issuer: i.issuer, org: i.org, audience: i.audience, algorithms: i.algorithms })) },
          },
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/tokens",
      access: "admin",
      tag: "tokens",
      summary: "List API tokens (never the tokens themselves)",
      responses: { 200: { description: "tokens", schema: TokenList }, 403: { description: "not an unscoped admin", schema: ErrorBody } },
      handler: async (c) => {
        const org = requireUnscopedAdmin(c);
        return sendJson(secrets, 200, {
          items: (await s.tokens.list()).filter((t) => tokenOrg(t) === org).map(tokenView),
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/tokens",
      access: "admin",
      tag: "tokens",
      summary: "Create an API token; the response is the only time it is shown",
      body: TokenCreateRequest,
      audit: "token.create",
      responses: { 201: { description: "created", schema: TokenCreated }, 403: { description: "not an unscoped admin", schema: ErrorBody } },
      handler: async (c, { body }) => {
        const org = requireUnscopedAdmin(c);
        const { token, record } = await s.tokens.create({
          role: body.role,
          org,
          ...(body.library ? { library: body.library } : {}),
          ...(body.expires ? { expiresAt: parseExpiry(body.expires, s.now()) } : {}),
          ...(body.name ? { name: body.name } : {}),
        });
        c.set("auditTarget", record.id);
        // Not scrubbed: the new token must reach its owner once (it matches the token pattern).
        return sendJson(undefined, 201, { token, record: tokenView(record) }, { "cache-control": "no-store" });
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/tokens/:id",
      access: "admin",
      tag: "tokens",
      summary: "Revoke an API token",
      params: TokenParams,
      audit: "token.revoke",
      responses: { 204: { description: "revoked" }, 404: { description: "no such token", schema: ErrorBody } },
      handler: async (c, { params }) => {
        const org = requireUnscopedAdmin(c);
        c.set("auditTarget", params.id);
        // Another org's token id is absent here (404), like an unknown one.
        if (!(await s.tokens.list()).some((t) => t.id === params.id && tokenOrg(t) === org) || !(await s.tokens.revoke(params.id)))
          throw new ApiError(404, "not-found", `token ${params.id} not found`, { hint: "list tokens with GET /v1/tokens" });
        return new Response(null, { status: 204 });
      },
    }),
  ];
}
