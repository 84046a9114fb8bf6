// The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
// `aicfg daemon` child process. Sign-in through the form, every page loaded (a screenshot of each
// in artifacts/screenshots/), run-now -> running -> success seen through SSE without a reload, a
// viewer refused, XSS payloads inert, keyboard navigation, reading without JavaScript, and not one
// console error or CSP violation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.ts";
import { startDashboardDaemon, XSS_DESC, XSS_NAME, type DashboardDaemon } from "../helpers/dashboard-daemon.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const SHOTS = process.env.AICFG_SCREENSHOTS ?? join(repo, "artifacts", "screenshots");
const runtime = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno ? "deno" : (globalThis as { Bun?: unknown }).Bun ? "bun" : "node";

let d: DashboardDaemon;
let browser: { context: BrowserContext; close: () => Promise<void> };
const problems: string[] = [];

function watch(page: Page): void {
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${runtime}-${name}.png`), fullPage: true });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${d.base}/ui`);
  await page.waitForURL(/\/ui\/login/);
  await page.fill("#credential", token);
  await Promise.all([page.waitForURL(`${d.base}/ui`), page.press("#credential", "Enter")]);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  d = await startDashboardDaemon();
  browser = await launchChromium();
  // CSP violations as the page sees them (an init script runs outside the page's CSP).
  await browser.context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await d?.stop();
}, 30_000);

describe(`the dashboard in Chromium (daemon and driver on ${runtime})`, () => {
  it("signs in with the keyboard and loads the overview", async () => {
    const page = await browser.context.newPage();
    watch(page);
    await page.goto(`${d.base}/ui`);
    await page.waitForURL(/\/ui\/login\?next=%2Fui/);
    await shot(page, "login");
    // The token field is focused and labelled; Tab goes on to the button.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("credential");
    expect(await page.textContent("label[for=credential]")).toBe("API token or OIDC token");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Sign in");
    await page.fill("#credential", d.tokens.editor);
    await Promise.all([page.waitForURL(`${d.base}/ui`), page.press("#credential", "Enter")]);
    expect(await page.textContent("h1")).toBe("Overview");
    expect(await page.locator("svg#timeline").count()).toBe(1);
    // Keyboard: the first Tab reaches the skip link, Enter moves focus to the content.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === "aicfg_session")!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Strict");
    expect(await page.evaluate(() => document.cookie)).not.toContain("aicfg_session");
    await shot(page, "overview");
    await page.close();
  }, 60_000);

  it("run now: the new run goes queued -> running -> success through SSE, without a reload", async () => {
    const page = await browser.context.newPage();
    watch(page);
    await page.goto(`${d.base}/ui/workflows/${d.library}/held`);
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    await page.click("button:has-text('Run now')");
    const row = page.locator("#runs tbody tr").first();
    const status = row.locator("[data-field=status]");
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("running");
    await shot(page, "workflow-running");
    await fetch(d.releaseUrl, { method: "POST" });
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe("success");
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await page.textContent("#live")).toMatch(/finished: success/);
    await shot(page, "workflow");
    // The run page: steps and log, read from the server.
    await row.locator("a").click();
    await page.waitForURL(/\/ui\/runs\//);
    expect(await page.locator("#steps tbody tr").count()).toBe(2);
    expect(await page.textContent("#log")).toContain("run finished: success");
    await shot(page, "run");
    await page.close();
  }, 60_000);

  it("the run page follows a running run's log and outcome live", async () => {
    const page = await browser.context.newPage();
    watch(page);
    const res = await page.request.post(`${d.base}/ui/workflows/${d.library}/health-report/run`, {
      headers: { accept: "application/json", "x-csrf-token": await csrfOf(page), origin: d.base },
      form: {},
    });
    expect(res.status()).toBe(202);
    const { url } = (await res.json()) as { url: string };
    await page.goto(d.base + url);
    await expect.poll(() => page.textContent("[data-run-status]"), { timeout: 15_000 }).toBe("success");
    await expect.poll(() => page.textContent("#log"), { timeout: 15_000 }).toContain("run finished: success");
    await page.close();
  }, 60_000);

  it("the matrix, a diff and the health charts show XSS payloads as inert text", async () => {
    // After the initial export to the sandbox every cell is fresh; the probe's exported file removed, its cell is stale and its diff the whole file.
    await d.exported();
    rmSync(join(d.sandbox, ".claude", "agents", "xss-probe.md"));
    const page = await browser.context.newPage();
    watch(page);
    await page.goto(`${d.base}/ui/libraries/${d.library}/matrix`);
    expect(await page.textContent("table.matrix")).toContain(XSS_NAME);
    expect(await page.locator("td.cell-stale").count()).toBe(1);
    expect(await page.locator("td.cell-fresh").count()).toBeGreaterThan(0);
    await shot(page, "matrix");
    await page.click(`table.matrix a[href="/ui/libraries/${d.library}/diff/xss-probe/claude-code"]`);
    await page.waitForURL(/\/diff\//);
    expect(await page.locator("pre.diff").count()).toBeGreaterThan(0);
    expect(await page.textContent("main")).toContain(d.sandbox);
    await shot(page, "diff");
    await page.goto(`${d.base}/ui/libraries/${d.library}/health`);
    expect(await page.locator("svg.chart").count()).toBeGreaterThanOrEqual(4);
    const text = (await page.textContent("main")) ?? "";
    expect(text).toContain(XSS_NAME);
    expect(text).toContain(XSS_DESC);
    await shot(page, "health");
    await page.goto(`${d.base}/ui/libraries/${d.library}/diff/xss-probe/claude-code`);
    expect(await page.textContent("pre.diff")).toContain("<script>window.__xss=4</script>");
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator("img[src=x]").count()).toBe(0);
    await page.close();
  }, 60_000);

  it("a viewer sees the workflow but no run button, and a forged run is refused", async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    watch(page);
    await signIn(page, d.tokens.viewer);
    await page.goto(`${d.base}/ui/workflows/${d.library}/held`);
    expect(await page.locator("button:has-text('Run now')").count()).toBe(0);
    expect(await page.textContent("main")).toContain("can read this workflow but not run it");
    // A forged run with the viewer's own session and CSRF token (sent outside the page: a refused
    // fetch in the page would log a console error, which the last test counts).
    const forged = await page.request.post(`${d.base}/ui/workflows/${d.library}/held/run`, {
      headers: { accept: "application/json", "x-csrf-token": await csrfOf(page), origin: d.base },
      form: {},
    });
    expect(forged.status()).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    await shot(page, "viewer-workflow");
    await page.close();
  }, 60_000);

  it("reads without JavaScript", async () => {
    const noJs = await launchChromium({ javaScriptEnabled: false });
    try {
      const page = await noJs.context.newPage();
      await page.goto(`${d.base}/ui/login`);
      await page.fill("#credential", d.tokens.viewer);
      await Promise.all([page.waitForURL(`${d.base}/ui`), page.click("button[type=submit]")]);
      expect(await page.textContent("h1")).toBe("Overview");
      await page.goto(`${d.base}/ui/libraries/${d.library}/health`);
      expect(await page.locator("svg.chart").count()).toBeGreaterThanOrEqual(4);
      await shot(page, "health-nojs");
    } finally {
      await noJs.close();
    }
  }, 60_000);

  it("had no console error and no CSP violation on any page", () => {
    expect(problems).toEqual([]);
  });
});

async function csrfOf(page: Page): Promise<string> {
  if (!page.url().startsWith(d.base)) await page.goto(`${d.base}/ui`);
  return (await page.getAttribute('meta[name="csrf-token"]', "content")) ?? "";
}
