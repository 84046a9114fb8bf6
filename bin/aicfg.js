#!/usr/bin/env node
// Launcher: runs the compiled CLI when a build exists (installed package), else the TypeScript
// sources directly (Node >= 22.18 strips types; Bun and Deno run TypeScript natively).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/daemon/cli/main.js", import.meta.url);
const entry = existsSync(fileURLToPath(built)) ? built : new URL("../src/daemon/cli/main.ts", import.meta.url);
const { runCli } = await import(entry.href);
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
