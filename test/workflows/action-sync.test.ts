// `sync` against a real bare repository on disk: ff-only and rebase pulls, push, conflict
// policies (never left mid-merge, local commits kept reachable), offline handling, and git
// argument-injection safety (goal G03).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { syncAction } from "../../src/workflows/actions/sync.ts";
import { compileWorkflowText } from "../../src/workflows/schema.ts";
import { ActionError } from "../../src/workflows/actions/types.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TEST_GIT_IDENTITY } from "../helpers/setup.ts";
import { actionContext } from "./action-context.ts";

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

let dir: ReturnType<typeof tempDir>;
let remote: string;
let local: string;
let other: string;
const ctx = (over = {}) => actionContext(local, join(dir.path, "state"), over);

function commit(repo: string, file: string, text: string, msg: string): string {
  writeFileSync(join(repo, file), text);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", msg);
  return git(repo, "rev-parse", "HEAD");
}

beforeEach(() => {
  dir = tempDir("aicfg-sync-");
  remote = join(dir.path, "remote.git");
  local = join(dir.path, "local");
  other = join(dir.path, "other");
  git(dir.path, "init", "-q", "--bare", remote);
  git(dir.path, "clone", "-q", remote, local);
  commit(local, "a.md", "one\n", "first");
  git(local, "push", "-q", "origin", "main");
  git(dir.path, "clone", "-q", remote, other);
});
afterEach(() => dir.cleanup());

const inProgress = () => ["rebase-merge", "rebase-apply", "MERGE_HEAD"].filter((f) => existsSync(join(local, ".git", f)));

