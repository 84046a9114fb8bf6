// renderExtras per target family: the exact files (paths and bytes) written for library skills,
// commands and ignore patterns, the warnings for what a tool cannot hold, limits, determinism.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extrasCapabilities, extrasLocations, renderExtras, EXTRAS_TARGETS } from "../../src/adapters/extras/index.ts";
import type { OutputFile, RenderContext, RenderResult, Roots } from "../../src/adapters/types.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import { loadLibrary } from "../../src/library/load.ts";
import type { Library } from "../../src/library/model.ts";
import { isInside } from "../../src/library/paths.ts";
import { renderContext, tempDir, writeTree } from "../helpers/fixtures.ts";

/** A PNG signature, NUL, 0xFF and invalid UTF-8: any text round-trip would change these bytes. */
const LOGO = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x0a]);
const SKILL_MD =
  "---\nname: code-review\ndescription: Reviews diffs for bugs, style and missing tests\n---\n# Code review\n\nFollow checklist.md, then run scripts/lint.sh.\r\n";
const CHECKLIST = "- [ ] tests\n- [ ] docs\n";
const LINT = "#!/bin/sh\necho lint\n";

let tmp: { path: string; cleanup: () => void };
let lib: Library;
let project: Roots;
let user: Roots;
let libDir: string;

beforeAll(() => {
  tmp = tempDir("aicfg-extras-");
  libDir = join(tmp.path, "lib");
  writeTree(libDir, {
    "aicfg.yaml": "name: demo\nignore:\n  - .env\n  - secrets/**\n  - '!secrets/README.md'\n",
    "skills/code-review/SKILL.md": SKILL_MD,
    "skills/code-review/checklist.md": CHECKLIST,
    "skills/code-review/scripts/lint.sh": LINT,
    "commands/review.md":
      "---\ndescription: Review a pull request\nargument-hint: <pr-number> [focus]\nmodel: claude-sonnet-4\n---\n\nReview pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
    "commands/deploy.md": "---\ndescription: Deploy the service\ntargets: [claude-code, gemini-cli, codex]\n---\n\nDeploy $ARGUMENTS to staging.\n",
  });
  mkdirSync(join(libDir, "skills/code-review/assets"), { recursive: true });
  writeFileSync(join(libDir, "skills/code-review/assets/logo.png"), LOGO);
  lib = loadLibrary(libDir);
  project = { scope: "project", projectRoot: join(tmp.path, "project"), homeDir: join(tmp.path, "home") };
  user = { ...project, scope: "user" };
});
afterAll(() => tmp.cleanup());

function render(target: string, roots: Roots, library: Library = lib): RenderResult {
  return renderExtras(target, library, renderContext(roots, library));
}

/** Rendered files as relative path -> text (md-section blocks prefixed with their marker style). */
function texts(r: RenderResult, roots: Roots): Record<string, string> {
  const base = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
  const out: Record<string, string> = {};
  for (const f of r.files) {
    const rel = f.path.slice(base.length + 1);
    if (f.kind === "file") out[rel] = typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("latin1");
    else if (f.kind === "md-section") out[rel] = `[${f.comment} section]\n${f.content}`;
    else throw new Error(`unexpected ${f.kind}`);
  }
  return out;
}

const messages = (r: RenderResult): string[] => r.warnings.map((w) => `${w.code}: ${w.message}`);
const SKILL_FILES = (dir: string): Record<string, string> => ({
  [`${dir}/code-review/SKILL.md`]: SKILL_MD,
  [`${dir}/code-review/assets/logo.png`]: Buffer.from(LOGO).toString("latin1"),
  [`${dir}/code-review/checklist.md`]: CHECKLIST,
  [`${dir}/code-review/scripts/lint.sh`]: LINT,
});
const IGNORE_BLOCK = "[hash section]\n.env\nsecrets/**\n!secrets/README.md\n";

describe("library fixture", () => {
  it("loads without diagnostics", () => {
    expect(lib.diagnostics).toEqual([]);
    expect([...lib.skills.keys()]).toEqual(["code-review"]);
    expect(lib.skills.get("code-review")!.files).toEqual(["assets/logo.png", "checklist.md", "scripts/lint.sh"]);
  });
});

