// The package as users get it: `npm pack` on a copy of the checkout builds dist/ into the tarball
// and leaves no dist/ behind; a checkout runs src/ even beside a stale dist/; the tarball, unpacked
// where npm installs it (a node_modules folder), runs its compiled build without src/. Plus the
// metadata the docs promise: LICENSE shipped, engines at least what every dependency needs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../../src/daemon/version.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  name: string;
  version: string;
  files: string[];
  engines: { node: string };
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const nodeModules = realpathSync(join(repo, "node_modules"));
const npm = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? [nodeBin(), process.env.npm_execpath] : ["npm"];

function run(cmd: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  // The pinned node first on PATH, so npm's scripts (prepack: tsc) and the launcher run on it.
  const env = { ...process.env, PATH: `${join(nodeModules, ".bin")}:${process.env.PATH ?? ""}`, NO_COLOR: "1", npm_config_update_notifier: "false" };
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, env, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: { path: string; cleanup: () => void };
let checkout: string;
let tarball: string;
let packed: { files: Array<{ path: string }> };
beforeAll(() => {
  tmp = tempDir("aicfg-pack-");
  // A copy of the checkout (what `files` ships plus the build config), so packing never writes into
  // the repository the other tests read.
  checkout = join(tmp.path, "checkout");
  mkdirSync(checkout);
  for (const entry of [...pkg.files, "package.json", "tsconfig.json", "tsconfig.build.json"]) {
    if (existsSync(join(repo, entry)) && entry !== "dist") cpSync(join(repo, entry), join(checkout, entry), { recursive: true });
  }
  symlinkSync(nodeModules, join(checkout, "node_modules"));
  const out = join(tmp.path, "packed");
  mkdirSync(out);
  const r = run([...npm, "pack", "--json", "--pack-destination", out], checkout);
  expect(r.status, r.stderr).toBe(0);
  packed = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!;
  tarball = join(out, `${pkg.name}-${pkg.version}.tgz`);
}, 180_000);
afterAll(() => tmp.cleanup());

describe("npm pack", () => {
  it("ships the compiled build, the sources, LICENSE and the launcher, and leaves no dist/ in the checkout", () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ["LICENSE", "bin/aicfg.js", "dist/daemon/cli/main.js", "dist/daemon/cli/commands/export.js", "src/daemon/cli/main.ts", "README.md"])
      expect(paths, p).toContain(p);
    expect(existsSync(tarball)).toBe(true);
    expect(existsSync(join(checkout, "dist"))).toBe(false);
  });

  it("a checkout runs its sources even when a stale dist/ sits beside them", () => {
    mkdirSync(join(checkout, "dist", "daemon", "cli"), { recursive: true });
    writeFileSync(join(checkout, "dist", "daemon", "cli", "main.js"), 'export async function runCli() { console.log("stale build"); return 0; }\n');
    const version = join(checkout, "src", "daemon", "version.ts");
    writeFileSync(version, readFileSync(version, "utf8").replace(`VERSION = "${VERSION}"`, 'VERSION = "9.9.9-edited"'));
    const r = run([nodeBin(), join(checkout, "bin", "aicfg.js"), "--version"], tmp.path);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("9.9.9-edited");
  });

  it("the tarball, installed into a node_modules folder, runs its compiled build (no src/ needed)", () => {
    // Where `npm install -g --prefix P` puts it: P/lib/node_modules/<name>. Its dependencies are
    // the repository's (same lockfile), linked instead of downloaded so the test runs offline.
    const prefix = join(tmp.path, "prefix");
    mkdirSync(join(prefix, "lib", "node_modules"), { recursive: true });
    const x = run(["tar", "-xzf", tarball, "-C", join(prefix, "lib", "node_modules")], tmp.path);
    expect(x.status, x.stderr).toBe(0);
    const installed = join(prefix, "lib", "node_modules", pkg.name);
    renameSync(join(prefix, "lib", "node_modules", "package"), installed);
    symlinkSync(nodeModules, join(installed, "node_modules"));
    rmSync(join(installed, "src"), { recursive: true });
    const launcher = join(installed, "bin", "aicfg.js");
    const v = run([nodeBin(), launcher, "-V"], tmp.path);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);
    const list = run([nodeBin(), launcher, "list", "--library", join(installed, "examples", "library"), "--json"], tmp.path);
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((a) => a.name)).toContain("code-reviewer");
    expect(readdirSync(installed)).not.toContain("src");
  });
});

describe("package metadata", () => {
  it("declares MIT and ships the LICENSE text", () => {
    expect(pkg.files).toContain("LICENSE");
    const text = readFileSync(join(repo, "LICENSE"), "utf8");
    expect(text.split("\n")[0]).toBe("MIT License");
    expect(text).toContain("Copyright (c) 2026 AI Configurator contributors");
  });

  it("engines.node is at least every runtime dependency's minimum Node", () => {
    const min = (range: string): [number, number] => {
      // The lowest version a range admits: its last `>=` bound (ranges like "^18.19.0 || >=20.6.0").
      const bounds = [...range.matchAll(/>=?\s*(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2] ?? 0)] as [number, number]);
      return bounds.at(-1) ?? [0, 0];
    };
    const ours = min(pkg.engines.node);
    const needs: string[] = [];
    for (const dep of Object.keys(pkg.dependencies)) {
      const engines = (JSON.parse(readFileSync(join(nodeModules, dep, "package.json"), "utf8")) as { engines?: { node?: string } }).engines;
      if (!engines?.node) continue;
      const [major, minor] = min(engines.node);
      if (major > ours[0] || (major === ours[0] && minor > ours[1])) needs.push(`${dep} needs ${engines.node}`);
    }
    expect(needs).toEqual([]);
    expect(pkg.engines.node).toBe(">=22.22");
  });

  it("the docs install what exists, with the Node the package needs, and never parse npm's banner", () => {
    const docs = [
      "README.md",
      ...readdirSync(join(repo, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const problems: string[] = [];
    const [, major, minor] = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node)!;
    for (const doc of docs) {
      readFileSync(join(repo, doc), "utf8")
        .split("\n")
        .forEach((line, i) => {
          const where = `${doc}:${i + 1}`;
          // Not on the registry: installing it by name fails.
          if (/npm (install|i) (-g |--global )?ai-configurator\b/.test(line) && !/fails/.test(line))
            problems.push(`${where}: installs the unpublished package by name`);
          // `npm run` prints "> ai-configurator@… aicfg" on stdout first unless -s/--silent.
          if (/npm run (?!-s |--silent )aicfg/.test(line) && /--json|\| *jq/.test(line)) problems.push(`${where}: parses 'npm run aicfg' output without -s`);
          // A requirement: "Node (>= X.Y)" or "Node.js X.Y or later".
          for (const m of line.matchAll(/Node(?:\.js)? (?:\(>= ?(\d+)\.(\d+)\)|(\d+)\.(\d+) or later)/g)) {
            const [got1, got2] = m[1] ? [m[1], m[2]] : [m[3], m[4]];
            if (got1 !== major || got2 !== minor) problems.push(`${where}: says Node ${got1}.${got2}, engines say ${pkg.engines.node}`);
          }
        });
    }
    expect(problems).toEqual([]);
    expect(readFileSync(join(repo, "README.md"), "utf8")).toContain(`Runs on Node (>= ${major}.${minor}), Bun and Deno.`);
  });
});
