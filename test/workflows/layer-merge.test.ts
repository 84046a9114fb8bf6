// An upstream update of an adopted copy, end to end on real files and real git: a clean merge is
// written; a conflict leaves the live file as it was, writes `<file>.conflict.md` with the markers
// and a record in the state folder, is counted by the metric, listed by `aicfg status`, and closed
// by `aicfg resolve --ours|--theirs|--edited`. The loader never reads a conflict file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadLibrary } from "../../src/library/load.ts";
import { createEventBus } from "../../src/daemon/events.ts";
import { createMetrics } from "../../src/daemon/telemetry/metrics.ts";
import { openConflictStore } from "../../src/workflows/conflicts.ts";
import { applyLayerUpdate } from "../../src/workflows/layer-merge.ts";
import { cli } from "../cli/helpers.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

const BASE = "---\ndescription: Reviews code\nmodel: sonnet\ntools:\n  allow: [read]\n---\n# Role\n\nYou review code.\n\n- be kind\n";
const T = Date.UTC(2026, 10, 24, 12, 0, 0);

let dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs) d.cleanup();
  dirs = [];
});

function setup(localAgent: string) {
  const lib = tempDir("aicfg-lib-");
  const state = tempDir("aicfg-state-");
  dirs.push(lib, state);
  writeTree(lib.path, {
    "aicfg.yaml": "name: team\nmerge:\n  - path: policies/**\n    policy: upstream-wins\n",
    "agents/reviewer.md": localAgent,
    "policies/rules.md": "# Rules\n\nlocal tweak\n",
  });
  const update = (path: string, base: string | null, theirs: string | null) =>
    applyLayerUpdate({
      libraryRoot: lib.path,
      library: "team",
      stateDir: state.path,
      path,
      base,
      theirs,
      rules: loadLibrary(lib.path).manifest.merge,
      upstream: { layer: "org", commit: "a".repeat(40) },
      now: T,
    });
  return { root: lib.path, state: state.path, update, live: () => readFileSync(join(lib.path, "agents/reviewer.md"), "utf8") };
}

