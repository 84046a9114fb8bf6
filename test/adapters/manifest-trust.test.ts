// Paths taken from a manifest are trusted for delete or overwrite only inside their recorded root
// (issue "2 of 7", item 9): a crafted state manifest, a crafted change log line or a crafted committed
// `.aicfg/exports.json` naming a file elsewhere never gets that file deleted.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyManifest, loadManifest, loadProjectManifest, MANIFEST_LOG, MANIFEST_NAME, type OwnedEntry } from "../../src/adapters/manifest.ts";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { sha256 } from "../../src/library/hash.ts";
import { tempDir } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let root: string;
let state: string;
let victim: string;
beforeEach(() => {
  dir = tempDir("aicfg-trust-");
  root = join(dir.path, "project");
  state = join(dir.path, "state");
  victim = join(dir.path, "victim.md");
  mkdirSync(root, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(victim, "precious\n");
});
afterEach(() => dir.cleanup());

const NOW = "2026-01-01T00:00:00.000Z";
const crafted = (path: string, over: Partial<OwnedEntry> = {}): OwnedEntry => ({
  path,
  target: "cursor",
  kind: "file",
  root,
  scope: "project",
  hash: sha256("precious\n"),
  writtenAt: NOW,
  ...over,
});

/** Exports nothing to cursor (so every recorded cursor file is stale) and applies the plan. */
function pruneCursor(manifest = loadManifest(state)) {
  const plan = planExport([{ target: "cursor", scope: "project", root, files: [], prune: true }], manifest, { force: true, now: NOW });
  return { plan, applied: applyPlan(plan, manifest, state, NOW) };
}

describe("manifest paths outside their root", () => {
  it("a crafted entry in the state manifest is dropped and its file left alone (even with --force)", () => {
    const m = emptyManifest();
    for (const p of [victim, join(root, "..", "victim.md")]) m.entries[`${p}\u0000cursor`] = crafted(p);
    writeFileSync(join(state, MANIFEST_NAME), JSON.stringify(m));
    expect(Object.keys(loadManifest(state).entries)).toEqual([]);
    const { plan, applied } = pruneCursor();
    expect(plan.entries).toEqual([]);
    expect(applied).toEqual({ written: [], deleted: [], failed: [], backups: [] });
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("a crafted line in the change log is dropped too", () => {
    writeFileSync(join(state, MANIFEST_LOG), JSON.stringify({ v: 1, e: { [`${victim}\u0000cursor`]: crafted(victim) }, c: {} }) + "\n");
    expect(loadManifest(state).entries).toEqual({});
    pruneCursor();
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("an entry handed to the planner directly is not deleted either, nor one whose root is not the export's", () => {
    const m = emptyManifest();
    m.entries[`${victim}\u0000cursor`] = crafted(victim);
    m.entries[`${root}/../victim.md\u0000cursor`] = crafted(`${root}/../victim.md`);
    // Recorded under a wider root (the parent folder): the export to `root` never prunes it.
    m.entries[`${victim}\u0000cursor2`] = crafted(victim, { root: dir.path, target: "cursor" });
    const { plan, applied } = pruneCursor(m);
    expect(plan.entries).toEqual([]);
    expect(applied.failed).toEqual([]);
    expect(applied.deleted).toEqual([]);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("a committed .aicfg/exports.json naming files outside the project yields no entry for them", () => {
    mkdirSync(join(root, ".aicfg"));
    const entry = { kind: "file", hash: sha256("precious\n") };
    writeFileSync(
      join(root, ".aicfg", "exports.json"),
      JSON.stringify({ version: 1, files: { "../victim.md": { cursor: entry }, [victim]: { cursor: entry }, "ok.md": { cursor: entry } } }),
    );
    const loaded = loadProjectManifest(root);
    expect(loaded.error).toBeUndefined();
    expect(loaded.entries.map((e) => e.path)).toEqual([join(root, "ok.md")]);
  });
});
