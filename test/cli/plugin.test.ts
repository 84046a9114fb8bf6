// `aicfg plugin new|add|list|remove` on a real library folder: a scaffold that loads and works, the
// pin in aicfg.lock, comments of aicfg.yaml kept, a changed file reported by `list` (exit 1), an add
// that fails rolled back, isolation and grants written as given.
import { appendFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runAction, tempDir } from "../../src/testing/index.ts";
import type { Action } from "../../src/workflows/actions/types.ts";
import { cli } from "./helpers.ts";

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

function library(): string {
  dir = tempDir("aicfg-plugin-cli-");
  const lib = join(dir.path, "lib");
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, "aicfg.yaml"), "name: demo # plugins we trust below\n");
  // aicfg installed beside the library, as `npm install ai-configurator` leaves it: plugins import it by name.
  mkdirSync(join(lib, "node_modules"));
  symlinkSync(fileURLToPath(new URL("../..", import.meta.url)), join(lib, "node_modules", "ai-configurator"));
  return lib;
}

describe("aicfg plugin", () => {
  it("new scaffolds a working action plugin; add pins it; list loads it; a changed file fails list; remove takes it out", async () => {
    const lib = library();
    expect((await cli(["plugin", "new", "aicfg-plugin-hello", "--dir", "plugins"], { cwd: lib })).code).toBe(0);
    const root = join(lib, "plugins", "aicfg-plugin-hello");
    expect(existsSync(join(root, "test", "hello.test.ts"))).toBe(true);
    const mod = (await import(pathToFileURL(join(root, "index.ts")).href)) as { helloAction: Action };
    const r = await runAction(mod.helloAction, { with: { who: "team" } });
    expect(readFileSync(String(r.outputs.path), "utf8")).toBe("hello, team\n");
    r.cleanup();

    const add = await cli(["plugin", "add", "./plugins/aicfg-plugin-hello", "--json"], { cwd: lib });
    expect(add.code).toBe(0);
    expect(add.json()).toMatchObject({
      spec: "./plugins/aicfg-plugin-hello",
      plugin: { name: "aicfg-plugin-hello", version: "0.1.0", provides: { actions: ["hello"] } },
      files: 3,
    });
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toBe("name: demo # plugins we trust below\nplugins:\n  - ./plugins/aicfg-plugin-hello\n");
    const lock = JSON.parse(readFileSync(join(lib, "aicfg.lock"), "utf8"));
    expect(Object.keys(lock.plugins["./plugins/aicfg-plugin-hello"].files)).toEqual(["index.ts", "package.json", "test/hello.test.ts"]);

    const list = await cli(["plugin", "list", "--json"], { cwd: lib });
    expect(list.code).toBe(0);
    expect(list.json().loaded).toMatchObject([{ name: "aicfg-plugin-hello", provides: { actions: ["hello"] } }]);

    appendFileSync(join(root, "index.ts"), "// edited\n");
    const changed = await cli(["plugin", "list"], { cwd: lib });
    expect(changed.code).toBe(1);
    expect(changed.out).toContain(`✗ ./plugins/aicfg-plugin-hello: ${join(root, "index.ts")}: changed since 'aicfg plugin add' pinned it`);
    expect(changed.out).toContain("aicfg plugin add ./plugins/aicfg-plugin-hello");
    // Re-adding after review pins the new bytes.
    expect((await cli(["plugin", "add", "./plugins/aicfg-plugin-hello"], { cwd: lib })).out).toContain("re-pinned aicfg-plugin-hello 0.1.0");
    expect((await cli(["plugin", "list"], { cwd: lib })).code).toBe(0);

    expect((await cli(["plugin", "remove", "./plugins/aicfg-plugin-hello"], { cwd: lib })).code).toBe(0);
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toBe("name: demo # plugins we trust below\n");
    expect(JSON.parse(readFileSync(join(lib, "aicfg.lock"), "utf8")).plugins).toBeUndefined();
  });

  it("add writes isolation and the grant; a plugin that does not load is not added and nothing changes", async () => {
    const lib = library();
    await cli(["plugin", "new", "aicfg-plugin-tick", "--kind", "trigger", "--dir", "plugins"], { cwd: lib });
    const ok = await cli(["plugin", "add", "./plugins/aicfg-plugin-tick", "--isolation", "process", "--grant-write", "out"], { cwd: lib });
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("runs out of process, may write: out");
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toContain(
      "  - use: ./plugins/aicfg-plugin-tick\n    isolation: process\n    grant:\n      write:\n        - out\n",
    );

    await cli(["plugin", "new", "aicfg-plugin-broken", "--dir", "plugins"], { cwd: lib });
    const entry = join(lib, "plugins", "aicfg-plugin-broken", "index.ts");
    writeFileSync(entry, readFileSync(entry, "utf8").replace('apiVersion: "aicfg/v1"', 'apiVersion: "aicfg/v2"'));
    const yamlBefore = readFileSync(join(lib, "aicfg.yaml"), "utf8");
    const lockBefore = readFileSync(join(lib, "aicfg.lock"), "utf8");
    const bad = await cli(["plugin", "add", "./plugins/aicfg-plugin-broken"], { cwd: lib });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${entry}:`);
    expect(bad.err).toContain('apiVersion: this aicfg loads plugins of "aicfg/v1", the plugin says "aicfg/v2"');
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toBe(yamlBefore);
    expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockBefore);

    expect((await cli(["plugin", "new", "not-a-plugin-name"], { cwd: lib })).code).toBe(2);
    expect((await cli(["plugin", "remove", "./nope"], { cwd: lib })).err).toContain("plugins: has no entry ./nope");
  });

  it("validate knows a plugin's trigger only once the plugin is listed, and checks its inputs with the file position", async () => {
    const lib = library();
    mkdirSync(join(lib, "workflows"));
    writeFileSync(
      join(lib, "workflows", "poll.yaml"),
      'name: poll\non:\n  triggers:\n    - uses: http-poll\n      with: { url: "ftp://example.invalid/", every: 5s }\nsteps:\n  - id: v\n    uses: validate\n',
    );
    const before = await cli(["validate"], { cwd: lib });
    expect(before.code).toBe(1);
    expect(before.out + before.err).toContain("workflows/poll.yaml:4:13  error: on.triggers[0].uses: no plugin provides a trigger 'http-poll'");
    const plugin = fileURLToPath(new URL("../../examples/plugins/aicfg-plugin-http-poll", import.meta.url));
    expect((await cli(["plugin", "add", plugin], { cwd: lib })).code).toBe(0);
    const after = await cli(["validate"], { cwd: lib });
    expect(after.code).toBe(1);
    expect(after.out + after.err).toMatch(/workflows\/poll\.yaml:5:\d+ {2}error: on\.triggers\.0\.with\.url: /);
  });
});
