// Git layers end to end with real git: a bare repository per layer as the remote, a working clone pushing to it,
// and the real CLI (`aicfg library add|remove|update|status|outdated`, `aicfg sync [--frozen]`, `aicfg export`).
// Covers the lock, upstream moves, offline from the mirror, kill -9 in the middle of an update, force-pushes,
// tag and commit refs, and URLs/refs that must never reach git.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";
import { cli } from "./helpers.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(repo, "bin", "aicfg.js");

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const agent = (description: string, body = "Review the change.") => `---\ndescription: ${description}\n---\n${body}\n`;

let dir: ReturnType<typeof tempDir>;
let remote: string;
let work: string;
let lib: string;
let state: string;

function push(files: Record<string, string>, msg: string): string {
  writeTree(work, files);
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", msg);
  git(work, "push", "-q", "origin", "HEAD:main");
  return git(work, "rev-parse", "HEAD");
}

const run = (...args: string[]) => cli([...args, "--library", lib, "--state-dir", state], { cwd: dir.path });
const lock = () => JSON.parse(readFileSync(join(lib, "aicfg.lock"), "utf8"));
const sha256 = (s: string) => "sha256-" + createHash("sha256").update(s).digest("hex");

beforeEach(() => {
  dir = tempDir("aicfg-layers-");
  remote = join(dir.path, "org.git");
  work = join(dir.path, "org-work");
  lib = join(dir.path, "me");
  state = join(dir.path, "state");
  git(dir.path, "init", "-q", "--bare", remote);
  git(dir.path, "clone", "-q", remote, work);
  push({ "aicfg.yaml": "name: org\n", "agents/reviewer.md": agent("org reviewer") }, "first");
  writeTree(lib, { "aicfg.yaml": "# my library\nname: me\ntargets: [claude-code]\n", "agents/mine.md": agent("my own agent") });
});
afterEach(() => dir.cleanup());

