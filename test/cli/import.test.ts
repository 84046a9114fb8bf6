// `aicfg import claude-code` on hand-written fixtures of real sub-agent shapes (issue 9): no real
// agent lost to strict YAML or to a dotted name, each folder read once, .mcp.json servers and
// settings.json permissions imported, a summary of what was skipped and why, and exit codes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDocument } from "yaml";
import { loadLibrary } from "../../src/library/load.ts";
import { splitFrontmatter } from "../../src/library/yaml-source.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures", "claude-code-import");
const agentsOf = (dir: string) => join(fixtures, dir, ".claude", "agents");
let tmp: { path: string; cleanup: () => void };
let n = 0;
const lib = () => join(tmp.path, `lib-${++n}`);
/** Diagnostics as printed: `file:line:col  severity: message`, the file relative to the fixtures. */
const diag = (err: string) =>
  err
    .split("\n")
    .filter(Boolean)
    .map((l) =>
      l
        .replaceAll(`${fixtures}/`, "")
        .replaceAll(`${relative(process.cwd(), fixtures)}/`, "")
        .replace(/ {2}\(.*\)$/, ""),
    );

/** Every file under a folder, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** The library's agent files parse as strict YAML (no errors, no warnings) and the loader loads them. */
function expectStrictLibrary(root: string, agents: string[]): void {
  for (const name of agents) {
    const fm = splitFrontmatter(readFileSync(join(root, "agents", `${name}.md`), "utf8")).frontmatter!;
    const doc = parseDocument(fm, { strict: true, uniqueKeys: true });
    expect([...doc.errors, ...doc.warnings]).toEqual([]);
  }
  const loaded = loadLibrary(root);
  expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect([...loaded.agents.keys()].sort()).toEqual([...agents].sort());
}

beforeAll(() => {
  tmp = tempDir("aicfg-import-");
});
afterAll(() => tmp.cleanup());

describe("import claude-code: frontmatter strict YAML rejects", () => {
  it("imports all 8 agents, warns once per file with file:line:col, and writes strict YAML", async () => {
    const into = lib();
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "lenient"), "--into", into]);
    expect(r.code).toBe(0);
    const read = (m: string) => `${m} read line by line, as Claude Code reads it`;
    expect(diag(r.err)).toEqual([
      `lenient/.claude/agents/apostrophe.md:3:18  warning: frontmatter is not valid YAML (Unexpected scalar at node end); ${read("description")}`,
      `lenient/.claude/agents/colon-space.md:3:14  warning: frontmatter is not valid YAML (Nested mappings are not allowed in compact mappings); ${read("description")}`,
      `lenient/.claude/agents/examples.md:3:14  warning: frontmatter is not valid YAML (Nested mappings are not allowed in compact mappings); ${read("description")}`,
      `lenient/.claude/agents/hash.md:3:14  warning: frontmatter is not valid YAML (Nested mappings are not allowed in compact mappings); ${read("description")}`,
      `lenient/.claude/agents/quote-then-text.md:3:23  warning: frontmatter is not valid YAML (Unexpected scalar at node end); ${read("description")}`,
      `lenient/.claude/agents/reserved-char.md:3:14  warning: frontmatter is not valid YAML (Nested mappings are not allowed in compact mappings); ${read("description")}`,
      `lenient/.claude/agents/tab-indented.md:4:1  warning: frontmatter is not valid YAML (Tabs are not allowed as indentation); ${read("description")}`,
      `lenient/.claude/agents/triggers.md:3:14  warning: frontmatter is not valid YAML (Nested mappings are not allowed in compact mappings); ${read("description")}`,
    ]);
    expect(r.out.trim().split("\n").at(-2)).toBe("Imported 8 agent(s) and 0 MCP server(s); skipped 0.");
    const names = ["ab-test-analyst", "colon-space", "csharp-expert", "mention-router", "pr-triage", "quote-then-text", "release-helper", "tab-indented"];
    expectStrictLibrary(into, names);

    const lib2 = loadLibrary(into);
    const spec = (name: string) => lib2.agents.get(name)![0]!.spec;
    expect(spec("colon-space").description).toBe("Use when: the user asks for a code review");
    expect(spec("quote-then-text")).toMatchObject({ description: '"Senior" engineer for REST APIs', model: { "claude-code": "sonnet" } });
    expect(spec("ab-test-analyst")).toMatchObject({
      description: "Use when analysing experiments. Triggers on: 'analyze A/B test', 'p-value'",
      tools: { allow: ["read", "grep"] },
    });
    expect(spec("tab-indented")).toMatchObject({ description: "Reviews SQL queries\nand suggests indexes", extensions: { "claude-code": { color: "blue" } } });
    expect(spec("csharp-expert").description).toBe("C# expert: use for .NET code #dotnet");
    expect(spec("release-helper")).toMatchObject({ description: "It's the release helper", extensions: { "claude-code": { maxTurns: 5 } } });
    expect(spec("mention-router").description).toBe("@mentions triage: routes GitHub mentions to the right team");
    // Unindented example lines stay in the description; the block list after it is read as YAML.
    expect(spec("pr-triage")).toMatchObject({
      description:
        'Use this agent to triage pull requests. Examples:\n<example>\nuser: "Can you look at PR 12?"\nassistant: "I will use the pr-triage agent."\n</example>',
      tools: { allow: ["read", "grep"] },
      model: { "claude-code": "haiku" },
    });
    expect(readFileSync(join(into, "agents", "colon-space.md"), "utf8")).toBe(
      '---\nname: colon-space\ndescription: "Use when: the user asks for a code review"\n---\n\nYou review code.\n',
    );
  });

  it("--strict turns those warnings into a failure and writes nothing", async () => {
    const into = lib();
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "lenient"), "--into", into, "--strict"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("--strict: 8 warning(s), so nothing was written.");
    expect(existsSync(into)).toBe(false);
  });
});

