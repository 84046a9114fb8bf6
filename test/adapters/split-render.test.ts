// An adapter that declares `split: "agent"` promises that rendering its agents one at a time gives
// exactly the outputs of rendering them together: the export relies on it to render (and cache)
// each agent alone. Checked on libraries where agents share knowledge and where one agent's
// knowledge is over every budget (so the large-context planner writes indexes), in both scopes.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAdapters } from "../../src/adapters/registry.ts";
import type { Adapter, OutputFile, RenderContext } from "../../src/adapters/types.ts";
import { hashValue } from "../../src/library/hash.ts";
import { loadLibrary } from "../../src/library/load.ts";
import { resolveAll } from "../../src/library/resolve.ts";
import { renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";

const examples = fileURLToPath(new URL("../../examples/library", import.meta.url));
const split = listAdapters().filter((a) => a.split === "agent");

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir();
  // 60 knowledge files of ~2 KB: over the per-agent budgets of chatgpt (8,000 chars) and the others' indexes.
  const files: Record<string, string> = {
    "aicfg.yaml": "name: split\ntargets: []\n",
    "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    "agents/all.md": '---\ndescription: Reads everything\nknowledge: ["**"]\nmcp: [fetch]\n---\nFollow every document.\n',
    "agents/api.md": '---\ndescription: API work\nknowledge: ["api-*"]\n---\nDo API work.\n',
    "agents/small.md": "---\ndescription: Small\nknowledge: [api-01.md, { path: notes.md, mode: on-demand }]\n---\nSmall one.\n",
    "knowledge/notes.md": "# Notes\n\nOn demand.\n",
  };
  for (let i = 0; i < 60; i++) {
    const name = `${i % 2 ? "api" : "web"}-${String(i).padStart(2, "0")}.md`;
    files[`knowledge/${name}`] = `---\ndescription: Rule ${i}\n---\n# Rule ${i}\n\n${"Keep handlers small and explicit. ".repeat(60)}\n`;
  }
  writeTree(join(dir.path, "lib"), files);
});
afterAll(() => dir.cleanup());

/** Whole-file outputs by path (a split adapter writes nothing else), compared by everything they carry. */
function byPath(files: readonly OutputFile[]): Map<string, string> {
  return new Map(files.map((f) => [f.path, hashValue(f)]));
}

function check(adapter: Adapter, ctx: RenderContext, libRoot: string): number {
  const { agents } = resolveAll(loadLibrary(libRoot));
  expect(agents.length).toBeGreaterThanOrEqual(3);
  const whole = adapter.render(agents, ctx).files;
  const units = agents.map((a) => ({ a, files: adapter.render([a], ctx).files }));
  const merged = new Map<string, string>();
  for (const { a, files } of units) {
    for (const f of files) {
      expect(f.kind, `${adapter.id}: ${f.path}`).toBe("file");
      // What the tool always loads for a session as this agent is this agent's own (budget per agent or file).
      if (f.kind === "file" && f.alwaysLoaded) expect(f.agent, f.path).toBe(a.name);
      const h = hashValue(f);
      expect(merged.get(f.path) ?? h, `${adapter.id}: ${f.path} written differently by two agents`).toBe(h);
      merged.set(f.path, h);
    }
  }
  expect(merged).toEqual(byPath(whole));
  return whole.length;
}

describe("adapters rendered per agent (split: agent)", () => {
  it("are the per-agent targets, none with a budget over everything loaded together", () => {
    expect(split.map((a) => a.id).sort()).toEqual(["chatgpt", "claude-projects", "kiro-cli", "q-cli"]);
    for (const a of split) expect(a.budget.per, a.id).not.toBe("total");
  });

  for (const adapter of split) {
    for (const scope of adapter.scopes) {
      it(`${adapter.id} (${scope} scope): one agent at a time renders what all agents together render`, () => {
        const r = roots(dir.path, scope);
        const ctxOf = (libRoot: string) => renderContext(r, loadLibrary(libRoot));
        expect(check(adapter, ctxOf(examples), examples)).toBeGreaterThan(0);
        expect(check(adapter, ctxOf(join(dir.path, "lib")), join(dir.path, "lib"))).toBeGreaterThan(0);
      });
    }
  }
});
