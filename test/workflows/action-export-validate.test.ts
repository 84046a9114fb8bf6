// `export` (incremental on changed paths, same options as `aicfg export`) and `validate`.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { detectedTargets, listAdapters } from "../../src/adapters/registry.ts";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { affectedAgents, exportAction, ExportWith } from "../../src/workflows/actions/export.ts";
import { validateAction } from "../../src/workflows/actions/validate.ts";
import { loadLibrary } from "../../src/library/load.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { actionContext } from "./action-context.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
beforeEach(() => {
  dir = tempDir();
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
});
afterEach(() => dir.cleanup());

describe("export action", () => {
  it("exports every agent into the sandbox root, then nothing when nothing changed", async () => {
    const out = await exportAction.run({ targets: ["claude-code"], root: "../sandbox" }, actionContext(lib, state));
    expect(out.outputs).toMatchObject({ skipped: false, agents: ["reviewer", "writer"], targets: ["claude-code"], errors: 0, incremental: false });
    expect(Number(out.outputs.written)).toBeGreaterThan(0);
    expect(existsSync(join(dir.path, "sandbox", ".claude", "agents", "reviewer.md"))).toBe(true);
    expect(out.facts!.exports![0]!.target).toBe("claude-code");
    const again = await exportAction.run({ targets: ["claude-code"], root: "../sandbox" }, actionContext(lib, state));
    expect(again.outputs.written).toBe(0);
  });

  it("re-renders only the agents whose sources changed", async () => {
    await exportAction.run({ targets: ["claude-code"], root: "../sandbox" }, actionContext(lib, state));
    writeFileSync(join(lib, "knowledge", "style.md"), "# Style\n\nUse very short sentences.\n");
    const out = await exportAction.run(
      { targets: ["claude-code"], root: "../sandbox" },
      actionContext(lib, state, { trigger: { kind: "watch", paths: [join(lib, "knowledge", "style.md")] } }),
    );
    expect(out.outputs).toMatchObject({ agents: ["reviewer"], incremental: true });
    const unused = await exportAction.run(
      { targets: ["claude-code"], root: "../sandbox" },
      actionContext(lib, state, { trigger: { kind: "watch", paths: [join(lib, "workflows", "x.yaml")] } }),
    );
    expect(unused.outputs).toMatchObject({ skipped: true, reason: "no agent uses the changed files" });
    expect(readFileSync(join(dir.path, "sandbox", ".claude", "agents", "writer.md"), "utf8")).toContain("Write clear documentation.");
  });

  it("maps changed paths to agents; shared inputs mean everything", () => {
    const l = loadLibrary(lib);
    expect(affectedAgents(l, [join(lib, "agents", "writer.md")])).toEqual(["writer"]);
    expect(affectedAgents(l, [join(lib, "knowledge", "style.md"), join(lib, "agents", "writer.md")])).toEqual(["reviewer", "writer"]);
    expect(affectedAgents(l, [join(lib, "aicfg.yaml")])).toBe(undefined);
    expect(affectedAgents(l, [join(lib, "agents", "deleted.md")])).toBe(undefined);
    expect(affectedAgents(l, [join(dir.path, "elsewhere.md")])).toEqual([]);
  });

  it("targets: all exports to every known target, targets: detected to the tools found with the daemon's environment", async () => {
    const all = await exportAction.run({ targets: "all", root: "../all" }, actionContext(lib, state));
    const project = listAdapters()
      .filter((a) => a.scopes.includes("project"))
      .map((a) => a.id)
      .sort();
    expect([...(all.outputs.targets as string[])].sort()).toEqual(project);
    expect(existsSync(join(dir.path, "all", ".cursor"))).toBe(true);
    const bin = join(dir.path, "bin");
    const home = join(dir.path, "home");
    writeTree(dir.path, { "bin/claude": "#!/bin/sh\necho '2.1.300 (Claude Code)'\n", "home/.keep": "" });
    chmodSync(join(bin, "claude"), 0o755);
    const settings = { env: { PATH: bin, HOME: home } };
    const detected = await exportAction.run({ targets: "detected", root: "../detected" }, actionContext(lib, state, { settings }));
    // Exactly what detection finds with that environment (the daemon's, PATH and HOME from the settings).
    const expected = await detectedTargets(realDetectEnv({ env: { ...process.env, ...settings.env }, homeDir: home, projectRoot: join(dir.path, "detected") }));
    expect(expected).toContain("claude-code");
    expect(detected.outputs.targets).toEqual([...expected].sort());
    expect(existsSync(join(dir.path, "detected", ".claude", "agents", "reviewer.md"))).toBe(true);
    expect(ExportWith.safeParse({ targets: "everything" }).success).toBe(false);
  });

  it("fails the step on export errors", async () => {
    await expect(exportAction.run({ targets: ["no-such-tool"] }, actionContext(lib, state))).rejects.toThrow(
      /^export reported 1 error\(s\); first: unknown target 'no-such-tool'$/,
    );
  });
});

describe("validate action", () => {
  it("passes a good library and fails a broken one with the first error", async () => {
    const ok = await validateAction.run({}, actionContext(lib, state));
    expect(ok.outputs).toMatchObject({ errors: 0, agents: 2 });
    writeFileSync(join(lib, "agents", "bad.md"), "---\ndescriptoin: typo\n---\nx\n");
    await expect(validateAction.run({}, actionContext(lib, state))).rejects.toThrow(
      "the library has 2 error(s) and 0 warning(s); first: agents/bad.md:2:1  error: missing required field 'description'  (expected string)",
    );
  });

  it("includes workflow problems", async () => {
    writeTree(lib, { "workflows/w.yaml": "name: w\nsteps:\n  - uses: nope\n" });
    await expect(validateAction.run({}, actionContext(lib, state))).rejects.toThrow("first: workflows/w.yaml:3:11  error: unknown action 'nope'");
    const off = await validateAction.run({ workflows: false }, actionContext(lib, state));
    expect(off.outputs.errors).toBe(0);
  });
});
