import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

const examples = fileURLToPath(new URL("../../examples/library", import.meta.url));
const phase2 = fileURLToPath(new URL("../fixtures/phase2-library", import.meta.url));
let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe("aicfg validate", () => {
  it("is clean on the sample library", async () => {
    const r = await cli(["validate", "--library", examples, "--json"]);
    expect(r.json()).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    expect(r.code).toBe(0);
  });

  it("reports every problem in one pass as file:line:col with exit 1", async () => {
    writeTree(dir.path, {
      "aicfg.yaml": "name: t\ntargets: [claude-cod]\n",
      "agents/a.md": "---\ndescription: x\nmodle: y\n---\nbody\n",
      "agents/b.md": "---\ndescription: x\nmcp: [nope]\nknowledge: [missing.md]\n---\nbody\n",
    });
    const r = await cli(["validate", "--library", dir.path], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.err).toContain("agents/a.md:3:1  error: unknown field 'modle'  (did you mean 'model'?)");
    expect(r.err).toContain("agents/b.md:3:");
    expect(r.err).toContain("knowledge file 'missing.md' of agent 'b' does not exist");
    expect(r.err).toContain("unknown target 'claude-cod'  (did you mean 'claude-code'?)");
  });
});

describe("aicfg import", () => {
  it("imports the Phase-2 fixture with no errors; its agents export to every target", async () => {
    const lib = join(dir.path, "lib");
    const imp = await cli(["import", "phase2", phase2, "--into", lib, "--json"]);
    expect(imp.code).toBe(0);
    expect(imp.json().agents.sort()).toEqual([
      "daily-assistant",
      "lead-software-developer",
      "product-owner",
      "software-architect",
      "software-developer",
      "software-engineer",
      "system-administrator",
    ]);
    const v = await cli(["validate", "--library", lib, "--json"]);
    expect(v.json().errors).toBe(0);
    const ids = (await cli(["targets", "--json"])).json().map((t: { id: string }) => t.id);
    const exp = await cli([
      "export",
      "--library",
      lib,
      "--target",
      ids.join(","),
      "--root",
      join(dir.path, "out"),
      "--state-dir",
      join(dir.path, "st"),
      "--json",
    ]);
    expect(exp.json().errors).toEqual([]);
    const q = JSON.parse(readFileSync(join(dir.path, "out", ".amazonq", "cli-agents", "system-administrator.json"), "utf8"));
    expect(q.toolsSettings.execute_bash.autoAllowReadonly).toBe(true);
    expect(q.resources.some((r: string) => r.startsWith("file://") && r.endsWith("/knowledge/common/policies.md"))).toBe(true);
  });

  it("at least 95% of the Phase-2 agents export to Claude Projects with no error", async () => {
    const lib = join(dir.path, "lib");
    await cli(["import", "phase2", phase2, "--into", lib]);
    const names: string[] = (await cli(["list", "--library", lib, "--json"])).json().map((a: { name: string }) => a.name);
    let ok = 0;
    for (const n of names) {
      const r = await cli([
        "export",
        "--library",
        lib,
        "--target",
        "claude-projects",
        "--agent",
        n,
        "--root",
        join(dir.path, "cp"),
        "--state-dir",
        join(dir.path, "st2"),
        "--json",
      ]);
      if (r.json().errors.length === 0) ok++;
    }
    expect(ok / names.length).toBeGreaterThanOrEqual(0.95);
  });

  it("round-trips agents exported to Q CLI back into a library", async () => {
    const out = join(dir.path, "out");
    await cli(["export", "--library", examples, "--target", "q-cli", "--root", out, "--state-dir", join(dir.path, "st")]);
    const lib = join(dir.path, "imported");
    const r = await cli(["import", "q-cli", "--from", out, "--into", lib, "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().agents.sort()).toEqual(["code-reviewer", "docs-writer", "software-engineer"]);
    expect((await cli(["validate", "--library", lib, "--json"])).json().errors).toBe(0);
    const agent = readFileSync(join(lib, "agents", "code-reviewer.md"), "utf8");
    expect(agent).toContain("description: Reviews pull requests for correctness, security and readability; never edits code");
    expect(agent).toContain("You review pull requests.");
  });

  it("says what to do when there is nothing to import", async () => {
    const r = await cli(["import", "q-cli", "--from", dir.path, "--into", join(dir.path, "x")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("no Amazon Q Developer CLI agents found");
    expect(r.err).toContain("hint: pass --from DIR");
  });
});

describe("explain, list, new, init", () => {
  it("explain shows the layer of each field", async () => {
    writeTree(dir.path, {
      "org/aicfg.yaml": "name: org\ntargets: [claude-code]\n",
      "org/agents/r.md": "---\ndescription: Org\nmodel: claude-sonnet-4\n---\nOrg\n",
      "me/aicfg.yaml": "name: me\nextends: [../org]\n",
      "me/agents/r.md": "---\ndescription: Mine\n---\n",
    });
    const r = await cli(["explain", "r", "--library", join(dir.path, "me")]);
    expect(r.out).toMatch(/description\s+\[me\]\s+Mine/);
    expect(r.out).toMatch(/model\s+\[org\]\s+claude-sonnet-4/);
    expect(r.out).toContain("Defined in: org");
    const j = (await cli(["explain", "r", "--library", join(dir.path, "me"), "--json"])).json();
    expect(j.agent.provenance).toMatchObject({ description: "me", model: "org", instructions: "org" });
  });

  it("init creates a library that validates; new agent fills a template", async () => {
    const lib = join(dir.path, "lib");
    expect((await cli(["init", lib, "--targets", "claude-code,cursor"])).code).toBe(0);
    expect((await cli(["validate", "--library", lib, "--json"])).json()).toMatchObject({ ok: true, errors: 0 });
    // Not a terminal: the missing values take their defaults, and the CLI says which.
    const defaulted = await cli(["new", "agent", "qa", "--from", "assistant", "--library", lib]);
    expect(defaulted.code).toBe(0);
    expect(defaulted.err).toContain('Used defaults (not a terminal, so nothing was asked): description="Qa agent", role="the qa agent".');
    const made = await cli([
      "new",
      "agent",
      "qa",
      "--from",
      "assistant",
      "--force",
      "--set",
      'description=Tests "releases"',
      "--set",
      "role=a QA engineer",
      "--library",
      lib,
    ]);
    expect(made.code).toBe(0);
    expect(readFileSync(join(lib, "agents", "qa.md"), "utf8")).toBe('---\ndescription: "Tests \\"releases\\""\n---\n# Role\n\nYou are a QA engineer.\n');
    expect((await cli(["validate", "--library", lib, "--json"])).json().errors).toBe(0);
    expect((await cli(["list", "--library", lib, "--json"])).json().map((a: { name: string }) => a.name)).toEqual(["assistant", "qa"]);
  });
});

describe("targets, doctor, tools", () => {
  it("lists at least 30 targets with paths and prints the capability matrix", async () => {
    const j = (await cli(["targets", "--json"])).json();
    expect(j.length).toBeGreaterThanOrEqual(30);
    expect(j.find((t: { id: string }) => t.id === "copilot").paths.project).toContain(".vscode/mcp.json");
    const m = await cli(["targets", "--matrix"]);
    expect(m.out.split("\n")[0]).toMatch(/instr\s+know\s+k-dem\s+stdio\s+http/);
    expect(m.out).toMatch(/\nq-cli\s+yes/);
  });

  it("finds no tools on a machine without them, and finds fake installs", async () => {
    const home = join(dir.path, "home");
    const bin = join(dir.path, "bin");
    mkdirSync(home, { recursive: true });
    mkdirSync(bin, { recursive: true });
    const none = (await cli(["tools", "--json", "--home", home], { env: { PATH: bin } })).json();
    expect(none.filter((t: { installed: boolean; id: string }) => t.installed).map((t: { id: string }) => t.id)).toEqual([]);
    writeFileSync(join(bin, "claude"), "#!/bin/sh\necho '2.1.300 (Claude Code)'\n");
    chmodSync(join(bin, "claude"), 0o755);
    mkdirSync(join(home, ".kiro"), { recursive: true });
    const some = (await cli(["tools", "--json", "--home", home], { env: { PATH: `${bin}:/usr/bin:/bin` } })).json();
    const claude = some.find((t: { id: string }) => t.id === "claude-code");
    expect(claude.installed).toBe(true);
    expect(claude.binary.version).toBe("2.1.300");
    const doctor = await cli(["doctor", "--home", home, "--state-dir", join(dir.path, "st")], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(doctor.code).toBe(0);
    expect(doctor.out).toMatch(/claude-code\s+installed 2\.1\.300/);
    expect(doctor.out).toContain("next:");
  });
});

describe("migrate q-cli-to-kiro", () => {
  it("moves exported Q agents to Kiro and removes only unchanged Q files", async () => {
    const out = join(dir.path, "out");
    const st = join(dir.path, "st");
    await cli(["export", "--library", examples, "--target", "q-cli", "--root", out, "--state-dir", st]);
    const edited = join(out, ".amazonq", "cli-agents", "docs-writer.json");
    writeFileSync(edited, readFileSync(edited, "utf8").replace("Writes and updates", "Writes"));
    const r = await cli(["migrate", "q-cli-to-kiro", "--library", examples, "--state-dir", st, "--json"]);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.agents).toEqual(["code-reviewer", "docs-writer", "software-engineer"]);
    expect(j.removed.map((p: string) => p.split("/").pop()).sort()).toEqual(["code-reviewer.json", "software-engineer.json"]);
    expect(j.left).toEqual([edited]);
    expect(j.kiro.filter((e: { action: string }) => e.action === "create").length).toBe(3);
  });

  it("resolves a relative --root against the caller's folder and removes the Q files there", async () => {
    const st = join(dir.path, "st");
    await cli(["export", "--library", examples, "--target", "q-cli", "--root", join(dir.path, "proj"), "--state-dir", st]);
    const qDir = join(dir.path, "proj", ".amazonq", "cli-agents");
    expect(readdirSync(qDir).sort()).toEqual(["code-reviewer.json", "docs-writer.json", "software-engineer.json"]);
    // Run from dir.path with "--root proj": the manifest holds the absolute root.
    const r = await cli(["migrate", "q-cli-to-kiro", "--library", examples, "--state-dir", st, "--root", "proj", "--json"], { cwd: dir.path });
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.removed.map((p: string) => p.slice(qDir.length + 1)).sort()).toEqual(["code-reviewer.json", "docs-writer.json", "software-engineer.json"]);
    expect(existsSync(join(qDir, "docs-writer.json"))).toBe(false);
    expect(j.kiro.filter((e: { action: string; path: string }) => e.action === "create" && e.path.startsWith(join(dir.path, "proj", ".kiro"))).length).toBe(3);
    // Another root has nothing recorded: nothing to migrate there.
    const other = await cli(["migrate", "q-cli-to-kiro", "--library", examples, "--state-dir", st, "--root", "elsewhere"], { cwd: dir.path });
    expect(other.out).toContain(`nothing to migrate`);
    expect(other.out).toContain(join(dir.path, "elsewhere"));
  });
});

describe("the CLI itself", () => {
  it("has help with examples, exit 2 on bad usage and a version", async () => {
    const h = await cli(["export", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("Examples:");
    expect((await cli(["exprot"])).code).toBe(2);
    const bad = await cli(["export", "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Run 'aicfg export --help'");
    expect((await cli(["--version"])).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const top = await cli(["--help"]);
    expect(top.out).toContain("Exit codes:");
  });
});
