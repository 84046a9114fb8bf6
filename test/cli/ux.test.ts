// The CLI as a new user meets it: `-V`/`-h`, every failure of a `--json` call answered in JSON,
// `new agent` asking for missing values (driven through streams) or defaulting them when nobody
// can answer (a real child process with stdin not a terminal), and `doctor` grouping absent tools.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { placeholderDefault, promptValues } from "../../src/daemon/cli/commands/new.ts";
import { VERSION } from "../../src/daemon/version.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";
import { cli } from "./helpers.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repo, "bin", "aicfg.js");
const examples = join(repo, "examples", "library");
let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe("short flags", () => {
  it("-V and --version print the version; -h and --help print the help", async () => {
    for (const flag of ["-V", "--version"]) {
      const r = await cli([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.out.trim(), flag).toBe(VERSION);
    }
    for (const flag of ["-h", "--help"]) {
      const r = await cli([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.out, flag).toContain("Usage: aicfg <command> [options]");
    }
    const sub = await cli(["explain", "-h"]);
    expect(sub.out).toContain("Usage: aicfg explain <agent>");
  });
});

describe("--json failures are JSON on stdout", () => {
  it("explain of an unknown agent: a JSON error naming the agent and the known ones", async () => {
    const r = await cli(["explain", "nosuch", "--library", examples, "--json"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    const j = r.json();
    expect(j.ok).toBe(false);
    expect(j.error.code).toBe("agent-not-found");
    expect(j.error.message).toBe("no agent named 'nosuch'");
    expect(j.error.hint).toBe("known agents: code-reviewer, docs-writer, release-manager, software-engineer");
    const text = await cli(["explain", "nosuch", "--library", examples]);
    expect(text.code).toBe(1);
    expect(text.out).toBe("");
    expect(text.err).toContain("error: no agent named 'nosuch'");
  });

  it("every command's failure path with --json prints one parseable object with ok: false", async () => {
    const st = join(dir.path, "st");
    const existing = join(dir.path, "existing");
    writeTree(existing, { "aicfg.yaml": "name: existing\n" });
    const bad = join(dir.path, "bad");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "tokens.json"), "{");
    const cases: Array<[string[], number, string]> = [
      [["exprot", "--json"], 2, "usage"],
      [["export", "--bogus", "--json"], 2, "usage"],
      [["export", "--library", join(dir.path, "none"), "--root", join(dir.path, "o"), "--state-dir", st, "--json"], 1, "library-not-found"],
      [["validate", "--library", join(dir.path, "none"), "--json"], 1, "library-not-found"],
      [["import", "nosuchtool", "--json"], 2, "usage"],
      [["list", "--library", join(dir.path, "none"), "--json"], 1, "library-not-found"],
      [["new", "agent", "Bad_Name", "--library", examples, "--json"], 2, "usage"],
      [["init", existing, "--json"], 1, "exists"],
      [["targets", "--bogus", "--json"], 2, "usage"],
      [["migrate", "nosuch", "--json"], 2, "usage"],
      [["token", "create", "--role", "bogus", "--state-dir", st, "--json"], 2, "usage"],
      [["token", "list", "--state-dir", bad, "--json"], 1, "tokens-corrupt"],
      [["daemon", "--config", join(dir.path, "none.yaml"), "--json"], 1, "config-not-found"],
      [["run", "nosuch", "--library", examples, "--state-dir", st, "--json"], 1, "workflow-not-found"],
      [["logs", "nosuch", "--state-dir", st, "--json"], 1, "run-not-found"],
      [["restore", join(dir.path, "none.zip"), "--to", join(dir.path, "r"), "--json"], 1, "backup-invalid"],
    ];
    for (const [args, code, errorCode] of cases) {
      const r = await cli(args);
      const name = args.join(" ");
      expect(r.code, name).toBe(code);
      let parsed: { ok?: boolean; error?: { code: string; message: string } } | undefined;
      expect(() => (parsed = JSON.parse(r.out)), `${name}: stdout is JSON`).not.toThrow();
      expect(parsed!.ok, name).toBe(false);
      expect(parsed!.error!.code, name).toBe(errorCode);
      expect(parsed!.error!.message.length, name).toBeGreaterThan(0);
    }
    // init refused the existing library before writing anything into it.
    expect(readdirSync(existing)).toEqual(["aicfg.yaml"]);
  });

  it("new agent from a template that yields an invalid agent: a JSON error with the diagnostics, nothing written", async () => {
    const lib = join(dir.path, "lib");
    writeTree(lib, { "aicfg.yaml": "name: t\n", "templates/broken.md": "---\ndescription: x\nmodle: {{m}}\n---\nbody\n" });
    const r = await cli(["new", "agent", "qa", "--from", "broken", "--set", "m=y", "--library", lib, "--json"]);
    expect(r.code).toBe(1);
    const j = r.json();
    expect(j.ok).toBe(false);
    expect(j.error.code).toBe("invalid-agent");
    expect(j.error.details.diagnostics.map((d: { code: string }) => d.code)).toContain("unknown-field");
    expect(readdirSync(join(lib, "agents"))).toEqual([]);
  });
});

describe("new agent without --set values", () => {
  it("promptValues asks for each key in order, keeps a default on Enter and on end of input", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = "";
    output.on("data", (d) => (shown += String(d)));
    // Answers arrive before their questions (typed ahead or piped): none may be lost.
    input.end("Reviews pull requests\n\n");
    const values = await promptValues(
      ["description", "role", "team"],
      { description: "Code reviewer agent", role: "the code reviewer agent", team: "<team>" },
      input,
      output,
    );
    expect(values).toEqual({ description: "Reviews pull requests", role: "the code reviewer agent", team: "<team>" });
    expect(shown).toBe("description [Code reviewer agent]: role [the code reviewer agent]: team [<team>]: \n");
  });

  it("promptValues waits for answers typed one at a time", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const pending = promptValues(["description", "role"], { description: "D", role: "R" }, input, output);
    input.write("  first answer  \n");
    await new Promise((r) => setTimeout(r, 20));
    input.write("second\n");
    expect(await pending).toEqual({ description: "first answer", role: "second" });
  });

  it("defaults name the agent: readable, valid, easy to spot", () => {
    expect(placeholderDefault("description", "code-reviewer")).toBe("Code reviewer agent");
    expect(placeholderDefault("role", "code-reviewer")).toBe("the code reviewer agent");
    expect(placeholderDefault("team", "code-reviewer")).toBe("<team>");
  });

  it("a real run with stdin not a terminal uses the defaults, says which, and writes a valid agent", () => {
    const lib = join(dir.path, "lib");
    writeTree(lib, { "aicfg.yaml": "name: t\n", "templates/assistant.md": '---\ndescription: "{{description}}"\n---\n# Role\n\nYou are {{role}}.\n' });
    const env = { ...process.env, NO_COLOR: "1" };
    const r = spawnSync(nodeBin(), [bin, "new", "agent", "code-reviewer", "--from", "assistant", "--library", lib], {
      cwd: dir.path,
      env,
      encoding: "utf8",
      input: "",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Used defaults (not a terminal, so nothing was asked): description="Code reviewer agent", role="the code reviewer agent".');
    expect(r.stderr).toContain("--set description=... --set role=...");
    expect(r.stdout).toContain("Created lib/agents/code-reviewer.md.");
    expect(readFileSync(join(lib, "agents", "code-reviewer.md"), "utf8")).toBe(
      '---\ndescription: "Code reviewer agent"\n---\n# Role\n\nYou are the code reviewer agent.\n',
    );
    const j = spawnSync(nodeBin(), [bin, "new", "agent", "qa", "--library", lib, "--json"], { cwd: dir.path, env, encoding: "utf8", input: "" });
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, name: "qa", defaults: { description: "Qa agent", role: "the qa agent" } });
    const v = spawnSync(nodeBin(), [bin, "validate", "--library", lib, "--json"], { cwd: dir.path, env, encoding: "utf8" });
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, errors: 0 });
  });
});

