// The plugin host's refusals, each with the file, the field and what to do, and the daemon starting
// without the refused plugin (and /readyz saying why): wrong apiVersion, engines.aicfg not matching,
// a file changed since it was pinned, no pin, a setup that throws. Isolated plugins: a write outside
// the grant is refused by the daemon (ctx.fs) and, under Node and Deno, by the child's permissions.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runtimeName } from "../../src/daemon/version.ts";
import { loadPlugins } from "../../src/daemon/plugins/host.ts";
import { actionRegistry } from "../../src/workflows/actions/index.ts";
import { pinPlugins, startTestDaemon, type TestDaemon } from "../../src/testing/index.ts";

const FIX = fileURLToPath(new URL("../fixtures/plugins/", import.meta.url));
const SAMPLE = fileURLToPath(new URL("../../examples/plugins/aicfg-plugin-token-budget/", import.meta.url));

let d: TestDaemon | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await d?.stop();
  d = undefined;
  for (const x of dirs.splice(0)) rmSync(x, { recursive: true, force: true });
});
const temp = () => {
  const p = mkdtempSync(join(tmpdir(), "aicfg-plugins-"));
  dirs.push(p);
  return p;
};

type Ready = { status: string; checks: Record<string, { status: string; output?: string }[]> };
const readyz = async (t: TestDaemon) => (await (await t.request("/readyz")).json()) as Ready;

describe("plugins the host refuses", () => {
  it("wrong apiVersion: the file, the line of the field and what to do; the daemon starts without it", async () => {
    d = await startTestDaemon({ files: {}, plugins: [join(FIX, "wrong-api-version.ts")] });
    const [f] = d.daemon.status().checks.plugins.failed;
    expect(f).toMatchObject({ code: "plugin-api-version", file: join(FIX, "wrong-api-version.ts") });
    expect(f!.error).toBe(`${join(FIX, "wrong-api-version.ts")}: apiVersion: this aicfg loads plugins of "aicfg/v1", the plugin says "aicfg/v9"`);
    expect(f!.hint).toMatch(/newer than this aicfg: upgrade aicfg/);
    const r = await readyz(d);
    expect(r.status).toBe("warn");
    expect(r.checks["plugins:load"]![0]!.output).toContain("wrong-api-version.ts: apiVersion");
  });

  it("engines.aicfg that does not admit this aicfg", async () => {
    d = await startTestDaemon({ files: {}, plugins: [join(FIX, "engines-mismatch.ts")] });
    expect(d.daemon.status().checks.plugins.failed[0]).toMatchObject({
      code: "plugin-engines",
      error: expect.stringMatching(/engines-mismatch\.ts: engines\.aicfg: the plugin needs aicfg >=7, this is aicfg \d+\.\d+\.\d+$/),
      hint: expect.stringContaining("install an aicfg in >=7"),
    });
  });

  it("a file changed since it was pinned: the changed file, the plugins: entry, and how to pin again", async () => {
    const copy = join(temp(), "budget");
    cpSync(SAMPLE, copy, { recursive: true });
    const lib = temp();
    writeFileSync(join(lib, "aicfg.yaml"), `name: t\nplugins: [${copy}]\n`);
    pinPlugins(lib, [copy]);
    appendFileSync(join(copy, "index.ts"), "\n// changed after the pin\n");
    const host = await loadPlugins([{ configFile: join(lib, "aicfg.yaml"), entries: [copy] }]);
    expect(host.loaded).toEqual([]);
    expect(host.failed[0]).toMatchObject({ code: "plugin-integrity", file: join(copy, "index.ts") });
    expect(host.failed[0]!.error).toContain(
      `changed since 'aicfg plugin add' pinned it (plugins[0] of ${join(lib, "aicfg.yaml")}; 1 file(s) differ: index.ts)`,
    );
    expect(host.failed[0]!.hint).toContain(`aicfg plugin add ${copy}`);
    expect(actionRegistry.get("token-budget")).toBeUndefined();
  });

  it("an in-process plugin without a pin is not loaded", async () => {
    d = await startTestDaemon({ files: {}, plugins: [join(FIX, "engines-mismatch.ts")], pin: false });
    expect(d.daemon.status().checks.plugins.failed[0]).toMatchObject({ code: "plugin-not-pinned", hint: expect.stringContaining("aicfg plugin add") });
  });

  it("a setup that throws: the daemon starts without it, says why, and nothing it registered stays", async () => {
    const logs: string[] = [];
    d = await startTestDaemon({
      files: { "workflows/w.yaml": "name: w\nsteps:\n  - id: a\n    uses: validate\n" },
      plugins: [join(FIX, "throws-in-setup.ts"), SAMPLE],
      log: (_l, m) => logs.push(m),
    });
    const p = d.daemon.status().checks.plugins;
    expect(p.loaded).toEqual(["aicfg-plugin-token-budget@1.0.0"]);
    expect(p.failed).toMatchObject([{ name: "throws-in-setup", code: "plugin-setup-failed", error: "setup failed: the plugin's config is missing" }]);
    expect(actionRegistry.get("half-registered")).toBeUndefined();
    expect(actionRegistry.get("token-budget")).toBeDefined();
    expect(logs.some((l) => l.startsWith("plugin throws-in-setup not loaded: setup failed: the plugin's config is missing"))).toBe(true);
    expect((await readyz(d)).checks["plugins:load"]![0]).toMatchObject({ status: "warn", output: expect.stringContaining("throws-in-setup not loaded") });
    await d.stop();
    d = undefined;
    expect(actionRegistry.get("token-budget")).toBeUndefined();
  });
});

