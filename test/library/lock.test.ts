// aicfg.lock as pure data: stable text (an unchanged pin is an unchanged file), positioned parse errors, whether
// the lock covers aicfg.yaml, and which files changed between two pins; plus the layer fields of the schema.
import { describe, expect, it } from "vitest";
import {
  diffFiles,
  emptyLock,
  fileIntegrity,
  integrityMismatches,
  lockGap,
  parseLock,
  serializeLock,
  staleLockEntries,
  type LockFile,
} from "../../src/library/lock.ts";
import { LayerSpec, LibraryManifest } from "../../src/library/schema.ts";

const A = "a".repeat(40);
const lock: LockFile = {
  lockfileVersion: 1,
  layers: {
    team: {
      url: "https://git.example.com/team.git",
      requestedRef: "main",
      resolvedCommit: A,
      fetchedAt: "2026-01-01T00:00:00.000Z",
      files: { "z.md": fileIntegrity("z"), "a.md": fileIntegrity("a") },
    },
    org: { url: "../org", requestedRef: "v3", path: "library", resolvedCommit: "b".repeat(40), fetchedAt: "2026-01-01T00:00:00.000Z", files: {} },
  },
};

describe("aicfg.lock", () => {
  it("serialises in aicfg.yaml order with sorted files, and parses back to the same value", () => {
    const text = serializeLock(lock, ["org", "team"]);
    expect(Object.keys(JSON.parse(text).layers)).toEqual(["org", "team"]);
    expect(Object.keys(JSON.parse(text).layers.team.files)).toEqual(["a.md", "z.md"]);
    expect(text.endsWith("}\n")).toBe(true);
    const back = parseLock(text, "/l/aicfg.lock");
    expect(back.diagnostics).toEqual([]);
    expect(serializeLock(back.lock!, ["org", "team"])).toBe(text);
    expect(fileIntegrity("a")).toBe("sha256-ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
  });

  it("a damaged lock is an error with a position, never an empty lock", () => {
    const bad = parseLock('{\n  "lockfileVersion": 1,\n  oops\n}', "/l/aicfg.lock");
    expect(bad.lock).toBeUndefined();
    expect(bad.diagnostics[0]).toMatchObject({ code: "lock-syntax", file: "/l/aicfg.lock", line: 3 });
    const wrong = parseLock(JSON.stringify({ lockfileVersion: 1, layers: { team: { ...lock.layers.team, resolvedCommit: "HEAD" } } }), "/l/aicfg.lock");
    expect(wrong.diagnostics[0]!.message).toContain("layers.team.resolvedCommit: must be a full commit id");
  });

  it("says why a lock entry does not cover a layer, and which entries are stale", () => {
    const spec = { name: "team", url: "https://git.example.com/team.git", ref: "main" };
    expect(lockGap(spec, lock.layers.team)).toBeUndefined();
    expect(lockGap(spec, undefined)).toBe("not-locked");
    expect(lockGap({ ...spec, ref: "dev" }, lock.layers.team)).toBe("ref-changed");
    expect(lockGap({ ...spec, url: "https://elsewhere/x.git" }, lock.layers.team)).toBe("url-changed");
    expect(lockGap({ ...spec, path: "lib" }, lock.layers.team)).toBe("path-changed");
    expect(staleLockEntries([spec], lock)).toEqual(["org"]);
    expect(staleLockEntries([], emptyLock())).toEqual([]);
  });

  it("diffs two pins file by file (what a 3-way merge must look at)", () => {
    const before = { "a.md": fileIntegrity("1"), "b.md": fileIntegrity("2"), "c.md": fileIntegrity("3") };
    const after = { "a.md": fileIntegrity("1"), "b.md": fileIntegrity("2!"), "d.md": fileIntegrity("4") };
    expect(diffFiles(before, after)).toEqual({ added: ["d.md"], removed: ["c.md"], changed: ["b.md"] });
    expect(integrityMismatches(before, after)).toEqual(["b.md", "c.md", "d.md"]);
    expect(integrityMismatches(before, { ...before })).toEqual([]);
  });
});

describe("layers in aicfg.yaml", () => {
  const ok = [
    "https://git.example.com/org.git",
    "ssh://git@host/org.git",
    "git@github.com:org/lib.git",
    "file:///srv/git/org.git",
    "/srv/git/org.git",
    "./org",
    "../org",
  ];
  const refused = [
    "--upload-pack=touch x",
    "-u",
    "ext::sh -c touch% x",
    "https://x/y::z",
    "fd::3",
    "git://host/x",
    "http://host/x",
    "org",
    " https://x",
    "https://x/\nfoo",
    "C:\\repo",
    "ssh://-oProxyCommand=touch%20x/repo",
    "ssh://git@-oProxyCommand=x/repo",
  ];
  it("accepts the URL forms a platform team uses", () => {
    for (const url of ok) expect(LayerSpec.safeParse({ name: "org", url, ref: "main" }).success, url).toBe(true);
  });
  it("refuses option-looking URLs, transport helpers, plain-text protocols and control characters", () => {
    for (const url of refused) expect(LayerSpec.safeParse({ name: "org", url, ref: "main" }).success, url).toBe(false);
  });
  it("takes branches, tags and commit ids as refs, and refuses what is no ref name", () => {
    for (const ref of ["main", "release/2026.1", "v3", "a".repeat(40)]) expect(LayerSpec.safeParse({ name: "o", url: "../o", ref }).success, ref).toBe(true);
    for (const ref of ["-x", "--output=y", "a..b", "/main", "main/", "x.lock", "a//b", "a b", "HEAD@{1}", "x."])
      expect(LayerSpec.safeParse({ name: "o", url: "../o", ref }).success, ref).toBe(false);
    for (const path of ["../x", "a/../../b", "/abs", "-x", "a\\b"])
      expect(LayerSpec.safeParse({ name: "o", url: "../o", ref: "main", path }).success, path).toBe(false);
    expect(LayerSpec.safeParse({ name: "o", url: "../o", ref: "main", path: "library/agents" }).success).toBe(true);
  });
  it("refuses two layers with one name", () => {
    const r = LibraryManifest.safeParse({
      name: "me",
      layers: [
        { name: "org", url: "../a", ref: "main" },
        { name: "org", url: "../b", ref: "main" },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(["layers", 1, "name"]);
  });
});
