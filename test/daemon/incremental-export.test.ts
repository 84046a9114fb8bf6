// The daemon's incremental export with real chokidar events on a temp library: an edit re-reads one
// file and re-renders only what read it, added, removed and renamed files reach the outputs, and a
// broken agent file keeps its last good version exported while the run reports file:line:col.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exportLibrary } from "../../src/adapters/export.ts";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import type { RunRecord } from "../../src/daemon/store/types.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { expectSameTree } from "../helpers/tree.ts";
import { testConfig, until } from "./harness.ts";

const WORKFLOW = [
  "name: export-on-change",
  "on:",
  "  watch: { paths: ['agents/**', 'knowledge/**'], debounce: 100ms, initial: true }",
  "concurrency: { group: export, overlap: buffer_one }",
  "steps:",
  "  - uses: export",
  "    with: { targets: [codex, chatgpt, cursor, claude-code], root: ../out }",
  "",
].join("\n");

let d: DaemonHandle | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  dir?.cleanup();
  d = undefined;
  dir = undefined;
});

type Setup = { lib: string; out: string; runs: () => Promise<RunRecord[]>; next: (change: () => void) => Promise<RunRecord> };

async function start(): Promise<Setup> {
  dir = tempDir("aicfg-incremental-");
  const lib = join(dir.path, "lib");
  const out = join(dir.path, "out");
  writeTree(lib, {
    "aicfg.yaml": "name: lib\n",
    "agents/reader.md": "---\ndescription: Reads the docs\nknowledge: [docs/**]\n---\nRead the docs.\n",
    "agents/other.md": "---\ndescription: Reads the notes\nknowledge: [notes/**]\n---\nRead the notes.\n",
    "knowledge/docs/one.md": "DOCS-ONE first\n",
    "knowledge/docs/two.md": "DOCS-TWO\n",
    "knowledge/notes/n.md": "NOTES-N\n",
    "workflows/export-on-change.yaml": WORKFLOW,
  });
  const finished: string[] = [];
  d = await startDaemon({ config: testConfig(lib, join(dir.path, "state")), reloadDebounceMs: 20 });
  d.bus.subscribe((e) => {
    if (e.type === "run.finished" && e.workflow === "export-on-change") finished.push(e.runId);
  });
  const runs = async () => (await d!.store.listRuns()).filter((r) => r.workflow === "export-on-change");
  await until(async () => (await runs()).some((r) => r.status === "success"), "the initial export", 20_000);
  await d.idle();
  const next = async (change: () => void): Promise<RunRecord> => {
    const before = finished.length;
    change();
    await until(() => finished.length > before, "the export after the change", 20_000);
    await d!.idle();
    return (await d!.store.getRun(finished.at(-1)!))!;
  };
  return { lib, out, runs, next };
}

/** Every output file with its mtime. */
function outputs(out: string): Map<string, number> {
  const m = new Map<string, number>();
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const f = join(p, e.name);
      if (e.isDirectory()) {
        if (e.name !== ".aicfg") walk(f); // the committed ownership record, rewritten with any export
      } else m.set(relative(out, f), statSync(f).mtimeMs);
    }
  };
  walk(out);
  return m;
}

const liveStats = () => d!.libraries.get("lib")!.live!.stats();

