// aicfg-plugin-http-poll: a trigger (`on.triggers: [{ uses: http-poll, with: { url, every } }]`) that
// polls a URL with a conditional GET (If-None-Match with the last ETag; RFC 9110 §13.1.2), and starts
// a run when the resource changed: a new ETag, or, for a server that sends none, a new body digest.
// The last value seen is kept in the trigger's state, so a restarted daemon does not fire again for
// a change it already saw. The first poll only records the value (unless `fire_on_start`). A failed
// poll is logged and retried at the next interval; the trigger never throws out of its loop.
import { createHash } from "node:crypto";
import { defineTrigger, definePlugin, sleep, z } from "ai-configurator/plugin";

const UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function intervalMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a duration like 30s, 5m or 1h`);
  return Number(m[1]) * UNIT[m[2] as keyof typeof UNIT];
}

export const httpPollTrigger = defineTrigger({
  id: "http-poll",
  description: "start a run when a URL's ETag (or body) changes",
  with: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).describe("the URL to poll (http or https)"),
    every: z
      .string()
      .regex(/^\d+(ms|s|m|h)$/, "must be a duration like 30s, 5m or 1h")
      .refine((s) => intervalMs(s) >= 1000, "must be at least 1s")
      .default("60s"),
    fire_on_start: z.boolean().default(false).describe("also fire on the first value seen (default: only record it)"),
    timeout: z
      .string()
      .regex(/^\d+(ms|s|m)$/)
      .default("10s"),
  }),
  start: async ({ with: w, emit, state, clock, signal, log }) => {
    const every = intervalMs(w.every);
    const timeout = intervalMs(w.timeout);
    const poll = async () => {
      const seen = (await state.get()) as { etag?: string; digest?: string } | undefined;
      const ctrl = new AbortController();
      const cancel = clock.setTimer(timeout, () => ctrl.abort(new Error(`no answer within ${w.timeout}`)));
      const onStop = () => ctrl.abort(new Error("stopped"));
      signal.addEventListener("abort", onStop, { once: true });
      try {
        const res = await fetch(w.url, { headers: seen?.etag ? { "if-none-match": seen.etag } : {}, signal: ctrl.signal, redirect: "follow" });
        if (res.status === 304) {
          await res.body?.cancel();
          return;
        }
        if (!res.ok) {
          await res.body?.cancel();
          log("warn", `GET ${w.url}: HTTP ${res.status}; trying again in ${w.every}`);
          return;
        }
        const etag = res.headers.get("etag") ?? undefined;
        const body = new Uint8Array(await res.arrayBuffer());
        const digest = etag ? undefined : createHash("sha256").update(body).digest("hex");
        const same = etag ? etag === seen?.etag : digest === seen?.digest;
        if (same) return;
        await state.set({ ...(etag ? { etag } : {}), ...(digest ? { digest } : {}), seenAt: new Date(clock.now()).toISOString() });
        if (seen || w.fire_on_start)
          await emit({ url: w.url, status: res.status, ...(etag ? { etag } : { digest }), previous: seen?.etag ?? seen?.digest ?? null });
      } catch (e) {
        if (!signal.aborted) log("warn", `GET ${w.url} failed: ${(e as Error).message}; trying again in ${w.every}`);
      } finally {
        cancel();
        signal.removeEventListener("abort", onStop);
      }
    };
    const loop = (async () => {
      while (!signal.aborted) {
        await poll();
        try {
          await sleep(clock, every, signal);
        } catch {
          return;
        }
      }
    })();
    return { stop: () => loop };
  },
});

export default definePlugin({
  apiVersion: "aicfg/v1",
  name: "aicfg-plugin-http-poll",
  version: "1.0.0",
  setup(ctx) {
    ctx.triggers.register(httpPollTrigger);
  },
});
