// Adopted copies through the real CLI and real git: a bare repository as the team layer's remote, two clones of
// it (two team members) pushing concurrently, and a personal library that adopted a team file and edited it.
// `aicfg library update` 3-way merges upstream's changes into the copy before the lock moves; a true conflict
// keeps the local file, writes <file>.conflict.md and a record (`aicfg status`); a kill -9 after the merge and
// before the lock leaves the old pin, and the next update completes with the same result.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeBin } from "../daemon/harness.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { bareRemote, cloneAs, commitPush } from "../helpers/git-remote.ts";
import { cli } from "./helpers.ts";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "aicfg.js");

const REVIEWER =
  "---\ndescription: Reviews code\nmodel: sonnet\ntags: [review]\n---\n# Role\n\nYou review code.\n\n- be kind\n\n## Output\n\nA list of findings.\n";

let dir: ReturnType<typeof tempDir>;
let remote: string;
let alice: string;
let bob: string;
let lib: string;
let state: string;

const run = (...args: string[]) => cli([...args, "--library", lib, "--state-dir", state], { cwd: dir.path });
const lock = () => JSON.parse(readFileSync(join(lib, "aicfg.lock"), "utf8"));
const live = () => readFileSync(join(lib, "agents", "reviewer.md"), "utf8");

beforeEach(async () => {
  dir = tempDir("aicfg-adopt-");
  lib = join(dir.path, "me");
  state = join(dir.path, "state");
  ({ remote, firstClone: alice } = bareRemote(dir.path, "team", "alice", { "aicfg.yaml": "name: team\n", "agents/reviewer.md": REVIEWER }));
  bob = cloneAs(dir.path, remote, "bob");
  writeTree(lib, { "aicfg.yaml": "name: me\ntargets: [claude-code]\n" });
  expect((await run("library", "add", "team", remote)).code).toBe(0);
});
afterEach(() => dir.cleanup());

describe("aicfg library adopt", () => {
  it("copies the pinned file into the library and records it in aicfg.lock; refuses to overwrite a different file", async () => {
    const a = await run("library", "adopt", "team", "agents/reviewer.md", "--json");
    expect(a.code, a.err).toBe(0);
    expect(a.json().adopted).toMatchObject([{ layer: "team", path: "agents/reviewer.md", written: true }]);
    expect(live()).toBe(REVIEWER);
    expect(lock().layers.team.adopted).toEqual(["agents/reviewer.md"]);
    expect((await run("sync", "--frozen")).code).toBe(0);

    const missing = await run("library", "adopt", "team", "agents/nope.md");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("layer 'team' has no file agents/nope.md");
    writeTree(lib, { "agents/reviewer.md": "---\ndescription: mine\n---\n" });
    const again = await run("library", "adopt", "team", "agents/reviewer.md");
    expect(again.code).toBe(1);
    expect(again.err).toContain("already exists and differs");
    expect(again.err).toContain("--keep-local");
  });
});