describe("import claude-code: names", () => {
  it("maps dotted names to slugs with a display name, keeps the first duplicate and fails on a collision", async () => {
    const into = lib();
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "names"), "--into", into]);
    expect(r.code).toBe(1);
    const a = (f: string) => join(agentsOf("names"), f);
    expect(diag(r.err)).toEqual([
      "names/.claude/agents/README.md:1:1  warning: has no YAML frontmatter, so it is not a sub-agent (Claude Code skips such files, and so does the import)",
      "names/.claude/agents/api.client.md:2:1  warning: agent name 'api.client' is not a library name; imported as 'api-client', with 'api.client' kept as its displayName",
      "names/.claude/agents/api.client.md  error: agents 'api-client' (names/.claude/agents/api-client.md) and 'api.client' (names/.claude/agents/api.client.md) both become library agent 'api-client'; names/.claude/agents/api.client.md is not imported",
      "names/.claude/agents/dotnet-framework-4.8-expert.md:2:1  warning: agent name 'dotnet-framework-4.8-expert' is not a library name; imported as 'dotnet-framework-4-8-expert', with 'dotnet-framework-4.8-expert' kept as its displayName",
      "names/.claude/agents/powershell-5.1-expert.md:2:1  warning: agent name 'powershell-5.1-expert' is not a library name; imported as 'powershell-5-1-expert', with 'powershell-5.1-expert' kept as its displayName",
      "names/.claude/agents/reviewer2.md  warning: names/.claude/agents/reviewer2.md defines agent 'reviewer' again (also in names/.claude/agents/reviewer.md); this one is skipped",
    ]);
    expect(r.out).toContain(
      "Imported 4 agent(s) and 0 MCP server(s); skipped 3: 1 duplicate name, 1 no frontmatter (not an agent file); errors: 1 name collision after mapping.\n",
    );
    expectStrictLibrary(into, ["api-client", "dotnet-framework-4-8-expert", "powershell-5-1-expert", "reviewer"]);
    const loaded = loadLibrary(into);
    expect(loaded.agents.get("dotnet-framework-4-8-expert")![0]!.spec).toMatchObject({ displayName: "dotnet-framework-4.8-expert" });
    expect(loaded.agents.get("reviewer")![0]!.spec.description).toBe("Reviews changes");
    expect(loaded.agents.get("api-client")![0]!.spec.description).toBe("Generates API clients");

    const json = await cli(["import", "claude-code", "--from", join(fixtures, "names"), "--into", lib(), "--json"]);
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({
      ok: false,
      skipped: [
        { file: a("README.md"), reason: "no frontmatter (not an agent file)", error: false },
        { file: a("api.client.md"), reason: "name collision after mapping", error: true },
        { file: a("reviewer2.md"), reason: "duplicate name", error: false },
      ],
    });
  });
});

