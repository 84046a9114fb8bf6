// /v1 library views backed by the real library code: libraries, library health, agents, the
// effective agent with the layer of each field, the export plan of an agent per target (a dry
// run, nothing written) and the AI tools detected on this machine.
import { resolve } from "node:path";
import { exportLibrary } from "../../adapters/export.ts";
import { realDetectEnv } from "../../adapters/detect-env.ts";
import { expandTargets, getAdapter, listAdapters, TARGET_SELECTORS } from "../../adapters/registry.ts";
import { loadLibrary } from "../../library/load.ts";
import type { Library } from "../../library/model.ts";
import { resolveAgent, resolveAll } from "../../library/resolve.ts";
import type { McpServer } from "../../library/schema.ts";
import { openConflictStore } from "../../workflows/conflicts.ts";
import type { SecretRegistry } from "../telemetry/redact.ts";
import type { LibraryInfo } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { canSeeLibrary, requireWholeLibrary, sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import {
  AgentList,
  AgentParams,
  ConflictList,
  EffectiveAgent,
  ErrorBody,
  ExportPlanQuery,
  ExportPlanView,
  LibraryHealth,
  LibraryList,
  LibraryParams,
  ToolList,
} from "./schemas.ts";

const MASK = "[redacted]";
const REF = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/g;
const TOOLS_TTL_MS = 60_000;

/** Env and header values are shown only when they are `${VAR}` references (plus a short literal like `Bearer `). */
function maskSecretValue(value: string, secrets: SecretRegistry): string {
  const refs = value.match(REF);
  if (refs && value.replace(REF, "").trim().length <= 10) return value;
  secrets.add(value);
  return MASK;
}

/** Option and query names that carry credentials (`--api-key`, `--token=`, `?access_token=`). */
const CREDENTIAL_NAME = /(?:^|[-_.])(?:api[-_]?key|key|token|secret|password|passwd|pwd|auth|authorization|credentials?|bearer|pat)$/i;

/**
 * Command-line arguments and URLs leak as easily as env values (`--api-key sk-live-...`,
 * `postgres://app:hunter2@db/x`): a value given to a credential-named option, a URL's password and
 * credential-named query parameters are masked unless they are `${VAR}` references.
 */
function maskArgs(args: readonly string[], secrets: SecretRegistry): string[] {
  return args.map((arg, i) => {
    const eq = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)$/s.exec(arg);
    if (eq && CREDENTIAL_NAME.test(eq[1]!)) return `${eq[1]}=${maskSecretValue(eq[2]!, secrets)}`;
    const prev = args[i - 1];
    if (prev !== undefined && /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prev) && CREDENTIAL_NAME.test(prev) && !arg.startsWith("-"))
      return maskSecretValue(arg, secrets);
    return maskUrl(arg, secrets);
  });
}

function maskUrl(text: string, secrets: SecretRegistry): string {
  return text
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\s:@]*:)([^@\s/]+)(@)/g, (_m, a: string, pass: string, b: string) => a + maskSecretValue(pass, secrets) + b)
    .replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (m, sep: string, k: string, v: string) =>
      CREDENTIAL_NAME.test(k) ? `${sep}${k}=${maskSecretValue(v, secrets)}` : m,
    );
}

function maskServer(server: McpServer, secrets: SecretRegistry): McpServer {
  const out = { ...server } as McpServer & { env?: Record<string, string>; headers?: Record<string, string>; args?: string[]; url?: string };
  const raw = server as { args?: string[]; url?: string };
  if (raw.args) out.args = maskArgs(raw.args, secrets);
  if (typeof raw.url === "string") out.url = maskUrl(raw.url, secrets);
  for (const field of ["env", "headers"] as const) {
    const rec = (server as Record<string, unknown>)[field] as Record<string, string> | undefined;
    if (rec) out[field] = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, maskSecretValue(String(v), secrets)]));
  }
  return out;
}

