// The live library (what the daemon exports from): after each change it equals a full load and
// resolve of the folder, while reading only the changed files and resolving only the agents that
// read them; a broken agent keeps its last good definition.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLiveLibrary, type LibrarySnapshot } from "../../src/library/live.ts";
import { loadLibrary } from "../../src/library/load.ts";
import { resolveAll } from "../../src/library/resolve.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let lib: string;
beforeEach(() => {
  dir = tempDir();
  lib = join(dir.path, "lib");
  writeTree(dir.path, {
    "org/aicfg.yaml": "name: org\n",
    "org/knowledge/shared/base.md": "org base\n",
    "org/knowledge/shared/only-org.md": "org only\n",
    "lib/aicfg.yaml": "name: lib\nextends: [../org]\n",
    "lib/agents/a.md": "---\ndescription: A\nknowledge: [docs/**, shared]\n---\nA body\n",
    "lib/agents/b.md": "---\ndescription: B\nknowledge: [notes/n.md]\nmcp: [fetch]\n---\nB body\n",
    "lib/knowledge/docs/one.md": "one\n",
    "lib/knowledge/docs/two.md": "two\n",
    "lib/knowledge/notes/n.md": "n\n",
    "lib/mcp/fetch.yaml": "command: uvx\n",
  });
});
afterEach(() => dir.cleanup());

/** What a full load and resolve of the folder gives, in comparable form. */
function full() {
  const l = loadLibrary(lib);
  return comparable({ library: l, resolved: resolveAll(l), affectedBy: () => undefined });
}
function comparable(s: LibrarySnapshot) {
  return {
    knowledge: [...s.library.knowledge].map(([k, v]) => [k, v.absPath, v.size, v.mtimeMs]).sort(),
    agents: s.resolved.agents,
    mcp: [...s.library.mcp].map(([k, v]) => [k, v.server]).sort(),
    diagnostics: [...s.library.diagnostics, ...s.resolved.diagnostics].map((d) => [d.file, d.code, d.line, d.col, d.message]).sort(),
  };
}

describe("live library", () => {
  const p = (rel: string) => join(dir.path, rel);
  it("equals a full load after every kind of change, without loading it all again", () => {
    const live = createLiveLibrary(lib);
    expect(comparable(live.current())).toEqual(full());
    const steps: [string, () => string[]][] = [
      ["edit knowledge", () => (writeFileSync(p("lib/knowledge/docs/one.md"), "one, longer now\n"), [p("lib/knowledge/docs/one.md")])],
      ["add knowledge", () => (writeFileSync(p("lib/knowledge/docs/three.md"), "3\n"), [p("lib/knowledge/docs/three.md")])],
      ["remove knowledge", () => (rmSync(p("lib/knowledge/docs/two.md")), [p("lib/knowledge/docs/two.md")])],
      [
        "rename knowledge",
        () => (renameSync(p("lib/knowledge/docs/one.md"), p("lib/knowledge/docs/uno.md")), [p("lib/knowledge/docs/one.md"), p("lib/knowledge/docs/uno.md")]),
      ],
      [
        "shadow an org file",
        () => (
          mkdirSync(p("lib/knowledge/shared"), { recursive: true }),
          writeFileSync(p("lib/knowledge/shared/base.md"), "lib base\n"),
          [p("lib/knowledge/shared/base.md")]
        ),
      ],
      ["edit the shadowed org file", () => (writeFileSync(p("org/knowledge/shared/base.md"), "org base, edited\n"), [p("org/knowledge/shared/base.md")])],
      ["edit an org file", () => (writeFileSync(p("org/knowledge/shared/only-org.md"), "org only, edited\n"), [p("org/knowledge/shared/only-org.md")])],
      [
        "edit an agent",
        () => (writeFileSync(p("lib/agents/b.md"), "---\ndescription: B2\nknowledge: [docs/**]\nmcp: [fetch]\n---\nB2\n"), [p("lib/agents/b.md")]),
      ],
      ["rename an agent file", () => (renameSync(p("lib/agents/b.md"), p("lib/agents/c.md")), [p("lib/agents/b.md"), p("lib/agents/c.md")])],
      [
        "point an agent at a missing file",
        () => (writeFileSync(p("lib/agents/c.md"), "---\ndescription: C\nknowledge: [nope.md]\n---\nC\n"), [p("lib/agents/c.md")]),
      ],
      ["edit an MCP server", () => (writeFileSync(p("lib/mcp/fetch.yaml"), "command: npx\n"), [p("lib/mcp/fetch.yaml")])],
    ];
    for (const [label, change] of steps) {
      const changed = change();
      for (const c of changed) live.invalidate(c);
      expect(comparable(live.current()), label).toEqual(full());
    }
    expect(live.stats().fullLoads).toBe(1);
  });

  it("patches the agents that read an edited file and resolves nothing else", () => {
    const live = createLiveLibrary(lib);
    const first = live.current();
    const b = first.resolved.agents.find((a) => a.name === "b");
    const before = live.stats();
    writeFileSync(p("lib/knowledge/docs/one.md"), "one, edited\n");
    const next = live.current([p("lib/knowledge/docs/one.md")]);
    expect(live.stats()).toEqual({ ...before, refreshes: before.refreshes + 1, patched: before.patched + 1 });
    expect(next.resolved.agents.find((a) => a.name === "b")).toBe(b); // untouched: the same object
    expect(next.affectedBy([p("lib/knowledge/docs/one.md")])).toEqual(["a"]);
    expect(next.affectedBy([p("lib/knowledge/unused.md")])).toEqual([]);
    expect(next.affectedBy([p("lib/mcp/fetch.yaml")])).toBeUndefined();
    expect(next.affectedBy([p("lib/workflows/w.yaml"), p("lib/.claude/agents/a.md")])).toEqual([]);
  });

  it("ignores exported files inside the library and reloads it all after invalidateAll", () => {
    const live = createLiveLibrary(lib);
    live.current();
    const before = live.stats();
    live.invalidate(p("lib/.claude/agents/a.md"));
    live.invalidate(p("lib/AGENTS.md"));
    live.current();
    expect(live.stats()).toEqual(before);
    live.invalidateAll();
    live.current();
    expect(live.stats().fullLoads).toBe(before.fullLoads + 1);
  });

  it("a broken agent file keeps its last good definition while its error is reported", () => {
    const live = createLiveLibrary(lib);
    const good = live.current().resolved.agents.find((a) => a.name === "a")!;
    writeFileSync(p("lib/agents/a.md"), "---\ndescription: [\n---\nbroken\n");
    const s = live.current([p("lib/agents/a.md")]);
    expect(s.resolved.agents.find((a) => a.name === "a")?.instructions).toBe(good.instructions);
    const err = s.library.diagnostics.find((d) => d.severity === "error")!;
    expect([err.file, typeof err.line, typeof err.col]).toEqual([p("lib/agents/a.md"), "number", "number"]);
    rmSync(p("lib/agents/a.md"));
    expect(live.current([p("lib/agents/a.md")]).library.agents.has("a")).toBe(false);
  });
});