describe("the daemon's incremental export", () => {
  it("an edit to one knowledge file re-reads that file and rewrites only the outputs of the agent that reads it", async () => {
    const s = await start();
    const before = outputs(s.out);
    const loads = liveStats().fullLoads;
    const run = await s.next(() => writeFileSync(join(s.lib, "knowledge/docs/one.md"), "DOCS-ONE edited\n"));
    expect(run.status).toBe("success");
    const o = run.steps[0]!.outputs;
    expect(o).toMatchObject({ skipped: false, agents: ["reader"], incremental: true });
    // Targets that refer to the file by path (claude-code) came from the cache.
    expect(o.rendered as number).toBeLessThan(o.outputs as number);
    const after = outputs(s.out);
    const rewritten = [...after]
      .filter(([p, t]) => before.get(p) !== t)
      .map(([p]) => p)
      .sort();
    expect(rewritten.length).toBe(o.written);
    expect(rewritten.length).toBeGreaterThan(0);
    // Each rewritten file carries the edit; every file of the other agent is as it was.
    for (const p of rewritten) expect(readFileSync(join(s.out, p), "utf8")).toContain("DOCS-ONE edited");
    const otherFiles = [...after.keys()].filter(
      (p) => readFileSync(join(s.out, p), "utf8").includes("NOTES-N") && !readFileSync(join(s.out, p), "utf8").includes("DOCS-ONE"),
    );
    expect(otherFiles.length).toBeGreaterThan(0);
    for (const p of otherFiles) expect(after.get(p)).toBe(before.get(p));
    // One file read again, one agent patched: no full load, no agent resolved from scratch.
    expect(liveStats()).toMatchObject({ fullLoads: loads });
    expect(liveStats().patched).toBeGreaterThanOrEqual(1);

    // A file no agent reads changes nothing: the run is skipped.
    const skipped = await s.next(() => writeFileSync(join(s.lib, "knowledge/unused.md"), "nobody reads me\n"));
    expect(skipped.steps[0]!.outputs).toMatchObject({ skipped: true, reason: "no agent uses the changed files" });
  });

  it("an edit re-renders exactly the outputs that read the file, none whole, and the outputs equal a cold export's", async () => {
    const s = await start();
    const run = await s.next(() => writeFileSync(join(s.lib, "knowledge/docs/one.md"), "DOCS-ONE edited again\n"));
    expect(run.status).toBe("success");
    const o = run.steps[0]!.outputs;
    // Every adapter is incremental: split per agent (chatgpt) or memoized per output (codex, cursor, claude-code).
    expect(o.renderedWhole).toEqual([]);
    // chatgpt renders the reader's unit (every file of its bundle and plugin); the others only the outputs holding the text:
    // reader's Codex TOML and Cursor's rule for docs/one.md. Claude Code imports the file by path: nothing of it.
    const after = [...outputs(s.out).keys()];
    // (its GPT folder chatgpt/reader/ and its plugin chatgpt/plugins/reader/).
    const unit = after.filter((p) => p.startsWith("chatgpt/") && p.split("/").includes("reader"));
    const holding = after.filter((p) => !p.startsWith("chatgpt/") && readFileSync(join(s.out, p), "utf8").includes("DOCS-ONE edited again"));
    expect(holding.sort()).toEqual([join(".codex", "agents", "reader.toml"), join(".cursor", "rules", "knowledge-docs-one.mdc")]);
    expect(unit.length).toBeGreaterThan(0);
    expect(o.rendered).toBe(unit.length + holding.length);
    expect(o.rendered as number).toBeLessThan(o.outputs as number);
    // What the daemon wrote is what a cold export of the edited library writes (a fresh root beside it, a fresh state).
    const cold = exportLibrary({
      library: s.lib,
      targets: ["codex", "chatgpt", "cursor", "claude-code"],
      root: join(dir!.path, "cold"),
      stateDir: join(dir!.path, "cold-state"),
    });
    expect(cold.errors).toEqual([]);
    expectSameTree(s.out, join(dir!.path, "cold"));
  });

  it("a removed and an added knowledge file reach the outputs", async () => {
    const s = await start();
    expect(existsSync(join(s.out, ".cursor/rules/knowledge-docs-two.mdc"))).toBe(true);
    const loads = liveStats().fullLoads;
    const removed = await s.next(() => rmSync(join(s.lib, "knowledge/docs/two.md")));
    expect(removed.status).toBe("success");
    expect(removed.steps[0]!.outputs).toMatchObject({ agents: ["reader"] });
    expect(removed.steps[0]!.outputs.deleted as number).toBeGreaterThan(0);
    expect(existsSync(join(s.out, ".cursor/rules/knowledge-docs-two.mdc"))).toBe(false);
    expect(readdirSync(join(s.out, "chatgpt/reader/knowledge/docs"))).toEqual(["one.md"]);

    const added = await s.next(() => writeFileSync(join(s.lib, "knowledge/docs/three.md"), "DOCS-THREE\n"));
    expect(added.status).toBe("success");
    expect(added.steps[0]!.outputs).toMatchObject({ agents: ["reader"] });
    expect(readFileSync(join(s.out, ".cursor/rules/knowledge-docs-three.mdc"), "utf8")).toContain("DOCS-THREE");
    expect(readFileSync(join(s.out, "chatgpt/reader/knowledge/docs/three.md"), "utf8")).toContain("DOCS-THREE");
    expect(liveStats().fullLoads).toBe(loads);
  });

  it("renamed knowledge and agent files: the old outputs go, the new ones come", async () => {
    const s = await start();
    const k = await s.next(() => renameSync(join(s.lib, "knowledge/docs/one.md"), join(s.lib, "knowledge/docs/uno.md")));
    expect(k.status).toBe("success");
    expect(existsSync(join(s.out, ".cursor/rules/knowledge-docs-one.mdc"))).toBe(false);
    expect(readFileSync(join(s.out, ".cursor/rules/knowledge-docs-uno.mdc"), "utf8")).toContain("DOCS-ONE first");

    expect(existsSync(join(s.out, ".codex/agents/reader.toml"))).toBe(true);
    const a = await s.next(() => renameSync(join(s.lib, "agents/reader.md"), join(s.lib, "agents/docs-reader.md")));
    expect(a.status).toBe("success");
    await until(
      () => existsSync(join(s.out, ".codex/agents/docs-reader.toml")) && !existsSync(join(s.out, ".codex/agents/reader.toml")),
      "the renamed agent's outputs",
    );
    expect(readFileSync(join(s.out, ".codex/agents/docs-reader.toml"), "utf8")).toContain("Read the docs.");
    expect(existsSync(join(s.out, ".codex/agents/other.toml"))).toBe(true);
  });

  it("a broken agent file keeps its last good version exported and the run reports file:line:col", async () => {
    const s = await start();
    const toml = join(s.out, ".codex/agents/reader.toml");
    const good = readFileSync(toml, "utf8");
    expect(good).toContain("Read the docs.");
    const broken = await s.next(() =>
      writeFileSync(join(s.lib, "agents/reader.md"), "---\ndescription: Reads the docs\nknowledge: [docs/**\n---\nBroken now.\n"),
    );
    expect(broken.status).toBe("failure");
    expect(broken.steps[0]!.error).toMatch(/agents\/reader\.md:\d+:\d+/);
    // The outputs of the last good definition stay, knowledge included.
    expect(readFileSync(toml, "utf8")).toBe(good);
    expect(existsSync(join(s.out, ".cursor/rules/knowledge-docs-one.mdc"))).toBe(true);
    expect(d!.libraries.get("lib")!.live!.current().library.agents.has("reader")).toBe(true);

    const fixed = await s.next(() =>
      writeFileSync(join(s.lib, "agents/reader.md"), "---\ndescription: Reads the docs\nknowledge: [docs/**]\n---\nRead the docs, fixed.\n"),
    );
    expect(fixed.status).toBe("success");
    expect(readFileSync(toml, "utf8")).toContain("Read the docs, fixed.");
  });
});