describe("import claude-code: each folder once", () => {
  it("--from DIR with an empty user folder gives no 'exists in both' warning", async () => {
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "names"), "--into", lib(), "--json"]);
    expect(r.json().warnings.filter((w: { message: string }) => w.message.includes("exists in both"))).toEqual([]);
    expect(r.json().warnings.filter((w: { code: string }) => w.code === "duplicate-name")).toHaveLength(1);
  });

  it("warns once when the project and a real user folder both define a name, and not for an empty home", async () => {
    const project = join(tmp.path, "proj");
    cpSync(join(fixtures, "project"), project, { recursive: true });
    const empty = await cli(["import", "claude-code", "--into", lib(), "--json"], { cwd: project, env: { HOME: join(fixtures, "empty-home") } });
    expect(empty.code).toBe(0);
    expect(empty.json().agents).toEqual(["app-developer"]);
    expect(empty.json().summary).toBe("Imported 1 agent(s) and 4 MCP server(s); skipped 0.");

    const home = join(tmp.path, "home");
    writeTree(home, { ".claude/agents/app-developer.md": "---\nname: app-developer\ndescription: My own copy\n---\n\nMine.\n" });
    const both = await cli(["import", "claude-code", "--into", lib(), "--json"], { cwd: project, env: { HOME: home } });
    const msgs = both
      .json()
      .warnings.map((w: { message: string }) => w.message)
      .filter((m: string) => m.includes("exists in both"));
    expect(msgs).toEqual([
      `agent 'app-developer' exists in both project and user files (${join(project, ".claude/agents/app-developer.md")} and ${join(home, ".claude/agents/app-developer.md")}); the project one is imported`,
    ]);
    expect(both.json().summary).toBe("Imported 1 agent(s) and 4 MCP server(s); skipped 1: 1 duplicate name.");
    expect(both.code).toBe(0);
  });
});

describe("import claude-code: .mcp.json and settings.json", () => {
  it("imports every server with ${VAR} kept, no literal credential, and the permission rules into the agents", async () => {
    const into = lib();
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "project"), "--into", into]);
    expect(r.code).toBe(0);
    expect(diag(r.err)).toEqual([
      "project/.claude/settings.json  warning: permission rules with no library equivalent are not imported: allow 'Agent(Explore)', ask 'Bash(git push *)'",
      "project/.claude/settings.json  warning: permissions.defaultMode not imported (no library equivalent)",
      "project/.mcp.json  warning: MCP server 'search' holds literal credentials; they are not copied into the library, which refers to environment variables instead: env SEARCH_API_KEY -> ${SEARCH_API_KEY}",
      "project/.mcp.json  warning: MCP server 'tracker' holds literal credentials; they are not copied into the library, which refers to environment variables instead: header Authorization -> Bearer ${TRACKER_AUTHORIZATION}",
    ]);
    expect(r.out).toContain("Imported 1 agent(s) and 4 MCP server(s); skipped 0.\n");
    expectStrictLibrary(into, ["app-developer"]);
    const loaded = loadLibrary(into);
    expect(Object.fromEntries([...loaded.mcp].map(([k, v]) => [k, v.server]))).toEqual({
      docs: { command: "uvx", args: ["docs-mcp", "--root", "${DOCS_ROOT:-./docs}"] },
      github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
      search: { command: "npx", args: ["-y", "search-mcp"], env: { SEARCH_API_KEY: "${SEARCH_API_KEY}", SEARCH_REGION: "eu" } },
      tracker: { type: "http", url: "https://tracker.example.com/mcp", headers: { Authorization: "Bearer ${TRACKER_AUTHORIZATION}" } },
    });
    for (const f of tree(into)) {
      const text = readFileSync(join(into, f), "utf8");
      expect(text).not.toContain("sk-live-not-a-real-key");
      expect(text).not.toContain("abc123-not-real");
    }
    expect(loaded.agents.get("app-developer")![0]!.spec).toEqual({
      name: "app-developer",
      description: "Builds features in this app",
      mcp: ["github"],
      tools: { trusted: ["read", "@github"], deny: ["web_search"] },
      toolSettings: {
        read: { deniedPaths: [".env"] },
        write: { allowedPaths: ["src/**"] },
        shell: { allowedCommands: ["npm test", "git status"], deniedCommands: ["rm"] },
        web_fetch: { allowedDomains: ["docs.example.com"] },
      },
    });
  });
});

