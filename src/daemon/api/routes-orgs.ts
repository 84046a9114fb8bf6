// /v1/orgs: organizations (server admin), and per org its custom roles, role bindings, users, API
// tokens and hash-chained audit log (the org's admins; viewers may read the roles). Another org's
// names and ids answer 404, never 403: a caller cannot learn what exists outside its org.
import type { z } from "zod";
import { tokenOrg } from "../auth/principal.ts";
import { parseExpiry, tokenView } from "../auth/token-store.ts";
import { verifyChain } from "../tenancy/audit-chain.ts";
import { BUILTIN_ROLES, BUILTIN_ROLE_NAMES, orgPath, orgResource } from "../tenancy/policy.ts";
import { ApiError } from "./errors.ts";
import { requireInOrg, requireServerAdmin, sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import {
  AuditPage,
  AuditQuery,
  AuditVerifyView,
  BindingCreateRequest,
  BindingList,
  BindingParams,
  ErrorBody,
  OrgCreateRequest,
  OrgList,
  OrgParams,
  OrgTokenParams,
  OrgView,
  QuotaRequest,
  RoleCreateRequest,
  RoleList,
  RoleParams,
  TokenCreated,
  TokenCreateRequest,
  TokenList,
  UserList,
  WhoAmI,
} from "./schemas.ts";

const notFound = { description: "no such org or resource (or not visible to this caller)", schema: ErrorBody };
const forbidden = { description: "the caller lacks the action in this org", schema: ErrorBody };

export function orgRoutes(s: RouteServices): RouteDef[] {
  const secrets = s.telemetry.secrets;
  const orgOr404 = async (c: ApiContext, org: string) => {
    const rec = await s.tenancy.getOrg(org);
    if (!rec) {
      c.set("decision", { decision: "deny", action: "view", resource: orgPath(org), ruleId: "default-deny" });
      throw new ApiError(404, "not-found", `org ${org} not found`, { hint: "list the orgs you belong to with GET /v1/orgs" });
    }
    return rec;
  };
  const target = (c: ApiContext, t: string) => c.set("auditTarget", t);
  // The org's member lists (bindings, users) and deletions (roles, bindings) share their gate: manage-members on the org's list.
  const listInOrg = <T>(o: { kind: "bindings" | "users"; summary: string; schema: z.ZodType; list: (org: string) => Promise<T[]> }): RouteDef =>
    defineRoute({
      method: "GET",
      path: `/v1/orgs/:org/${o.kind}`,
      access: "authenticated",
      tag: "orgs",
      summary: o.summary,
      params: OrgParams,
      responses: { 200: { description: o.kind, schema: o.schema }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, o.kind), `viewing ${o.kind}`);
        await orgOr404(c, params.org);
        return sendJson(secrets, 200, { items: await o.list(params.org) });
      },
    });
  const deleteInOrg = <P extends z.ZodType<{ org: string } & Record<string, unknown>>>(o: {
    kind: "roles" | "bindings";
    params: P;
    idOf: (params: z.output<P>) => string;
    noun: string;
    summary: string;
    audit: string;
    extra?: Record<number, { description: string; schema: z.ZodType }>;
    remove: (org: string, id: string) => Promise<boolean>;
  }): RouteDef =>
    defineRoute({
      method: "DELETE",
      path: `/v1/orgs/:org/${o.kind}/:${o.kind === "roles" ? "role" : "id"}`,
      access: "authenticated",
      tag: "orgs",
      summary: o.summary,
      params: o.params,
      audit: o.audit,
      responses: { 204: { description: "deleted" }, 403: forbidden, 404: notFound, ...o.extra },
      handler: async (c, { params }) => {
        const id = o.idOf(params);
        target(c, `${orgResource(params.org, o.kind)}/${id}`);
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, o.kind), `deleting ${o.kind}`);
        if (!(await o.remove(params.org, id))) throw new ApiError(404, "not-found", `${o.noun} ${id} not found`);
        return new Response(null, { status: 204 });
      },
    });

  return [
    defineRoute({
      method: "GET",
      path: "/v1/whoami",
      access: "authenticated",
      tag: "orgs",
      summary: "The verified caller: org, subjects and grants (what the dashboard shows after sign-in)",
      responses: { 200: { description: "the caller", schema: WhoAmI } },
      handler: (c) => {
        const p = c.get("principal")!;
        return sendJson(secrets, 200, {
          kind: p.kind,
          actor: p.actor,
          org: p.org,
          serverAdmin: p.serverAdmin,
          subjects: p.subjects,
          grants: p.grants.map((g) => ({ scope: g.scope, actions: [...g.actions], ruleId: g.ruleId })),
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs",
      access: "authenticated",
      tag: "orgs",
      summary: "Orgs the caller belongs to (every org for the server admin)",
      responses: { 200: { description: "orgs", schema: OrgList } },
      handler: async (c) => {
        const p = c.get("principal")!;
        const all = await s.tenancy.listOrgs();
        return sendJson(secrets, 200, { items: p.serverAdmin ? all : all.filter((o) => o.id === p.org && p.grants.length > 0) });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/orgs",
      access: "authenticated",
      tag: "orgs",
      summary: "Create an org (server admin)",
      body: OrgCreateRequest,
      audit: "org.create",
      responses: { 201: { description: "created", schema: OrgView }, 403: forbidden, 409: { description: "exists already", schema: ErrorBody } },
      handler: async (c, { body }) => {
        target(c, orgPath(body.id));
        requireServerAdmin(c, "orgs are created by the server admin");
        const rec = await s.tenancy.createOrg(body.id, { ...(body.name ? { name: body.name } : {}), ...(body.quotas ? { quotas: body.quotas } : {}) });
        return sendJson(secrets, 201, rec, { location: `/v1/orgs/${rec.id}` });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs/:org",
      access: "authenticated",
      tag: "orgs",
      summary: "One org with its quotas",
      params: OrgParams,
      responses: { 200: { description: "the org", schema: OrgView }, 404: notFound },
      handler: async (c, { params }) => {
        requireInOrg(c, params.org, "member", orgPath(params.org), "viewing the org");
        return sendJson(secrets, 200, await orgOr404(c, params.org));
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/orgs/:org",
      access: "authenticated",
      tag: "orgs",
      summary: "Delete an org with its roles, bindings and users (server admin; its audit rows stay)",
      params: OrgParams,
      audit: "org.delete",
      responses: { 204: { description: "deleted" }, 403: forbidden, 404: notFound, 409: { description: "the default org", schema: ErrorBody } },
      handler: async (c, { params }) => {
        target(c, orgPath(params.org));
        requireServerAdmin(c, "orgs are deleted by the server admin");
        await orgOr404(c, params.org);
        // The store refuses the default org (409) before any of its tokens is touched.
        await s.tenancy.deleteOrg(params.org);
        for (const t of (await s.tokens.list()).filter((t) => tokenOrg(t) === params.org)) await s.tokens.revoke(t.id);
        return new Response(null, { status: 204 });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/orgs/:org/quotas",
      access: "authenticated",
      tag: "orgs",
      summary: "Change an org's quotas (server admin)",
      params: OrgParams,
      body: QuotaRequest,
      audit: "org.quota",
      responses: { 200: { description: "the org", schema: OrgView }, 403: forbidden, 404: notFound },
      handler: async (c, { params, body }) => {
        target(c, orgPath(params.org));
        requireServerAdmin(c, "quotas are set by the server admin");
        await orgOr404(c, params.org);
        return sendJson(secrets, 200, await s.tenancy.updateQuotas(params.org, body));
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs/:org/roles",
      access: "authenticated",
      tag: "orgs",
      summary: "Built-in and custom roles of an org with their actions",
      params: OrgParams,
      responses: { 200: { description: "roles", schema: RoleList }, 404: notFound },
      handler: async (c, { params }) => {
        requireInOrg(c, params.org, "view", orgResource(params.org, "roles"), "viewing roles");
        await orgOr404(c, params.org);
        const custom = await s.tenancy.listRoles(params.org);
        return sendJson(secrets, 200, {
          items: [
            ...BUILTIN_ROLE_NAMES.map((name) => ({ name, actions: [...BUILTIN_ROLES[name]], builtin: true })),
            ...custom.map((r) => ({ ...r, builtin: false })),
          ],
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/orgs/:org/roles",
      access: "authenticated",
      tag: "orgs",
      summary: "Create a custom role (a named set of actions)",
      params: OrgParams,
      body: RoleCreateRequest,
      audit: "role.create",
      responses: {
        201: { description: "created", schema: RoleList.shape.items.element },
        403: forbidden,
        404: notFound,
        409: { description: "exists", schema: ErrorBody },
      },
      handler: async (c, { params, body }) => {
        target(c, `${orgResource(params.org, "roles")}/${body.name}`);
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, "roles"), "creating roles");
        await orgOr404(c, params.org);
        return sendJson(secrets, 201, { ...(await s.tenancy.createRole(params.org, body)), builtin: false });
      },
    }),
    deleteInOrg({
      kind: "roles",
      params: RoleParams,
      idOf: (p) => p.role,
      noun: "role",
      summary: "Delete a custom role no binding uses",
      audit: "role.delete",
      extra: { 409: { description: "still bound", schema: ErrorBody } },
      remove: (org, id) => s.tenancy.deleteRole(org, id),
    }),
    listInOrg({ kind: "bindings", summary: "Role bindings of an org", schema: BindingList, list: (org) => s.tenancy.listBindings(org) }),
    defineRoute({
      method: "POST",
      path: "/v1/orgs/:org/bindings",
      access: "authenticated",
      tag: "orgs",
      summary: "Bind a role to a token, user or group at a scope inside the org (inherited below it)",
      params: OrgParams,
      body: BindingCreateRequest,
      audit: "binding.create",
      responses: {
        201: { description: "created", schema: BindingList.shape.items.element },
        403: forbidden,
        404: notFound,
        422: { description: "a scope outside the org, an unknown role or subject", schema: ErrorBody },
      },
      handler: async (c, { params, body }) => {
        target(c, orgResource(params.org, "bindings"));
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, "bindings"), "creating bindings");
        await orgOr404(c, params.org);
        const rec = await s.tenancy.createBinding(params.org, body);
        target(c, `${orgResource(params.org, "bindings")}/${rec.id}`);
        return sendJson(secrets, 201, rec);
      },
    }),
    deleteInOrg({
      kind: "bindings",
      params: BindingParams,
      idOf: (p) => p.id,
      noun: "binding",
      summary: "Delete a role binding",
      audit: "binding.delete",
      remove: (org, id) => s.tenancy.deleteBinding(org, id),
    }),
    listInOrg({ kind: "users", summary: "OIDC users seen in an org (issuer, subject, groups)", schema: UserList, list: (org) => s.tenancy.listUsers(org) }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs/:org/tokens",
      access: "authenticated",
      tag: "orgs",
      summary: "API tokens of an org (never the tokens themselves)",
      params: OrgParams,
      responses: { 200: { description: "tokens", schema: TokenList }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, "tokens"), "viewing tokens");
        await orgOr404(c, params.org);
        return sendJson(secrets, 200, {
          items: (await s.tokens.list()).filter((t) => tokenOrg(t) === params.org).map(tokenView),
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/orgs/:org/tokens",
      access: "authenticated",
      tag: "orgs",
      summary: "Create an API token of an org; the response is the only time it is shown",
      params: OrgParams,
      body: TokenCreateRequest,
      audit: "token.create",
      responses: { 201: { description: "created", schema: TokenCreated }, 403: forbidden, 404: notFound },
      handler: async (c, { params, body }) => {
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, "tokens"), "creating tokens");
        await orgOr404(c, params.org);
        const { token, record } = await s.tokens.create({
          role: body.role,
          org: params.org,
          ...(body.library ? { library: body.library } : {}),
          ...(body.expires ? { expiresAt: parseExpiry(body.expires, s.now()) } : {}),
          ...(body.name ? { name: body.name } : {}),
        });
        target(c, record.id);
        return sendJson(undefined, 201, { token, record: tokenView(record) }, { "cache-control": "no-store" });
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/v1/orgs/:org/tokens/:id",
      access: "authenticated",
      tag: "orgs",
      summary: "Revoke an API token of an org",
      params: OrgTokenParams,
      audit: "token.revoke",
      responses: { 204: { description: "revoked" }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        target(c, params.id);
        requireInOrg(c, params.org, "manage-members", orgResource(params.org, "tokens"), "revoking tokens");
        if (!(await s.tokens.list()).some((t) => t.id === params.id && tokenOrg(t) === params.org) || !(await s.tokens.revoke(params.id)))
          throw new ApiError(404, "not-found", `token ${params.id} not found`);
        return new Response(null, { status: 204 });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs/:org/audit",
      access: "authenticated",
      tag: "orgs",
      summary: "The org's audit rows after a sequence number, oldest first",
      params: OrgParams,
      query: AuditQuery,
      responses: { 200: { description: "audit rows", schema: AuditPage }, 403: forbidden, 404: notFound },
      handler: async (c, { params, query }) => {
        requireInOrg(c, params.org, "view-audit", orgResource(params.org, "audit"), "reading the audit log");
        await orgOr404(c, params.org);
        const items = await s.auditStore.list(params.org, { afterSeq: query.after, limit: query.limit + 1 });
        const more = items.length > query.limit;
        const page = more ? items.slice(0, query.limit) : items;
        return sendJson(secrets, 200, { items: page, next: more ? page[page.length - 1]!.seq : null });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/orgs/:org/audit/verify",
      access: "authenticated",
      tag: "orgs",
      summary: "Checks the org's audit hash chain",
      params: OrgParams,
      responses: { 200: { description: "the verification", schema: AuditVerifyView }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        requireInOrg(c, params.org, "view-audit", orgResource(params.org, "audit"), "verifying the audit log");
        await orgOr404(c, params.org);
        const rows = await s.auditStore.list(params.org);
        const report = verifyChain(
          rows.map((r) => JSON.stringify(r)),
          params.org,
        );
        return sendJson(secrets, 200, report);
      },
    }),
  ];
}
