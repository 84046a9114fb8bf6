// What an export writes for an MCP env or header value that is `{ secret: NAME }`, decided in one
// place for every target before its adapter renders: the tool's own env-var reference where it has
// one (the model already holds `${NAME}` there, which each adapter translates: Claude Code `${NAME}`,
// Cursor `${env:NAME}`, ...); else the decrypted value, but only in user scope (the adapters mark a
// file with literal values `secret`, so the writer makes it 0600); never in project scope, where
// the file is likely committed: the key is left out with a warning.
import type { Diagnostic } from "../library/diagnostics.ts";
import type { ResolvedAgent } from "../library/model.ts";
import type { ExportScope, McpServer } from "../library/schema.ts";
import type { Adapter, OutputFile } from "./types.ts";

/**
 * Which `${VAR}` references a target's MCP config expands: `any` (every position), `same-name` (env
 * only as KEY=${KEY}, Codex's env_vars), `none` (the tool reads values literally).
 */
export type EnvRefSupport = { env: "any" | "same-name" | "none"; headers: "any" | "none" };

export const NO_ENV_REFS: EnvRefSupport = { env: "none", headers: "none" };
export const ALL_ENV_REFS: EnvRefSupport = { env: "any", headers: "any" };

function envRefSupport(adapter: Pick<Adapter, "mcpEnvRefs">, scope: ExportScope): EnvRefSupport {
  const s = adapter.mcpEnvRefs;
  return typeof s === "function" ? s(scope) : (s ?? NO_ENV_REFS);
}

export type PreparedSecrets = {
  agents: ResolvedAgent[];
  warnings: Diagnostic[];
  /** Decrypted values written into this target's files (so those files are written 0600 and masked). */
  literals: string[];
};

/** Applies the per-target decision to every secret reference of the agents; agents without any are passed through. */
export function prepareSecrets(
  target: string,
  adapter: Pick<Adapter, "mcpEnvRefs" | "displayName">,
  agents: readonly ResolvedAgent[],
  scope: ExportScope,
  values: ReadonlyMap<string, string> | undefined,
): PreparedSecrets {
  const support = envRefSupport(adapter, scope);
  const warnings: Diagnostic[] = [];
  const literals = new Set<string>();
  const out = agents.map((agent) => {
    if (!agent.secretRefs) return agent;
    const servers: Record<string, McpServer> = { ...agent.mcpServers };
    for (const [serverName, fields] of Object.entries(agent.secretRefs)) {
      const src = servers[serverName];
      if (!src) continue;
      const server: McpServer = { ...src, ...(src.env ? { env: { ...src.env } } : {}), ...(src.headers ? { headers: { ...src.headers } } : {}) };
      servers[serverName] = server;
      for (const [field, name] of Object.entries(fields)) {
        const dot = field.indexOf(".");
        const kind = field.slice(0, dot) as "env" | "headers";
        const key = field.slice(dot + 1);
        const rec = server[kind];
        if (!rec || !(key in rec)) continue;
        const mode = support[kind];
        if (mode === "any" || (mode === "same-name" && key === name)) continue; // `${NAME}` stays; the adapter translates it
        const where = `${kind}.${key} of MCP server '${serverName}'`;
        if (scope === "project") {
          delete rec[key];
          warnings.push({
            severity: "warning",
            code: "secret-skipped",
            message: `${target}: agent '${agent.name}': ${where} is the secret ${name}, which ${adapter.displayName} cannot read from an environment variable; a project file is likely committed, so it is left out`,
            file: agent.sourceFile,
            hint: `export ${target} with --scope user (the secret is then written into a 0600 file in your home folder), or set the value in ${adapter.displayName} itself`,
          });
          continue;
        }
        const value = values?.get(name);
        if (value === undefined) {
          delete rec[key];
          warnings.push({
            severity: "warning",
            code: "secret-unavailable",
            message: `${target}: agent '${agent.name}': ${where} is the secret ${name}, which could not be read from the secret store; left out`,
            file: agent.sourceFile,
            hint: `set it with 'aicfg secret set ${name}' and check the secret key (AICFG_SECRET_KEY or the key file)`,
          });
          continue;
        }
        rec[key] = value;
        literals.add(value);
      }
    }
    return { ...agent, mcpServers: servers };
  });
  return { agents: out, warnings, literals: [...literals] };
}

/** A file that holds a decrypted secret is written 0600, whatever its adapter said. */
export function markSecretFiles(files: OutputFile[], literals: readonly string[]): OutputFile[] {
  if (!literals.length) return files;
  return files.map((f) => {
    const text =
      f.kind === "json-keys" ? JSON.stringify(f.entries) : f.kind === "toml-tables" ? JSON.stringify(f.tables) : typeof f.content === "string" ? f.content : "";
    const holds = literals.some((v) => text.includes(v) || text.includes(JSON.stringify(v).slice(1, -1)));
    return holds && f.kind !== "md-section" ? { ...f, secret: true } : f;
  });
}