export function libraryRoutes(s: RouteServices): RouteDef[] {
  const secrets = s.telemetry.secrets;
  let tools: { at: number; body: unknown } | undefined;

  const libraryOr404 = (c: ApiContext, name: string): { info: LibraryInfo; lib: Library } => {
    requireWholeLibrary(c, name, `library ${name}`);
    const info = s.deps.libraries().find((l) => l.name === name);
    if (!info) throw new ApiError(404, "not-found", `library ${name} not found`, { hint: "list libraries with GET /v1/libraries" });
    return { info, lib: s.deps.loadLibrary?.(name) ?? loadLibrary(info.root) };
  };
  const agentOr404 = (lib: Library, library: string, agent: string) => {
    if (!lib.agents.has(agent))
      throw new ApiError(404, "not-found", `agent ${agent} not found in library ${library}`, { hint: "list agents with GET /v1/libraries/{library}/agents" });
  };

  return [
    defineRoute({
      method: "GET",
      path: "/v1/libraries",
      access: "viewer",
      tag: "library",
      summary: "Libraries the daemon serves (the token's library when it is scoped)",
      responses: { 200: { description: "libraries", schema: LibraryList } },
      handler: (c) => sendJson(secrets, 200, { items: s.deps.libraries().filter((l) => canSeeLibrary(c, l.name)) }),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/libraries/:library/health",
      access: "viewer",
      tag: "library",
      summary: "Library health: load and resolve diagnostics with counts",
      params: LibraryParams,
      responses: { 200: { description: "health", schema: LibraryHealth }, 404: { description: "no such library", schema: ErrorBody } },
      handler: (c, { params }) => {
        const { lib } = libraryOr404(c, params.library);
        const diagnostics = [...lib.diagnostics, ...resolveAll(lib).diagnostics];
        const errors = diagnostics.filter((d) => d.severity === "error").length;
        return sendJson(secrets, 200, {
          library: params.library,
          status: errors ? "fail" : diagnostics.length ? "warn" : "pass",
          layers: lib.layers.map((l) => l.name),
          counts: {
            agents: lib.agents.size,
            knowledge: lib.knowledge.size,
            mcp: lib.mcp.size,
            skills: lib.skills.size,
            commands: lib.commands.size,
            workflowDirs: lib.workflowDirs.length,
          },
          errors,
          warnings: diagnostics.length - errors,
          diagnostics,
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/libraries/:library/conflicts",
      access: "viewer",
      tag: "library",
      summary: "Open merge conflicts of upstream updates (the local version of each file stays active)",
      params: LibraryParams,
      responses: { 200: { description: "conflicts", schema: ConflictList }, 404: { description: "no such library", schema: ErrorBody } },
      handler: (c, { params }) => {
        requireWholeLibrary(c, params.library, `library ${params.library}`);
        const info = s.deps.libraries().find((l) => l.name === params.library);
        if (!info) throw new ApiError(404, "not-found", `library ${params.library} not found`, { hint: "list libraries with GET /v1/libraries" });
        const items = openConflictStore(s.deps.stateDir)
          .list({ libraryRoot: resolve(info.root) })
          .map(({ id, path, conflictFile, policy, fields, bodyConflicts, upstream, note, createdAt, updatedAt }) => ({
            id,
            path,
            conflictFile,
            policy,
            fields,
            bodyConflicts,
            createdAt,
            updatedAt,
            ...(upstream ? { upstream } : {}),
            ...(note ? { note } : {}),
          }));
        return sendJson(secrets, 200, { library: params.library, items });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/libraries/:library/agents",
      access: "viewer",
      tag: "agents",
      summary: "Agents of a library",
      params: LibraryParams,
      responses: { 200: { description: "agents", schema: AgentList }, 404: { description: "no such library", schema: ErrorBody } },
      handler: (c, { params }) => {
        const { lib } = libraryOr404(c, params.library);
        const items = [...lib.agents.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, stack]) => {
            const top = stack[stack.length - 1]!;
            const spec = [...stack].reverse();
            return {
              name,
              description: spec.find((x) => x.spec.description !== undefined)?.spec.description ?? "",
              layer: top.layer,
              layers: stack.map((x) => x.layer),
              file: top.file,
              targets: spec.find((x) => x.spec.targets !== undefined)?.spec.targets ?? lib.manifest.targets ?? [],
              tags: spec.find((x) => x.spec.tags !== undefined)?.spec.tags ?? [],
            };
          });
        return sendJson(secrets, 200, { library: params.library, items });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/libraries/:library/agents/:agent",
      access: "viewer",
      tag: "agents",
      summary: "The effective agent (layers merged) with the layer each field came from",
      params: AgentParams,
      responses: { 200: { description: "the effective agent", schema: EffectiveAgent }, 404: { description: "no such library or agent", schema: ErrorBody } },
      handler: (c, { params }) => {
        const { lib } = libraryOr404(c, params.library);
        agentOr404(lib, params.library, params.agent);
        const r = resolveAgent(lib, params.agent);
        if (!r.agent) throw new ApiError(422, "invalid-agent", `agent ${params.agent} cannot be resolved`, { details: { diagnostics: r.diagnostics } });
        const { provenance, mcpServers, ...rest } = r.agent;
        const masked = Object.fromEntries(Object.entries(mcpServers).map(([k, v]) => [k, maskServer(v, secrets)]));
        return sendJson(secrets, 200, { library: params.library, agent: { ...rest, mcpServers: masked }, provenance, diagnostics: r.diagnostics });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/libraries/:library/agents/:agent/export-plan",
      access: "viewer",
      tag: "agents",
      summary: "What exporting this agent to one target, 'all' targets or the 'detected' ones would do (a dry run: nothing is written)",
      params: AgentParams,
      query: ExportPlanQuery,
      responses: { 200: { description: "the plan", schema: ExportPlanView }, 404: { description: "no such library, agent or target", schema: ErrorBody } },
      handler: async (c, { params, query }) => {
        const { lib } = libraryOr404(c, params.library);
        agentOr404(lib, params.library, params.agent);
        const selector = (TARGET_SELECTORS as readonly string[]).includes(query.target);
        if (!selector && !getAdapter(query.target)) {
          throw new ApiError(404, "unknown-target", `unknown target ${query.target}`, {
            hint: `known targets: ${
              listAdapters()
                .map((a) => a.id)
                .sort()
                .join(", ") || "(none registered)"
            }, or ${TARGET_SELECTORS.join(" / ")}`,
          });
        }
        // `detected` looks at the daemon's machine, with the daemon's environment.
        const targets = await expandTargets([query.target], () => realDetectEnv({ env: s.env }));
        const result = exportLibrary({
          library: lib,
          targets,
          agents: [params.agent],
          stateDir: s.deps.stateDir,
          dryRun: true,
          noCache: true,
          ...(query.scope ? { scope: query.scope } : {}),
        });
        return sendJson(secrets, 200, {
          library: params.library,
          agent: params.agent,
          target: query.target,
          scope: result.scope,
          targets: result.targets.map((t) => t.target),
          entries: result.plan.entries.map((e) => ({
            path: e.path,
            action: e.action,
            targets: e.targets,
            kind: e.kind,
            secret: e.secret,
            ...(e.reason ? { reason: e.reason } : {}),
          })),
          errors: result.errors,
          warnings: result.warnings,
        });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/tools",
      access: "viewer",
      tag: "library",
      summary: "AI tools detected on the daemon's machine (cached for a minute)",
      responses: { 200: { description: "tools", schema: ToolList } },
      handler: async () => {
        const now = s.now().getTime();
        if (!tools || now - tools.at > TOOLS_TTL_MS) {
          const env = realDetectEnv({ env: s.env });
          const items = await Promise.all(
            listAdapters().map(async (a) => {
              const d = await a.detect(env);
              return {
                id: a.id,
                displayName: a.displayName,
                installed: d.installed,
                configPaths: d.configPaths,
                ...(d.binary ? { binary: d.binary } : {}),
                ...(d.generation ? { generation: d.generation } : {}),
              };
            }),
          );
          tools = { at: now, body: { items, detectedAt: new Date(now).toISOString() } };
        }
        return sendJson(secrets, 200, tools.body);
      },
    }),
  ];
}