describe("sync action", () => {
  it("fast-forwards to the remote and pushes local commits", async () => {
    const theirs = commit(other, "b.md", "b\n", "from other");
    git(other, "push", "-q", "origin", "main");
    const pulled = await syncAction.run({}, ctx());
    expect(pulled.outputs).toMatchObject({ offline: false, after: theirs, pulled: 1, pushed: false, conflict: false, changed: true });
    const mine = commit(local, "c.md", "c\n", "mine");
    const pushed = await syncAction.run({ push: true }, ctx());
    expect(pushed.outputs).toMatchObject({ pushed: true, pulled: 0, changed: false });
    expect(git(remote, "rev-parse", "main")).toBe(mine);
  });

  it("ff-only with diverged history: fail leaves everything as it was", async () => {
    commit(other, "b.md", "b\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    const mine = commit(local, "c.md", "c\n", "mine");
    await expect(syncAction.run({}, ctx())).rejects.toThrow("local main and origin/main have diverged; a fast-forward is not possible");
    expect(git(local, "rev-parse", "HEAD")).toBe(mine);
    expect(inProgress()).toEqual([]);
  });

  it("ff-only with diverged history: keep-remote moves to the remote and keeps local commits under a backup ref", async () => {
    const theirs = commit(other, "b.md", "b\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    const mine = commit(local, "c.md", "c\n", "mine");
    const r = await syncAction.run({ on_conflict: "keep-remote" }, ctx());
    expect(git(local, "rev-parse", "HEAD")).toBe(theirs);
    expect(r.outputs.backup_ref).toBe(`refs/aicfg/backup/main-${Date.parse("2026-06-01T10:00:00Z")}`);
    expect(git(local, "rev-parse", String(r.outputs.backup_ref))).toBe(mine);
    const kept = await syncAction.run({ on_conflict: "keep-local" }, ctx());
    expect(kept.outputs).toMatchObject({ conflict: false, changed: false });
  });

  it("rebase with a conflict: keep-local, keep-remote and fail, never left mid-rebase", async () => {
    commit(other, "a.md", "remote version\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    commit(local, "a.md", "local version\n", "mine");
    const base = git(local, "rev-parse", "HEAD");
    await expect(syncAction.run({ strategy: "rebase", on_conflict: "fail" }, ctx())).rejects.toThrow(/^rebase onto origin\/main conflicts: /);
    expect([git(local, "rev-parse", "HEAD"), inProgress()]).toEqual([base, []]);
    const keepLocal = await syncAction.run({ strategy: "rebase", on_conflict: "keep-local" }, ctx());
    expect(keepLocal.outputs).toMatchObject({ conflict: true, resolution: "keep-local" });
    expect(readFileSync(join(local, "a.md"), "utf8")).toBe("local version\n");
    expect(git(local, "rev-parse", "HEAD~1")).toBe(git(remote, "rev-parse", "main"));
    git(local, "reset", "-q", "--hard", base);
    await syncAction.run({ strategy: "rebase", on_conflict: "keep-remote" }, ctx());
    expect(readFileSync(join(local, "a.md"), "utf8")).toBe("remote version\n");
    expect(inProgress()).toEqual([]);
  });

  it("rebase uses the identity the suite gives git, never the machine's", async () => {
    commit(other, "b.md", "b\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    commit(local, "c.md", "c\n", "mine");
    const r = await syncAction.run({ strategy: "rebase" }, ctx());
    expect(r.outputs).toMatchObject({ conflict: false, changed: true });
    expect(execFileSync("git", ["log", "-1", "--format=%cn <%ce>"], { cwd: local, encoding: "utf8" }).trim()).toBe(
      `${TEST_GIT_IDENTITY.name} <${TEST_GIT_IDENTITY.email}>`,
    );
  });

  it("says what to set when git has no identity to rebase with, and leaves the repository as it was", async () => {
    commit(other, "b.md", "b\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    const mine = commit(local, "c.md", "c\n", "mine");
    // No identity anywhere: an empty global config, an empty HOME, and no guessing from the host name.
    const empty = join(dir.path, "empty-home");
    mkdirSync(empty);
    writeFileSync(join(empty, "gitconfig"), "");
    git(local, "config", "user.useConfigOnly", "true");
    const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, HOME: process.env.HOME };
    process.env.GIT_CONFIG_GLOBAL = join(empty, "gitconfig");
    process.env.HOME = empty;
    try {
      const err = await syncAction.run({ strategy: "rebase" }, ctx()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ActionError);
      expect((err as ActionError).code).toBe("git-identity");
      expect((err as ActionError).message).toMatch(/needs a git identity to write commits.*user\.name \/ user\.email are not set/);
      expect((err as ActionError).hint).toContain(`git -C ${local} config user.name`);
      expect((err as ActionError).hint).toContain("GIT_COMMITTER_EMAIL");
    } finally {
      process.env.GIT_CONFIG_GLOBAL = saved.GIT_CONFIG_GLOBAL;
      process.env.HOME = saved.HOME;
    }
    expect([git(local, "rev-parse", "HEAD"), inProgress()]).toEqual([mine, []]);
  });

  it("offline: a retryable error while attempts remain, a warning on the last one", async () => {
    renameSync(remote, remote + ".gone");
    let err: unknown;
    try {
      await syncAction.run({}, ctx({ attempt: 1, maxAttempts: 3 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect([(err as ActionError).code, (err as ActionError).retryable]).toEqual(["offline", true]);
    const last = await syncAction.run({}, ctx({ attempt: 3, maxAttempts: 3 }));
    expect(last.outputs).toMatchObject({ offline: true, pulled: 0 });
    expect(last.warnings![0]!.startsWith("remote 'origin' is unreachable: ")).toBe(true);
  });

  it("is safe against argument injection and repository hooks (G03)", async () => {
    const marker = join(dir.path, "PWN");
    writeFileSync(join(local, ".git", "hooks", "post-merge"), `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(join(local, ".git", "hooks", "post-merge"), 0o755);
    commit(other, "b.md", "b\n", "theirs");
    git(other, "push", "-q", "origin", "main");
    await syncAction.run({}, ctx());
    expect(existsSync(marker)).toBe(false);

    await expect(syncAction.run({ branch: "--upload-pack=touch PWN" }, ctx())).rejects.toThrow('branch "--upload-pack=touch PWN" is not a safe git name');
    await expect(syncAction.run({ remote: "-oProxyCommand=touch PWN" }, ctx())).rejects.toThrow('remote "-oProxyCommand=touch PWN" is not a safe git name');
    await expect(syncAction.run({ branch: "../../etc" }, ctx())).rejects.toThrow('branch "../../etc" is not a safe git name');
    git(local, "remote", "add", "evil", "ext::sh -c touch% PWN");
    await expect(syncAction.run({ remote: "evil" }, ctx())).rejects.toThrow(
      'remote URL "ext::sh -c touch% PWN" is not allowed: transport helpers (x::y) are not allowed',
    );
    await expect(syncAction.run({}, ctx({ settings: { shell: { enabled: false }, git: { allowFileRemotes: false }, env: {} } }))).rejects.toThrow(
      `remote URL ${JSON.stringify(remote)} is not allowed: local paths need actions.git.allow_file_remotes in the daemon config`,
    );
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(local, "PWN"))).toBe(false);
  });
});

describe("sync with layers: the step's inputs", () => {
  const messages = (w: string) =>
    compileWorkflowText(`name: w\nsteps:\n  - uses: sync\n    with: ${w}\n`, "/lib/workflows/w.yaml", "lib").diagnostics.map(
      (d) => `${d.line}:${d.col} ${d.message}`,
    );
  it("refuses pull options next to layers, and layer options without it, at the field's line:col", () => {
    expect(messages("{ layers: update }")).toEqual([]);
    expect(messages("{ layers: install, accept_rewrite: true, on_rewrite: fail }")).toEqual([]);
    expect(messages("{ layers: update, strategy: rebase }")).toEqual([
      expect.stringMatching(/^4:39 .*'strategy' is for pulling the library's own repository; a step with 'layers: update' updates the git layers only/),
    ]);
    expect(messages("{ on_rewrite: fail }")).toEqual([expect.stringMatching(/^4:25 .*'on_rewrite' needs 'layers: update' or 'layers: install'/)]);
    expect(messages("{ layers: pull }")).toEqual([expect.stringMatching(/^4:\d+ .*layers: Invalid option: expected one of "update"\|"install"/)]);
  });
});
