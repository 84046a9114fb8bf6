// Exports survive moving the tree they live in: every adapter exports a real library through the real
// planner and writer (library inside the project, and beside it under a common parent), the parent
// folder is renamed, and every reference in every written file is parsed the way its tool reads it and
// must resolve to an existing file at the new place; no absolute path of the old place is left, and the
// next export in the moved tree finds every file current and writes nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, posix, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportLibrary, type ExportResult } from "../../src/adapters/export.ts";
import { loadManifest } from "../../src/adapters/manifest.ts";
import { portableRef, sharesTree } from "../../src/adapters/refs.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import type { Roots } from "../../src/adapters/types.ts";
import { isInside } from "../../src/library/paths.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

const NOW = () => new Date("2026-03-01T10:00:00Z");
const PROJECT_TARGETS = listAdapters()
  .filter((a) => a.scopes.includes("project"))
  .map((a) => a.id)
  .sort();

/** A small library that uses every kind of file reference an adapter writes. */
function writeLibrary(root: string): void {
  writeTree(root, {
    "aicfg.yaml": "name: portable\ntargets: [claude-code]\ndefaults:\n  knowledge:\n    - common/policies.md\nexport:\n  scope: project\n",
    "knowledge/common/policies.md": "# Policies\n\n- Review every change.\n",
    "knowledge/engineering/testing.md": "---\ndescription: How we test\n---\n# Testing\n\nTests first.\n",
    "knowledge/security/threat-model.md": "# Threat model\n\nAssume hostile input.\n",
    "knowledge/api/style.md": "---\napplyTo: src/api/**\n---\n# API style\n\nVerbs in paths are a smell.\n",
    "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    "agents/engineer.md":
      "---\ndescription: Implements features with tests\nknowledge:\n  - engineering/testing.md\n  - path: security/threat-model.md\n    mode: on-demand\n" +
      '  - path: api/style.md\n    mode: on-demand\nmcp: [fetch]\ntools:\n  allow: [read, write, shell, grep, glob, "@fetch"]\n---\n# Role\n\nYou implement features.\n',
    "agents/reviewer.md": "---\ndescription: Reviews changes\nknowledge:\n  - security/threat-model.md\ntools:\n  allow: [read, grep]\n---\nYou review.\n",
    "skills/release/SKILL.md": "---\nname: release\ndescription: Cuts a release\n---\nRun the checklist in checklist.md.\n",
    "skills/release/checklist.md": "- tag\n- publish\n",
    "commands/ship.md": "---\ndescription: Ship the current branch\n---\nShip it: $ARGUMENTS\n",
  });
}

type Ref = { from: string; ref: string; resolved: string };

/** `~/x` -> home, `/x` stays, anything else is joined onto `base` (and normalised, as the tools do). */
function resolveRef(ref: string, base: string, home: string): string {
  if (ref.startsWith("~/")) return join(home, ref.slice(2));
  if (isAbsolute(ref)) return ref;
  return join(base, ref);
}

/**
 * Every file reference in one written file, parsed per tool syntax, with what the tool resolves it
 * against: the file's own folder (Claude Code @imports, Q/Kiro `file://./` prompts, bundle READMEs)
 * or the folder the tool runs in, the project root (Q/Kiro `file://` resources, file lists the model
 * opens with its read tool, agent indexes).
 */