describe("Claude Code", () => {
  it("writes skills, commands with 0-based $ARGUMENTS[i], and warns that ignore patterns go to the user's own settings", () => {
    const r = render("claude-code", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".claude/skills"),
      ".claude/commands/deploy.md": "---\ndescription: Deploy the service\n---\n\nDeploy $ARGUMENTS to staging.\n",
      ".claude/commands/review.md":
        "---\ndescription: Review a pull request\nargument-hint: <pr-number> [focus]\nmodel: claude-sonnet-4\n---\n\nReview pull request $ARGUMENTS[0] with a focus on $ARGUMENTS[1].\n\nExtra notes: $ARGUMENTS\n",
    });
    expect(r.warnings).toEqual([
      {
        severity: "warning",
        code: "unsupported-feature",
        message:
          "claude-code: the library's ignore patterns cannot be exported to Claude Code: Claude Code has no ignore file; its equivalent is permissions.deny Read(...) rules in .claude/settings.json, and the claude-code target already owns permissions.deny there (the agents' tool denials), so aicfg does not add to it",
        file: join(libDir, "aicfg.yaml"),
        hint: 'add deny rules to .claude/settings.local.json yourself (Claude Code merges the permission lists of all settings files): {"permissions":{"deny":["Read(.env)","Read(secrets/**)"]}}',
      },
    ]);
  });

  it("writes the same files under the home folder in user scope", () => {
    const r = render("claude-code", user);
    expect(Object.keys(texts(r, user))).toEqual([
      ".claude/commands/deploy.md",
      ".claude/commands/review.md",
      ".claude/skills/code-review/SKILL.md",
      ".claude/skills/code-review/assets/logo.png",
      ".claude/skills/code-review/checklist.md",
      ".claude/skills/code-review/scripts/lint.sh",
    ]);
    expect(r.warnings[0]!.hint).toContain("the .claude/settings.local.json of each project");
  });
});

describe("Gemini CLI", () => {
  it("writes TOML commands with {{args}}, keeps $1/$2 with a warning, and an ignore block", () => {
    const r = render("gemini-cli", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".gemini/skills"),
      ".gemini/commands/deploy.toml": 'description = "Deploy the service"\nprompt = """\nDeploy {{args}} to staging.\n"""\n',
      ".gemini/commands/review.toml":
        'description = "Review a pull request"\nprompt = """\nReview pull request $1 with a focus on $2.\n\nExtra notes: {{args}}\n"""\n',
      ".geminiignore": IGNORE_BLOCK,
    });
    expect(messages(r)).toEqual([
      "unsupported-feature: gemini-cli: Gemini CLI command files have no 'argument-hint'; it is left out of 'review'",
      "unsupported-feature: gemini-cli: Gemini CLI command files have no 'model'; it is left out of 'review'",
      "unsupported-feature: gemini-cli: command 'review' uses $1, $2, which Gemini CLI cannot express; kept as written",
    ]);
    expect(r.warnings[2]!.file).toBe(join(libDir, "commands/review.md"));
    expect(r.warnings[2]!.hint).toBe("Gemini CLI only has {{args}} (all arguments); use $ARGUMENTS or add targets: to the command to skip gemini-cli");
  });

  it("has no ignore file in user scope and says where it would go", () => {
    const r = render("gemini-cli", user);
    expect(texts(r, user)[".gemini/commands/deploy.toml"]).toBe('description = "Deploy the service"\nprompt = """\nDeploy {{args}} to staging.\n"""\n');
    expect(messages(r)).toContain(
      "no-native-place: gemini-cli: the library's ignore patterns have no place in Gemini CLI (user scope); left out of this target",
    );
    expect(r.warnings.find((w) => w.message.includes("ignore patterns"))!.hint).toBe("Gemini CLI reads them in project scope: export with --scope project");
  });
});

describe("GitHub Copilot", () => {
  it("writes .prompt.md files with ${input:...} variables and respects a command's targets", () => {
    const r = render("copilot", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".github/skills"),
      ".github/prompts/review.prompt.md":
        "---\ndescription: Review a pull request\nargument-hint: <pr-number> [focus]\nmodel: claude-sonnet-4\n---\n\nReview pull request ${input:arg1} with a focus on ${input:arg2}.\n\nExtra notes: ${input:args}\n",
    });
    expect(messages(r)).toEqual([
      "no-native-place: copilot: the library's ignore patterns have no place in GitHub Copilot (project scope); left out of this target",
    ]);
    expect(r.warnings[0]!.hint).toBe("GitHub Copilot has no file for them");
  });

  it("has skills but no prompt folder in user scope", () => {
    const r = render("copilot", user);
    expect(Object.keys(texts(r, user))).toEqual(Object.keys(SKILL_FILES(".copilot/skills")).sort());
    expect(messages(r)[0]).toBe(
      "no-native-place: copilot: the library's commands ('review') have no place in GitHub Copilot (user scope); left out of this target",
    );
    expect(r.warnings[0]!.hint).toBe("GitHub Copilot reads them in project scope: export with --scope project");
  });
});

