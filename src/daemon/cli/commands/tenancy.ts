// `aicfg org|role|binding …`: organizations with their quotas, custom roles and role bindings, in
// the state folder's tenancy store (what the daemon reads on every request, so a change applies to
// the next request). Every change is a row in the org's hash-chained audit log, with the login name.
import { AicfgError, ConfigError } from "../../../library/diagnostics.ts";
import { tokenOrg } from "../../auth/principal.ts";
import { ACTIONS, Action, BUILTIN_ROLE_NAMES, BUILTIN_ROLES, DEFAULT_ORG, orgPath, orgResource } from "../../tenancy/policy.ts";
import type { Quotas } from "../../tenancy/types.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type OptionSpec, type ParsedArgs } from "../command.ts";
import { STATE_OPTION, listOption } from "../options.ts";
import { CONFIG_TENANCY_OPTION, openCliTenancyStores, type CliTenancyStores } from "../store-option.ts";
import { cliActor } from "./token.ts";

const ORG_OPTION = {
  org: { type: "string", valueName: "org", description: `the org (default: ${DEFAULT_ORG})` },
} satisfies Record<string, OptionSpec>;
const QUOTA_OPTIONS = {
  "runs-per-hour": { type: "string", valueName: "n", description: "runs the org may start per hour, by any trigger" },
  "requests-per-minute": { type: "string", valueName: "n", description: "API requests per minute for all of the org's callers" },
} satisfies Record<string, OptionSpec>;

/** Runs one command on the tenancy stores: the state folder's files, or with --config the PostgreSQL store the replicas share. */
async function withStores<T>(args: ParsedArgs, io: CliIO, fn: (st: CliTenancyStores) => Promise<T>): Promise<T> {
  const st = await openCliTenancyStores(args, io);
  try {
    return await fn(st);
  } finally {
    await st.close();
  }
}

async function record(st: CliTenancyStores, io: CliIO, org: string, action: string, resource: string, details?: Record<string, string>): Promise<void> {
  await st.audit.append(org, {
    actor: { kind: "cli", id: cliActor(io).slice(4) },
    action,
    resource,
    decision: "allow",
    ruleId: "cli:state-dir",
    ...(details ? { details } : {}),
  });
}

function one(args: ParsedArgs, what: string, example: string): string {
  const v = args.positionals[0];
  if (!v || args.positionals.length > 1) throw new ConfigError("usage", `give exactly one ${what}`, { hint: `e.g. ${example}` });
  return v;
}

function orgOf(args: ParsedArgs): string {
  return typeof args.values.org === "string" ? args.values.org : DEFAULT_ORG;
}

function quotasOf(args: ParsedArgs): Partial<Quotas> {
  const out: Partial<Quotas> = {};
  for (const [flag, key] of [
    ["runs-per-hour", "runsPerHour"],
    ["requests-per-minute", "requestsPerMinute"],
  ] as const) {
    const v = args.values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigError("usage", `--${flag} must be a whole number ≥ 1 (got ${JSON.stringify(v)})`, { hint: `e.g. --${flag} 600` });
    out[key] = n;
  }
  return out;
}

function notFound(what: string, hint: string): AicfgError {
  return new AicfgError("not-found", what, { hint });
}

export const orgListCommand: Command = {
  name: "org list",
  summary: "list organizations with their quotas",
  usage: "aicfg org list [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg org list", "aicfg org list --json"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const orgs = await st.tenancy.listOrgs();
      if (args.values.json) io.out(JSON.stringify({ orgs }, null, 2));
      else for (const o of orgs) io.out(`${o.id}  ${o.name}  runs/h ${o.quotas.runsPerHour}  requests/min ${o.quotas.requestsPerMinute}`);
      return EXIT.ok;
    }),
};

export const orgCreateCommand: Command = {
  name: "org create",
  summary: "create an organization (a tenant: its own tokens, roles, bindings, users and audit log)",
  usage: "aicfg org create <id> [--name TEXT] [--runs-per-hour N] [--requests-per-minute N] [--state-dir DIR | --config daemon.yaml] [--json]",
  description: "Then give it an admin: aicfg token create --org <id> --role admin (or bind an OIDC group with 'aicfg binding create').",
  options: {
    name: { type: "string", valueName: "text", description: "a display name" },
    ...QUOTA_OPTIONS,
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg org create acme --name 'Acme Corp'", "aicfg org create platform --runs-per-hour 100 --requests-per-minute 600"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const id = one(args, "org id", "aicfg org create acme");
      const rec = await st.tenancy.createOrg(id, {
        ...(typeof args.values.name === "string" ? { name: args.values.name } : {}),
        quotas: quotasOf(args),
      });
      await record(st, io, id, "org.create", orgPath(id));
      if (args.values.json) io.out(JSON.stringify({ org: rec }, null, 2));
      else
        io.out(
          `created org ${id} (runs/h ${rec.quotas.runsPerHour}, requests/min ${rec.quotas.requestsPerMinute}); next: aicfg token create --org ${id} --role admin`,
        );
      return EXIT.ok;
    }),
};

