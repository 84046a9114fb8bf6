import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MTIME_GRANULARITY_MS, scanInputs, type InputScan, type InputStat } from "../../src/library/inputs.ts";
import { loadLibrary, refreshLibrary } from "../../src/library/load.ts";
import type { Library } from "../../src/library/model.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
  writeTree(dir.path, {
    "aicfg.yaml": "name: t\n",
    "agents/a.md": "---\ndescription: A\nknowledge: [docs/**]\n---\nA body\n",
    "agents/b.md": "---\ndescription: B\nmcp: [fetch]\n---\nB body\n",
    "knowledge/docs/one.md": "one\n",
    "knowledge/docs/two.md": "two\n",
    "mcp/fetch.yaml": "command: uvx\n",
  });
});
afterEach(() => dir.cleanup());

function snapshot(lib: Library) {
  return {
    agents: [...lib.agents].map(([n, s]) => [n, s.map((x) => [x.file, x.spec, x.body])]).sort(),
    knowledge: [...lib.knowledge].map(([k, v]) => [k, v.absPath, v.size]).sort(),
    mcp: [...lib.mcp].map(([k, v]) => [k, v.server]).sort(),
    errors: lib.diagnostics
      .filter((d) => d.severity === "error")
      .map((d) => [d.file, d.code])
      .sort(),
  };
}

describe("incremental refresh equals a full reload", () => {
  const p = (rel: string) => join(dir.path, rel);
  const cases: [string, () => string[]][] = [
    ["edit a knowledge file", () => (writeFileSync(p("knowledge/docs/one.md"), "one, longer\n"), [p("knowledge/docs/one.md")])],
    ["add a knowledge file", () => (writeFileSync(p("knowledge/docs/three.md"), "3\n"), [p("knowledge/docs/three.md")])],
    ["delete a knowledge file", () => (rmSync(p("knowledge/docs/two.md")), [p("knowledge/docs/two.md")])],
    ["edit an agent", () => (writeFileSync(p("agents/a.md"), "---\ndescription: A2\n---\nnew\n"), [p("agents/a.md")])],
    ["rename an agent via its frontmatter", () => (writeFileSync(p("agents/a.md"), "---\nname: renamed\ndescription: A\n---\nx\n"), [p("agents/a.md")])],
    ["break an agent", () => (writeFileSync(p("agents/a.md"), "---\ndescription: [\n---\n"), [p("agents/a.md")])],
    ["delete an agent", () => (rmSync(p("agents/b.md")), [p("agents/b.md")])],
    ["edit an MCP server", () => (writeFileSync(p("mcp/fetch.yaml"), "command: npx\n"), [p("mcp/fetch.yaml")])],
    ["change the manifest", () => (writeFileSync(p("aicfg.yaml"), "name: t2\n"), [p("aicfg.yaml")])],
  ];
  for (const [label, change] of cases) {
    it(label, () => {
      const before = loadLibrary(dir.path);
      const changed = change();
      const refreshed = refreshLibrary(before, changed);
      expect(snapshot(refreshed)).toEqual(snapshot(loadLibrary(dir.path)));
      expect(refreshed.manifest.name).toBe(loadLibrary(dir.path).manifest.name);
    });
  }
});

describe("scanInputs: stat every input, hash only what moved", () => {
  const p = (rel: string) => join(dir.path, rel);
  it("keeps recorded hashes for unchanged stats and reports added, removed and edited files", () => {
    const first = scanInputs([dir.path]);
    const files = first.layers[0]!.files;
    expect(Object.keys(files).sort()).toEqual(["agents/a.md", "agents/b.md", "aicfg.yaml", "knowledge/docs/one.md", "knowledge/docs/two.md", "mcp/fetch.yaml"]);
    // A record old enough that no file is racy: a file with the recorded stats is not read again,
    // which a planted hash shows (it survives the scan).
    const old: InputScan = {
      at: Date.now() + 60_000,
      layers: [{ root: dir.path, files: { ...files, "agents/b.md": [...files["agents/b.md"]!.slice(0, 4), "planted"] as InputStat } }],
    };
    const changed = new Set<string>();
    const again = scanInputs([dir.path], old, changed);
    expect(again.layers[0]!.files["agents/b.md"]![4]).toBe("planted");
    expect([...changed]).toEqual([]);
    writeFileSync(p("knowledge/docs/one.md"), "ONE\n"); // same size
    writeFileSync(p("knowledge/docs/three.md"), "3\n");
    rmSync(p("knowledge/docs/two.md"));
    const moved = new Set<string>();
    scanInputs([dir.path], old, moved);
    expect([...moved].sort()).toEqual([p("knowledge/docs/one.md"), p("knowledge/docs/three.md"), p("knowledge/docs/two.md")]);
  });

  it("sees a same-second edit that kept the size and put the mtime back", () => {
    const rel = "knowledge/docs/two.md";
    utimesSync(p(rel), 1_700_000_000, 1_700_000_000);
    const first = scanInputs([dir.path]);
    writeFileSync(p(rel), "TWO\n"); // same size, mtime put back: only the ctime moved (in whole seconds on Deno)
    utimesSync(p(rel), 1_700_000_000, 1_700_000_000);
    expect(statSync(p(rel)).mtimeMs).toBe(first.layers[0]!.files[rel]![1]);
    const changed = new Set<string>();
    scanInputs([dir.path], first, changed);
    expect([...changed]).toEqual([p(rel)]);
  });

  it("a scan that trusts every stat hashes nothing", () => {
    const first = scanInputs([dir.path]);
    const report = { restat: false, hashed: 0 };
    const changed = new Set<string>();
    scanInputs([dir.path], { ...first, at: Date.now() + 60_000 }, changed, report);
    expect([...changed]).toEqual([]);
    expect(report).toEqual({ restat: false, hashed: 0 });
  });

  it("hashes a file whose mtime is within the timestamp granularity of the record, even with equal stats", () => {
    const first = scanInputs([dir.path]);
    const rel = "knowledge/docs/one.md";
    // A coarse-timestamp filesystem: an edit in the same tick leaves size, mtime and ctime as they were.
    // Simulated by recording the edited file's own stats with the old content's hash.
    const oldHash = first.layers[0]!.files[rel]![4];
    writeFileSync(p(rel), "eno\n");
    const st = statSync(p(rel));
    const rec: InputScan = {
      at: st.mtimeMs + 10,
      layers: [{ root: dir.path, files: { ...first.layers[0]!.files, [rel]: [st.size, st.mtimeMs, st.ino, st.ctimeMs, oldHash] } }],
    };
    const changed = new Set<string>();
    scanInputs([dir.path], rec, changed);
    expect([...changed]).toEqual([p(rel)]);
    expect(MTIME_GRANULARITY_MS).toBeGreaterThanOrEqual(1000);
  });
});
