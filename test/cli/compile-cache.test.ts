// The launcher keeps Node's compile cache (type-stripped, compiled modules) in a folder of this
// user, so a new `aicfg` process does not strip every source file's types again; never in a folder
// another user could write to.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const launcher = fileURLToPath(new URL("../../bin/aicfg.js", import.meta.url));
// Bun and Deno compile TypeScript themselves: the launcher only asks Node for its cache.
const g = globalThis as { Bun?: unknown; Deno?: unknown };
const onNode = !g.Bun && !g.Deno;
// The tests run the launcher with Node (the pinned one when the suite runs under Node).
const node = onNode ? process.execPath : "node";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(env: Record<string, string>): string {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("NODE_") && k !== "AICFG_NO_COMPILE_CACHE") clean[k] = v;
  return execFileSync(node, [launcher, "--version"], { env: { ...clean, ...env }, encoding: "utf8" }).trim();
}

function filesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

describe.runIf(onNode)("the launcher's compile cache", () => {
  it("is kept under XDG_CACHE_HOME/aicfg, in a folder only this user can open, and filled by a run", () => {
    const base = mkdtempSync(join(tmpdir(), "aicfg-cc-"));
    dirs.push(base);
    expect(run({ XDG_CACHE_HOME: base })).toMatch(/^\d+\.\d+\.\d+/);
    const dir = join(base, "aicfg", "node-compile-cache");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(filesUnder(dir)).toBeGreaterThan(0);
  });

  it("is not used when its folder is writable by others, nor when switched off", () => {
    const base = mkdtempSync(join(tmpdir(), "aicfg-cc-"));
    dirs.push(base);
    const dir = join(base, "aicfg", "node-compile-cache");
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(run({ XDG_CACHE_HOME: base })).toMatch(/^\d+\.\d+\.\d+/);
    expect(filesUnder(dir)).toBe(0);

    const off = mkdtempSync(join(tmpdir(), "aicfg-cc-"));
    dirs.push(off);
    expect(run({ XDG_CACHE_HOME: off, AICFG_NO_COMPILE_CACHE: "1" })).toMatch(/^\d+\.\d+\.\d+/);
    expect(existsSync(join(off, "aicfg"))).toBe(false);
  });
});