describe("import claude-code: bad input", () => {
  it("reports file:line:col errors, exits 1, and writes nothing outside the library", async () => {
    const root = join(tmp.path, "bad-run");
    const into = join(root, "library");
    const r = await cli(["import", "claude-code", "--from", join(fixtures, "bad"), "--into", into]);
    expect(r.code).toBe(1);
    expect(diag(r.err)).toEqual([
      "bad/.claude/agents/broken-hooks.md:3:22  warning: field 'hooks' is not valid YAML (Flow sequence in block collection must be sufficiently indented and end with a ]); left out",
      "bad/.claude/agents/broken-hooks.md:1:1  error: agent not imported: description Invalid input: expected string, received undefined",
      "bad/.claude/agents/broken.md:2:6  error: agent not imported: YAML: Unexpected : in flow sequence",
      "bad/.claude/agents/escape.md:2:1  warning: agent name '../../outside' is not a library name; imported as 'outside', with '../../outside' kept as its displayName",
      "bad/.mcp.json  warning: MCP server name '../evil' is not a valid library name; left out",
    ]);
    expect(r.out).toContain("Imported 1 agent(s) and 0 MCP server(s); skipped 2: errors: 1 invalid frontmatter, 1 missing description.\n");
    expect(tree(root)).toEqual(["library/agents/outside.md", "library/aicfg.yaml"]);
    expectStrictLibrary(into, ["outside"]);
  });
});

describe("import copilot: the same lenient reading", () => {
  it("imports an agent whose description strict YAML rejects, and still fails a broken list", async () => {
    const from = join(tmp.path, "copilot");
    writeTree(from, {
      ".github/agents/helper.agent.md": "---\nname: helper\ndescription: Use when: the user needs help\n---\n\nHelp.\n",
      ".github/agents/broken.agent.md": "---\nname: broken\ndescription: [unclosed\n---\n\nNever.\n",
    });
    const into = lib();
    const r = await cli(["import", "copilot", "--from", from, "--into", into, "--json"]);
    expect(r.json().agents).toEqual(["helper"]);
    expect(
      r.json().warnings.map((w: { severity: string; code: string; file: string; line: number }) => [w.severity, w.code, relative(from, w.file), w.line]),
    ).toEqual([
      ["error", "yaml-syntax", ".github/agents/broken.agent.md", 3],
      ["warning", "lenient-frontmatter", ".github/agents/helper.agent.md", 3],
    ]);
    expect(r.code).toBe(1);
    expect(r.json().summary).toBe("Imported 1 agent(s) and 0 MCP server(s); skipped 1: errors: 1 yaml-syntax.");
    expectStrictLibrary(into, ["helper"]);
    expect(loadLibrary(into).agents.get("helper")![0]!.spec.description).toBe("Use when: the user needs help");
  });
});
