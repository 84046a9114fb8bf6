// Recording an export reads the ownership records again only when someone else recorded since they
// were loaded; either way no export's records are lost. And the per-entry trust check (a path
// strictly inside its root, in normal form) gives the same answers on its fast path.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest, manifestBase, trustedEntry, updateManifest, type OwnedEntry } from "../../src/adapters/manifest.ts";
import { tempDir } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-manifest-");
  state = join(dir.path, "state");
  mkdirSync(state, { recursive: true });
});
afterEach(() => dir.cleanup());

const entry = (path: string, root = "/p"): OwnedEntry => ({ path, target: "cursor", kind: "file", root, scope: "project", hash: "h", writtenAt: "t" });

describe("updateManifest", () => {
  it("keeps the records of an export that recorded between another's load and update", () => {
    updateManifest(state, manifestBase(loadManifest(state)), { version: 1, entries: { a: entry("/p/a") }, cache: {} });
    const first = loadManifest(state);
    const firstBase = manifestBase(first);
    const second = loadManifest(state);
    const secondBase = manifestBase(second);
    second.entries.b = entry("/p/b");
    updateManifest(state, secondBase, second);
    first.entries.c = entry("/p/c");
    delete first.entries.a;
    const recorded = updateManifest(state, firstBase, first);
    expect(Object.keys(recorded.entries).sort()).toEqual(["b", "c"]);
    expect(Object.keys(loadManifest(state).entries).sort()).toEqual(["b", "c"]);
  });

  it("records a change on the loaded records when nobody recorded meanwhile", () => {
    updateManifest(state, manifestBase(loadManifest(state)), { version: 1, entries: { a: entry("/p/a") }, cache: {} });
    const m = loadManifest(state);
    const base = manifestBase(m);
    expect(base.stamp).toBeDefined();
    m.entries.b = entry("/p/b");
    m.cache.k = { fingerprint: "f", paths: ["/p/b"], reads: [] };
    const recorded = updateManifest(state, base, m);
    expect(recorded).toBe(m);
    const again = loadManifest(state);
    expect(Object.keys(again.entries).sort()).toEqual(["a", "b"]);
    expect(again.cache.k?.paths).toEqual(["/p/b"]);
  });
});

describe("trustedEntry", () => {
  const cases: [string, string, boolean][] = [
    ["/p/a", "/p", true],
    ["/p/x/y.md", "/p/", true],
    ["/p/x/y.md", "/p/x/..", true],
    ["/p", "/p", false],
    ["/q/a", "/p", false],
    ["/pa/b", "/p", false],
    ["/p/../etc/passwd", "/p", false],
    ["/p//a", "/p", false],
    ["/p/./a", "/p", false],
    ["/p/a/", "/p", false],
    ["/p/.a", "/p", true],
    ["/p/..a", "/p", true],
    ["p/a", "/p", false],
    ["/p/a", "p", false],
    ["/etc/x", "/", true],
  ];
  it("gives the same answer with and without the per-root cache", () => {
    const roots = new Map<string, string | undefined>();
    for (const [path, root, want] of cases) {
      expect(trustedEntry(entry(path, root)), `${path} in ${root}`).toBe(want);
      expect(trustedEntry(entry(path, root), roots), `${path} in ${root} (cached root)`).toBe(want);
    }
  });
});
