// The authorization model (team-scale design §3.2): resources are paths
// `org/<org>/lib/<lib>/<kind>/<name>` (org-level kinds sit right under `org/<org>`), actions are
// fine-grained, roles are named action sets (built-in viewer ⊂ editor ⊂ admin, plus an org's custom
// roles), and a binding grants one role to one subject at one scope, inherited by every path below
// it. Nothing is allowed without a grant (deny by default); a scope never crosses its org.
import { z } from "zod";
import { Slug } from "../../library/schema.ts";

export const ACTIONS = [
  "view",
  "list",
  "create",
  "update",
  "delete",
  "run",
  "cancel",
  "export",
  "sync",
  "resolve-conflict",
  "run-commands",
  "manage-members",
  "read-secret-metadata",
  "view-audit",
] as const;
export const Action = z.enum(ACTIONS);
export type Action = z.infer<typeof Action>;

const VIEWER: readonly Action[] = ["view", "list"];
const EDITOR: readonly Action[] = [...VIEWER, "create", "update", "run", "cancel", "export", "sync", "resolve-conflict"];
const ADMIN: readonly Action[] = ACTIONS;

export const BUILTIN_ROLES: Readonly<Record<"viewer" | "editor" | "admin", readonly Action[]>> = { viewer: VIEWER, editor: EDITOR, admin: ADMIN };
export const BUILTIN_ROLE_NAMES = Object.keys(BUILTIN_ROLES) as ("viewer" | "editor" | "admin")[];

/** The org everything belongs to when nothing says otherwise (the single-tenant daemon's org). */
export const DEFAULT_ORG = "default";

/** Kinds of resources that belong to the org itself (library kinds sit under org/<org>/lib/<lib>/). */
const ORG_KINDS = ["roles", "bindings", "users", "tokens", "audit", "settings"] as const;

export const orgPath = (org: string): string => `org/${org}`;
export const libraryPath = (org: string, library: string): string => `org/${org}/lib/${library}`;
export const workflowPath = (org: string, library: string, workflow: string): string => `org/${org}/lib/${library}/workflows/${workflow}`;
export const orgResource = (org: string, kind: (typeof ORG_KINDS)[number]): string => `org/${org}/${kind}`;

const SEG = "[a-z0-9]+(?:[-_][a-z0-9]+)*";
/** A binding scope: a whole org, one library, or one workflow (nothing else; no wildcards). */
const SCOPE = new RegExp(`^org/(${SEG})(?:/lib/(${SEG})(?:/workflows/(${SEG}))?)?$`);

export type ScopeCheck = { ok: true } | { ok: false; message: string; hint: string };

/** Is `scope` a valid scope for a binding of `org`? A scope naming another org is refused. */
export function checkScope(org: string, scope: string): ScopeCheck {
  const m = SCOPE.exec(scope);
  if (!m)
    return {
      ok: false,
      message: `scope ${JSON.stringify(scope)} is not org/<org>, org/<org>/lib/<library> or org/<org>/lib/<library>/workflows/<workflow>`,
      hint: `e.g. org/${org} or org/${org}/lib/platform`,
    };
  if (m[1] !== org)
    return {
      ok: false,
      message: `scope ${JSON.stringify(scope)} is outside org ${org}`,
      hint: `a binding of org ${org} must have a scope starting with org/${org}`,
    };
  return { ok: true };
}

/** `scope` covers `resource` when they are equal or the resource is below it (segment-wise, never a prefix of a name). */
function covers(scope: string, resource: string): boolean {
  return resource === scope || resource.startsWith(scope + "/");
}

/** Subjects a binding can name: an API token, an OIDC user (issuer|subject) or an OIDC group (issuer|name). */
export const Subject = z
  .string()
  .max(600)
  .regex(/^(token:tok_[0-9a-f]{12}|user:[^|\s]+\|[^\s]+|group:[^|\s]+\|[^\s]+)$/, "must be token:<id>, user:<issuer>|<subject> or group:<issuer>|<group>");

export const RoleName = Slug;
export const CustomRole = z.strictObject({
  name: RoleName,
  actions: z.array(Action).min(1),
  description: z.string().max(200).optional(),
});
export type CustomRole = z.infer<typeof CustomRole>;

/** One permission a principal holds: these actions at this scope, because of this rule. */
export type Grant = { scope: string; actions: ReadonlySet<Action>; ruleId: string };

export type Decision = { allow: true; ruleId: string } | { allow: false; ruleId: "default-deny" };

/** The decision for one action on one resource: allowed by the first grant that covers it, else denied. */
export function can(grants: readonly Grant[], action: Action, resource: string): Decision {
  for (const g of grants) if (g.actions.has(action) && covers(g.scope, resource)) return { allow: true, ruleId: g.ruleId };
  return { allow: false, ruleId: "default-deny" };
}

/** Some grant allows `action` at or below `resource` (a route gate: is there anything this caller may do here?). */
export function canWithin(grants: readonly Grant[], action: Action, resource: string): Decision {
  for (const g of grants) if (g.actions.has(action) && (covers(g.scope, resource) || covers(resource, g.scope))) return { allow: true, ruleId: g.ruleId };
  return { allow: false, ruleId: "default-deny" };
}

/** The actions of a role name in an org: a built-in, or one of the org's custom roles (undefined when unknown). */
export function roleActions(name: string, custom: readonly CustomRole[]): readonly Action[] | undefined {
  if (name in BUILTIN_ROLES) return BUILTIN_ROLES[name as keyof typeof BUILTIN_ROLES];
  return custom.find((r) => r.name === name)?.actions;
}