export const orgQuotaCommand: Command = {
  name: "org quota",
  summary: "change an organization's quotas",
  usage: "aicfg org quota <id> [--runs-per-hour N] [--requests-per-minute N] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...QUOTA_OPTIONS, ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg org quota acme --runs-per-hour 1000"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const id = one(args, "org id", "aicfg org quota acme --runs-per-hour 1000");
      const q = quotasOf(args);
      if (!Object.keys(q).length)
        throw new ConfigError("usage", "give --runs-per-hour or --requests-per-minute", { hint: "e.g. aicfg org quota acme --runs-per-hour 1000" });
      const rec = await st.tenancy.updateQuotas(id, q);
      await record(st, io, id, "org.quota", orgPath(id), Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])));
      if (args.values.json) io.out(JSON.stringify({ org: rec }, null, 2));
      else io.out(`org ${id}: runs/h ${rec.quotas.runsPerHour}, requests/min ${rec.quotas.requestsPerMinute}`);
      return EXIT.ok;
    }),
};

export const orgDeleteCommand: Command = {
  name: "org delete",
  summary: "delete an organization with its roles, bindings, users and tokens (its audit log stays)",
  usage: "aicfg org delete <id> [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg org delete acme"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const id = one(args, "org id", "aicfg org delete acme");
      const { tenancy } = st;
      if (!(await tenancy.deleteOrg(id))) throw notFound(`org ${id} not found`, "see the orgs with 'aicfg org list'");
      const revoked = (await st.tokens.list()).filter((t) => tokenOrg(t) === id);
      for (const t of revoked) await st.tokens.revoke(t.id);
      await record(st, io, id, "org.delete", orgPath(id), { tokensRevoked: String(revoked.length) });
      if (args.values.json) io.out(JSON.stringify({ ok: true, id, tokensRevoked: revoked.length }));
      else io.out(`deleted org ${id} (${revoked.length} token(s) revoked)`);
      return EXIT.ok;
    }),
};

export const roleListCommand: Command = {
  name: "role list",
  summary: "list the built-in and custom roles of an org with their actions",
  usage: "aicfg role list [--org ORG] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...ORG_OPTION, ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg role list --org acme", "aicfg role list --json"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const org = orgOf(args);
      const { tenancy } = st;
      if (!(await tenancy.getOrg(org))) throw notFound(`org ${org} not found`, "see the orgs with 'aicfg org list'");
      const roles = [
        ...BUILTIN_ROLE_NAMES.map((name) => ({ name, actions: [...BUILTIN_ROLES[name]], builtin: true })),
        ...(await tenancy.listRoles(org)).map((r) => ({ ...r, builtin: false })),
      ];
      if (args.values.json) io.out(JSON.stringify({ org, roles }, null, 2));
      else for (const r of roles) io.out(`${r.name.padEnd(16)} ${r.builtin ? "built-in" : "custom  "}  ${r.actions.join(", ")}`);
      return EXIT.ok;
    }),
};

export const roleCreateCommand: Command = {
  name: "role create",
  summary: "create a custom role: a named set of actions",
  usage: "aicfg role create <name> --actions A,B [--org ORG] [--description TEXT] [--state-dir DIR | --config daemon.yaml] [--json]",
  description: `Actions: ${ACTIONS.join(", ")}.`,
  options: {
    actions: { type: "string", multiple: true, valueName: "list", description: "comma-separated actions" },
    description: { type: "string", valueName: "text", description: "what the role is for" },
    ...ORG_OPTION,
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg role create runner --org acme --actions view,list,run,cancel", "aicfg role create auditor --actions view-audit,view"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const name = one(args, "role name", "aicfg role create runner --actions view,run");
      const org = orgOf(args);
      const actions = listOption(args.values.actions) ?? [];
      const bad = actions.filter((a) => !Action.safeParse(a).success);
      if (!actions.length || bad.length)
        throw new ConfigError("usage", bad.length ? `unknown action(s): ${bad.join(", ")}` : "give --actions", { hint: `actions: ${ACTIONS.join(", ")}` });
      const role = await st.tenancy.createRole(org, {
        name,
        actions: actions as Action[],
        ...(typeof args.values.description === "string" ? { description: args.values.description } : {}),
      });
      await record(st, io, org, "role.create", `${orgResource(org, "roles")}/${name}`, { actions: role.actions.join(",") });
      if (args.values.json) io.out(JSON.stringify({ org, role }, null, 2));
      else io.out(`created role ${name} in org ${org}: ${role.actions.join(", ")}`);
      return EXIT.ok;
    }),
};