describe("plugins of daemon.yaml", () => {
  it("are loaded before the library's, pinned in the aicfg.lock beside daemon.yaml; a plugin listed twice is refused", async () => {
    const etc = temp();
    const file = join(etc, "daemon.yaml");
    writeFileSync(file, `plugins: [${SAMPLE}]\n`);
    pinPlugins(etc, [SAMPLE], file);
    d = await startTestDaemon({ files: {}, plugins: [SAMPLE], config: { file, plugins: [SAMPLE] } });
    const p = d.daemon.status().checks.plugins;
    expect(p.loaded).toEqual(["aicfg-plugin-token-budget@1.0.0"]);
    expect(p.failed).toMatchObject([
      { code: "plugin-duplicate", error: expect.stringContaining("a plugin named aicfg-plugin-token-budget is already loaded") },
    ]);
    expect(p.failed[0]!.error).toContain(join(d.libraryRoot, "aicfg.yaml"));
  });
});

describe("isolated plugins and their grant", () => {
  const wf = (path: string, direct: boolean) =>
    `name: w\non:\n  manual: true\nsteps:\n  - id: write\n    uses: write-file\n    with:\n      path: ${JSON.stringify(path)}\n      direct: ${direct}\n`;

  it("writes inside the grant; a write outside it through ctx.fs is refused and reported", async () => {
    const outside = join(temp(), "outside.txt");
    d = await startTestDaemon({
      files: { "workflows/w.yaml": wf("granted/ok.txt", false), "workflows/x.yaml": wf(outside, false).replace("name: w", "name: x") },
      plugins: [{ use: join(FIX, "writes-outside.ts"), isolation: "process", grant: { write: ["./granted"] } }],
    });
    const ok = await d.daemon.waitForRun(await d.daemon.triggerRun("test", "w"));
    expect(ok.steps[0]!.error).toBeUndefined();
    expect(existsSync(join(d.libraryRoot, "granted/ok.txt"))).toBe(true);
    const bad = await d.daemon.waitForRun(await d.daemon.triggerRun("test", "x"));
    expect(bad.status).toBe("failure");
    expect(bad.steps[0]!.error).toContain(`plugin writes-outside may not write ${outside}: it is outside its grant (${join(d.libraryRoot, "granted")})`);
    expect(bad.steps[0]!.attempts).toBe(1);
    expect(existsSync(outside)).toBe(false);
    expect(d.daemon.status().checks.plugins.refusedWrites).toBe(1);
  });

  it.skipIf(runtimeName() === "bun")("a write straight through node:fs outside the grant is refused by the child's runtime permissions", async () => {
    const outside = join(temp(), "direct.txt");
    d = await startTestDaemon({
      files: { "workflows/w.yaml": wf(outside, true) },
      plugins: [{ use: join(FIX, "writes-outside.ts"), isolation: "process", grant: { write: ["./granted"] } }],
    });
    const run = await d.daemon.waitForRun(await d.daemon.triggerRun("test", "w"));
    expect(run.status).toBe("failure");
    expect(run.steps[0]!.error).toMatch(
      /^write-file \(plugin writes-outside, out of process\): refused by the plugin's runtime permissions: .*(--allow-fs-write|--allow-write)/,
    );
    expect(existsSync(outside)).toBe(false);
    expect(d.daemon.status().checks.plugins.refusedWrites).toBe(1);
  });
});
