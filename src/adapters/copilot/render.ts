// Renders agents for GitHub Copilot (VS Code, github.com, Copilot CLI): `.agent.md` custom agents,
// knowledge as `.instructions.md` files, MCP servers in `.vscode/mcp.json` (`servers`) or the CLI's
// `~/.copilot/mcp-config.json` (`mcpServers`), and an agent index in copilot-instructions.md.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { modelFor, type ResolvedAgent } from "../../library/model.ts";
import type { McpServer } from "../../library/schema.ts";
import { hasEnvRef, isRemote, renderFrontmatter, translateRecord, unsupported, usedHookEvents } from "../common.ts";
import { portableRef } from "../refs.ts";
import type { JsonKeyEntry, OutputFile, RenderContext, RenderResult, Roots } from "../types.ts";
import { copilotTools } from "./tools.ts";
import { knowledgeMeta } from "../generic/shared.ts";
import { addOutput, agentInput } from "../memo.ts";

export const TARGET = "copilot";

/** github/docs custom-agents-configuration: the prompt body of an agent file is at most 30,000 characters. */
export const AGENT_BODY_MAX_CHARS = 30_000;

export type CopilotPaths = {
  /** Always-on instructions (project scope only). */
  instructionsMd: string | undefined;
  instructionsDir: string;
  agentsDir: string;
  mcpFile: string;
  /** Top-level key of the MCP file: VS Code `servers`, Copilot CLI `mcpServers`. */
  mcpKey: "servers" | "mcpServers";
};

export function copilotPaths(roots: Roots): CopilotPaths {
  if (roots.scope === "project") {
    const gh = join(roots.projectRoot, ".github");
    return {
      instructionsMd: join(gh, "copilot-instructions.md"),
      instructionsDir: join(gh, "instructions"),
      agentsDir: join(gh, "agents"),
      mcpFile: join(roots.projectRoot, ".vscode", "mcp.json"),
      mcpKey: "servers",
    };
  }
  const home = join(roots.homeDir, ".copilot");
  return {
    instructionsMd: undefined,
    instructionsDir: join(home, "instructions"),
    agentsDir: join(home, "agents"),
    mcpFile: join(home, "mcp-config.json"),
    mcpKey: "mcpServers",
  };
}

/** `common/policies.md` -> `common-policies`. */
function knowledgeSlug(path: string): string {
  return (
    path
      .replace(/\.[^./]+$/, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "knowledge"
  );
}

/**
 * The instruction file of each knowledge file of an agent: `<agent>-<slug>.instructions.md`, with
 * `-2`, `-3`, ... when two paths give the same slug (a/b.md and a-b.md).
 */
function instructionsFileNames(agent: ResolvedAgent): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const k of agent.knowledge) {
    const stem = `${agent.name}-${knowledgeSlug(k.path)}`;
    let name = `${stem}.instructions.md`;
    for (let i = 2; used.has(name); i++) name = `${stem}-${i}.instructions.md`;
    used.add(name);
    out.set(k.path, name);
  }
  return out;
}

function literalIn(rec: Record<string, string> | undefined): boolean {
  return Object.values(rec ?? {}).some((v) => v.length > 0 && !hasEnvRef(v));
}

