// MCP servers inside Q CLI / Kiro CLI agent JSON (`mcpServers`): the universal server shape to the
// tools' `command/args/env/timeout/disabled` (stdio) and `type/url/headers/oauth...` (http), and back.
import { hasEnvRef, isRemote, translateEnvRefs, unsupported } from "../common.ts";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import type { McpServer } from "../../library/schema.ts";
import type { AgentDialect } from "./dialect.ts";

export type RenderedServers = {
  servers: Record<string, Record<string, unknown>>;
  /** `@server/tool` entries from autoApprove, for `allowedTools`. */
  trusted: string[];
  /** True when some env or header value is literal text (it may be a secret). */
  secret: boolean;
  warnings: Diagnostic[];
};

const DEFAULT_REF = /\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}/;

/**
 * Environment variables. The universal `${VAR}` is written in the tool's own syntax in `env` and
 * `headers` (Q: `${env:VAR}`; Kiro: `${VAR}`). Neither tool substitutes variables in `args` or
 * `url`, and older Q releases not in `command` either: such a server is left out of the file with a
 * warning, because starting it with the literal text `${VAR}` would run it with wrong arguments.
 * A `${VAR:-default}` keeps the variable but loses the default (warned). Literal values are written
 * as they are and mark the file as secret so plans and logs never show its content.
 */
export function mapMcpServers(agent: ResolvedAgent, d: AgentDialect): RenderedServers {
  const servers: Record<string, Record<string, unknown>> = {};
  const trusted: string[] = [];
  const warnings: Diagnostic[] = [];
  let secret = false;
  const warn = (feature: string, hint: string) => warnings.push(unsupported(d.displayName, agent, feature, hint));

  for (const name of Object.keys(agent.mcpServers).sort()) {
    const s: McpServer = agent.mcpServers[name]!;
    if (s.type === "sse") {
      warn(`the SSE MCP server '${name}'`, `${d.displayName} speaks stdio and streamable HTTP only; use the server's streamable-HTTP endpoint with type: http`);
      continue;
    }
    const remote = isRemote(s);
    const unexpandable: string[] = [];
    if (s.command !== undefined && hasEnvRef(s.command)) unexpandable.push("command");
    (s.args ?? []).forEach((a, i) => {
      if (hasEnvRef(a)) unexpandable.push(`args[${i}]`);
    });
    if (s.url !== undefined && hasEnvRef(s.url)) unexpandable.push("url");
    if (unexpandable.length) {
      warn(
        `\${VAR} references in ${unexpandable.join(", ")} of MCP server '${name}'`,
        `${d.displayName} substitutes variables only in env and headers; the server is left out rather than started with the literal text. Move the value into env`,
      );
      continue;
    }

    const translate = (rec: Record<string, string> | undefined, where: string): Record<string, string> | undefined => {
      if (!rec) return undefined;
      const out: Record<string, string> = {};
      for (const key of Object.keys(rec).sort()) {
        const v = rec[key]!;
        if (v.length > 0 && !hasEnvRef(v)) secret = true;
        if (DEFAULT_REF.test(v))
          warn(
            `a default value in ${where}.${key} of MCP server '${name}'`,
            `${d.displayName} has no \${VAR:-default} syntax; the variable is written without its default`,
          );
        out[key] = translateEnvRefs(v, d.envSyntax) ?? v;
      }
      return out;
    };

    const out: Record<string, unknown> = {};
    if (remote) {
      out.type = "http";
      out.url = s.url;
      // The published agent-v1.json marks `command` required and Q releases before HTTP support
      // (< 1.15) fail to load the whole agent without it; 1.15+ ignore it for http servers.
      if (d.target === "q-cli") out.command = "";
      const headers = translate(s.headers, "headers");
      if (headers) out.headers = headers;
      const env = translate(s.env, "env");
      if (env) out.env = env;
      if (s.oauth?.scopes) out.oauthScopes = s.oauth.scopes;
      if (s.oauth?.redirectUri !== undefined) out.oauth = { redirectUri: s.oauth.redirectUri };
      if (s.args?.length) warn(`args on the HTTP MCP server '${name}'`, "an HTTP server takes no arguments");
    } else {
      out.command = s.command;
      if (s.args) out.args = s.args;
      const env = translate(s.env, "env");
      if (env) out.env = env;
      if (s.headers && Object.keys(s.headers).length) warn(`headers on the stdio MCP server '${name}'`, "headers apply to HTTP servers only");
      if (s.oauth) warn(`oauth on the stdio MCP server '${name}'`, "oauth applies to HTTP servers only");
    }
    if (s.timeout !== undefined) out.timeout = s.timeout;
    if (s.disabled !== undefined) out.disabled = s.disabled;
    if (s.cwd !== undefined)
      warn(`cwd of MCP server '${name}'`, `${d.displayName} starts servers in the chat's working folder; wrap the command in a script that changes folder`);
    if (s.includeTools?.length || s.excludeTools?.length)
      warn(`includeTools/excludeTools of MCP server '${name}'`, `list the wanted @${name}/<tool> entries in tools.allow instead`);
    for (const tool of s.autoApprove ?? []) trusted.push(`@${name}/${tool}`);
    servers[name] = out;
  }
  return { servers, trusted, secret, warnings };
}

