// POST /v1/webhooks/github (security-rules §2, G04-G09): JSON only; fails closed without a secret;
// X-Hub-Signature-256 verified (HMAC-SHA256 streamed over the exact raw bytes, checked against
// @octokit/webhooks in the tests) before anything is parsed; `ping` answered; a `push` to a library's repository and branch feeds its git trigger;
// each X-GitHub-Delivery is claimed durably and starts its runs once; 202 once they are queued. A
// redelivery is a duplicate unless a run of it failed (processed once more) or a crash cut it off
// before anything was queued (src/daemon/deliveries.ts).
// Memory stays bounded before anyone is authenticated: the HMAC is computed as the body streams in;
// bodies of events we only answer are never kept (and are capped at a small size); push bodies are
// kept, up to GitHub's own cap, by at most `webhookConcurrentBodies` requests at a time (the others
// wait without reading, so TCP backpressure holds their bytes on the sender's side).
import { createHmac, timingSafeEqual } from "node:crypto";
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

/** Events whose body we parse; any other event is verified and answered without keeping its body. */
const PARSED_EVENTS = new Set(["push", "ping"]);
/** How long a delivery waits for a body slot before it is refused with 503 (GitHub times out at 10 s). */
const SLOT_WAIT_MS = 8_000;

/** A counting semaphore whose waiters give up after a timeout. */
function createSlots(limit: number, setTimer: (ms: number, fn: () => void) => () => void) {
  let free = limit;
  const waiting: Array<() => void> = [];
  return {
    /** Resolves with a release function, or with undefined when no slot came free in time. */
    acquire: (waitMs: number): Promise<(() => void) | undefined> => {
      const release = () => {
        const next = waiting.shift();
        if (next) next();
        else free++;
      };
      if (free > 0) {
        free--;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => {
        const grant = () => {
          cancel();
          resolve(release);
        };
        const cancel = setTimer(waitMs, () => {
          const i = waiting.indexOf(grant);
          if (i >= 0) waiting.splice(i, 1);
          resolve(undefined);
        });
        waiting.push(grant);
      });
    },
    inUse: () => limit - free,
  };
}

type SignedBody = { chunks: Uint8Array[] | undefined; mac: Buffer; length: number };

/**
 * Reads the body once, feeding the HMAC as chunks arrive; keeps the chunks only when `keep`. Returns
 * "too-large" past `max` (the rest is not read).
 */
async function readSigned(req: Request, secret: string, max: number, keep: boolean): Promise<SignedBody | "too-large"> {
  const hmac = createHmac("sha256", secret);
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) return "too-large";
  // The chunks the stream hands us are kept as they are (no copy) and joined only once the signature
  // is known to be right, so a forged body costs no more than the chunks in flight.
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = req.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > max) {
        await reader.cancel().catch(() => {});
        return "too-large";
      }
      hmac.update(value);
      if (keep) chunks.push(value);
    }
  }
  const mac = hmac.digest();
  return { chunks: keep ? chunks : undefined, mac, length };
}

function signatureMatches(header: string, mac: Buffer): boolean {
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === mac.length && timingSafeEqual(given, mac);
}