describe("library update merges adopted copies", () => {
  it("two team members push concurrently; the personal edit and both upstream edits all survive", async () => {
    expect((await run("library", "adopt", "team", "agents/reviewer.md")).code).toBe(0);
    // My edit: a field and a body line.
    writeTree(lib, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: opus").replace("- be kind", "- be kind\n- cite the line") });
    // Alice and Bob edit the team file concurrently (Bob rebases onto Alice's push).
    commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("tags: [review]", "tags: [review, security]") }, "alice: tag");
    const head = commitPush(
      bob,
      {
        "agents/reviewer.md": REVIEWER.replace("tags: [review]", "tags: [review, security]").replace("A list of findings.", "A list of findings, worst first."),
      },
      "bob: output",
    );
    const u = await run("library", "update", "--json");
    expect(u.code, u.err).toBe(0);
    const rep = u.json().reports[0];
    expect(rep).toMatchObject({ status: "updated", upstream: head, merges: [{ path: "agents/reviewer.md", result: "merged", decidedBy: "merged" }] });
    expect(u.json().conflicts).toBe(0);
    expect(live()).toBe(
      REVIEWER.replace("model: sonnet", "model: opus")
        .replace("tags: [review]", "tags: [review, security]")
        .replace("- be kind", "- be kind\n- cite the line")
        .replace("A list of findings.", "A list of findings, worst first."),
    );
    expect(lock().layers.team).toMatchObject({ resolvedCommit: head, adopted: ["agents/reviewer.md"] });
    expect(existsSync(join(lib, "agents", "reviewer.md.conflict.md"))).toBe(false);
    expect((await run("status", "--json")).json().conflicts).toEqual([]);
    // The exported agent is the merged copy.
    const out = join(dir.path, "project");
    expect((await run("export", "--root", out)).code).toBe(0);
    const exported = readFileSync(join(out, ".claude", "agents", "reviewer.md"), "utf8");
    expect(exported).toContain("cite the line");
    expect(exported).toContain("worst first");
  });

  it("a true conflict keeps the local file active, writes the .conflict.md, a record in status, exit 3; a clean later update supersedes it", async () => {
    expect((await run("library", "adopt", "team", "agents/reviewer.md")).code).toBe(0);
    const mine = REVIEWER.replace("model: sonnet", "model: opus");
    writeTree(lib, { "agents/reviewer.md": mine });
    const head = commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: haiku") }, "alice: model");
    const u = await run("library", "update");
    expect(u.code).toBe(3);
    expect(u.err).toContain("team: agents/reviewer.md: conflict (fields model); the local file stays active, markers in agents/reviewer.md.conflict.md");
    expect(u.err).toContain("aicfg status");
    expect(live()).toBe(mine);
    const markers = readFileSync(join(lib, "agents", "reviewer.md.conflict.md"), "utf8");
    expect(markers).toContain("<<<<<<< local\nmodel: opus\n||||||| base\nmodel: sonnet\n=======\nmodel: haiku\n>>>>>>> upstream\n");
    expect(lock().layers.team.resolvedCommit).toBe(head);
    const st = await run("status", "--json");
    expect(st.json().conflicts).toMatchObject([{ path: "agents/reviewer.md", fields: ["model"], upstream: { layer: "team", commit: head } }]);
    // Exports keep the local version, and never the markers.
    expect((await run("explain", "reviewer", "--json")).out).toContain('"opus"');

    // Upstream settles on my value and edits the body: against the conflict's base this merges cleanly.
    commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: opus").replace("- be kind", "- be kind\n- be brief") }, "alice: agree");
    const again = await run("library", "update");
    expect(again.code, again.err).toBe(0);
    expect(live()).toBe(mine.replace("- be kind", "- be kind\n- be brief"));
    expect(existsSync(join(lib, "agents", "reviewer.md.conflict.md"))).toBe(false);
    expect((await run("status", "--json")).json().conflicts).toEqual([]);
  });

  it("killed after the merge and before the lock: the old pin stays active and the next update completes the same", async () => {
    expect((await run("library", "adopt", "team", "agents/reviewer.md")).code).toBe(0);
    const mine = REVIEWER.replace("- be kind", "- be kind\n- cite the line");
    writeTree(lib, { "agents/reviewer.md": mine });
    const first = lock().layers.team.resolvedCommit;
    const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
    const head = commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: haiku") }, "alice: model");
    const how = await new Promise<string>((resolve, reject) => {
      const child = spawn(nodeBin(), [bin, "library", "update", "--library", lib, "--state-dir", state], {
        cwd: dir.path,
        env: { ...process.env, AICFG_TEST_HOLD_AT: "before-lock", NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        // process.kill: Deno reports the signal of child.kill differently
        if (err.includes("holding at before-lock")) process.kill(child.pid!, "SIGKILL");
      });
      child.on("error", reject);
      child.on("close", (code, signal) => resolve(`${code}/${signal}`));
    });
    expect(how).toBe("null/SIGKILL");
    expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockText);
    expect(lock().layers.team.resolvedCommit).toBe(first);
    const u = await run("library", "update", "--json");
    expect(u.code, u.err).toBe(0);
    expect(lock().layers.team.resolvedCommit).toBe(head);
    expect(live()).toBe(mine.replace("model: sonnet", "model: haiku"));
  });
});
