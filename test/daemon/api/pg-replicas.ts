// API instances as replicas on one PostgreSQL: each a real daemon on its own state folder behind the
// real API bridge, with the run store's PostgreSQL pool (a pool of its own per replica) for the
// tokens, orgs, bindings, audit chains and the orgs' request counts, as the daemon's API extension
// wires them in cluster mode. `call` sends a request through app.request as if from 127.0.0.1.
import { createApi, type Api } from "../../../src/daemon/api/app.ts";
import { parseApiConfig, type ApiConfigInput } from "../../../src/daemon/api/config.ts";
import type { TokenStore } from "../../../src/daemon/auth/token-store.ts";
import { openPgStore, type PgStore } from "../../../src/daemon/store/pg/pg-store.ts";
import type { TenancyStore } from "../../../src/daemon/tenancy/types.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { startApiDaemon, type ApiDaemon } from "./api-daemon.ts";

export type ApiReplica = {
  dir: string;
  daemon: ApiDaemon;
  api: Api<TokenStore>;
  tokens: TokenStore;
  tenancy: TenancyStore;
  call: (method: string, path: string, token: string, json?: unknown) => Promise<Response>;
};

/** Starts replicas on the database at `url`; `stop` ends every one it started (APIs, daemons, pools, folders). */
export function apiReplicas(url: () => string) {
  const stores: PgStore[] = [];
  const daemons: ApiDaemon[] = [];
  const apis: Api<TokenStore>[] = [];
  const dirs: { cleanup: () => void }[] = [];
  const start = async (name: string, config: ApiConfigInput = {}): Promise<ApiReplica> => {
    const dir = tempDir(`aicfg-replica-${name}-`);
    dirs.push(dir);
    const daemon = await startApiDaemon(dir.path);
    daemons.push(daemon);
    const pg = await openPgStore({ url: url(), instance: name, pid: 1, retries: 5 });
    stores.push(pg);
    const shared = await pg.tenancyStores(daemon.clock);
    const tokens = pg.tokenStore(daemon.clock);
    const api = createApi(daemon.deps, parseApiConfig(config), {
      tokens,
      tenancy: shared.tenancy,
      auditStore: shared.audit,
      requestBudget: shared.requests,
      env: {},
      clock: daemon.clock,
      telemetryOptions: { logSink: { write: () => {} } },
    });
    apis.push(api);
    const call = async (method: string, path: string, token: string, json?: unknown): Promise<Response> =>
      api.app.request(
        `http://127.0.0.1:7411${path}`,
        {
          method,
          headers: { authorization: `Bearer ${token}`, ...(json ? { "content-type": "application/json" } : {}) },
          ...(json ? { body: JSON.stringify(json) } : {}),
        },
        { remoteAddress: "127.0.0.1", localPort: 7411, transport: "tcp" },
      );
    return { dir: dir.path, daemon, api, tokens, tenancy: shared.tenancy, call };
  };
  const stop = async () => {
    for (const a of apis.splice(0)) await a.close().catch(() => {});
    for (const d of daemons.splice(0)) await d.stop().catch(() => {});
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dirs.splice(0)) d.cleanup();
  };
  return { start, stop };
}
