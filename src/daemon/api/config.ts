// The API's settings (the `api:` section of the daemon config): bind address, Host/Origin
// allowlists, who may read the probes, body and rate limits, the GitHub webhook secret. Secure by
// default (security rules 3 and 4): loopback bind, no extra hosts, tokens on /v1.
import { isIP } from "node:net";
import { z } from "zod";
import { ConfigError } from "../../library/diagnostics.ts";
import { OidcConfig } from "../auth/oidc.ts";

const DEFAULT_PORT = 7411;
const MIB = 1024 * 1024;

export const ApiConfig = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  /** Listen on this unix socket instead of TCP (put it in a 0700 folder). */
  unixSocket: z.string().min(1).optional(),
  /** Extra accepted Host header values, exactly as clients send them (e.g. `aicfg.example.com`, `10.0.0.5:7411`). */
  allowedHosts: z.array(z.string().min(1).max(255)).default([]),
  /** Extra accepted Origin values (e.g. `https://aicfg.example.com`); loopback origins on our port are always accepted. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, "must be an origin like https://host:port")).default([]),
  /** /readyz, /healthz and /metrics: open to loopback clients and token-only otherwise (default), token always, or open. */
  probes: z.enum(["loopback-open", "token", "open"]).default("loopback-open"),
  limits: z
    .strictObject({
      apiBodyBytes: z.number().int().min(1024).default(MIB),
      /** GitHub's own cap on a delivery (docs: "Payloads are capped at 25 MB"); push bodies up to it are read. */
      webhookBodyBytes: z
        .number()
        .int()
        .min(1024)
        .default(25 * MIB),
      /** Events we only answer (ping, ignored events) are hashed as they stream in and never kept beyond this. */
      webhookSmallBodyBytes: z.number().int().min(1024).default(MIB),
      /** Unauthenticated webhook bodies kept in memory at once; further deliveries wait (then 503). */
      webhookConcurrentBodies: z.number().int().min(1).max(64).default(2),
      /** Failed authentications per client address (and per token hint) per minute before 429. */
      authFailuresPerMinute: z.number().int().min(1).default(10),
      /** Requests per token per minute before 429. */
      requestsPerMinutePerToken: z.number().int().min(1).default(1200),
    })
    .default({
      apiBodyBytes: MIB,
      webhookBodyBytes: 25 * MIB,
      webhookSmallBodyBytes: MIB,
      webhookConcurrentBodies: 2,
      authFailuresPerMinute: 10,
      requestsPerMinutePerToken: 1200,
    }),
  webhooks: z
    .strictObject({
      github: z.strictObject({ secret: z.string().min(16, "use a random secret of at least 16 characters").optional() }).default({}),
    })
    .default({ github: {} }),
  /** OIDC issuers whose bearer JWTs the API accepts, each mapped to one org. */
  oidc: OidcConfig.default({ issuers: [] }),
});
export type ApiConfig = z.infer<typeof ApiConfig>;
export type ApiConfigInput = z.input<typeof ApiConfig>;

export function parseApiConfig(input: ApiConfigInput = {}): ApiConfig {
  const r = ApiConfig.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError("invalid-config", `api.${i.path.join(".")}: ${i.message}`, { hint: "fix the api: section of the daemon config" });
  }
  return r.data;
}

/** True for 127.0.0.0/8, ::1, IPv4-mapped loopback and `localhost`. */
export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.toLowerCase().replace(/^\[|\]$/g, "");
  if (a === "localhost" || a === "::1") return true;
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/** The webhook secret: the config's, else AICFG_GITHUB_WEBHOOK_SECRET; undefined means every delivery is refused. */
export function githubWebhookSecret(config: ApiConfig, env: Record<string, string | undefined>): string | undefined {
  const s = config.webhooks.github.secret ?? env.AICFG_GITHUB_WEBHOOK_SECRET;
  return s ? s : undefined;
}

/** The shortest webhook secret accepted from any source (GitHub's HMAC is only as strong as the secret). */
const MIN_WEBHOOK_SECRET = 16;

/**
 * Refuses a short webhook secret at start, whatever its source: the config schema checks its own
 * field, but the environment and the systemd credential (which arrives as the same variable) are
 * checked here. A 1-character secret is a forgeable signature, not a weak one.
 */
export function assertWebhookSecret(config: ApiConfig, env: Record<string, string | undefined>): void {
  const s = githubWebhookSecret(config, env);
  if (s === undefined || s.length >= MIN_WEBHOOK_SECRET) return;
  const from =
    config.webhooks.github.secret !== undefined
      ? "api.webhooks.github.secret"
      : "AICFG_GITHUB_WEBHOOK_SECRET (or the systemd credential github-webhook-secret)";
  throw new ConfigError(
    "weak-webhook-secret",
    `the GitHub webhook secret from ${from} has ${s.length} character(s); at least ${MIN_WEBHOOK_SECRET} are required`,
    {
      hint: "generate one with 'openssl rand -hex 32' and set the same value in the GitHub webhook settings",
    },
  );
}

/**
 * Refuses a non-loopback TCP bind unless authentication is configured, i.e. at least one admin
 * token exists (security goal G10). Unix sockets are protected by file permissions.
 */
export function assertSafeBind(config: ApiConfig, tokenCount: { admins: number }): void {
  if (config.unixSocket) return;
  if (isLoopbackAddress(config.host)) return;
  if (tokenCount.admins > 0) {
    if (config.allowedHosts.length === 0) {
      throw new ConfigError("unsafe-bind", `api.host ${config.host} is not loopback but api.allowedHosts is empty, so every request would be refused (421)`, {
        hint: "list the names clients use to reach the daemon in api.allowedHosts",
      });
    }
    return;
  }
  throw new ConfigError("unsafe-bind", `refusing to listen on ${config.host}: it is not a loopback address and no admin token exists`, {
    hint: "create one first with 'aicfg token create --role admin', or hand one in as the credential admin-token ($CREDENTIALS_DIRECTORY/admin-token; in Kubernetes the Secret key admin-token), or keep the default 127.0.0.1",
  });
}