describe("applying an upstream update", () => {
  it("a clean merge is written to the live file; a policy glob from aicfg.yaml decides for its paths", async () => {
    const local = BASE.replace("model: sonnet", "model: opus");
    const s = setup(local);
    const r = await s.update("agents/reviewer.md", BASE, BASE.replace("- be kind", "- be kind\n- be brief"));
    expect(r).toMatchObject({ changed: true, outcome: { status: "clean", decidedBy: "merged" } });
    expect(s.live()).toBe(local + "- be brief\n");
    const p = await s.update("policies/rules.md", "# Rules\n\n", "# Rules\n\nupstream text\n");
    expect(p.outcome).toMatchObject({ status: "clean", decidedBy: "upstream-wins", dropped: "local" });
    expect(readFileSync(join(s.root, "policies/rules.md"), "utf8")).toBe("# Rules\n\nupstream text\n");
    expect(openConflictStore(s.state).list()).toEqual([]);
  });

  it("a conflict keeps the live file, writes <file>.conflict.md and a record, and status lists it", async () => {
    const local = BASE.replace("model: sonnet", "model: opus").replace("- be kind", "- be kind to people");
    const s = setup(local);
    const r = await s.update("agents/reviewer.md", BASE, BASE.replace("model: sonnet", "model: haiku").replace("- be kind", "- be kind to code"));
    expect(r.changed).toBe(false);
    expect(s.live()).toBe(local);
    const conflictFile = join(s.root, "agents/reviewer.md.conflict.md");
    const text = readFileSync(conflictFile, "utf8");
    expect(text).toContain("<<<<<<< local\nmodel: opus\n||||||| base\nmodel: sonnet\n=======\nmodel: haiku\n>>>>>>> upstream\n");
    expect(text).toContain("<<<<<<< local\n- be kind to people\n||||||| base\n- be kind\n=======\n- be kind to code\n>>>>>>> upstream\n");
    expect(r.conflict).toMatchObject({
      library: "team",
      path: "agents/reviewer.md",
      conflictFile: "agents/reviewer.md.conflict.md",
      fields: ["model"],
      bodyConflicts: 1,
      status: "open",
      policy: "three-way",
      upstream: { layer: "org", commit: "a".repeat(40) },
      createdAt: new Date(T).toISOString(),
    });

    // Exporters never see the markers: the loader skips the conflict file.
    const lib = loadLibrary(s.root);
    expect([...lib.agents.keys()]).toEqual(["reviewer"]);
    expect(lib.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(lib.agents.get("reviewer")![0]!.spec.model).toBe("opus");

    const st = await cli(["status", "--library", s.root, "--state-dir", s.state, "--json"]);
    expect(st.code).toBe(0);
    expect(st.json().conflicts.map((c: { path: string }) => c.path)).toEqual(["agents/reviewer.md"]);
    const human = await cli(["status", "--state-dir", s.state, "--check"], { cwd: s.state });
    expect(human.code).toBe(3);
    expect(human.out).toContain("team  agents/reviewer.md  fields model, 1 body hunk(s)  upstream org@aaaaaaaaaaaa");
    expect(human.out).toContain("aicfg resolve FILE --ours | --theirs | --edited");
  });

  it("resolve --edited refuses a file with markers left (file:line), then takes the edited file", async () => {
    const s = setup(BASE.replace("- be kind", "- be kind to people"));
    await s.update("agents/reviewer.md", BASE, BASE.replace("- be kind", "- be kind to code"));
    const conflictFile = join(s.root, "agents/reviewer.md.conflict.md");
    const left = await cli(["resolve", conflictFile, "--edited", "--state-dir", s.state]);
    expect(left.code).toBe(1);
    expect(left.err).toContain(`agents/reviewer.md.conflict.md:11:1`);
    expect(left.err).toContain("conflict markers are still in the file");
    expect(existsSync(conflictFile)).toBe(true);

    writeFileSync(conflictFile, BASE.replace("- be kind", "- be kind to people and code"));
    const ok = await cli(["resolve", "agents/reviewer.md", "--edited", "--state-dir", s.state], { cwd: s.root });
    expect(ok.code, ok.err).toBe(0);
    expect(s.live()).toBe(BASE.replace("- be kind", "- be kind to people and code"));
    expect(existsSync(conflictFile)).toBe(false);
    expect(openConflictStore(s.state).list()).toEqual([]);
    expect(openConflictStore(s.state).list({ status: "resolved" })).toMatchObject([{ path: "agents/reviewer.md", resolution: "edited" }]);
    expect((await cli(["resolve", "agents/reviewer.md", "--ours", "--state-dir", s.state], { cwd: s.root })).err).toContain("has no open merge conflict");
  });

  it("resolve --theirs takes the stored upstream version (offline), --ours keeps the local file", async () => {
    const local = BASE.replace("- be kind", "- be kind to people");
    const theirs = BASE.replace("- be kind", "- be kind to code");
    const s = setup(local);
    await s.update("agents/reviewer.md", BASE, theirs);
    const r = await cli(["resolve", join(s.root, "agents/reviewer.md"), "--theirs", "--state-dir", s.state, "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(r.json()).toMatchObject({ written: true, resolved: { resolution: "theirs", status: "resolved" } });
    expect(s.live()).toBe(theirs);
    // The blobs of a resolved conflict are dropped.
    expect(existsSync(join(s.state, "conflicts", "blobs"))).toBe(true);
    expect(readFileSync(join(s.state, "conflicts", "index.json"), "utf8")).not.toContain("be kind to");

    writeFileSync(join(s.root, "agents/reviewer.md"), local);
    await s.update("agents/reviewer.md", BASE, theirs);
    const o = await cli(["resolve", join(s.root, "agents/reviewer.md"), "--ours", "--state-dir", s.state]);
    expect(o.code, o.err).toBe(0);
    expect(o.out).toContain("the live file is unchanged");
    expect(s.live()).toBe(local);
    expect(existsSync(join(s.root, "agents/reviewer.md.conflict.md"))).toBe(false);
    expect((await cli(["resolve", "x.md", "--ours", "--theirs"], { cwd: s.root })).code).toBe(2);
  });

  it("a later upstream version that merges cleanly supersedes the open conflict", async () => {
    const local = BASE.replace("- be kind", "- be kind to people");
    const s = setup(local);
    await s.update("agents/reviewer.md", BASE, BASE.replace("- be kind", "- be kind to code"));
    // Upstream reverted its edit and changed something else: the merge against the same base is clean.
    await s.update("agents/reviewer.md", BASE, BASE.replace("model: sonnet", "model: opus"));
    expect(s.live()).toBe(local.replace("model: sonnet", "model: opus"));
    expect(existsSync(join(s.root, "agents/reviewer.md.conflict.md"))).toBe(false);
    expect(openConflictStore(s.state).list({ status: "all" })).toMatchObject([{ status: "resolved", resolution: "superseded" }]);
  });

  it("refuses paths outside the library", async () => {
    const s = setup(BASE);
    await expect(s.update("../escape.md", BASE, BASE)).rejects.toThrow(/not a path inside the library/);
    await expect(s.update("agents/reviewer.md.conflict.md", BASE, BASE)).rejects.toThrow(/is a conflict file/);
  });
});

describe("the conflict metric", () => {
  it("counts merge.conflict facts by library", async () => {
    const bus = createEventBus();
    const metrics = createMetrics(bus, () => T);
    bus.publish({ type: "merge.conflict", library: "team", count: 2, at: T });
    bus.publish({ type: "merge.conflict", library: "team", count: 1, at: T });
    const text = await metrics.render();
    expect(text).toContain('aicfg_merge_conflicts_total{library="team"} 3');
    await metrics.shutdown();
  });
});