describe("Cursor", () => {
  it("writes plain Markdown commands and .cursorignore, warning about every placeholder and field it loses", () => {
    const r = render("cursor", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".cursor/skills"),
      ".cursor/commands/review.md": "Review pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
      ".cursorignore": IGNORE_BLOCK,
    });
    expect(messages(r)).toEqual([
      "unsupported-feature: cursor: Cursor command files have no 'argument-hint'; it is left out of 'review'",
      "unsupported-feature: cursor: Cursor command files have no 'model'; it is left out of 'review'",
      "unsupported-feature: cursor: command 'review' uses $1, $2, $ARGUMENTS, which Cursor cannot express; kept as written",
    ]);
    expect(r.warnings[2]!.hint).toBe("Cursor passes no arguments to this kind of file; the user types them in the chat message instead");
  });
});

describe("Codex", () => {
  it("writes skills to .agents/skills in project scope and points commands to user scope", () => {
    const r = render("codex", project);
    expect(texts(r, project)).toEqual(SKILL_FILES(".agents/skills"));
    expect(messages(r)).toEqual([
      "no-native-place: codex: the library's commands ('deploy', 'review') have no place in Codex CLI (project scope); left out of this target",
      "no-native-place: codex: the library's ignore patterns have no place in Codex CLI (project scope); left out of this target",
    ]);
    expect(r.warnings[0]!.hint).toBe("Codex CLI reads them in user scope: export with --scope user");
  });

  it("writes deprecated custom prompts with $1..$9 and $ARGUMENTS in user scope", () => {
    const r = render("codex", user);
    const t = texts(r, user);
    expect(t[".codex/prompts/review.md"]).toBe(
      "---\ndescription: Review a pull request\nargument-hint: <pr-number> [focus]\n---\n\nReview pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
    );
    expect(t[".codex/prompts/deploy.md"]).toBe("---\ndescription: Deploy the service\n---\n\nDeploy $ARGUMENTS to staging.\n");
    expect(t[".agents/skills/code-review/SKILL.md"]).toBe(SKILL_MD);
    expect(messages(r)).toEqual([
      "unsupported-feature: codex: Codex CLI command files have no 'model'; it is left out of 'review'",
      "no-native-place: codex: the library's ignore patterns have no place in Codex CLI (user scope); left out of this target",
    ]);
  });
});

describe("workflow tools: Windsurf, Cline, Kiro, Amazon Q", () => {
  it("Windsurf: workflows with description frontmatter and .codeiumignore", () => {
    const r = render("windsurf", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".windsurf/skills"),
      ".windsurf/workflows/review.md":
        "---\ndescription: Review a pull request\n---\n\nReview pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
      ".codeiumignore": IGNORE_BLOCK,
    });
    const u = texts(render("windsurf", user), user);
    expect(Object.keys(u).filter((k) => !k.includes("/skills/"))).toEqual([".codeium/.codeiumignore", ".codeium/windsurf/global_workflows/review.md"]);
  });

  it("Cline: plain workflows, .cline/skills and .clineignore; global workflows under Documents", () => {
    const r = render("cline", project);
    expect(texts(r, project)).toEqual({
      ...SKILL_FILES(".cline/skills"),
      ".clinerules/workflows/review.md": "Review pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
      ".clineignore": IGNORE_BLOCK,
    });
    const u = render("cline", user);
    expect(Object.keys(texts(u, user))).toEqual(["Documents/Cline/Workflows/review.md"]);
    expect(messages(u)).toContain("no-native-place: cline: the library's skills ('code-review') have no place in Cline (user scope); left out of this target");
  });

  it("Kiro CLI: prompts without arguments, skills and ignore files in both scopes", () => {
    expect(Object.keys(texts(render("kiro-cli", project), project))).toEqual([
      ".kiro/prompts/review.md",
      ".kiro/skills/code-review/SKILL.md",
      ".kiro/skills/code-review/assets/logo.png",
      ".kiro/skills/code-review/checklist.md",
      ".kiro/skills/code-review/scripts/lint.sh",
      ".kiroignore",
    ]);
    const u = texts(render("kiro-cli", user), user);
    expect(u[".kiro/settings/kiroignore"]).toBe(IGNORE_BLOCK);
    expect(u[".kiro/prompts/review.md"]).toBe("Review pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n");
  });

  it("Amazon Q CLI: prompts only", () => {
    const r = render("q-cli", user);
    expect(texts(r, user)).toEqual({ ".aws/amazonq/prompts/review.md": "Review pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n" });
    expect(messages(r)).toEqual([
      "no-native-place: q-cli: the library's skills ('code-review') have no place in Amazon Q Developer CLI (user scope); left out of this target",
      "unsupported-feature: q-cli: Amazon Q Developer CLI command files have no 'argument-hint'; it is left out of 'review'",
      "unsupported-feature: q-cli: Amazon Q Developer CLI command files have no 'model'; it is left out of 'review'",
      "unsupported-feature: q-cli: command 'review' uses $1, $2, $ARGUMENTS, which Amazon Q Developer CLI cannot express; kept as written",
      "no-native-place: q-cli: the library's ignore patterns have no place in Amazon Q Developer CLI (user scope); left out of this target",
    ]);
  });
});

