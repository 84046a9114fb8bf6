// Debian's Chromium driven by playwright-core (no browser download): the launch flags that keep it
// off the network (no background networking, component updates, sync or QUIC) and a fresh profile.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, LaunchOptions } from "playwright-core";

const CHROMIUM = process.env.AICFG_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with its own new profile folder; `close` removes the folder. */
export async function launchChromium(opts: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does`);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "aicfg-chromium-"));
  const launch: LaunchOptions = { executablePath: CHROMIUM, headless: true, args: FLAGS };
  const context = await chromium.launchPersistentContext(profile, {
    ...launch,
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
