// Test setup for the API: a real daemon on a temp library and state folder behind the real API
// bridge (api-daemon.ts), real tokens of every role, a log sink that keeps every line, an in-memory
// span exporter, and `call()` which sends a request through app.request as if it came from
// 127.0.0.1 to port 7411. The daemon and the API share one manual clock.
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { publishCurrentState } from "../../../src/daemon/api-bridge.ts";
import { createApi, type Api } from "../../../src/daemon/api/app.ts";
import { parseApiConfig, type ApiConfigInput } from "../../../src/daemon/api/config.ts";
import type { ApiDeps } from "../../../src/daemon/api/deps.ts";
import type { ApiBindings } from "../../../src/daemon/api/route.ts";
import { openTokenStore, type FileTokenStore } from "../../../src/daemon/auth/token-store.ts";
import { createManualClock, type ManualClock } from "../../../src/daemon/clock.ts";
import { createSecretRegistry } from "../../../src/daemon/telemetry/redact.ts";
import { createTelemetry } from "../../../src/daemon/telemetry/telemetry.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { CANARY, startApiDaemon, T0, type ApiDaemon } from "./api-daemon.ts";

export { CANARY };
export const WEBHOOK_SECRET = "It's a Secret to Everybody";
const ORIGIN = "http://127.0.0.1:7411";

let template: { dir: string; tokens: Harness["tokens"] } | undefined;

/** Tokens of every role, created once per test file and copied into each harness (fast, real). */
function tokenTemplate(): { dir: string; tokens: Harness["tokens"] } {
  if (template) return template;
  const dir = tempDir("aicfg-tokens-").path;
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const store = openTokenStore(dir, createManualClock(T0));
  const mk = (role: "viewer" | "editor" | "admin", extra: { library?: string; expiresAt?: Date } = {}) => store.create({ role, name: role, ...extra }).token;
  template = {
    dir,
    tokens: {
      viewer: mk("viewer"),
      editor: mk("editor"),
      admin: mk("admin"),
      scopedEditor: mk("editor", { library: "other" }),
      scopedAdmin: mk("admin", { library: "other" }),
      expired: mk("admin", { expiresAt: new Date(T0 - 23 * 86_400_000) }),
    },
  };
  return template;
}

export type Harness = {
  api: Api<FileTokenStore>;
  daemon: ApiDaemon;
  /** The API bridge the app is served from (a test may wrap one of its methods to inject a fault). */
  deps: ApiDeps;
  stateDir: string;
  logs: string[];
  spans: InMemorySpanExporter;
  tokens: { viewer: string; editor: string; admin: string; scopedEditor: string; scopedAdmin: string; expired: string };
  clock: ManualClock;
  call: (method: string, path: string, opts?: CallOptions) => Promise<Response>;
  cleanup: () => Promise<void>;
};

type CallOptions = {
  token?: string;
  body?: string | Uint8Array;
  json?: unknown;
  headers?: Record<string, string>;
  bindings?: ApiBindings;
};

export async function setupApi(opts: { config?: ApiConfigInput; env?: Record<string, string | undefined> } = {}): Promise<Harness> {
  const dir = tempDir("aicfg-api-");
  const stateDir = dir.path;
  const t = tokenTemplate();
  copyFileSync(join(t.dir, "tokens.json"), join(stateDir, "tokens.json"));
  const daemon = await startApiDaemon(stateDir);
  const { clock, deps } = daemon;
  const logs: string[] = [];
  const spans = new InMemorySpanExporter();
  const secrets = createSecretRegistry();
  const env = opts.env ?? { AICFG_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET };
  const telemetry = createTelemetry({ bus: deps.bus, stateDir, secrets, logSink: { write: (l) => void logs.push(l) }, spanExporter: spans, env: {}, clock });
  const store = openTokenStore(stateDir, clock);
  const tokens = t.tokens;
  const api = createApi(deps, parseApiConfig(opts.config ?? {}), { telemetry, tokens: store, env, clock });
  // As the daemon's API extension does: the gauges start from the daemon's current state.
  publishCurrentState(daemon.handle);
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
    daemon,
    deps,
    stateDir,
    logs,
    spans,
    tokens,
    clock,
    call,
    cleanup: async () => {
      await daemon.stop();
      await telemetry.shutdown();
      dir.cleanup();
    },
  };
}

export async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}
