// Exports running at the same time into one state folder (issue "2 of 7", item 7): four real CLI
// processes export to four roots; every root's files stay recorded as aicfg's own, so a second
// export of each finds them unchanged instead of calling them foreign.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest } from "../../src/adapters/manifest.ts";
import { tempDir } from "../helpers/fixtures.ts";

const BIN = fileURLToPath(new URL("../../bin/aicfg.js", import.meta.url));
const examples = fileURLToPath(new URL("../../examples/library", import.meta.url));
const TARGETS = "claude-code,cursor,codex,copilot,gemini-cli,kiro-cli";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("aicfg-parallel-");
});
afterEach(() => dir.cleanup());

const args = (root: string, state: string) => ["export", "--library", examples, "--target", TARGETS, "--root", root, "--state-dir", state, "--json"];

function run(argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((done) => child.on("close", (code) => done({ code, out, err })));
}

describe("parallel exports into one state folder", () => {
  it("four processes at once keep all four roots recorded (lock, re-read, merge)", async () => {
    const state = join(dir.path, "state");
    const roots = [1, 2, 3, 4].map((i) => join(dir.path, `root${i}`));
    const results = await Promise.all(roots.map((r) => run(args(r, state))));
    for (const r of results) {
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).written).toBeGreaterThan(5);
    }
    const manifest = loadManifest(state);
    const recorded = new Set(Object.values(manifest.entries).map((e) => e.root));
    expect([...recorded].sort()).toEqual(roots);
    for (const root of roots) {
      const written = results[roots.indexOf(root)]!;
      const own = Object.values(manifest.entries).filter((e) => e.root === root).length;
      expect(own).toBeGreaterThanOrEqual(JSON.parse(written.out).written);
    }
    // Each root again, without the no-op shortcut: everything is ours and unchanged.
    for (const root of roots) {
      const again = spawnSync(process.execPath, [BIN, ...args(root, state), "--no-cache"], { encoding: "utf8" });
      expect(again.status).toBe(0);
      const j = JSON.parse(again.stdout) as { written: number; drift: number; conflicts: number; errors: unknown[] };
      expect({ written: j.written, errors: j.errors }).toEqual({ written: 0, errors: [] });
    }
  }, 120_000);
});
