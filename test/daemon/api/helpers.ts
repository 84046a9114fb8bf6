// Test setup for the API: a temp state folder, the in-memory ApiDeps, real tokens of every role,
// a log sink that keeps every line, an in-memory span exporter, and `call()` which sends a
// request through app.request as if it came from 127.0.0.1 to port 7411.
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { createApi, type Api } from "../../../src/daemon/api/app.ts";
import { parseApiConfig, type ApiConfigInput } from "../../../src/daemon/api/config.ts";
import type { ApiBindings } from "../../../src/daemon/api/route.ts";
import { openTokenStore } from "../../../src/daemon/auth/token-store.ts";
import { systemClock } from "../../../src/daemon/clock.ts";
import { createSecretRegistry } from "../../../src/daemon/telemetry/redact.ts";
import { createTelemetry } from "../../../src/daemon/telemetry/telemetry.ts";
import { tempDir, writeTree } from "../../helpers/fixtures.ts";
import { createMemoryDeps, type MemoryDeps } from "./memory-deps.ts";

export const WEBHOOK_SECRET = "It's a Secret to Everybody";
export const ORIGIN = "http://127.0.0.1:7411";
/** A secret value planted in the library, run logs and errors; it must never leave the daemon. */
export const CANARY = "canary-5f1c9e2a7b3d4e6f";

/** A two-layer library on disk: org (agent reviewer) extended by team (overrides, MCP with a literal secret). */
export function writeLibraries(root: string): { team: string; other: string } {
  writeTree(root, {
    "org/aicfg.yaml": "name: org\ntargets: [claude-code]\n",
    "org/agents/reviewer.md": "---\ndescription: Reviews changes\nmodel: claude-sonnet-4\n---\nReview every change carefully.\n",
    "team/aicfg.yaml": "name: team\nextends: [../org]\nexport:\n  root: ../project\n",
    "team/agents/reviewer.md": `---\ndescription: Reviews the team's changes\ntags: [quality]\nmcp: [fetch]\n---\n`,
    "team/mcp/fetch.yaml": `command: uvx\nargs: [mcp-server-fetch]\nenv:\n  API_KEY: ${CANARY}\n  OTHER: "\${FETCH_TOKEN}"\n`,
    "other/aicfg.yaml": "name: other\n",
    "other/agents/helper.md": "---\ndescription: Helps\n---\nBe helpful.\n",
  });
  return { team: join(root, "team"), other: join(root, "other") };
}

let template: { dir: string; tokens: Harness["tokens"] } | undefined;

/** Tokens of every role, created once per test file and copied into each harness (fast, real). */
function tokenTemplate(): { dir: string; tokens: Harness["tokens"] } {
  if (template) return template;
  const dir = tempDir("aicfg-tokens-").path;
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const store = openTokenStore(dir);
  const mk = (role: "viewer" | "editor" | "admin", extra: { library?: string; expiresAt?: Date } = {}) => store.create({ role, name: role, ...extra }).token;
  template = {
    dir,
    tokens: {
      viewer: mk("viewer"),
      editor: mk("editor"),
      admin: mk("admin"),
      scopedEditor: mk("editor", { library: "other" }),
      scopedAdmin: mk("admin", { library: "other" }),
      expired: mk("admin", { expiresAt: new Date("2026-11-01T00:00:00.000Z") }),
    },
  };
  return template;
}

export type Harness = {
  api: Api;
  deps: MemoryDeps;
  stateDir: string;
  logs: string[];
  spans: InMemorySpanExporter;
  tokens: { viewer: string; editor: string; admin: string; scopedEditor: string; scopedAdmin: string; expired: string };
  clock: { now: Date };
  call: (method: string, path: string, opts?: CallOptions) => Promise<Response>;
  cleanup: () => Promise<void>;
};

export type CallOptions = {
  token?: string;
  body?: string | Uint8Array;
  json?: unknown;
  headers?: Record<string, string>;
  bindings?: ApiBindings;
};

export async function setupApi(opts: { config?: ApiConfigInput; env?: Record<string, string | undefined>; deps?: (stateDir: string) => MemoryDeps } = {}): Promise<Harness> {
  const dir = tempDir("aicfg-api-");
  const stateDir = dir.path;
  const clock = { now: new Date("2026-11-24T10:00:00.000Z") };
  const now = () => clock.now;
  const libs = writeLibraries(join(stateDir, "libs"));
  const deps = opts.deps
    ? opts.deps(stateDir)
    : createMemoryDeps({ stateDir, now, libraries: [{ name: "team", root: libs.team, git: { repository: "acme/agents", branch: "main" } }, { name: "other", root: libs.other }] });
  const logs: string[] = [];
  const spans = new InMemorySpanExporter();
  const secrets = createSecretRegistry();
  const env = opts.env ?? { AICFG_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET };
  const telemetry = createTelemetry({ bus: deps.bus, stateDir, secrets, logSink: { write: (l) => void logs.push(l) }, spanExporter: spans, env: {} });
  const t = tokenTemplate();
  copyFileSync(join(t.dir, "tokens.json"), join(stateDir, "tokens.json"));
  const store = openTokenStore(stateDir);
  const tokens = t.tokens;
  const api = createApi(deps, parseApiConfig(opts.config ?? {}), { telemetry, tokens: store, env, clock: { now: () => clock.now.getTime(), setTimer: systemClock.setTimer } });
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | Uint8Array | undefined = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers["content-type"] ??= "application/json";
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body as BodyInit;
    return api.app.request(`${ORIGIN}${path}`, init, o.bindings ?? { remoteAddress: "127.0.0.1", localPort: 7411, transport: "tcp" });
  };
  return {
    api,
    deps,
    stateDir,
    logs,
    spans,
    tokens,
    clock,
    call,
    cleanup: async () => {
      await telemetry.shutdown();
      dir.cleanup();
    },
  };
}

export async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}