function referencesIn(file: string, text: string, project: string, home: string): Ref[] {
  const rel = relative(project, file).split("\\").join("/");
  const out: Ref[] = [];
  const add = (ref: string, base: string): void => {
    out.push({ from: rel, ref, resolved: resolveRef(ref, base, home) });
  };
  if (/^\.(amazonq\/cli-agents|kiro\/agents)\/[^/]+\.json$/.test(rel)) {
    const json = JSON.parse(text) as { prompt?: string; resources?: unknown[] };
    if (json.prompt?.startsWith("file://")) add(json.prompt.slice(7), dirname(file));
    for (const r of json.resources ?? []) if (typeof r === "string" && r.startsWith("file://")) add(r.slice(7), project);
  }
  if (rel === "CLAUDE.md" || rel.endsWith("/CLAUDE.md") || rel === "GEMINI.md") {
    for (const m of text.matchAll(/^@(\S+)$/gm)) add(m[1]!, dirname(file));
  }
  // File lists an agent is told to read (Claude Code "Reference files", Codex "More knowledge").
  if (/^\.(claude\/agents\/[^/]+\.md|codex\/agents\/[^/]+\.toml)$/.test(rel)) {
    const at = text.search(/^## (Reference files|More knowledge)$/m);
    if (at >= 0) for (const m of text.slice(at).matchAll(/^- (\S+)$/gm)) add(m[1]!, project);
  }
  // Agent indexes in AGENTS.md / copilot-instructions.md: "(`path`)".
  if (/(^|\/)(AGENTS\.md|copilot-instructions\.md)$/.test(rel)) {
    for (const m of text.matchAll(/\(`([^`\s]+\.(?:toml|md))`\)/g)) add(m[1]!, project);
  }
  // Bundle READMEs (ChatGPT, Claude Projects) name the agent file they come from, and ChatGPT's the files of its own folder.
  if (/^(chatgpt|claude-projects)\/[^/]+\/README\.md$/.test(rel)) {
    for (const m of text.matchAll(/ by (?:aicfg|`aicfg export`) from (\S+\.md)\b/g)) add(m[1]!, dirname(file));
    for (const m of text.matchAll(/`(knowledge\/[^`\s]+)`/g)) add(m[1]!, dirname(file));
  }
  return out;
}

function walk(dir: string, skip: string | undefined, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) walk(p, skip, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe.each([
  ["inside the project", (parent: string) => ({ project: join(parent, "app"), library: join(parent, "app", "ai-library") })],
  ["beside the project", (parent: string) => ({ project: join(parent, "app"), library: join(parent, "team-library") })],
] as const)("library %s, every project-scope adapter, tree moved after export", (_label, layout) => {
  let tmp: { path: string; cleanup: () => void };
  let before: { project: string; library: string };
  let after: { project: string; library: string };
  let oldParent = "";
  let newParent = "";
  let stateDir = "";
  let first: ExportResult;
  let second: ExportResult;
  let written: string[] = [];

  beforeAll(() => {
    tmp = tempDir("aicfg-portable-");
    oldParent = join(tmp.path, "before");
    newParent = join(tmp.path, "moved", "elsewhere");
    stateDir = join(tmp.path, "state");
    before = layout(oldParent);
    after = layout(newParent);
    writeLibrary(before.library);
    first = exportLibrary({ library: before.library, targets: PROJECT_TARGETS, scope: "project", root: before.project, stateDir, now: NOW });
    // The common parent moves one level deeper under another name, as a clone elsewhere would.
    mkdirSync(dirname(newParent));
    renameSync(oldParent, newParent);
    written = walk(after.project, after.library === join(after.project, "ai-library") ? after.library : undefined).sort();
    second = exportLibrary({ library: after.library, targets: PROJECT_TARGETS, scope: "project", root: after.project, stateDir, now: NOW });
  });
  afterAll(() => tmp.cleanup());

  it("exports every project-scope target without errors", () => {
    expect(first.errors).toEqual([]);
    expect(first.applied?.failed).toEqual([]);
    const exported = new Set(first.plan.entries.filter((e) => e.action === "create").flatMap((e) => e.targets));
    expect([...exported].sort()).toEqual(PROJECT_TARGETS);
    expect(written.length).toBeGreaterThanOrEqual(PROJECT_TARGETS.length);
  });

  it("leaves no absolute path of the old location in any written file", () => {
    for (const f of written) {
      const text = readFileSync(f).toString("latin1");
      expect(text.includes(oldParent), `${relative(after.project, f)} still names ${oldParent}`).toBe(false);
    }
  });

  it("every reference in every written file resolves at the new location, the way its tool resolves it", () => {
    const refs: Ref[] = [];
    for (const f of written) refs.push(...referencesIn(f, readFileSync(f, "utf8"), after.project, second.roots.homeDir));
    const broken = refs.filter((r) => !existsSync(r.resolved) || !statSync(r.resolved).isFile());
    expect(broken, JSON.stringify(broken, null, 1)).toEqual([]);
    // Every reference stays inside the moved tree: nothing points back at a machine-specific place.
    for (const r of refs) expect(isInside(newParent, r.resolved), `${r.from}: ${r.ref}`).toBe(true);
    // The parsers found the references of every target that writes them (the check cannot pass empty).
    const from = (re: RegExp) => refs.filter((r) => re.test(r.from)).length;
    expect(from(/^\.amazonq\/cli-agents\//)).toBeGreaterThanOrEqual(2);
    expect(from(/^\.kiro\/agents\//)).toBeGreaterThanOrEqual(2);
    expect(from(/^CLAUDE\.md$/)).toBeGreaterThanOrEqual(3);
    expect(from(/^\.claude\/agents\//)).toBeGreaterThanOrEqual(1);
    expect(from(/^\.codex\/agents\//)).toBeGreaterThanOrEqual(1);
    expect(from(/^AGENTS\.md$/)).toBeGreaterThanOrEqual(2);
    expect(from(/^\.github\/copilot-instructions\.md$/)).toBeGreaterThanOrEqual(2);
    expect(from(/^chatgpt\//)).toBeGreaterThanOrEqual(3);
    expect(from(/^claude-projects\//)).toBeGreaterThanOrEqual(2);
    // Library files are named relatively (with `..` when the library sits beside the project).
    const lib = refs.filter((r) => isInside(after.library, r.resolved));
    expect(lib.length).toBeGreaterThanOrEqual(7);
    for (const r of lib) expect(r.ref.startsWith("/") || r.ref.startsWith("~"), `${r.from}: ${r.ref}`).toBe(false);
  });

  it("the next export in the moved tree finds every file current, writes nothing and nothing outside it", () => {
    expect(second.errors).toEqual([]);
    const changed = second.plan.entries.filter((e) => e.action !== "unchanged");
    expect(changed.map((e) => `${e.action} ${e.path}: ${e.reason ?? ""}`)).toEqual([]);
    expect(second.outOfDate).toBe(false);
    expect(second.applied?.written).toEqual([]);
    expect(second.applied?.deleted).toEqual([]);
    expect(existsSync(oldParent)).toBe(false);
    // Ownership is now recorded for the moved files; the entries of the old place are left alone
    // (they name a root no export uses any more) and nothing is recorded anywhere else.
    const entries = Object.values(loadManifest(stateDir).entries);
    const moved = entries.filter((e) => e.root === after.project);
    const old = entries.filter((e) => e.root === before.project);
    expect(old.length).toBeGreaterThan(0);
    expect(moved.map((e) => `${relative(after.project, e.path)} ${e.target}`).sort()).toEqual(
      old.map((e) => `${relative(before.project, e.path)} ${e.target}`).sort(),
    );
    for (const e of entries) expect(isInside(newParent, e.path) || isInside(oldParent, e.path), e.path).toBe(true);
    for (const e of moved) expect(isInside(after.project, e.path), e.path).toBe(true);
  });
});

describe("portableRef", () => {
  const r = (scope: "project" | "user"): Roots => ({ scope, projectRoot: "/work/team/app", homeDir: "/home/me" });

  it("is relative to the project (cwd) or to the referencing file when both share a folder", () => {
    expect(portableRef("/work/team/app/lib/k/a.md", r("project"), "cwd")).toBe("lib/k/a.md");
    expect(portableRef("/work/team/lib/k/a.md", r("project"), "cwd")).toBe("../lib/k/a.md");
    expect(portableRef("/work/team/lib/k/a.md", r("project"), { file: "/work/team/app/.claude/CLAUDE.md" })).toBe("../../lib/k/a.md");
    expect(portableRef("/work/team/app/.codex/knowledge/x.md", r("project"), "cwd")).toBe(".codex/knowledge/x.md");
  });

  it("uses ~/ or the absolute path where a relative one would climb to the home folder or the filesystem root", () => {
    const home: Roots = { scope: "project", projectRoot: "/home/me/work/app", homeDir: "/home/me" };
    expect(portableRef("/home/me/team-lib/k/a.md", home, "cwd")).toBe("~/team-lib/k/a.md");
    expect(portableRef("/home/me/work/lib/k/a.md", home, "cwd")).toBe("../lib/k/a.md");
    expect(portableRef("/opt/lib/k/a.md", r("project"), "cwd")).toBe("/opt/lib/k/a.md");
    expect(sharesTree("/work/team/app", "/opt/lib", "/home/me")).toBe(false);
    expect(sharesTree("/home/me/a", "/home/me/b", "/home/me")).toBe(false);
    expect(sharesTree("/home/me/w/a", "/home/me/w/b", "/home/me")).toBe(true);
  });

  it("never writes a relative path in user scope: a user-wide agent runs from any folder", () => {
    expect(portableRef("/home/me/lib/k/a.md", r("user"), "cwd")).toBe("~/lib/k/a.md");
    expect(portableRef("/home/me/lib/k/a.md", r("user"), { file: "/home/me/.claude/CLAUDE.md" })).toBe("~/lib/k/a.md");
    expect(portableRef("/srv/lib/k/a.md", r("user"), "cwd")).toBe("/srv/lib/k/a.md");
    expect(posix.isAbsolute(portableRef("/work/team/app/lib/a.md", r("user"), "cwd"))).toBe(true);
  });
});
