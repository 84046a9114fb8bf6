#!/usr/bin/env node
// Launcher: runs the compiled CLI when a build exists (installed package), else the TypeScript
// sources directly (Node >= 22.18 strips types; Bun and Deno run TypeScript natively).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/daemon/cli/main.js", import.meta.url);
const useBuilt = existsSync(fileURLToPath(built));
const g = globalThis;
if (!useBuilt && !g.Bun && !g.Deno) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 18)) {
    process.stderr.write(
      `aicfg needs Node.js >= 22.18 to run from source (this is ${process.version}).\n` +
        "Inside the project, 'npm ci' installs a pinned Node: use 'npm run aicfg -- …' (or install the package, which runs its compiled build).\n",
    );
    process.exit(70);
  }
}
// A closed pipe (aicfg list | head) is a normal way to stop reading, not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
const entry = useBuilt ? built : new URL("../src/daemon/cli/main.ts", import.meta.url);
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2));
