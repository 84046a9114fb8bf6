// Translates universal MCP servers to Codex `[mcp_servers.<name>]` tables and back. Codex takes
// literal values, `env_vars` (inherit a variable of the same name), `env_http_headers` (header from
// a variable) and `bearer_token_env_var`; everything else is reported, never silently dropped.
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import { McpName, McpServer } from "../../library/schema.ts";
import { hasEnvRef, isRemote, unsupported } from "../common.ts";

const TARGET = "codex";
const EXACT_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const BEARER_REF = /^Bearer \$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const CODEX_NAME = /^[A-Za-z0-9_-]+$/;

/** Codex server names must match [A-Za-z0-9_-]+; every other character becomes '-'. */
export function codexServerName(name: string): string {
  return CODEX_NAME.test(name) ? name : name.replace(/[^A-Za-z0-9_-]/g, "-");
}

export type CodexServer = {
  table: Record<string, unknown>;
  /** True when a literal env value or header is written (the file then holds secrets). */
  literal: boolean;
};

/** One universal server as a Codex table; warnings go to `warnings`. */
export function toCodexServer(name: string, s: McpServer, agent: ResolvedAgent, warnings: Diagnostic[]): CodexServer {
  const t: Record<string, unknown> = {};
  let literal = false;
  const lost = (what: string, hint: string): void => {
    warnings.push(unsupported(TARGET, agent, `${what} of MCP server '${name}'`, hint));
  };
  if (isRemote(s)) {
    t.url = s.url;
    if (s.type === "sse")
      lost("the SSE transport", "Codex speaks streamable HTTP only; the url is written as is and works only if the server also serves streamable HTTP");
    const httpHeaders: Record<string, string> = {};
    const envHeaders: Record<string, string> = {};
    for (const [h, v] of Object.entries(s.headers ?? {})) {
      const bearer = BEARER_REF.exec(v);
      const exact = EXACT_REF.exec(v);
      if (bearer && h.toLowerCase() === "authorization" && t.bearer_token_env_var === undefined) t.bearer_token_env_var = bearer[1];
      else if (exact) envHeaders[h] = exact[1]!;
      else if (!hasEnvRef(v)) {
        httpHeaders[h] = v;
        literal = true;
      } else
        lost(
          `header '${h}' (a value mixing text and \${VAR})`,
          "Codex takes a header either literally, from one variable (env_http_headers) or as 'Bearer ${VAR}' (bearer_token_env_var)",
        );
    }
    if (Object.keys(httpHeaders).length) t.http_headers = httpHeaders;
    if (Object.keys(envHeaders).length) t.env_http_headers = envHeaders;
    if (s.env && Object.keys(s.env).length) lost("env (on a remote server)", "Codex passes env only to stdio servers");
  } else {
    t.command = s.command;
    if (s.args?.length) t.args = [...s.args];
    const env: Record<string, string> = {};
    const envVars: string[] = [];
    for (const [k, v] of Object.entries(s.env ?? {})) {
      const exact = EXACT_REF.exec(v);
      if (exact && exact[1] === k) envVars.push(k);
      else if (!hasEnvRef(v)) {
        env[k] = v;
        literal = true;
      } else
        lost(
          `env.${k} (a \${VAR} reference under another name, with a default or mixed with text)`,
          `Codex cannot rename or interpolate variables; only '${k}: \${${k}}' (inherited through env_vars) or a literal value can be expressed`,
        );
    }
    if (envVars.length) t.env_vars = envVars;
    if (s.cwd !== undefined) t.cwd = s.cwd;
    if (Object.keys(env).length) t.env = env;
  }
  if (s.disabled) t.enabled = false;
  if (s.includeTools?.length) t.enabled_tools = [...s.includeTools];
  if (s.excludeTools?.length) t.disabled_tools = [...s.excludeTools];
  if (s.timeout !== undefined) t.tool_timeout_sec = s.timeout / 1000;
  if (s.autoApprove?.length) lost("autoApprove", "approve the tools in Codex itself; approval policy is not per MCP server in config.toml");
  if (s.oauth) lost("oauth settings", `run 'codex mcp login ${codexServerName(name)}' once instead`);
  return { table: t, literal };
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") return undefined;
    out[k] = x;
  }
  return out;
}

const KNOWN_KEYS = new Set([
  "command",
  "args",
  "env",
  "env_vars",
  "cwd",
  "url",
  "http_headers",
  "env_http_headers",
  "bearer_token_env_var",
  "enabled",
  "enabled_tools",
  "disabled_tools",
  "tool_timeout_sec",
  "startup_timeout_sec",
]);

/** A Codex `[mcp_servers.<name>]` table back to a universal server; undefined when unusable. */
export function fromCodexServer(name: string, table: unknown, file: string, warnings: Diagnostic[]): McpServer | undefined {
  const warn = (message: string, hint?: string): void => {
    warnings.push({ severity: "warning", code: "import-lossy", message: `codex: MCP server '${name}': ${message}`, file, ...(hint ? { hint } : {}) });
  };
  if (!McpName.safeParse(name).success) {
    warn("the name is not a valid library MCP name; skipped", "rename the table to start with a letter or digit");
    return undefined;
  }
  if (!table || typeof table !== "object" || Array.isArray(table)) {
    warn("is not a table; skipped");
    return undefined;
  }
  const t = table as Record<string, unknown>;
  const s: Record<string, unknown> = {};
  if (typeof t.url === "string") {
    s.type = "http";
    s.url = t.url;
    const headers: Record<string, string> = { ...(stringMap(t.http_headers) ?? {}) };
    for (const [h, v] of Object.entries(stringMap(t.env_http_headers) ?? {})) headers[h] = `\${${v}}`;
    if (typeof t.bearer_token_env_var === "string") headers.Authorization = `Bearer \${${t.bearer_token_env_var}}`;
    if (Object.keys(headers).length) s.headers = headers;
  } else if (typeof t.command === "string") {
    s.command = t.command;
    const args = strings(t.args);
    if (args?.length) s.args = args;
    const env: Record<string, string> = { ...(stringMap(t.env) ?? {}) };
    for (const v of strings(t.env_vars) ?? []) env[v] = `\${${v}}`;
    if (Object.keys(env).length) s.env = env;
    if (typeof t.cwd === "string") s.cwd = t.cwd;
  } else {
    warn("has neither command nor url; skipped");
    return undefined;
  }
  if (t.enabled === false) s.disabled = true;
  const enabledTools = strings(t.enabled_tools);
  if (enabledTools?.length) s.includeTools = enabledTools;
  const disabledTools = strings(t.disabled_tools);
  if (disabledTools?.length) s.excludeTools = disabledTools;
  if (typeof t.tool_timeout_sec === "number") s.timeout = Math.round(t.tool_timeout_sec * 1000);
  if (t.startup_timeout_sec !== undefined) warn("startup_timeout_sec has no place in the library model; dropped");
  const unknown = Object.keys(t)
    .filter((k) => !KNOWN_KEYS.has(k))
    .sort();
  if (unknown.length) warn(`unknown keys ${unknown.join(", ")} dropped`);
  const r = McpServer.safeParse(s);
  if (!r.success) {
    warn(`is not a valid server (${r.error.issues[0]?.message ?? "invalid"}); skipped`);
    return undefined;
  }
  return r.data;
}