describe("aicfg library add / list / export", () => {
  it("adds a layer from a bare repository: aicfg.yaml keeps its comment, the lock pins the commit and every file's sha256", async () => {
    const head = git(work, "rev-parse", "HEAD");
    const r = await run("library", "add", "org", remote, "--ref", "main");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("added at " + head.slice(0, 12));
    const yaml = readFileSync(join(lib, "aicfg.yaml"), "utf8");
    expect(yaml).toContain("# my library");
    expect(yaml).toMatch(/layers:\n\s+- name: org\n\s+url: .*org\.git\n\s+ref: main/);
    const l = lock();
    expect(l.lockfileVersion).toBe(1);
    expect(l.layers.org).toMatchObject({ url: remote, requestedRef: "main", resolvedCommit: head });
    expect(l.layers.org.files).toEqual({ "aicfg.yaml": sha256("name: org\n"), "agents/reviewer.md": sha256(agent("org reviewer")) });

    const list = await run("list", "--json");
    expect(list.json().map((a: { name: string; layer: string }) => [a.name, a.layer])).toEqual([
      ["mine", "me"],
      ["reviewer", "org"],
    ]);
    const out = join(dir.path, "project");
    const e = await run("export", "--root", out);
    expect(e.code, e.err + e.out).toBe(0);
    expect(readFileSync(join(out, ".claude", "agents", "reviewer.md"), "utf8")).toContain("org reviewer");
    expect((await run("sync", "--frozen")).code).toBe(0);
  });

  it("a personal agent of the same name overrides the team's fields (overlay), with provenance", async () => {
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    writeTree(lib, { "agents/reviewer.md": "---\ndescription: my reviewer\n---\n" });
    const ex = await run("explain", "reviewer", "--json");
    expect(ex.code, ex.err).toBe(0);
    const j = ex.json();
    expect(j.agent?.description ?? j.description).toBe("my reviewer");
    expect(JSON.stringify(j)).toContain('"instructions":"org"');
  });

  it("remove takes the layer out of aicfg.yaml and aicfg.lock", async () => {
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    const r = await run("library", "remove", "org");
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).not.toContain("layers");
    expect(lock().layers).toEqual({});
    expect((await run("list", "--json")).json().map((a: { name: string }) => a.name)).toEqual(["mine"]);
  });

  it("a layer that cannot be fetched is not left in aicfg.yaml", async () => {
    const before = readFileSync(join(lib, "aicfg.yaml"), "utf8");
    const r = await run("library", "add", "org", join(dir.path, "nowhere.git"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("cannot fetch");
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toBe(before);
  });
});

describe("upstream moves", () => {
  it("outdated lists it, sync --frozen exits 1 without touching the lock, library update re-pins", async () => {
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    const first = lock().layers.org.resolvedCommit;
    const second = push({ "agents/reviewer.md": agent("org reviewer v2"), "agents/tester.md": agent("tester") }, "second");

    const o = await run("library", "outdated");
    expect(o.code).toBe(1);
    expect(o.out).toContain(`org`);
    expect(o.out).toContain(`outdated: locked ${first.slice(0, 12)}, upstream ${second.slice(0, 12)}`);
    const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
    const f = await run("sync", "--frozen");
    expect(f.code).toBe(1);
    expect(f.out).toContain("aicfg.lock is out of date for org");
    expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockText);
    // export still uses the pinned commit until the update
    expect((await run("explain", "reviewer", "--json")).out).toContain('org reviewer"');

    const out = join(dir.path, "project");
    expect((await run("export", "--root", out)).code).toBe(0);
    expect(readFileSync(join(out, ".claude", "agents", "reviewer.md"), "utf8")).toContain("org reviewer\n");
    const u = await run("library", "update", "--json");
    expect(u.code, u.err).toBe(0);
    // a moved pin is a changed input: the next export is no replayed no-op
    expect((await run("export", "--root", out)).code).toBe(0);
    expect(readFileSync(join(out, ".claude", "agents", "reviewer.md"), "utf8")).toContain("org reviewer v2");
    expect(existsSync(join(out, ".claude", "agents", "tester.md"))).toBe(true);
    const rep = u.json().reports[0];
    expect(rep).toMatchObject({
      name: "org",
      status: "updated",
      locked: first,
      upstream: second,
      files: { added: ["agents/tester.md"], changed: ["agents/reviewer.md"], removed: [] },
    });
    expect(lock().layers.org.resolvedCommit).toBe(second);
    expect((await run("sync", "--frozen")).code).toBe(0);
    expect((await run("library", "outdated")).code).toBe(0);
    expect((await run("list", "--json")).json().map((a: { name: string }) => a.name)).toEqual(["mine", "reviewer", "tester"]);
  });

  it("sync --frozen exits 1 for a layer in aicfg.yaml that the lock does not cover, 2 for an error", async () => {
    writeFileSync(join(lib, "aicfg.yaml"), `name: me\nlayers:\n  - name: org\n    url: ${remote}\n    ref: main\n`);
    const f = await run("sync", "--frozen", "--json");
    expect(f.code).toBe(1);
    expect(f.json().reports[0]).toMatchObject({ name: "org", status: "not-locked" });
    expect(existsSync(join(lib, "aicfg.lock"))).toBe(false);
    writeFileSync(join(lib, "aicfg.lock"), "{ not json");
    const bad = await run("sync", "--frozen");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/aicfg\.lock:1:3\s+error: aicfg\.lock is not valid JSON/);
  });

  it("sync --frozen on a fresh state folder fetches the pinned commit and verifies every sha256; a hand-edited checkout fails it", async () => {
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    push({ "agents/reviewer.md": agent("moved on") }, "second");
    git(remote, "tag", "keep", lock().layers.org.resolvedCommit);
    rmSync(state, { recursive: true, force: true });
    const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
    writeFileSync(join(lib, "aicfg.yaml"), readFileSync(join(lib, "aicfg.yaml"), "utf8").replace("ref: main", "ref: keep"));
    writeFileSync(join(lib, "aicfg.lock"), lockText.replace('"requestedRef": "main"', '"requestedRef": "keep"'));
    expect((await run("sync", "--frozen")).code).toBe(0);
    const trees = join(state, "layers", "trees");
    const tree = join(trees, readdirSync(trees).find((n) => !n.startsWith("."))!);
    chmodSync(join(tree, "agents", "reviewer.md"), 0o644);
    writeFileSync(join(tree, "agents", "reviewer.md"), agent("tampered"));
    const f = await run("sync", "--frozen", "--json");
    expect(f.code).toBe(1);
    expect(f.json().reports[0]).toMatchObject({ status: "damaged" });
    expect((await run("library", "status")).err).toContain("agents/reviewer.md");
  });
});

