// Dashboard benchmark (not a test): the weight of each page (HTML bytes, gzip bytes for reference,
// plus the one script and stylesheet every page loads), the server's time to answer each page, and
// the time to first render in Chromium (navigation start to first-contentful-paint, medians).
// A real `aicfg daemon` on a copy of the sample library (the browser test's setup) serves it.
// Run: `npm run bench:dashboard` (or `bun bench/dashboard.ts`, `deno run -A bench/dashboard.ts`).
// Options: --rounds N (server timings per page, default 20), --renders N (browser loads per page, default 5).
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { launchChromium } from "../test/helpers/chromium.ts";
import { startDashboardDaemon } from "../test/helpers/dashboard-daemon.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "20" }, renders: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);
const renders = Number(values.renders);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

const d = await startDashboardDaemon();
const browser = await launchChromium();
try {
  // Sign in through the form, as a browser does.
  const form = await fetch(`${d.base}/ui/login`);
  const pre = /aicfg_login=([^;]+)/.exec(form.headers.getSetCookie().join("\n"))![1]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const signIn = await fetch(`${d.base}/ui/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `aicfg_login=${pre}`, origin: d.base },
    body: new URLSearchParams({ _csrf: token, credential: d.tokens.admin, next: "/ui" }),
  });
  const session = /aicfg_session=([^;]+)/.exec(signIn.headers.getSetCookie().join("\n"))![1]!;
  const cookie = `aicfg_session=${session}`;
  const overview = await (await fetch(`${d.base}/ui`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(overview)![1]!;
  // One finished run for the run page.
  await fetch(d.releaseUrl, { method: "POST" });
  const queued = await fetch(`${d.base}/ui/workflows/${d.library}/held/run`, {
    method: "POST",
    headers: { accept: "application/json", "x-csrf-token": csrf, cookie, origin: d.base },
  });
  const { url: runUrl } = (await queued.json()) as { url: string };
  for (let i = 0; i < 200; i++) {
    const text = await (await fetch(d.base + runUrl, { headers: { cookie } })).text();
    if (!/status-(queued|running)" data-run-status/.test(text)) break;
    await new Promise((res) => setTimeout(res, 50));
  }

  const pages: [string, string][] = [
    ["sign-in", "/ui/login"],
    ["overview", "/ui"],
    ["workflow", `/ui/workflows/${d.library}/held`],
    ["run", runUrl],
    ["matrix", `/ui/libraries/${d.library}/matrix`],
    ["diff", `/ui/libraries/${d.library}/diff/code-reviewer/claude-code`],
    ["health", `/ui/libraries/${d.library}/health`],
  ];
  const js = await (await fetch(`${d.base}/ui/assets/app.js`)).text();
  const css = await (await fetch(`${d.base}/ui/assets/app.css`)).text();
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${process.version}`;
  console.log(`dashboard bench on ${runtime}; the sample library (${rounds} server rounds, ${renders} browser renders per page)`);
  console.log(
    `assets on every page: app.js ${js.length} B (gzip ${gzipSync(js).length} B), app.css ${css.length} B (gzip ${gzipSync(css).length} B); no other request but the icon`,
  );
  console.log(
    ["page", "HTML", "HTML gzip", "page + assets", "server p50", "server max", "first paint p50"].map((h, i) => (i ? h.padStart(16) : h.padEnd(10))).join(""),
  );

  await browser.context.addCookies([{ name: "aicfg_session", value: session, url: `${d.base}/ui` }]);
  const page = await browser.context.newPage();
  for (const [name, path] of pages) {
    const times: number[] = [];
    let bytes = 0;
    let body = "";
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const r = await fetch(d.base + path, { headers: { cookie } });
      body = await r.text();
      times.push(performance.now() - t0);
      bytes = Buffer.byteLength(body);
    }
    const paints: number[] = [];
    for (let i = 0; i < renders; i++) {
      await page.goto(d.base + path, { waitUntil: "load" });
      paints.push(
        await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              const find = () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime;
              const at = find();
              if (at !== undefined) return resolve(at);
              new PerformanceObserver(() => {
                const t = find();
                if (t !== undefined) resolve(t);
              }).observe({ type: "paint", buffered: true });
            }),
        ),
      );
    }
    console.log(
      [
        name.padEnd(10),
        kb(bytes).padStart(16),
        kb(gzipSync(body).length).padStart(16),
        kb(bytes + js.length + css.length).padStart(16),
        `${median(times).toFixed(1)} ms`.padStart(16),
        `${Math.max(...times).toFixed(1)} ms`.padStart(16),
        `${median(paints).toFixed(0)} ms`.padStart(16),
      ].join(""),
    );
  }
} finally {
  await browser.close();
  await d.stop();
}
