#!/usr/bin/env node
// Launcher: runs the TypeScript sources in a checkout (Node >= 22.18 strips types; Bun and Deno run
// TypeScript natively) and the compiled build (dist/, made by `npm pack`) where sources cannot run:
// an installed package (Node does not strip types under node_modules) or an image without src/.
// A checkout never runs dist/, so a stale build can never hide an edit to src/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MIN_NODE = [22, 22];
const source = new URL("../src/daemon/cli/main.ts", import.meta.url);
const built = new URL("../dist/daemon/cli/main.js", import.meta.url);
const installed = /[\\/]node_modules[\\/]/.test(fileURLToPath(import.meta.url));
const useBuilt = existsSync(fileURLToPath(built)) && (installed || !existsSync(fileURLToPath(source)));
const g = globalThis;
if (!g.Bun && !g.Deno) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    process.stderr.write(
      `aicfg needs Node.js >= ${MIN_NODE.join(".")} (this is ${process.version}).\n` +
        "Inside the project, 'npm ci' installs a pinned Node: use 'npx aicfg …' or 'npm run -s aicfg -- …'.\n",
    );
    process.exit(70);
  }
}
// A closed pipe (aicfg list | head) is a normal way to stop reading, not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
const { runCli } = await import((useBuilt ? built : source).href);
process.exitCode = await runCli(process.argv.slice(2));
