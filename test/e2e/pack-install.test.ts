// An installed plugin package imports aicfg's public API by name: `npm pack` this repo, unpack the
// tarball into a fresh project's node_modules (offline: aicfg's dependencies are links to this
// checkout's real folders, a linked layout like pnpm's), add a plugin package there, and on Node (which strips no types under node_modules)
// import `ai-configurator/plugin` and `ai-configurator/testing` through package.json `exports`: they
// resolve to the build (dist/, with its .d.ts), the plugin's action runs under the test kit's
// runAction, and the checkout is left without a dist/ that would shadow src/.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../src/testing/index.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const NODE = join(REPO, "node_modules", ".bin", "node");
const dir = tempDir("aicfg-pack-install-");
afterAll(() => dir.cleanup());

const PLUGIN_JS = `import { defineAction, definePlugin, z } from "ai-configurator/plugin";
export const helloAction = defineAction({
  name: "hello",
  description: "writes a greeting",
  with: z.object({ to: z.string() }),
  run: async (input, ctx) => {
    const path = await ctx.fs.writeFile("hello.txt", "hello " + input.to + "\\n");
    return { outputs: { path, at: ctx.clock.now() } };
  },
});
export default definePlugin({
  apiVersion: "aicfg/v1",
  name: "aicfg-plugin-hello",
  version: "1.0.0",
  setup(ctx) { ctx.actions.register(helloAction); },
});
`;

const CHECK_MJS = `import plugin, { helloAction } from "aicfg-plugin-hello";
import { createManualClock, runAction } from "ai-configurator/testing";
import { SUPPORTED_API_VERSIONS } from "ai-configurator/plugin";
const r = await runAction(helloAction, { with: { to: "world" }, clock: createManualClock(1700000000000) });
const { readFileSync } = await import("node:fs");
console.log(JSON.stringify({
  name: plugin.name,
  api: SUPPORTED_API_VERSIONS,
  resolved: { plugin: import.meta.resolve("ai-configurator/plugin"), testing: import.meta.resolve("ai-configurator/testing") },
  outputs: r.outputs,
  text: readFileSync(r.outputs.path, "utf8"),
}));
r.cleanup();
`;

describe("an installed plugin package", () => {
  it("imports ai-configurator's public API from a packed tarball on Node, through exports, from dist/", () => {
    const hadDist = existsSync(join(REPO, "dist"));
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", dir.path], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
    ) as { filename: string; files: { path: string }[] }[];
    // prepack builds dist/ for the tarball, postpack removes it again: src/ edits are never shadowed.
    expect(existsSync(join(REPO, "dist"))).toBe(hadDist);
    const files = new Set(packed[0]!.files.map((f) => f.path));
    for (const f of ["dist/workflows/plugins/index.js", "dist/workflows/plugins/index.d.ts", "dist/testing/index.js", "dist/testing/index.d.ts"])
      expect(files.has(f), f).toBe(true);

    const project = join(dir.path, "project");
    const nm = join(project, "node_modules");
    const pkgDir = join(nm, "ai-configurator");
    mkdirSync(pkgDir, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir.path, packed[0]!.filename), "-C", pkgDir, "--strip-components=1"]);
    // aicfg's dependencies (and the test kit's peers), as an offline install would place them.
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]) {
      mkdirSync(dirname(join(nm, dep)), { recursive: true });
      symlinkSync(realpathSync(join(REPO, "node_modules", dep)), join(nm, dep));
    }
    const plugin = join(nm, "aicfg-plugin-hello");
    mkdirSync(plugin);
    writeFileSync(
      join(plugin, "package.json"),
      JSON.stringify({
        name: "aicfg-plugin-hello",
        version: "1.0.0",
        type: "module",
        exports: "./index.js",
        engines: { aicfg: ">=0.1 <1" },
        peerDependencies: { "ai-configurator": "*" },
      }),
    );
    writeFileSync(join(plugin, "index.js"), PLUGIN_JS);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "project", private: true, type: "module" }));
    writeFileSync(join(project, "check.mjs"), CHECK_MJS);

    const r = spawnSync(NODE, ["check.mjs"], { cwd: project, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; api: string[]; resolved: Record<string, string>; outputs: { path: string; at: number }; text: string };
    expect(out).toMatchObject({ name: "aicfg-plugin-hello", api: ["aicfg/v1"], outputs: { at: 1700000000000 }, text: "hello world\n" });
    expect(out.resolved.plugin).toBe(`file://${pkgDir}/dist/workflows/plugins/index.js`);
    expect(out.resolved.testing).toBe(`file://${pkgDir}/dist/testing/index.js`);

    // The installed aicfg (from dist/) loads the plugin package by name, in process and out of process.
    writeFileSync(join(project, "aicfg.yaml"), "name: p\n");
    const aicfg = (...args: string[]) =>
      spawnSync(NODE, [join(pkgDir, "bin", "aicfg.js"), ...args], { cwd: project, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
    const add = aicfg("plugin", "add", "aicfg-plugin-hello", "--isolation", "process", "--grant-write", "out");
    expect(add.stderr).toBe("");
    expect(add.status).toBe(0);
    const list = aicfg("plugin", "list", "--json");
    expect(list.status).toBe(0);
    const listed = JSON.parse(list.stdout) as { builtin: { provides: { triggers: number } }; loaded: { name: string; provides: { actions: string[] } }[] };
    expect(listed.builtin.provides.triggers).toBe(5);
    expect(listed.loaded).toMatchObject([{ name: "aicfg-plugin-hello", provides: { actions: ["hello"] } }]);
  });
});
