import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTwoFilesPatch } from "diff";
import { additions } from "../../src/daemon/cli/commands/export.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

const examples = fileURLToPath(new URL("../../examples/library", import.meta.url));
let dir: { path: string; cleanup: () => void };
let base: string[];
beforeEach(() => {
  dir = tempDir();
  base = ["--library", examples, "--root", join(dir.path, "out"), "--state-dir", join(dir.path, "state")];
});
afterEach(() => dir.cleanup());

describe("aicfg export", () => {
  it("--dry-run prints the plan with diffs and writes nothing", async () => {
    const r = await cli(["export", ...base, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("would create");
    expect(r.out).toContain(".claude/agents/software-engineer.md");
    expect(r.out).toContain("+description: Implements features test-first");
    expect(r.out).toContain("Dry run: nothing was written.");
    expect(existsSync(join(dir.path, "out"))).toBe(false);
  });

  it("exports the sample library, then re-exports with no writes", async () => {
    const first = await cli(["export", ...base, "--json"]);
    expect(first.code).toBe(0);
    const j = first.json();
    expect(j.errors).toEqual([]);
    expect(j.written).toBeGreaterThan(8);
    expect(j.targets.map((t: { target: string }) => t.target).sort()).toEqual(["claude-code", "kiro-cli", "q-cli"]);
    expect(readdirSync(join(dir.path, "out", ".kiro", "agents")).sort()).toEqual([
      "code-reviewer.json",
      "docs-writer.json",
      "release-manager.json",
      "software-engineer.json",
    ]);
    expect(readdirSync(join(dir.path, "out", ".amazonq", "cli-agents")).sort()).toEqual(["code-reviewer.json", "docs-writer.json", "software-engineer.json"]);
    const again = (await cli(["export", ...base, "--json"])).json();
    expect(again.written).toBe(0);
    expect(again.files.every((f: { action: string }) => f.action === "unchanged")).toBe(true);
  });

  it("--check fails when exports are stale and passes when they are fresh", async () => {
    expect((await cli(["export", ...base, "--check"])).code).toBe(1);
    await cli(["export", ...base]);
    const ok = await cli(["export", ...base, "--check"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("Exports are up to date.");
  });

  it("leaves a hand-edited export alone (exit 3) and overwrites it with --force after a backup", async () => {
    await cli(["export", ...base]);
    const f = join(dir.path, "out", ".claude", "agents", "code-reviewer.md");
    writeFileSync(f, readFileSync(f, "utf8") + "\nMy local tweak.\n");
    const drift = await cli(["export", ...base, "--no-cache"]);
    expect(drift.code).toBe(3);
    expect(drift.out).toMatch(/! drift\s+\.claude\/agents\/code-reviewer\.md/);
    expect(readFileSync(f, "utf8")).toContain("My local tweak.");
    const forced = await cli(["export", ...base, "--force", "--json"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(f, "utf8")).not.toContain("My local tweak.");
    expect(forced.json().backups).toHaveLength(1);
    expect(readFileSync(forced.json().backups[0], "utf8")).toContain("My local tweak.");
  });

  it("exports one target only and rejects an unknown one with a hint", async () => {
    const r = await cli(["export", ...base, "--target", "kiro-cli", "--json"]);
    expect(r.json().targets.map((t: { target: string }) => t.target)).toEqual(["kiro-cli"]);
    const bad = await cli(["export", ...base, "--target", "kiro"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("unknown target 'kiro'");
  });

  it("names unexpressible features as warnings and fails on them with --strict", async () => {
    const r = await cli(["export", ...base, "--target", "q-cli", "--dry-run", "--json"]);
    const codes = r.json().warnings.map((w: { code: string }) => w.code);
    expect(codes).toContain("unsupported-feature");
    const strict = await cli(["export", ...base, "--target", "q-cli", "--strict"]);
    expect(strict.code).toBe(1);
    expect(existsSync(join(dir.path, "out", ".amazonq"))).toBe(false);
  });

  it("prints a new file of a dry run as the diff library would, without running the diff", () => {
    for (const text of ["a\nb\n", "no newline", "x\n", "\n\n", "a\n\nb\n", "", "\n", "a\r\nb\r\n"]) {
      expect(additions("f.md", text)).toBe(createTwoFilesPatch("f.md", "f.md", "", text, "", "", { context: 2 }));
    }
  });

  it("--target all writes every known target's files on the sample library", async () => {
    const known: { id: string; scopes: string[] }[] = (await cli(["targets", "--json"])).json();
    expect(known.length).toBeGreaterThanOrEqual(30);
    const r = await cli(["export", ...base, "--target", "all", "--json"]);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.errors).toEqual([]);
    const project = known
      .filter((t) => t.scopes.includes("project"))
      .map((t) => t.id)
      .sort();
    const userOnly = known.filter((t) => !t.scopes.includes("project")).map((t) => t.id);
    // Every target with a project scope exported files; the others are named as skipped.
    expect(j.targets.map((t: { target: string }) => t.target).sort()).toEqual(project);
    expect(j.targets.filter((t: { counts: { create: number } }) => t.counts.create === 0)).toEqual([]);
    expect(j.warnings.filter((w: { code: string }) => w.code === "scope-unsupported")).toHaveLength(userOnly.length);
    // Every file on disk, and every target among the written files' owners.
    const written = j.files.filter((f: { action: string }) => f.action === "create");
    expect(j.written).toBe(written.length);
    for (const f of written) expect(existsSync(f.path)).toBe(true);
    expect([...new Set(written.flatMap((f: { targets: string[] }) => f.targets))].sort()).toEqual(project);
    // The same as naming them all.
    const d = tempDir();
    try {
      const named = await cli([
        "export",
        "--library",
        examples,
        "--root",
        join(d.path, "out"),
        "--state-dir",
        join(d.path, "state"),
        "--target",
        known.map((t) => t.id).join(","),
        "--json",
      ]);
      expect(named.json().written).toBe(j.written);
    } finally {
      d.cleanup();
    }
  });

  it("--target detected exports to the tools found on PATH and HOME, as doctor finds them", async () => {
    const home = join(dir.path, "home");
    const bin = join(dir.path, "bin");
    mkdirSync(home, { recursive: true });
    mkdirSync(bin, { recursive: true });
    const env = { PATH: bin, HOME: home, CODEX_HOME: undefined };
    const none = await cli(["export", ...base, "--target", "detected"], { env });
    expect(none.code).toBe(1);
    expect(none.err).toContain("--target detected: no AI tool was found on this machine");
    writeFileSync(join(bin, "claude"), "#!/bin/sh\necho '2.1.300 (Claude Code)'\n");
    chmodSync(join(bin, "claude"), 0o755);
    const tools = (await cli(["tools", "--json", "--home", home], { env })).json();
    const installed = tools
      .filter((t: { installed: boolean }) => t.installed)
      .map((t: { id: string }) => t.id)
      .sort();
    expect(installed).toContain("claude-code");
    const r = await cli(["export", ...base, "--target", "detected", "--json"], { env });
    expect(r.code).toBe(0);
    expect(
      r
        .json()
        .targets.map((t: { target: string }) => t.target)
        .sort(),
    ).toEqual(installed);
    expect(existsSync(join(dir.path, "out", ".claude", "agents", "code-reviewer.md"))).toBe(true);
    expect(existsSync(join(dir.path, "out", ".kiro"))).toBe(installed.includes("kiro-cli"));
  });

  it("exports every agent of the sample library to every target without an error", async () => {
    const ids = (await cli(["targets", "--json"])).json().map((t: { id: string }) => t.id);
    expect(ids.length).toBeGreaterThanOrEqual(30);
    const r = await cli(["export", ...base, "--target", ids.join(","), "--json"]);
    expect(r.json().errors).toEqual([]);
    expect(r.code).toBe(0);
  });
});

describe("aicfg export --agent", () => {
  it("exports one agent without dropping the other agents' parts of shared files", async () => {
    const d = tempDir();
    try {
      const args = ["--library", examples, "--root", join(d.path, "out"), "--state-dir", join(d.path, "state"), "--target", "claude-code"];
      await cli(["export", ...args]);
      const mcpBefore = readFileSync(join(d.path, "out", ".mcp.json"), "utf8");
      const claudeBefore = readFileSync(join(d.path, "out", "CLAUDE.md"), "utf8");
      const r = await cli(["export", ...args, "--agent", "docs-writer", "--json"]);
      expect(r.code).toBe(0);
      expect(r.json().targets[0].agents).toEqual(["docs-writer"]);
      expect(readFileSync(join(d.path, "out", ".mcp.json"), "utf8")).toBe(mcpBefore);
      expect(readFileSync(join(d.path, "out", "CLAUDE.md"), "utf8")).toBe(claudeBefore);
      expect(existsSync(join(d.path, "out", ".claude", "agents", "code-reviewer.md"))).toBe(true);
    } finally {
      d.cleanup();
    }
  });
});

describe("aicfg export: skills, commands and ignore patterns", () => {
  it("exports them to tools with a native place and notices a changed companion file", async () => {
    const d = tempDir();
    try {
      const lib = join(d.path, "lib");
      const files: Record<string, string> = {
        "aicfg.yaml": "name: x\ntargets: [claude-code, cursor, gemini-cli]\nignore: [.env, secrets/**]\n",
        "agents/a.md": "---\ndescription: A\n---\nBe brief.\n",
        "skills/release-notes/SKILL.md": "---\nname: release-notes\ndescription: Writes release notes from merged pull requests\n---\nCollect the PRs.\n",
        "skills/release-notes/template.md": "## Features\n",
        "commands/review.md": "---\ndescription: Review a file\nargument-hint: <file>\n---\nReview $ARGUMENTS carefully.\n",
      };
      for (const [rel, c] of Object.entries(files)) {
        const { mkdirSync } = await import("node:fs");
        mkdirSync(join(lib, rel, ".."), { recursive: true });
        writeFileSync(join(lib, rel), c);
      }
      const args = ["--library", lib, "--root", join(d.path, "out"), "--state-dir", join(d.path, "state"), "--json"];
      const r = await cli(["export", ...args]);
      expect(r.json().errors).toEqual([]);
      const out = (p: string) => join(d.path, "out", p);
      expect(readFileSync(out(".claude/skills/release-notes/template.md"), "utf8")).toBe("## Features\n");
      expect(readFileSync(out(".claude/commands/review.md"), "utf8")).toContain("Review $ARGUMENTS carefully.");
      expect(readFileSync(out(".gemini/commands/review.toml"), "utf8")).toContain("{{args}}");
      expect(readFileSync(out(".cursorignore"), "utf8")).toContain(".env\nsecrets/**\n");
      expect((await cli(["export", ...args])).json().written).toBe(0);
      writeFileSync(join(lib, "skills/release-notes/template.md"), "## Features\n## Fixes\n");
      const again = (await cli(["export", ...args])).json();
      expect(
        again.files
          .filter((f: { action: string }) => f.action === "update")
          .map((f: { path: string }) => f.path.split("/out/")[1])
          .sort(),
      ).toEqual([".claude/skills/release-notes/template.md", ".cursor/skills/release-notes/template.md", ".gemini/skills/release-notes/template.md"]);
    } finally {
      d.cleanup();
    }
  });
});

describe("aicfg export: a team commits its exports", () => {
  // Git with its own identity and no user or system config, as on a CI runner.
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    });

  it("--check in a fresh clone passes when current, fails on stale, reports a hand edit as drift", async () => {
    const repo = join(dir.path, "repo");
    writeTree(repo, {
      "README.md": "# app\n",
      "ai/aicfg.yaml": "name: team\ntargets: [claude-code, cursor]\n",
      "ai/agents/reviewer.md": "---\ndescription: Reviews changes\nknowledge: [style.md]\nmcp: [fetch]\n---\nReview carefully.\n",
      "ai/agents/writer.md": "---\ndescription: Writes docs\n---\nWrite clearly.\n",
      "ai/knowledge/style.md": "# Style\n\nShort sentences.\n",
      "ai/mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    });
    const run = (root: string, state: string, ...more: string[]) =>
      cli(["export", "--library", join(root, "ai"), "--root", root, "--state-dir", join(dir.path, state), ...more]);
    expect((await run(repo, "state-a")).code).toBe(0);
    const lockFile = join(repo, ".aicfg", "exports.json");
    const lock = readFileSync(lockFile, "utf8");
    const parsed = JSON.parse(lock);
    expect(Object.keys(parsed.files)).toEqual([...Object.keys(parsed.files)].sort());
    expect(Object.keys(parsed.files)).toContain(".claude/agents/reviewer.md");
    expect(lock).not.toContain(repo);
    expect(lock).not.toMatch(/\d{4}-\d\d-\d\dT/);
    // No churn: exporting again, with or without the cache, leaves it byte for byte.
    await run(repo, "state-a", "--no-cache");
    expect(readFileSync(lockFile, "utf8")).toBe(lock);
    git(repo, "init", "-q");
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "exports");
    const clone = join(dir.path, "clone");
    git(dir.path, "clone", "-q", repo, clone);

    const fresh = await run(clone, "state-empty", "--check");
    expect(fresh.out).toContain("Exports are up to date.");
    expect(fresh.code).toBe(0);
    // A plain export in the fresh clone writes nothing and asks for no --force.
    const plain = await run(clone, "state-b", "--json");
    expect(plain.code).toBe(0);
    expect(plain.json().written).toBe(0);

    writeFileSync(join(clone, "ai", "agents", "writer.md"), "---\ndescription: Writes user docs\n---\nWrite clearly.\n");
    const stale = await run(clone, "state-c", "--check");
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/Exports are out of date: \d+ file\(s\) stale/);
    expect(stale.out).toMatch(/~ would update\s+\.claude\/agents\/writer\.md/);
    expect(stale.out).not.toContain("conflict");
    git(clone, "checkout", "-q", "--", "ai/agents/writer.md");

    const out = join(clone, ".claude", "agents", "reviewer.md");
    writeFileSync(out, readFileSync(out, "utf8") + "\nA local tweak.\n");
    const edited = await run(clone, "state-d", "--check");
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/! drift\s+\.claude\/agents\/reviewer\.md\s+\(changed by hand since the last export\)/);
    expect(edited.out).not.toContain("conflict");
    const again = await run(clone, "state-e");
    expect(again.code).toBe(3);
    expect(readFileSync(out, "utf8")).toContain("A local tweak.");
  });

  it("never overwrites a .aicfg/exports.json it did not write", async () => {
    writeTree(join(dir.path, "out"), { ".aicfg/exports.json": '{ "mine": true }\n' });
    const r = await cli(["export", ...base, "--target", "claude-code"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(".aicfg/exports.json is not an aicfg export manifest");
    expect(readFileSync(join(dir.path, "out", ".aicfg", "exports.json"), "utf8")).toBe('{ "mine": true }\n');
  });
});

describe("aicfg export: a no-op costs stat calls only", () => {
  const lib = () => join(dir.path, "lib");
  const args = () => ["export", "--library", lib(), "--root", join(dir.path, "out"), "--state-dir", join(dir.path, "state"), "--json"];
  beforeEach(() => {
    writeTree(lib(), {
      "aicfg.yaml": "name: t\ntargets: [claude-code, cursor]\n",
      "agents/reviewer.md": "---\ndescription: Reviews changes\nknowledge: [style.md]\n---\nReview carefully.\n",
      "agents/writer.md": "---\ndescription: Writes docs\n---\nWrite clearly.\n",
      "knowledge/style.md": "# Style\n\nShort sentences.\n",
    });
  });

  it("replays an unchanged export without rendering, and sees a same-size edit with its mtime put back", async () => {
    // An old, whole-second mtime: not "racy", and exactly restorable, so only the ctime can tell.
    const f = join(lib(), "knowledge", "style.md");
    utimesSync(f, 1_700_000_000, 1_700_000_000);
    const cold = (await cli(args())).json();
    expect(cold.rendered.outputs).toBe(cold.rendered.totalOutputs);
    const noop = (await cli(args())).json();
    expect(noop.rendered).toEqual({ targets: 0, outputs: 0, totalOutputs: cold.rendered.totalOutputs, whole: [] });
    expect(noop.written).toBe(0);
    expect(noop.targets.every((t: { cached: boolean }) => t.cached)).toBe(true);
    const before = statSync(f);
    writeFileSync(f, "# Style\n\nShort SENTENCES.\n");
    utimesSync(f, before.atime, before.mtime);
    expect(statSync(f).size).toBe(before.size);
    expect(statSync(f).mtimeMs).toBe(before.mtimeMs);
    const edited = (await cli(args())).json();
    expect(edited.written).toBeGreaterThan(0);
    expect(readFileSync(join(dir.path, "out", ".cursor", "rules", "knowledge-style.mdc"), "utf8")).toContain("Short SENTENCES.");
  });

  it("re-renders only the targets that read an edited file, and counts them", async () => {
    const cold = (await cli(args())).json();
    await cli(args());
    writeFileSync(join(lib(), "knowledge", "style.md"), "# Style\n\nVery short sentences, always.\n");
    const r = (await cli(args())).json();
    // Cursor embeds the text; Claude Code refers to it by path, but its large-context plan (fallback.ts)
    // is made from the knowledge's sizes, so a size change renders it again too.
    const again = r.targets.filter((t: { cached: boolean }) => !t.cached);
    expect(again.map((t: { target: string }) => t.target)).toEqual(["claude-code", "cursor"]);
    const outputs = again.reduce((n: number, t: { rendered: number }) => n + t.rendered, 0);
    // Both name each output's inputs: only Cursor's rule for style.md holds its text (Claude Code's outputs came from the cache).
    expect(r.rendered).toEqual({ targets: 2, outputs, totalOutputs: cold.rendered.totalOutputs, whole: [] });
    expect(outputs).toBe(1);
    expect(outputs).toBeLessThanOrEqual(cold.rendered.totalOutputs);
    const human = await cli(args().filter((a) => a !== "--json"));
    expect(human.out).toContain(`0 of ${cold.rendered.totalOutputs} output(s) rendered again (0 target(s) whose inputs changed).`);
  });

  it("still reports a hand-edited output as drift after a replayed no-op", async () => {
    await cli(args());
    expect((await cli(args())).json().rendered.targets).toBe(0);
    const out = join(dir.path, "out", ".claude", "agents", "writer.md");
    writeFileSync(out, readFileSync(out, "utf8") + "\nMine.\n");
    const r = await cli(args());
    expect(r.code).toBe(3);
    expect(
      r
        .json()
        .files.filter((f: { action: string }) => f.action === "drift")
        .map((f: { path: string }) => f.path),
    ).toEqual([out]);
  });
});