describe("doctor", () => {
  it("groups the tools it did not find into one line; found ones keep their details; --json keeps all", async () => {
    const home = join(dir.path, "home");
    const binDir = join(dir.path, "bin");
    mkdirSync(join(home, ".kiro"), { recursive: true });
    mkdirSync(binDir, { recursive: true });
    const args = ["doctor", "--home", home, "--state-dir", join(dir.path, "st")];
    const env = { PATH: binDir };
    const r = await cli(args, { env, cwd: dir.path });
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    const j = (await cli([...args, "--json"], { env, cwd: dir.path })).json();
    const tools: Array<{ id: string; installed: boolean; generation?: string; configPaths: Array<{ exists: boolean }> }> = j.tools;
    const absent = tools.filter((t) => !t.installed && !t.configPaths.some((p) => p.exists) && !t.generation?.startsWith("web"));
    expect(absent.length).toBeGreaterThan(25);
    expect(lines.filter((l) => l.includes("not found"))).toEqual([`  not found (${absent.length}): ${absent.map((t) => t.id).join(", ")}`]);
    // ~/.kiro without the kiro-cli binary: shown with its config and how to install it.
    const kiro = lines.findIndex((l) => /^ {2}kiro-cli\s+config only$/.test(l));
    expect(kiro).toBeGreaterThan(0);
    expect(lines[kiro + 1]).toBe(`${" ".repeat(20)}config: ${join(home, ".kiro")}`);
    expect(r.out).toContain("next: install Kiro CLI");
    // Every line about a tool names at most one tool, except the two group lines.
    expect(lines.length).toBeLessThan(30);
  });
});