export const roleDeleteCommand: Command = {
  name: "role delete",
  summary: "delete a custom role that no binding uses",
  usage: "aicfg role delete <name> [--org ORG] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...ORG_OPTION, ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg role delete runner --org acme"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const name = one(args, "role name", "aicfg role delete runner");
      const org = orgOf(args);
      if (!(await st.tenancy.deleteRole(org, name)))
        throw notFound(`role ${name} not found in org ${org}`, `see the roles with 'aicfg role list --org ${org}'`);
      await record(st, io, org, "role.delete", `${orgResource(org, "roles")}/${name}`);
      if (args.values.json) io.out(JSON.stringify({ ok: true, org, name }));
      else io.out(`deleted role ${name} of org ${org}`);
      return EXIT.ok;
    }),
};

export const bindingListCommand: Command = {
  name: "binding list",
  summary: "list the role bindings of an org",
  usage: "aicfg binding list [--org ORG] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...ORG_OPTION, ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg binding list --org acme", "aicfg binding list --json"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const org = orgOf(args);
      const { tenancy } = st;
      if (!(await tenancy.getOrg(org))) throw notFound(`org ${org} not found`, "see the orgs with 'aicfg org list'");
      const bindings = await tenancy.listBindings(org);
      if (args.values.json) io.out(JSON.stringify({ org, bindings }, null, 2));
      else if (!bindings.length) io.out(`no bindings in org ${org} (add one with 'aicfg binding create --org ${org} --subject … --role viewer')`);
      else for (const b of bindings) io.out(`${b.id}  ${b.role.padEnd(10)} ${b.scope}  ${b.subject}`);
      return EXIT.ok;
    }),
};

export const bindingCreateCommand: Command = {
  name: "binding create",
  summary: "grant a role to a token, an OIDC user or an OIDC group at a scope (inherited below it)",
  usage: "aicfg binding create --subject SUBJECT --role ROLE [--scope PATH] [--org ORG] [--state-dir DIR | --config daemon.yaml] [--json]",
  description:
    "SUBJECT is token:<id>, user:<issuer>|<subject> or group:<issuer>|<group>. PATH is org/<org> (default), org/<org>/lib/<library> or org/<org>/lib/<library>/workflows/<workflow>; it must be inside --org.",
  options: {
    subject: { type: "string", valueName: "subject", description: "who gets the role" },
    role: { type: "string", valueName: "role", description: "viewer, editor, admin or a custom role" },
    scope: { type: "string", valueName: "path", description: "where it applies (default: the whole org)" },
    ...ORG_OPTION,
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: [
    "aicfg binding create --org acme --subject 'group:https://idp.acme.com|platform' --role editor --scope org/acme/lib/platform",
    "aicfg binding create --org acme --subject token:tok_0123456789ab --role runner --scope org/acme/lib/platform/workflows/nightly",
  ],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const org = orgOf(args);
      const subject = args.values.subject;
      const role = args.values.role;
      if (typeof subject !== "string" || typeof role !== "string")
        throw new ConfigError("usage", "give --subject and --role", {
          hint: `e.g. aicfg binding create --org ${org} --subject token:tok_0123456789ab --role viewer`,
        });
      const scope = typeof args.values.scope === "string" ? args.values.scope : orgPath(org);
      const b = await st.tenancy.createBinding(org, { subject, role, scope });
      await record(st, io, org, "binding.create", `${orgResource(org, "bindings")}/${b.id}`, { role, scope });
      if (args.values.json) io.out(JSON.stringify({ org, binding: b }, null, 2));
      else io.out(`${b.id}: ${subject} is ${role} at ${scope}`);
      return EXIT.ok;
    }),
};

export const bindingDeleteCommand: Command = {
  name: "binding delete",
  summary: "remove a role binding by its id",
  usage: "aicfg binding delete <id> [--org ORG] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...ORG_OPTION, ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg binding delete bnd_0123456789abcdef --org acme"],
  run: (args, io) =>
    withStores(args, io, async (st) => {
      const id = one(args, "binding id", "aicfg binding delete bnd_0123456789abcdef");
      const org = orgOf(args);
      if (!(await st.tenancy.deleteBinding(org, id)))
        throw notFound(`binding ${id} not found in org ${org}`, `see the bindings with 'aicfg binding list --org ${org}'`);
      await record(st, io, org, "binding.delete", `${orgResource(org, "bindings")}/${id}`);
      if (args.values.json) io.out(JSON.stringify({ ok: true, org, id }));
      else io.out(`deleted binding ${id} of org ${org}`);
      return EXIT.ok;
    }),
};