describe("long tail", () => {
  it("OpenCode keeps $ARGUMENTS and $1; Qwen Code writes Gemini TOML; Factory Droid keeps $ARGUMENTS only", () => {
    expect(texts(render("opencode", project), project)[".opencode/command/review.md"]).toBe(
      "---\ndescription: Review a pull request\nmodel: claude-sonnet-4\n---\n\nReview pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
    );
    expect(texts(render("qwen-code", user), user)[".qwen/commands/review.toml"]).toBe(
      'description = "Review a pull request"\nprompt = """\nReview pull request $1 with a focus on $2.\n\nExtra notes: {{args}}\n"""\n',
    );
    const droid = render("factory-droid", project);
    expect(texts(droid, project)[".factory/commands/review.md"]).toBe(
      "---\ndescription: Review a pull request\nargument-hint: <pr-number> [focus]\n---\n\nReview pull request $1 with a focus on $2.\n\nExtra notes: $ARGUMENTS\n",
    );
    expect(messages(droid)).toContain("unsupported-feature: factory-droid: command 'review' uses $1, $2, which Factory Droid cannot express; kept as written");
  });

  it("ignore-only tools write just their ignore file", () => {
    const cases: [string, string][] = [
      ["aider", ".aiderignore"],
      ["jetbrains-ai", ".aiignore"],
      ["junie", ".aiignore"],
      ["firebase-studio", ".aiexclude"],
      ["roo", ".rooignore"],
      ["kilo-code", ".kilocodeignore"],
      ["augment", ".augmentignore"],
      ["devin", ".devinignore"],
      ["qwen-code", ".qwenignore"],
    ];
    for (const [target, file] of cases) {
      const r = render(target, project);
      const ignores = r.files.filter((f) => f.kind === "md-section");
      expect(ignores, target).toEqual([
        { kind: "md-section", path: join(project.projectRoot, file), content: ".env\nsecrets/**\n!secrets/README.md\n", comment: "hash" },
      ]);
    }
  });

  it("a target with no native place reports each feature once and writes nothing", () => {
    const r = render("zed", project);
    expect(r.files).toEqual([]);
    expect(messages(r)).toEqual([
      "no-native-place: zed: the library's skills ('code-review') have no place in zed (project scope); left out of this target",
      "no-native-place: zed: the library's commands ('review') have no place in zed (project scope); left out of this target",
      "no-native-place: zed: the library's ignore patterns have no place in zed (project scope); left out of this target",
    ]);
    expect(r.warnings.map((w) => w.hint)).toEqual(["zed has no file for them", "zed has no file for them", "zed has no file for them"]);
  });

  it("an empty library renders nothing and warns about nothing", () => {
    const dir = join(tmp.path, "empty-lib");
    writeTree(dir, { "aicfg.yaml": "name: empty\n" });
    const empty = loadLibrary(dir);
    for (const t of EXTRAS_TARGETS) expect(render(t.id, project, empty)).toEqual({ files: [], warnings: [] });
  });
});

