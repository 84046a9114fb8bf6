// Export roots of a library's export steps, as the export action resolves them: one entry per
// distinct destination (the steps writing there named), roots ordered by how many steps write
// there, expressions noted, the library's export.root when no workflow exports; and the merged
// matrix compares each cell with the first root that covers it.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { exportLibrary } from "../../../src/adapters/export.ts";
import { loadLibrary } from "../../../src/library/load.ts";
import { analyticsByRoot, exportRootsOf } from "../../../src/daemon/ui/export-roots.ts";
import { tempDir, writeTree } from "../../helpers/fixtures.ts";

describe("export roots", () => {
  it("come from the export steps' root/targets/scope, merged per destination, and each cell says its root", async () => {
    const dir = tempDir("aicfg-roots-");
    try {
      const libRoot = join(dir.path, "lib");
      const state = join(dir.path, "state");
      writeTree(libRoot, {
        "aicfg.yaml": "name: lib\ntargets: [claude-code, codex]\nexport:\n  root: ../project\n",
        "agents/helper.md": "---\ndescription: Helps\n---\nBe helpful.\n",
      });
      const lib = loadLibrary(libRoot);
      const env = { HOME: join(dir.path, "home"), PATH: "" };
      // Without an export step: the library's export.root.
      const fallback = await exportRootsOf(lib, [], { stateDir: state, env });
      expect(fallback).toEqual([
        { folder: join(dir.path, "project"), scope: "project", stateDir: state, by: ["the library's export.root (no enabled workflow exports)"], notes: [] },
      ]);
      const roots = await exportRootsOf(
        lib,
        [
          { workflow: "everything", step: "out", with: { root: "../b" } },
          { workflow: "on-change", step: "export", with: { root: "../a", targets: ["claude-code"] } },
          { workflow: "nightly", step: "export", with: { root: "../a", targets: ["claude-code"] } },
          { workflow: "picked", step: "export", with: { root: "../a", targets: "${{ inputs.targets }}" } },
        ],
        { stateDir: state, env },
      );
      expect(roots.map((r) => [r.folder, r.targets ?? null, r.by, r.notes])).toEqual([
        [join(dir.path, "a"), ["claude-code"], ["on-change/export", "nightly/export"], []],
        [join(dir.path, "b"), null, ["everything/out"], []],
        [join(dir.path, "a"), null, ["picked/export"], ["targets comes from an expression; the matrix assumes the default"]],
      ]);
      // Export to root a for real (claude-code only): that cell is fresh; codex is covered first by the second root (b), where nothing was exported.
      const written = exportLibrary({ library: lib, stateDir: state, root: join(dir.path, "a"), targets: ["claude-code"] });
      expect(written.errors).toEqual([]);
      const a = analyticsByRoot(lib, roots);
      const cell = (target: string) => a.merged.matrix.find((c) => c.agent === "helper" && c.target === target)!;
      expect(cell("claude-code").status).toBe("fresh");
      expect(a.rootOf("helper", "claude-code")).toBe(0);
      expect(cell("codex").status).toBe("stale");
      expect(a.rootOf("helper", "codex")).toBe(1);
      expect(a.merged.agents.find((g) => g.name === "helper")!.states).toMatchObject({ fresh: 1, stale: 1 });
      // Only root b: nothing there yet.
      const b = analyticsByRoot(lib, [roots[1]!]);
      expect(b.merged.matrix.map((c) => c.status)).toEqual(["stale", "stale"]);
    } finally {
      dir.cleanup();
    }
  });
});
