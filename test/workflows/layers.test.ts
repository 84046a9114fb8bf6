// workflows/layers.ts with real git, below the CLI: the daemon's export action exports a git layer at its pin,
// a fetched symlink is skipped (never followed out of the checkout), the base blob of a locked file is readable
// from the mirror (what the 3-way merge uses), and a second updater is refused while one runs.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportAction } from "../../src/workflows/actions/export.ts";
import { layersDir, readBaseFile, readLock, treeDir, updateLayers, withUpdateLock } from "../../src/workflows/layers.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { actionContext } from "./action-context.ts";

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
let remote: string;
beforeEach(() => {
  dir = tempDir("aicfg-wflayers-");
  remote = join(dir.path, "team.git");
  const work = join(dir.path, "work");
  lib = join(dir.path, "me");
  state = join(dir.path, "state");
  git(dir.path, "init", "-q", "--bare", remote);
  git(dir.path, "clone", "-q", remote, work);
  writeTree(work, {
    "lib/agents/helper.md": "---\ndescription: team helper\n---\nHelp.\n",
    "lib/knowledge/secret-link-target.md": "x\n",
    "README.md": "not part of the layer\n",
  });
  symlinkSync("/etc/passwd", join(work, "lib", "knowledge", "passwd.md"));
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "team");
  git(work, "push", "-q", "origin", "HEAD:main");
  writeTree(lib, { "aicfg.yaml": `name: me\ntargets: [claude-code]\nlayers:\n  - name: team\n    url: ${remote}\n    ref: main\n    path: lib\n` });
});
afterEach(() => dir.cleanup());

describe("git layers below the CLI", () => {
  it("the export action exports a locked layer; links are skipped; the locked base blob is readable from the mirror", async () => {
    const ctx = { libraryRoot: lib, stateDir: state, now: () => new Date("2026-06-01T10:00:00Z") };
    const r = await updateLayers(ctx, { mode: "install" });
    expect(r.reports[0]).toMatchObject({ name: "team", status: "added" });
    expect(r.reports[0]!.message).toContain("knowledge/passwd.md");
    const locked = readLock(lib).layers.team!;
    expect(Object.keys(locked.files)).toEqual(["agents/helper.md", "knowledge/secret-link-target.md"]);
    expect(locked.fetchedAt).toBe("2026-06-01T10:00:00.000Z");
    expect(existsSync(join(treeDir(state, locked.resolvedCommit, "lib"), "knowledge", "passwd.md"))).toBe(false);

    const out = await exportAction.run({ targets: ["claude-code"], root: "../sandbox" }, actionContext(lib, state));
    expect(out.outputs).toMatchObject({ errors: 0 });
    expect(readFileSync(join(dir.path, "sandbox", ".claude", "agents", "helper.md"), "utf8")).toContain("team helper");

    const base = await readBaseFile(state, lib, { name: "team", url: remote, ref: "main", path: "lib" }, locked.resolvedCommit, "agents/helper.md");
    expect(base?.toString("utf8")).toBe("---\ndescription: team helper\n---\nHelp.\n");
    expect(await readBaseFile(state, lib, { name: "team", url: remote, ref: "main", path: "lib" }, locked.resolvedCommit, "agents/none.md")).toBeUndefined();
  });

  it("one update at a time per state folder; a lock file left by a dead process is taken over", async () => {
    const ctx = { libraryRoot: lib, stateDir: state };
    await withUpdateLock(ctx, async () => {
      await expect(updateLayers(ctx, { mode: "install" })).rejects.toThrow(/another aicfg \(pid \d+\) is updating/);
    });
    writeFileSync(join(layersDir(state), "update.lock"), "999999999\n");
    const r = await updateLayers(ctx, { mode: "install" });
    expect(r.reports[0]!.status).toBe("added");
    expect(existsSync(join(layersDir(state), "update.lock"))).toBe(false);
  });
});
