// `notify`: POSTs a JSON summary of the run to a URL, signed with HMAC-SHA256 over the exact body
// bytes (header `X-Aicfg-Signature-256: sha256=<hex>`), like GitHub signs its webhooks. The secret
// comes from an environment variable, never from the workflow file.
import { createHmac } from "node:crypto";
import { z } from "zod";
import { timeoutSignal } from "../clock.ts";
import { parseDuration, Duration } from "../duration.ts";
import { ActionError, defineAction } from "./types.ts";

export const SIGNATURE_HEADER = "x-aicfg-signature-256";

const NotifyWith = z.strictObject({
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL"),
  secret_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .describe("name of the environment variable holding the HMAC secret"),
  message: z.string().max(4000).optional().describe("free text added to the summary"),
  timeout: Duration.optional().describe("default 10s"),
});

function signBody(secret: string, body: string | Uint8Array): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

export const notifyAction = defineAction({
  name: "notify",
  description: "POST a signed JSON summary of the run to a URL",
  with: NotifyWith,
  run: async (input, ctx) => {
    const summary = {
      library: ctx.libraryName,
      workflow: ctx.run.workflow,
      run_id: ctx.run.id,
      status: ctx.status(),
      trigger: ctx.trigger.kind,
      started_at: new Date(ctx.run.startedAt).toISOString(),
      sent_at: new Date(ctx.now()).toISOString(),
      steps: ctx.steps().map((s) => ({ id: s.id, uses: s.uses, status: s.status, ...(s.error ? { error: s.error } : {}) })),
      ...(input.message ? { message: input.message } : {}),
    };
    const body = JSON.stringify(summary);
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "aicfg-daemon" };
    if (input.secret_env) {
      const secret = ctx.settings.env[input.secret_env];
      if (!secret) {
        throw new ActionError("missing-secret", `environment variable ${input.secret_env} is not set or not allowed`, {
          retryable: false,
          hint: "set it in the daemon's environment and list it under env_allowlist in daemon.yaml",
        });
      }
      headers[SIGNATURE_HEADER] = signBody(secret, body);
    }
    const timeout = timeoutSignal(ctx.clock, input.timeout ? parseDuration(input.timeout) : 10_000);
    let res: Response;
    try {
      res = await fetch(input.url, { method: "POST", body, headers, signal: AbortSignal.any([ctx.signal, timeout.signal]), redirect: "manual" });
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      throw new ActionError("notify-unreachable", `POST ${new URL(input.url).origin} failed: ${(e as Error).message}`, { retryable: true });
    } finally {
      timeout.cancel();
    }
    if (res.status < 200 || res.status >= 300) {
      throw new ActionError("notify-rejected", `POST ${new URL(input.url).origin} answered ${res.status}`, {
        retryable: res.status >= 500 || res.status === 429,
      });
    }
    return { outputs: { status: res.status, bytes: body.length } };
  },
});
