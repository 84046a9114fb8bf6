// POST /v1/webhooks/github (security-rules §2, G04-G09): JSON only; fails closed without a secret;
// X-Hub-Signature-256 verified with @octokit/webhooks over the exact raw bytes before anything is
// parsed; `ping` answered; a `push` to a library's repository and branch feeds its git trigger;
// each X-GitHub-Delivery starts at most one run (recorded durably); 202 once queued.
import { Webhooks } from "@octokit/webhooks";
import type { TriggerKind } from "../events.ts";
import { githubWebhookSecret } from "./config.ts";
import { ApiError } from "./errors.ts";
import { sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import { ErrorBody, PushPayload, WebhookAccepted } from "./schemas.ts";

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;
const DELIVERY = /^[A-Za-z0-9-]{1,100}$/;
const EVENT = /^[a-z_]{1,64}$/;
const ZERO_SHA = /^0+$/;

/** Strict UTF-8 decoding that keeps a BOM, so the string re-encodes to exactly the received bytes. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => p === "" || p === "charset=utf-8" || p === 'charset="utf-8"');
}

export function webhookRoutes(s: RouteServices): RouteDef[] {
  const secrets = s.telemetry.secrets;
  let verifier: { secret: string; hooks: Webhooks } | undefined;
  const verifierFor = (secret: string): Webhooks => {
    if (verifier?.secret !== secret) verifier = { secret, hooks: new Webhooks({ secret }) };
    return verifier.hooks;
  };
  const event = (outcome: "accepted" | "ignored" | "rejected" | "duplicate") =>
    s.deps.bus.publish({ type: "trigger.event", kind: "webhook" satisfies TriggerKind, outcome, at: s.now().getTime() });
  const reject = (status: number, code: string, message: string, hint?: string): never => {
    event("rejected");
    throw new ApiError(status, code, message, hint ? { hint } : {});
  };

  return [
    defineRoute({
      method: "POST",
      path: "/v1/webhooks/github",
      access: "signature",
      tag: "webhooks",
      summary: "GitHub webhook receiver (authenticated by X-Hub-Signature-256, not by a token)",
      audit: "webhook.github",
      responses: {
        200: { description: "answered without starting a run (ping, ignored event, redelivery)", schema: WebhookAccepted },
        202: { description: "runs durably queued", schema: WebhookAccepted },
        400: { description: "missing headers, invalid UTF-8 or JSON", schema: ErrorBody },
        401: { description: "signature missing or wrong", schema: ErrorBody },
        413: { description: "body over the webhook limit", schema: ErrorBody },
        415: { description: "not application/json", schema: ErrorBody },
        503: { description: "no webhook secret configured (every delivery is refused)", schema: ErrorBody },
      },
      handler: async (c: ApiContext) => {
        if (!isJsonContentType(c.req.header("content-type"))) reject(415, "unsupported-media-type", "webhooks must be sent as application/json", "set the webhook's content type to application/json in GitHub");
        const secret = githubWebhookSecret(s.config, s.env);
        if (!secret) reject(503, "webhook-secret-missing", "no GitHub webhook secret is configured, so every delivery is refused", "set api.webhooks.github.secret or AICFG_GITHUB_WEBHOOK_SECRET");
        const signature = c.req.header("x-hub-signature-256");
        if (!signature) reject(401, "signature-missing", "X-Hub-Signature-256 is missing", "configure the webhook's secret in GitHub");
        if (!SIGNATURE.test(signature!)) reject(401, "bad-signature", "X-Hub-Signature-256 must be sha256= and 64 lowercase hex digits");
        const name = c.req.header("x-github-event") ?? "";
        const delivery = c.req.header("x-github-delivery") ?? "";
        if (!EVENT.test(name) || !DELIVERY.test(delivery)) reject(400, "invalid-request", "X-GitHub-Event and X-GitHub-Delivery are required");
        c.set("auditTarget", `github:${delivery}`);

        const raw = new Uint8Array(await c.req.arrayBuffer());
        if (raw.length === 0) reject(400, "invalid-request", "the body is empty");
        let text = "";
        try {
          text = UTF8.decode(raw);
        } catch {
          reject(400, "invalid-request", "the body is not valid UTF-8");
        }
        let valid = false;
        try {
          valid = await verifierFor(secret!).verify(text, signature!);
        } catch {
          valid = false;
        }
        if (!valid) reject(401, "bad-signature", "X-Hub-Signature-256 does not match the body and the configured secret");

        let payload: unknown;
        try {
          payload = JSON.parse(text);
        } catch {
          reject(400, "invalid-request", "the body is not valid JSON");
        }
        if (name === "ping") {
          event("accepted");
          return sendJson(secrets, 200, { status: "pong" });
        }
        if (name !== "push") {
          event("ignored");
          return sendJson(secrets, 200, { status: "ignored", reason: `event ${name} is not used` });
        }
        const push = PushPayload.safeParse(payload);
        if (!push.success) reject(400, "invalid-request", "the push payload lacks ref, after or repository.full_name");
        const { ref, after, deleted, repository } = push.data!;
        const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
        if (!branch || deleted || ZERO_SHA.test(after)) {
          event("ignored");
          return sendJson(secrets, 200, { status: "ignored", reason: "not a push to a branch" });
        }
        const repo = repository.full_name.toLowerCase();
        const targets = s.deps.libraries().filter((l) => l.git && l.git.repository.toLowerCase() === repo && l.git.branch === branch);
        if (targets.length === 0) {
          event("ignored");
          return sendJson(secrets, 200, { status: "ignored", reason: "no library follows this repository and branch" });
        }
        if (!(await s.deps.recordDelivery(delivery))) {
          event("duplicate");
          return sendJson(secrets, 200, { status: "duplicate", reason: `delivery ${delivery} was already processed` });
        }
        const tp = c.req.header("traceparent");
        const runIds: string[] = [];
        try {
          for (const lib of targets) {
            runIds.push(...(await s.deps.notifyGitPush({ library: lib.name, branch, after, deliveryId: delivery, actor: `github:${delivery}`, ...(tp && c.get("parent") ? { traceparent: tp } : {}) })));
          }
        } catch (e) {
          await s.deps.forgetDelivery(delivery);
          throw e;
        }
        const parent = c.get("parent");
        for (const id of runIds) if (parent) s.telemetry.tracing.setRunParent(id, parent);
        if (runIds[0]) c.set("runId", runIds[0]);
        event("accepted");
        return sendJson(secrets, 202, { status: "queued", runIds });
      },
    }),
  ];
}
