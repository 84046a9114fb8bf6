#!/usr/bin/env node
// Launcher: runs the TypeScript sources in a checkout (Node >= 22.18 strips types; Bun and Deno run
// TypeScript natively) and the compiled build (dist/, made by `npm pack`) where sources cannot run:
// an installed package (Node does not strip types under node_modules) or an image without src/.
// A checkout never runs dist/, so a stale build can never hide an edit to src/.
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import nodeModule from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// An export fsyncs its files in parallel through libuv's thread pool (src/adapters/atomic.ts): with
// the default 4 threads a cold export of 10,000 files waited on the disk most of its time (11.1 s
// against 7.6 s with 32 threads, bench:peer). The pool starts at its first use, later than this line; a
// size the user set is kept.
process.env.UV_THREADPOOL_SIZE ||= "32";

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
// Node's compile cache keeps the type-stripped and compiled modules between runs: without it every
// `aicfg` process spends more time stripping types than a no-op export takes. It lives in a folder
// of this user (never the shared temp folder, where another user could plant code), made 0700, and is
// used only when that folder is a real one owned by this user and writable by nobody else.
// AICFG_NO_COMPILE_CACHE=1 (or Node's own NODE_DISABLE_COMPILE_CACHE=1) switches it off.
if (!g.Bun && !g.Deno && typeof nodeModule.enableCompileCache === "function" && !process.env.AICFG_NO_COMPILE_CACHE) {
  try {
    const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), ".cache");
    const dir = join(base, "aicfg", "node-compile-cache");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const mine = typeof process.getuid !== "function" || st.uid === process.getuid();
    if (st.isDirectory() && mine && (process.platform === "win32" || (Number(st.mode) & 0o022) === 0)) nodeModule.enableCompileCache(dir);
  } catch {
    // No cache folder (read-only home, ...): the sources are compiled in memory as before.
  }
}
// A closed pipe (aicfg list | head) is a normal way to stop reading, not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
// A plugin imports aicfg by name (`ai-configurator/plugin`): package.json's exports send that to the
// build (dist/) unless the `aicfg-source` condition is on, which a checkout running its sources
// turns on here (Node; Bun reads src/ through its own condition; Deno takes --conditions=aicfg-source),
// so a plugin gets the same modules as the aicfg that loads it.
if (!useBuilt && !g.Bun && !g.Deno && typeof nodeModule.registerHooks === "function") {
  nodeModule.registerHooks({
    resolve: (specifier, context, next) =>
      next(specifier, specifier.startsWith("ai-configurator/") ? { ...context, conditions: [...context.conditions, "aicfg-source"] } : context),
  });
}
const { runCli } = await import((useBuilt ? built : source).href);
process.exitCode = await runCli(process.argv.slice(2));