describe("skills", () => {
  it("copies SKILL.md and companions byte-for-byte, binary included, through ctx.readBytes", () => {
    const read: string[] = [];
    const base = renderContext(project, lib);
    const ctx: RenderContext = { ...base, readBytes: (p) => (read.push(p), base.readBytes(p)) };
    const r = renderExtras("claude-code", lib, ctx);
    const logo = r.files.find((f) => f.path.endsWith("logo.png")) as Extract<OutputFile, { kind: "file" }>;
    expect(Buffer.from(logo.content as Uint8Array).equals(Buffer.from(LOGO))).toBe(true);
    const skillMd = r.files.find((f) => f.path.endsWith("SKILL.md")) as Extract<OutputFile, { kind: "file" }>;
    expect(Buffer.from(skillMd.content as Uint8Array).toString("utf8")).toBe(SKILL_MD);
    const skillDir = join(libDir, "skills/code-review");
    expect(read.sort()).toEqual([
      join(skillDir, "SKILL.md"),
      join(skillDir, "assets/logo.png"),
      join(skillDir, "checklist.md"),
      join(skillDir, "scripts/lint.sh"),
    ]);
  });

  it("enforces name <= 64 and description <= 1024 (Agent Skills) and leaves such a skill out", () => {
    const skill = lib.skills.get("code-review")!;
    const longName = "a".repeat(65);
    const bad: Library = {
      ...lib,
      skills: new Map([
        ["code-review", { ...skill, spec: { ...skill.spec, description: "d".repeat(1025) } }],
        [longName, { ...skill, name: longName, spec: { ...skill.spec, name: longName } }],
        ["ok-skill", { ...skill, name: "ok-skill", spec: { ...skill.spec, name: "ok-skill", description: "d".repeat(1024) } }],
      ]),
      commands: new Map(),
      manifest: { name: "demo" },
    };
    const r = render("claude-code", project, bad);
    expect(r.files.map((f) => f.path.slice(project.projectRoot.length + 1))).toEqual([
      ".claude/skills/ok-skill/SKILL.md",
      ".claude/skills/ok-skill/assets/logo.png",
      ".claude/skills/ok-skill/checklist.md",
      ".claude/skills/ok-skill/scripts/lint.sh",
    ]);
    expect(messages(r)).toEqual([
      `limit-exceeded: claude-code: skill '${longName}' breaks the Agent Skills rules: its name is 65 characters long (at most 64); not exported`,
      "limit-exceeded: claude-code: skill 'code-review' breaks the Agent Skills rules: its description is 1025 characters long (1 to 1024); not exported",
    ]);
  });

  it("rejects an underscore name the library accepts but the Agent Skills spec does not", () => {
    const dir = join(tmp.path, "underscore-lib");
    writeTree(dir, { "aicfg.yaml": "name: u\n", "skills/my_skill/SKILL.md": "---\nname: my_skill\ndescription: Does things\n---\nBody\n" });
    const u = loadLibrary(dir);
    expect(u.diagnostics).toEqual([]);
    const r = render("gemini-cli", project, u);
    expect(r.files).toEqual([]);
    expect(messages(r)).toEqual([
      "limit-exceeded: gemini-cli: skill 'my_skill' breaks the Agent Skills rules: its name 'my_skill' is not lowercase letters, digits and single hyphens; not exported",
    ]);
  });

  it("never writes a companion path that leaves the skill folder", () => {
    const skill = lib.skills.get("code-review")!;
    const evil: Library = {
      ...lib,
      skills: new Map([["code-review", { ...skill, files: ["../../escape.txt", "checklist.md"] }]]),
      commands: new Map(),
      manifest: { name: "x" },
    };
    const r = render("cursor", project, evil);
    expect(r.files.map((f) => f.path.slice(project.projectRoot.length + 1))).toEqual([
      ".cursor/skills/code-review/SKILL.md",
      ".cursor/skills/code-review/checklist.md",
    ]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.message).toContain("skill 'code-review': skill file \"../../escape.txt\" leaves its folder ('..'); this file is left out");
  });
});