export function webhookRoutes(s: RouteServices): RouteDef[] {
  const secrets = s.telemetry.secrets;
  const limits = s.config.limits;
  const slots = createSlots(limits.webhookConcurrentBodies, (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  });
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
        if (!isJsonContentType(c.req.header("content-type")))
          reject(415, "unsupported-media-type", "webhooks must be sent as application/json", "set the webhook's content type to application/json in GitHub");
        const secret = githubWebhookSecret(s.config, s.env);
        if (!secret)
          reject(
            503,
            "webhook-secret-missing",
            "no GitHub webhook secret is configured, so every delivery is refused",
            "set api.webhooks.github.secret or AICFG_GITHUB_WEBHOOK_SECRET",
          );
        const signature = c.req.header("x-hub-signature-256");
        if (!signature) reject(401, "signature-missing", "X-Hub-Signature-256 is missing", "configure the webhook's secret in GitHub");
        if (!SIGNATURE.test(signature!)) reject(401, "bad-signature", "X-Hub-Signature-256 must be sha256= and 64 lowercase hex digits");
        const name = c.req.header("x-github-event") ?? "";
        const delivery = c.req.header("x-github-delivery") ?? "";
        if (!EVENT.test(name) || !DELIVERY.test(delivery)) reject(400, "invalid-request", "X-GitHub-Event and X-GitHub-Delivery are required");
        c.set("auditTarget", `github:${delivery}`);

        const keep = PARSED_EVENTS.has(name);
        const max = name === "push" ? limits.webhookBodyBytes : Math.min(limits.webhookSmallBodyBytes, limits.webhookBodyBytes);
        const release = keep ? await slots.acquire(SLOT_WAIT_MS) : () => {};
        if (!release) {
          c.header("Retry-After", "5");
          reject(
            503,
            "busy",
            `more than ${limits.webhookConcurrentBodies} webhook bodies are being received; try again`,
            "GitHub can redeliver it from the webhook's Recent Deliveries",
          );
        }
        try {
          const body = await readSigned(c.req.raw, secret!, max, keep);
          let text = "";
          if (body === "too-large")
            reject(
              413,
              "payload-too-large",
              `the body is larger than ${max} bytes${name === "push" ? "" : ` (the limit for ${name} events)`}`,
              "GitHub caps deliveries at 25 MB; check the sender",
            );
          const signed = body as SignedBody;
          if (signed.length === 0) reject(400, "invalid-request", "the body is empty");
          if (!signatureMatches(signature!, signed.mac)) reject(401, "bad-signature", "X-Hub-Signature-256 does not match the body and the configured secret");
          if (!keep) {
            event("ignored");
            return sendJson(secrets, 200, { status: "ignored", reason: `event ${name} is not used` });
          }
          try {
            text = UTF8.decode(Buffer.concat(signed.chunks!));
          } catch {
            reject(400, "invalid-request", "the body is not valid UTF-8");
          }

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
          // The claim is on disk before anything is queued, and the runs (which carry the delivery) are
          // on disk before the 202: a crash after it leaves runs that the next start runs again.
          const claim = await s.deps.recordDelivery(delivery);
          if (!claim.process) {
            event("duplicate");
            return sendJson(secrets, 200, { status: "duplicate", reason: claim.reason });
          }
          const tp = c.req.header("traceparent");
          const actor = `github:${delivery}`;
          const runIds: string[] = [];
          try {
            // A redelivery after a failure runs the failed runs again; otherwise the push feeds the git triggers.
            for (const id of claim.retryRunIds) runIds.push(await s.deps.rerun(id, actor));
            if (claim.retryRunIds.length === 0) {
              for (const lib of targets) {
                runIds.push(
                  ...(await s.deps.notifyGitPush({
                    library: lib.name,
                    branch,
                    after,
                    deliveryId: delivery,
                    actor,
                    ...(claim.attempt > 1 ? { redelivery: true } : {}),
                    ...(tp && c.get("parent") ? { traceparent: tp } : {}),
                  })),
                );
              }
            }
          } catch (e) {
            await s.deps.forgetDelivery(delivery, claim.attempt);
            throw e;
          }
          // Outside the try: the runs are queued (and name the delivery), so the claim must stay.
          await s.deps.deliveryQueued(delivery, claim.attempt, runIds);
          const parent = c.get("parent");
          for (const id of runIds) if (parent) s.telemetry.tracing.setRunParent(id, parent);
          if (runIds[0]) c.set("runId", runIds[0]);
          event("accepted");
          return sendJson(secrets, 202, { status: "queued", runIds });
        } finally {
          release!();
        }
      },
    }),
  ];
}
