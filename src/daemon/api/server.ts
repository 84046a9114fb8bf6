// Starts the API: refuses an unsafe bind (non-loopback without an admin token), makes sure the
// local admin token for the CLI exists (once the token store's database answers, when it did not
// at start), builds the app and serves it on the current runtime.
import { ensureLocalAdminToken, LOCAL_ADMIN_NAME, openTokenStore } from "../auth/token-store.ts";
import { serve, type Served } from "../runtime/serve.ts";
import { createApi, type Api, type AppOptions } from "./app.ts";
import { assertSafeBind, type ApiConfig } from "./config.ts";
import type { ApiDeps } from "./deps.ts";

export type ApiServer = Api & { served: Served; stop: () => Promise<void> };

export async function startApiServer(deps: ApiDeps, config: ApiConfig, opts: AppOptions = {}): Promise<ApiServer> {
  const tokens = opts.tokens ?? openTokenStore(deps.stateDir, opts.clock);
  const pending = opts.tokensPending;
  if (pending) {
    assertSafeBind(config, { admins: pending.adminsPending });
    void pending.opened.then(() => ensureLocalAdminToken(deps.stateDir, tokens)).catch(() => {});
  } else {
    assertSafeBind(config, { admins: (await tokens.list()).filter((t) => t.role === "admin" && t.name !== LOCAL_ADMIN_NAME).length });
    await ensureLocalAdminToken(deps.stateDir, tokens);
  }
  const api = createApi(deps, config, { ...opts, tokens });
  let served: Served;
  try {
    served = await serve(api.app, config.unixSocket ? { unixSocket: config.unixSocket } : { host: config.host, port: config.port });
  } catch (e) {
    await api.close();
    throw e;
  }
  api.telemetry.logger.info({ url: served.url, runtime: served.runtime }, "api listening");
  return {
    ...api,
    served,
    stop: async () => {
      await served.close();
      await api.close();
    },
  };
}
