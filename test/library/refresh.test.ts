import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
    errors: lib.diagnostics.filter((d) => d.severity === "error").map((d) => [d.file, d.code]).sort(),
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
