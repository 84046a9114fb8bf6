// `aicfg token create|list|revoke`: API tokens in the state folder. A new token is printed once;
// only its SHA-256 digest is stored. Every change is appended to the audit log, as the API does.
import { userInfo } from "node:os";
import { ConfigError } from "../../../library/diagnostics.ts";
import { parseExpiry, Role, tokenView } from "../../auth/token-store.ts";
import { openAuditLog, type AuditEntry } from "../../telemetry/audit.ts";
import { createSecretRegistry } from "../../telemetry/redact.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION } from "../options.ts";
import { CONFIG_TENANCY_OPTION, openCliTenancyStores } from "../store-option.ts";

/** Who ran the command, for the audit log: `cli:<login name>` (the API writes `token:<id>`). */
export function cliActor(io: CliIO): string {
  let user = io.env.USER || io.env.LOGNAME || io.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return `cli:${user}`;
}

function audit(dir: string, io: CliIO, entry: Omit<AuditEntry, "actor">): void {
  const log = openAuditLog(dir, createSecretRegistry());
  try {
    log.record({ actor: cliActor(io), ...entry });
  } finally {
    log.close();
  }
}

export const tokenCreateCommand: Command = {
  name: "token create",
  summary: "create an API token (printed once) with a role and an optional library scope",
  usage:
    "aicfg token create --role viewer|editor|admin [--org ORG] [--library NAME] [--expires 90d] [--name TEXT] [--state-dir DIR | --config daemon.yaml] [--json]",
  description:
    "viewer reads; editor also triggers, cancels and re-runs; admin also manages tokens and anything that runs commands. A token with --library sees only that library. Only the token's SHA-256 digest is stored; copy the token now.",
  options: {
    role: { type: "string", valueName: "role", description: "viewer, editor or admin" },
    org: { type: "string", valueName: "org", description: "the org the token belongs to (default: the default org; see 'aicfg org list')" },
    library: { type: "string", valueName: "name", description: "limit the token to one library" },
    expires: { type: "string", valueName: "when", description: "expiry: a duration (90d, 12h, 1y) or an ISO date (default: never)" },
    name: { type: "string", valueName: "text", description: "a label shown by 'token list'" },
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: [
    "aicfg token create --role viewer --expires 90d --name grafana",
    "aicfg token create --role editor --library team-agents",
    "aicfg token create --org acme --role admin --name acme-admin",
  ],
  run: async (args, io) => {
    const role = Role.safeParse(args.values.role);
    if (!role.success)
      throw new ConfigError("usage", `--role must be viewer, editor or admin${args.values.role ? ` (got ${JSON.stringify(args.values.role)})` : ""}`, {
        hint: "e.g. aicfg token create --role viewer",
      });
    const st = await openCliTenancyStores(args, io);
    const dir = st.dir;
    const made = await (async () => {
      try {
        const org = typeof args.values.org === "string" ? args.values.org : undefined;
        if (org !== undefined && !(await st.tenancy.getOrg(org)))
          throw new ConfigError("not-found", `org ${org} not found`, { hint: `create it first with 'aicfg org create ${org}'` });
        return await st.tokens.create({
          role: role.data,
          ...(org !== undefined ? { org } : {}),
          ...(typeof args.values.library === "string" ? { library: args.values.library } : {}),
          ...(typeof args.values.expires === "string" ? { expiresAt: parseExpiry(args.values.expires) } : {}),
          ...(typeof args.values.name === "string" ? { name: args.values.name } : {}),
        });
      } finally {
        await st.close();
      }
    })();
    const { token, record } = made;
    const view = tokenView(record);
    audit(dir, io, {
      action: "token.create",
      target: record.id,
      outcome: "ok",
      details: {
        role: view.role,
        ...(view.org ? { org: view.org } : {}),
        ...(view.library ? { library: view.library } : {}),
        ...(view.expiresAt ? { expiresAt: view.expiresAt } : {}),
        ...(view.name ? { name: view.name } : {}),
      },
    });
    if (args.values.json) {
      io.out(JSON.stringify({ token, record: tokenView(record) }, null, 2));
      return EXIT.ok;
    }
    io.out(token);
    io.err(
      paint(
        io,
        "dim",
        `${record.id}: ${record.role}${record.org ? ` in org ${record.org}` : ""}${record.library ? ` of library ${record.library}` : ""}${record.expiresAt ? `, expires ${record.expiresAt}` : ", never expires"}. This is the only time the token is shown.`,
      ),
    );
    return EXIT.ok;
  },
};

export const tokenListCommand: Command = {
  name: "token list",
  summary: "list API tokens (ids, roles, scopes, expiry; never the tokens)",
  usage: "aicfg token list [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg token list", "aicfg token list --json"],
  run: async (args, io) => {
    const st = await openCliTenancyStores(args, io);
    const tokens = await Promise.resolve(st.tokens.list()).finally(() => st.close());
    if (args.values.json) {
      io.out(JSON.stringify({ tokens: tokens.map(tokenView) }, null, 2));
      return EXIT.ok;
    }
    if (!tokens.length) {
      io.out("no tokens (create one with 'aicfg token create --role viewer')");
      return EXIT.ok;
    }
    const now = Date.now();
    for (const t of tokens) {
      const expired = t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now;
      const state = t.expiresAt ? (expired ? paint(io, "red", `expired ${t.expiresAt}`) : `expires ${t.expiresAt}`) : "never expires";
      io.out(
        `${t.id}  ${t.hint}  ${t.role.padEnd(6)}  ${t.org ? `org ${t.org}  ` : ""}${t.library ?? "(all libraries)"}  ${state}${t.name ? `  ${t.name}` : ""}`,
      );
    }
    return EXIT.ok;
  },
};

export const tokenRevokeCommand: Command = {
  name: "token revoke",
  summary: "revoke an API token by its id (from 'token list')",
  usage: "aicfg token revoke <id> [--state-dir DIR | --config daemon.yaml]",
  options: { ...STATE_OPTION, ...CONFIG_TENANCY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg token revoke tok_0123456789ab"],
  run: async (args, io) => {
    const id = args.positionals[0];
    if (!id || args.positionals.length > 1) throw new ConfigError("usage", "give exactly one token id", { hint: "see the ids with 'aicfg token list'" });
    const st = await openCliTenancyStores(args, io);
    const dir = st.dir;
    const ok = await Promise.resolve(st.tokens.revoke(id)).finally(() => st.close());
    audit(dir, io, { action: "token.revoke", target: id, outcome: ok ? "ok" : "error", ...(ok ? {} : { details: { reason: "no such token" } }) });
    if (args.values.json) io.out(JSON.stringify({ ok, id }));
    else if (ok) io.out(`revoked ${id}`);
    else io.err(paint(io, "red", `error: no token with id ${id}`) + "\nhint: see the ids with 'aicfg token list'");
    return ok ? EXIT.ok : EXIT.failure;
  },
};