describe("offline", () => {
  it("with the remote gone, update and outdated work from the mirror and say offline; export still exports, even rebuilding the checkout", async () => {
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    const pinned = lock().layers.org.resolvedCommit;
    renameSync(remote, remote + ".gone");
    const u = await run("library", "update");
    expect(u.code, u.err).toBe(0);
    expect(u.err).toContain(`org: offline, ${remote} is unreachable`);
    expect(u.err).toContain("using the last fetch from 20");
    expect(lock().layers.org.resolvedCommit).toBe(pinned);
    const o = await run("library", "outdated");
    expect(o.code).toBe(0);
    expect(o.err).toContain("org: offline");

    rmSync(join(state, "layers", "trees"), { recursive: true, force: true });
    const out = join(dir.path, "project");
    const e = await run("export", "--root", out);
    expect(e.code, e.err + e.out).toBe(0);
    expect(e.err).toContain(`layer org: checked out ${pinned.slice(0, 12)} from the local mirror`);
    expect(readFileSync(join(out, ".claude", "agents", "reviewer.md"), "utf8")).toContain("org reviewer");
    const s = await run("library", "status");
    expect(s.out).toMatch(/org\s+main\s+[0-9a-f]{12}\s+checked out\s+last fetch: 20/);
  });
});

describe("kill -9 in the middle of library update", () => {
  function killAt(point: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(nodeBin(), [bin, "library", "update", "--library", lib, "--state-dir", state], {
        cwd: dir.path,
        env: { ...process.env, AICFG_TEST_HOLD_AT: point, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        if (err.includes(`holding at ${point}`)) child.kill("SIGKILL");
      });
      child.on("error", reject);
      child.on("close", (code, signal) => resolve(`${code}/${signal}/${err}`));
    });
  }

  for (const point of ["fetched", "checked-out", "before-lock"]) {
    it(`killed at '${point}': the previous pin stays active and the next update completes`, async () => {
      expect((await run("library", "add", "org", remote)).code).toBe(0);
      const first = lock().layers.org.resolvedCommit;
      const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
      const second = push({ "agents/reviewer.md": agent("org reviewer v2") }, "second");
      const how = await killAt(point);
      expect(how).toMatch(/^null\/SIGKILL\//);
      expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockText);
      expect(existsSync(join(state, "layers", "update.lock"))).toBe(true); // left by the killed process
      // the previous state is active: exports and lists the locked commit's content
      expect((await run("explain", "reviewer", "--json")).out).toContain('org reviewer"');
      if (point === "fetched") {
        // a fetch killed by the signal leaves git's own ref lock behind; the next run clears it
        const mirrors = join(state, "layers", "mirrors");
        writeFileSync(join(mirrors, readdirSync(mirrors)[0]!, "refs", "heads", "main.lock"), first + "\n");
      }
      const u = await run("library", "update");
      expect(u.code, u.err).toBe(0);
      expect(lock().layers.org.resolvedCommit).toBe(second);
      expect(readdirSync(join(state, "layers", "trees")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
      expect((await run("explain", "reviewer", "--json")).out).toContain("org reviewer v2");
    });
  }
});

describe("history rewritten upstream", () => {
  it("a force-push is reported and not applied without --accept-rewrite; the old pin stays usable", async () => {
    push({ "agents/reviewer.md": agent("org reviewer v2") }, "second");
    expect((await run("library", "add", "org", remote)).code).toBe(0);
    const locked = lock().layers.org.resolvedCommit;
    git(work, "reset", "-q", "--hard", "HEAD~1");
    writeTree(work, { "agents/reviewer.md": agent("rewritten") });
    git(work, "commit", "-q", "-am", "rewritten");
    git(work, "push", "-q", "--force", "origin", "HEAD:main");
    const rewritten = git(work, "rev-parse", "HEAD");

    const o = await run("library", "outdated", "--json");
    expect(o.code).toBe(1);
    expect(o.json().reports[0]).toMatchObject({ status: "rewritten", locked, upstream: rewritten });
    const u = await run("library", "update");
    expect(u.code).toBe(3);
    expect(u.out).toContain("history rewritten");
    expect(u.err).toContain("--accept-rewrite");
    expect(lock().layers.org.resolvedCommit).toBe(locked);
    rmSync(join(state, "layers", "trees"), { recursive: true, force: true });
    expect((await run("explain", "reviewer", "--json")).out).toContain("org reviewer v2"); // from the pinned commit in the mirror
    expect((await run("sync", "--frozen")).code).toBe(1);

    const a = await run("library", "update", "org", "--accept-rewrite");
    expect(a.code, a.err).toBe(0);
    expect(lock().layers.org.resolvedCommit).toBe(rewritten);
    expect((await run("explain", "reviewer", "--json")).out).toContain("rewritten");
  });
});

describe("tag and commit refs", () => {
  it("a tag and a full commit id pin exactly those commits and never show as outdated", async () => {
    const tagged = git(work, "rev-parse", "HEAD");
    git(work, "tag", "v1");
    git(work, "push", "-q", "origin", "v1");
    const second = push({ "agents/second.md": agent("second") }, "second");
    push({ "agents/third.md": agent("third") }, "third");
    expect((await run("library", "add", "org", remote, "--ref", "v1")).code).toBe(0);
    const r = await run("library", "add", "pinned", remote, "--ref", second);
    expect(r.code, r.err).toBe(0);
    expect(lock().layers.org.resolvedCommit).toBe(tagged);
    expect(lock().layers.pinned.resolvedCommit).toBe(second);
    expect(Object.keys(lock().layers)).toEqual(["org", "pinned"]);
    expect((await run("library", "outdated")).code).toBe(0);
    expect((await run("list", "--json")).json().map((a: { name: string }) => a.name)).toEqual(["mine", "reviewer", "second"]);
    const short = await run("library", "add", "short", remote, "--ref", second.slice(0, 10));
    expect(short.code).toBe(1);
    expect(short.err).toContain("full 40-character id");
  });
});

describe("URLs and refs that must never reach git (G03)", () => {
  const cases: [string, string, string][] = [
    ["url", "--upload-pack=touch PWNED", "must not start with '-'"],
    ["url", "-oProxyCommand=touch PWNED", "must not start with '-'"],
    ["url", "ext::sh -c touch% PWNED", "transport helper"],
    ["url", "fd::17", "transport helper"],
    ["url", "git://example.com/x.git", "must be an https:// or ssh:// URL"],
    ["url", "http://example.com/x.git", "must be an https:// or ssh:// URL"],
    ["ref", "--output=PWNED", "must not start with '-'"],
    ["ref", "main..other", "not a valid git ref name"],
    ["ref", "main;touch PWNED", "must be a branch, a tag or a commit id"],
  ];
  for (const [field, value, message] of cases) {
    it(`${field} ${JSON.stringify(value)} is refused at aicfg.yaml:line:col and git never runs`, async () => {
      const spec = { name: "org", url: remote, ref: "main", [field]: value };
      writeFileSync(
        join(lib, "aicfg.yaml"),
        `name: me\nlayers:\n  - name: ${spec.name}\n    url: ${JSON.stringify(spec.url)}\n    ref: ${JSON.stringify(spec.ref)}\n`,
      );
      const line = field === "url" ? 4 : 5;
      for (const args of [["library", "update"], ["library", "outdated"], ["sync", "--frozen"], ["sync"]]) {
        const r = await run(...args);
        expect(r.code, args.join(" ")).toBe(args[1] === "outdated" || args[1] === "--frozen" ? 2 : 1);
        expect(r.err).toMatch(new RegExp(`aicfg\\.yaml:${line}:\\d+\\s+error: layers\\.0\\.${field}: .*${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      }
      const v = await run("validate");
      expect(v.code).toBe(1);
      expect(v.out + v.err).toContain(`aicfg.yaml:${line}:`);
      expect(existsSync(join(state, "layers"))).toBe(false);
      expect(existsSync(join(dir.path, "PWNED")) || existsSync(join(lib, "PWNED"))).toBe(false);
    });
  }

  it("library add refuses the same values before touching aicfg.yaml", async () => {
    const before = readFileSync(join(lib, "aicfg.yaml"), "utf8");
    for (const [url, ref] of [
      ["ext::sh -c touch% PWNED", "main"],
      ["--upload-pack=touch PWNED", "main"],
      [remote, "x..y"],
    ] as const) {
      // after `--`, so the value reaches the command and not the option parser
      const r = await cli(["library", "add", "org", "--ref", ref, "--library", lib, "--state-dir", state, "--", url], { cwd: dir.path });
      expect(r.code).toBe(2);
      expect(r.err).toContain("error: layer ");
    }
    expect(readFileSync(join(lib, "aicfg.yaml"), "utf8")).toBe(before);
    expect(existsSync(join(state, "layers"))).toBe(false);
  });
});