describe("commands", () => {
  it("a command over Windsurf's 12,000-character limit is left out with limit-exceeded", () => {
    const dir = join(tmp.path, "long-lib");
    writeTree(dir, {
      "aicfg.yaml": "name: long\n",
      "commands/huge.md": `---\ndescription: Huge\n---\n\n${"x".repeat(12_000)}\n`,
      // Exactly 12,000 characters once rendered: "---\ndescription: Edge\n---\n\n" is 27 of them.
      "commands/edge.md": `---\ndescription: Edge\n---\n\n${"y".repeat(11_972)}\n`,
    });
    const r = render("windsurf", project, loadLibrary(dir));
    const t = texts(r, project);
    expect(Object.keys(t)).toEqual([".windsurf/workflows/edge.md"]);
    expect(t[".windsurf/workflows/edge.md"]!.length).toBe(12_000);
    expect(messages(r)).toEqual(["limit-exceeded: windsurf: command 'huge' is 12028 characters long; Windsurf loads at most 12000 per file; not exported"]);
  });

  it("a command whose targets leave a target out is not written there, silently", () => {
    expect(Object.keys(texts(render("cursor", project), project)).some((k) => k.includes("deploy"))).toBe(false);
    expect(messages(render("cursor", project)).some((m) => m.includes("deploy"))).toBe(false);
  });

  it("drops an ignore pattern with a line break and says so", () => {
    const broken: Library = { ...lib, skills: new Map(), commands: new Map(), manifest: { name: "x", ignore: ["a\nb", "dist/"] } };
    const r = render("cursor", project, broken);
    expect(r.files).toEqual([{ kind: "md-section", path: join(project.projectRoot, ".cursorignore"), content: "dist/\n", comment: "hash" }]);
    expect(messages(r)).toEqual(['unsupported-feature: cursor: ignore patterns with a line break cannot be written to an ignore file: "a\\nb"; left out']);
  });
});

describe("every target", () => {
  it("renders deterministically, inside extrasLocations and the scope root", () => {
    const ids = [...new Set([...listAdapters().map((a) => a.id), ...EXTRAS_TARGETS.map((t) => t.id)])].sort();
    for (const id of ids) {
      for (const roots of [project, user]) {
        const a = render(id, roots);
        const b = render(id, roots);
        expect(b, id).toEqual(a);
        const paths = a.files.map((f) => f.path);
        expect(paths, id).toEqual([...paths].sort());
        const base = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
        const locations = extrasLocations(id, roots);
        for (const p of paths) {
          expect(isInside(base, p) && p !== base, `${id}: ${p}`).toBe(true);
          expect(
            locations.some((l) => p === l || isInside(l, p)),
            `${id}: ${p} outside ${locations.join(", ")}`,
          ).toBe(true);
        }
      }
    }
  });

  it("every table entry is a registered target and names a source", () => {
    const known = new Set(listAdapters().map((a) => a.id));
    for (const t of EXTRAS_TARGETS) {
      expect(known.has(t.id), t.id).toBe(true);
      expect(t.sources.length, t.id).toBeGreaterThan(0);
    }
    expect(new Set(EXTRAS_TARGETS.map((t) => t.id)).size).toBe(EXTRAS_TARGETS.length);
  });

  it("extrasLocations lists the folders and files of one scope", () => {
    expect(extrasLocations("gemini-cli", project)).toEqual([".gemini/commands", ".gemini/skills", ".geminiignore"].map((p) => join(project.projectRoot, p)));
    expect(extrasLocations("codex", user)).toEqual([".agents/skills", ".codex/prompts"].map((p) => join(user.homeDir, p)));
    expect(extrasLocations("zed", project)).toEqual([]);
  });

  it("extrasCapabilities: yes in both scopes with full fidelity, partial otherwise, absent when none", () => {
    expect(extrasCapabilities("claude-code")).toEqual({ skills: "yes", commands: "yes" });
    expect(extrasCapabilities("gemini-cli")).toEqual({ skills: "yes", commands: "partial", ignore: "yes" });
    expect(extrasCapabilities("codex")).toEqual({ skills: "yes", commands: "partial" });
    expect(extrasCapabilities("copilot")).toEqual({ skills: "yes", commands: "partial" });
    expect(extrasCapabilities("cursor")).toEqual({ skills: "yes", commands: "partial", ignore: "yes" });
    expect(extrasCapabilities("devin")).toEqual({ skills: "partial", ignore: "yes" });
    expect(extrasCapabilities("aider")).toEqual({ ignore: "yes" });
    expect(extrasCapabilities("zed")).toEqual({});
  });
});