/** Features of a server no Copilot MCP format has; reported once per agent and server. */
function serverWarnings(agent: ResolvedAgent, name: string, s: McpServer, scope: Roots["scope"], warnings: Diagnostic[]): void {
  const lost = (what: string, hint?: string): void => void warnings.push(unsupported(TARGET, agent, `${what} of MCP server '${name}'`, hint));
  if (s.cwd !== undefined) lost("cwd", "no Copilot MCP format documents a working folder; use absolute paths in command and args");
  if (s.timeout !== undefined) lost("timeout");
  if (s.autoApprove?.length) lost("autoApprove", "approve the tools in Copilot (VS Code: chat.tools.autoApprove) instead");
  if (s.excludeTools?.length) lost("excludeTools", "list the wanted tools in includeTools instead");
  if (s.includeTools?.length && scope === "project")
    lost("includeTools in .vscode/mcp.json", "the agent file's mcp-servers entry carries them as tools; VS Code's mcp.json has no such key");
  if (s.oauth) lost("oauth settings", "Copilot runs the OAuth flow itself when the server asks");
  const withDefault = [...Object.values(s.env ?? {}), ...Object.values(s.headers ?? {})].some((v) => /\$\{[A-Za-z_][A-Za-z0-9_]*:-/.test(v));
  if (withDefault && scope === "project")
    lost("a ${VAR:-default} default in .vscode/mcp.json", "VS Code's ${env:VAR} has no default; the agent file's mcp-servers keeps it");
}

/** The `mcp-servers:` entry of an agent file (github.com / Copilot CLI shape) and the CLI's mcp-config.json. */
function cliServer(s: McpServer): Record<string, unknown> {
  const tools = s.includeTools?.length ? [...s.includeTools] : ["*"];
  if (isRemote(s)) {
    return { type: s.type === "sse" ? "sse" : "http", url: s.url, ...(s.headers && Object.keys(s.headers).length ? { headers: { ...s.headers } } : {}), tools };
  }
  return {
    type: "local",
    command: s.command,
    args: [...(s.args ?? [])],
    ...(s.env && Object.keys(s.env).length ? { env: { ...s.env } } : {}),
    tools,
  };
}

/** A `.vscode/mcp.json` server: `${VAR}` becomes `${env:VAR}`. */
function vscodeServer(s: McpServer): Record<string, unknown> {
  const lost: string[] = [];
  if (isRemote(s)) {
    const headers = translateRecord(s.headers, "env-colon", lost, "headers");
    return { type: s.type === "sse" ? "sse" : "http", url: s.url, ...(headers && Object.keys(headers).length ? { headers } : {}) };
  }
  const env = translateRecord(s.env, "env-colon", lost, "env");
  return {
    type: "stdio",
    command: s.command,
    ...(s.args?.length ? { args: [...s.args] } : {}),
    ...(env && Object.keys(env).length ? { env } : {}),
  };
}

function agentBody(agent: ResolvedAgent, names: Map<string, string>): string {
  let body = agent.instructions.replace(/\s+$/, "") + "\n";
  if (agent.knowledge.length) {
    const lines = agent.knowledge.map(
      (k) => `- [${k.path}](../instructions/${names.get(k.path)!}) (${k.mode === "always" ? "always applied" : "read it when relevant"})`,
    );
    body += `\n## Knowledge\n\n${lines.join("\n")}\n`;
  }
  return body;
}

function agentFile(agent: ResolvedAgent, servers: Record<string, McpServer>, names: Map<string, string>, warnings: Diagnostic[]): string {
  const tools = copilotTools(agent, Object.keys(servers), warnings);
  const fm: Record<string, unknown> = { name: agent.name, description: agent.description };
  if (tools !== undefined) fm.tools = tools;
  const model = modelFor(agent, TARGET);
  if (model) fm.model = model;
  const serverNames = Object.keys(servers).sort();
  if (serverNames.length) {
    const mcp: Record<string, unknown> = {};
    for (const n of serverNames) mcp[n] = cliServer(servers[n]!);
    fm["mcp-servers"] = mcp;
  }
  const body = agentBody(agent, names);
  return renderFrontmatter(fm, body);
}

function warnUnexpressible(agent: ResolvedAgent, warnings: Diagnostic[]): void {
  if (agent.tools.trusted?.length)
    warnings.push(
      unsupported(
        TARGET,
        agent,
        "trusted tools (tools.trusted)",
        "Copilot asks for confirmation by its own settings (VS Code: chat.tools.autoApprove), not per agent",
      ),
    );
  if (Object.keys(agent.toolSettings).length) warnings.push(unsupported(TARGET, agent, "toolSettings (allowed paths and commands)"));
  const hooks = usedHookEvents(agent);
  if (hooks.length) warnings.push(unsupported(TARGET, agent, `hooks (${hooks.join(", ")})`));
}

function indexSection(agents: readonly ResolvedAgent[], ctx: RenderContext, agentsDir: string): string {
  const lines = [
    "# Custom agents",
    "",
    "These GitHub Copilot custom agents come from the aicfg library; choose the matching one as the agent in Copilot Chat or the Copilot CLI.",
    "",
    ...agents.map(
      (a) => `- \`${a.name}\`: ${a.description.replace(/\s+/g, " ").trim()} (\`${portableRef(join(agentsDir, `${a.name}.agent.md`), ctx, "cwd")}\`)`,
    ),
  ];
  return lines.join("\n") + "\n";
}

/** The servers of an agent Copilot gets (not denied by `@server`, not disabled); `warnings` takes what they lose. */
function agentServers(agent: ResolvedAgent, scope: Roots["scope"], warnings: Diagnostic[]): Record<string, McpServer> {
  const denied = new Set((agent.tools.deny ?? []).filter((d) => d.startsWith("@") && !d.includes("/")).map((d) => d.slice(1)));
  const servers: Record<string, McpServer> = {};
  for (const name of Object.keys(agent.mcpServers).sort()) {
    const s = agent.mcpServers[name]!;
    if (denied.has(name)) continue;
    if (s.disabled) {
      warnings.push(unsupported(TARGET, agent, `the disabled MCP server '${name}'`, "Copilot files have no 'disabled' flag; the server was left out"));
      continue;
    }
    serverWarnings(agent, name, s, scope, warnings);
    servers[name] = s;
  }
  return servers;
}

export function renderCopilot(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const out = { files: [] as OutputFile[], warnings: [] as Diagnostic[] };
  const paths = copilotPaths(ctx);
  const sorted = [...agents].sort((a, b) => a.name.localeCompare(b.name));

  for (const agent of sorted) {
    const names = instructionsFileNames(agent);
    // The agent file and its warnings are one output, made from the agent alone (it names its knowledge files, it does not hold them).
    addOutput(out, ctx, `agent\u0000${agent.name}`, { values: agentInput(agent) }, () => {
      const warnings: Diagnostic[] = [];
      warnUnexpressible(agent, warnings);
      const servers = agentServers(agent, ctx.scope, warnings);
      const agentSecret = Object.values(servers).some((s) => literalIn(s.env) || literalIn(s.headers));
      const file: OutputFile = {
        kind: "file",
        path: join(paths.agentsDir, `${agent.name}.agent.md`),
        content: agentFile(agent, servers, names, warnings),
        agent: agent.name,
        alwaysLoaded: true,
        ...(agentSecret ? { secret: true } : {}),
      };
      return { files: [file], warnings };
    });

    // Each knowledge file of the agent is one output, made from that file.
    for (const k of agent.knowledge) {
      const file = names.get(k.path)!;
      const reads = { files: [k.absPath], values: [agent.name, k.path, k.absPath, k.mode, k.layer, file] };
      addOutput(out, ctx, `knowledge\u0000${agent.name}\u0000${k.path}`, reads, () => {
        const fm: Record<string, unknown> = { description: `${k.path} (knowledge of the ${agent.name} agent, from the aicfg library)` };
        // The knowledge file's own applyTo globs scope it to those files (Copilot takes them comma-separated),
        // whatever its mode; without globs, always-on knowledge applies everywhere and on-demand is not auto-applied.
        const meta = knowledgeMeta(ctx, k, [agent.name]);
        if (meta.globs.length) fm.applyTo = meta.globs.join(",");
        else if (k.mode === "always") fm.applyTo = "**";
        const out: OutputFile = {
          kind: "file",
          path: join(paths.instructionsDir, file),
          content: renderFrontmatter(fm, meta.body),
          agent: agent.name,
          ...(fm.applyTo === "**" ? { alwaysLoaded: true } : {}),
        };
        return { files: [out], warnings: [] };
      });
    }
  }

  // The MCP file holds the servers of every agent: any agent's servers changed renders it again.
  const serverInput = sorted.map((a) => [a.name, a.sourceFile, a.mcpServers, a.tools.deny ?? null, a.secretRefs ?? null]);
  addOutput(out, ctx, "mcp", { values: serverInput }, () => {
    const warnings: Diagnostic[] = [];
    const shared = new Map<string, { value: Record<string, unknown>; agent: string }>();
    let secret = false;
    // What a server loses is reported with the agent's own output.
    for (const agent of sorted)
      for (const [name, s] of Object.entries(agentServers(agent, ctx.scope, []))) {
        const value = ctx.scope === "project" ? vscodeServer(s) : cliServer(s);
        const prev = shared.get(name);
        if (prev) {
          if (JSON.stringify(prev.value) !== JSON.stringify(value)) {
            warnings.push({
              severity: "warning",
              code: "mcp-name-conflict",
              message: `copilot: MCP server '${name}' of agent '${agent.name}' differs from the one of agent '${prev.agent}'; ${paths.mcpFile} holds one entry per name, the one of '${prev.agent}' is kept`,
              file: agent.sourceFile,
              hint: "give the servers different names in the library (each agent file still carries its own in mcp-servers)",
            });
          }
          continue;
        }
        shared.set(name, { value, agent: agent.name });
        secret ||= literalIn(s.env) || literalIn(s.headers);
      }
    if (!shared.size) return { files: [], warnings };
    const entries: JsonKeyEntry[] = [...shared.keys()].sort().map((n) => ({ key: [paths.mcpKey, n], value: shared.get(n)!.value }));
    return { files: [{ kind: "json-keys", path: paths.mcpFile, entries, ...(secret ? { secret: true } : {}) }], warnings };
  });

  // The index lists every agent by name and description.
  const instructionsMd = paths.instructionsMd;
  if (instructionsMd && sorted.length)
    addOutput(out, ctx, "instructions", { values: sorted.map((a) => [a.name, a.description]) }, () => ({
      files: [{ kind: "md-section", path: instructionsMd, content: indexSection(sorted, ctx, paths.agentsDir), alwaysLoaded: true }],
      warnings: [],
    }));
  return out;
}