const ENV_COLON = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Native `${env:VAR}` (both tools) back to the universal `${VAR}`. */
function envBack(v: string): string {
  return v.replace(ENV_COLON, (_m, n: string) => `\${${n}}`);
}

const STR_RECORD = (v: unknown): v is Record<string, string> =>
  !!v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");

/** One native server back to the universal shape; unknown or malformed fields land in `dropped`. */
export function serverBack(raw: unknown): { server?: McpServer; dropped: string[] } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { dropped: ["(not an object)"] };
  const r = raw as Record<string, unknown>;
  const dropped: string[] = [];
  const s: McpServer = {};
  const url = typeof r.url === "string" && r.url.length > 0 ? r.url : undefined;
  const remote = r.type === "http" || (url !== undefined && !(typeof r.command === "string" && r.command.length > 0));
  if (remote) {
    s.type = "http";
    if (url) s.url = url;
    if (STR_RECORD(r.headers)) {
      s.headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, envBack(v)]));
    } else if (r.headers !== undefined) dropped.push("headers");
    const scopes = r.oauthScopes;
    const redirect = r.oauth && typeof r.oauth === "object" ? (r.oauth as Record<string, unknown>).redirectUri : undefined;
    if (Array.isArray(scopes) && scopes.every((x) => typeof x === "string")) s.oauth = { scopes: scopes as string[] };
    else if (scopes !== undefined) dropped.push("oauthScopes");
    if (typeof redirect === "string") s.oauth = { ...(s.oauth ?? {}), redirectUri: redirect };
    else if (r.oauth !== undefined) dropped.push("oauth");
  } else {
    if (typeof r.command === "string" && r.command.length > 0) s.command = r.command;
    else dropped.push("command");
    if (Array.isArray(r.args) && r.args.every((x) => typeof x === "string")) s.args = r.args as string[];
    else if (r.args !== undefined) dropped.push("args");
  }
  if (STR_RECORD(r.env)) {
    s.env = Object.fromEntries(Object.entries(r.env).map(([k, v]) => [k, envBack(v)]));
  } else if (r.env !== undefined && r.env !== null) dropped.push("env");
  if (typeof r.timeout === "number" && Number.isInteger(r.timeout) && r.timeout > 0) s.timeout = r.timeout;
  else if (r.timeout !== undefined) dropped.push("timeout");
  if (typeof r.disabled === "boolean") s.disabled = r.disabled;
  else if (r.disabled !== undefined) dropped.push("disabled");
  if (Array.isArray(r.autoApprove) && r.autoApprove.every((x) => typeof x === "string")) s.autoApprove = r.autoApprove as string[];
  else if (r.autoApprove !== undefined) dropped.push("autoApprove");
  const known = new Set(["type", "url", "headers", "oauthScopes", "oauth", "command", "args", "env", "timeout", "disabled", "autoApprove"]);
  for (const k of Object.keys(r)) if (!known.has(k)) dropped.push(k);
  // A Q http entry carries `command: ""` only for the schema.
  if (remote && typeof r.command === "string" && r.command.length > 0) dropped.push("command");
  if (!remote && s.command === undefined) return { dropped };
  if (remote && s.url === undefined) return { dropped: [...dropped, "url"] };
  return { server: s, dropped };
}
