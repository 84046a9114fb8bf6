// The Cursor adapter: exact rules, subagents and mcp.json for the shared fixtures, warnings, limits,
// determinism, import of rules and subagents (fixture and round trip), detection.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cursorAdapter } from "../../src/adapters/cursor/index.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";
import { dirSource, diskSource, fakeInstall, messages, show } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-cursor-");
});
afterEach(() => t.cleanup());

const SE_BODY = "# Role\n\nYou are a senior software engineer. Write tests first.\n";
const WARN = (feature: string): string => `cursor: agent 'software-engineer' uses ${feature}, which cursor cannot express; it is left out of this target`;

describe("cursor render", () => {
  it("writes a rule and a subagent per agent, knowledge rules and mcp.json (project scope)", () => {
    const r = roots(t.path);
    const res = cursorAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      { kind: "file", path: ".cursor/agents/helper.md", agent: "helper", content: "---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n" },
      {
        kind: "file",
        path: ".cursor/agents/software-engineer.md",
        agent: "software-engineer",
        content: `---\nname: software-engineer\ndescription: Implements features with tests\nmodel: claude-sonnet-4\n---\n\n${SE_BODY}`,
      },
      {
        kind: "json-keys",
        path: ".cursor/mcp.json",
        entries: [
          { key: ["mcpServers", "fetch"], value: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${env:FETCH_KEY}" } } },
          { key: ["mcpServers", "github"], value: { url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${env:GITHUB_TOKEN}" } } },
        ],
      },
      {
        kind: "file",
        path: ".cursor/rules/helper.mdc",
        agent: "helper",
        content: "---\ndescription: A small helper\nalwaysApply: false\n---\n\nBe helpful.\n",
      },
      {
        kind: "file",
        path: ".cursor/rules/knowledge-common-policies.mdc",
        agent: "software-engineer",
        content: "---\ndescription: Org policies\nalwaysApply: true\n---\n\n# Policies\n\n- Review every change.\n",
      },
      {
        kind: "file",
        path: ".cursor/rules/knowledge-domains-security.mdc",
        agent: "software-engineer",
        content: "---\ndescription: Security\nalwaysApply: false\n---\n\n# Security\n\nNever commit secrets.\n",
      },
      {
        kind: "file",
        path: ".cursor/rules/software-engineer.mdc",
        agent: "software-engineer",
        content: `---\ndescription: Implements features with tests\nalwaysApply: false\n---\n\n${SE_BODY}`,
      },
    ]);
    expect(messages(res.warnings)).toEqual([
      WARN("tools.allow"),
      WARN("tools.deny"),
      WARN("tools.trusted"),
      WARN("toolSettings"),
      WARN("hooks (sessionStart, beforeTool)"),
      WARN("timeout (MCP server 'fetch')"),
    ]);
    expect(res.warnings.every((w) => w.code === "unsupported-feature" && w.file === "/lib/agents/software-engineer.md")).toBe(true);
  });

  it("user scope: subagents and ~/.cursor/mcp.json, and says knowledge has no user-scope file", () => {
    const r = roots(t.path, "user");
    const res = cursorAdapter.render([realisticAgent(join(t.path, "k"))], renderContext(r));
    expect(show(res.files, r.homeDir).map((f) => f.path)).toEqual([".cursor/agents/software-engineer.md", ".cursor/mcp.json"]);
    expect(res.files.every((f) => f.path.startsWith(r.homeDir + "/"))).toBe(true);
    const k = res.warnings.filter((w) => w.message.includes("knowledge"));
    expect(messages(k)).toEqual([WARN("knowledge common/policies.md in user scope"), WARN("knowledge domains/security.md in user scope")]);
    expect(k[0]!.hint).toBe("Cursor keeps user rules in its settings, not in files; export knowledge with --scope project");
  });

  it("the minimal agent renders without warnings", () => {
    const r = roots(t.path);
    const res = cursorAdapter.render([minimalAgent()], renderContext(r));
    expect(res.warnings).toEqual([]);
    expect(show(res.files, r.projectRoot).map((f) => f.path)).toEqual([".cursor/agents/helper.md", ".cursor/rules/helper.mdc"]);
  });

  it("is deterministic and independent of agent order", () => {
    const r = roots(t.path);
    const a = realisticAgent(join(t.path, "k"));
    const b = minimalAgent();
    const one = cursorAdapter.render([a, b], renderContext(r));
    const two = cursorAdapter.render([b, a], renderContext(r));
    expect(two).toEqual(one);
  });

  it("knowledge with applyTo becomes an Auto Attached rule with comma-joined globs", () => {
    const r = roots(t.path);
    const kdir = join(t.path, "k");
    writeTree(kdir, { "react.md": '---\ndescription: React rules\napplyTo: ["src/**/*.tsx", "src/**/*.ts"]\n---\nUse hooks.\n' });
    const agent = minimalAgent({ knowledge: [{ path: "react.md", absPath: join(kdir, "react.md"), mode: "on-demand", size: 1, mtimeMs: 0, layer: "test" }] });
    const res = cursorAdapter.render([agent], renderContext(r));
    const rule = show(res.files, r.projectRoot).find((f) => f.path === ".cursor/rules/knowledge-react.mdc");
    expect(rule).toEqual({
      kind: "file",
      path: ".cursor/rules/knowledge-react.mdc",
      agent: "helper",
      content: "---\ndescription: React rules\nglobs: src/**/*.tsx,src/**/*.ts\nalwaysApply: false\n---\n\nUse hooks.\n",
    });
  });

  it("warns when a rule exceeds Cursor's 500-line guidance", () => {
    const r = roots(t.path);
    const res = cursorAdapter.render([minimalAgent({ instructions: "line\n".repeat(600) })], renderContext(r));
    expect(res.warnings.map((w) => [w.code, w.message])).toEqual([
      ["limit-exceeded", "cursor: agent 'helper': .cursor/rules/helper.mdc has 605 lines; Cursor recommends rules under 500 lines"],
    ]);
  });

  it("marks mcp.json secret when an env value is a literal, and warns on conflicting server definitions", () => {
    const r = roots(t.path);
    const a = minimalAgent({ name: "a", mcpServers: { db: { command: "db-mcp", env: { PASSWORD: "hunter2" } } } });
    const b = minimalAgent({ name: "b", mcpServers: { db: { command: "other-db-mcp" } } });
    const res = cursorAdapter.render([b, a], renderContext(r));
    const mcp = res.files.find((f) => f.path.endsWith("mcp.json"));
    expect(mcp).toEqual({
      kind: "json-keys",
      path: join(r.projectRoot, ".cursor/mcp.json"),
      entries: [{ key: ["mcpServers", "db"], value: { command: "db-mcp", env: { PASSWORD: "hunter2" } } }],
      secret: true,
    });
    expect(res.warnings.map((w) => w.code)).toEqual(["mcp-conflict"]);
    expect(res.warnings[0]!.message).toBe(
      "cursor: agents 'a' and 'b' define MCP server 'db' differently; cursor has one server list, so the definition of 'a' is used",
    );
  });

  it("writes extension fields into the subagent and validates them", () => {
    const r = roots(t.path);
    const res = cursorAdapter.render([minimalAgent({ extensions: { cursor: { readonly: true, is_background: false } } })], renderContext(r));
    expect(show(res.files, r.projectRoot)[0]!).toEqual({
      kind: "file",
      path: ".cursor/agents/helper.md",
      agent: "helper",
      content: "---\nname: helper\ndescription: A small helper\nreadonly: true\nis_background: false\n---\n\nBe helpful.\n",
    });
    expect(cursorAdapter.extensionSchema!.safeParse({ readonly: "yes" }).success).toBe(false);
    expect(cursorAdapter.extensionSchema!.safeParse({ unknown: 1 }).success).toBe(false);
  });

  it("only writes inside its declared locations", () => {
    for (const scope of ["project", "user"] as const) {
      const r = roots(t.path, scope);
      const locs = cursorAdapter.locations(r);
      const res = cursorAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
      for (const f of res.files) expect(locs.some((l) => f.path === l || f.path.startsWith(l + "/"))).toBe(true);
    }
  });
});

describe("cursor parse", () => {
  it("reads back what it rendered", () => {
    const r = roots(t.path);
    const agent = realisticAgent(join(t.path, "k"));
    const res = cursorAdapter.render([agent, minimalAgent()], renderContext(r));
    const parsed = cursorAdapter.parse!(diskSource(r.projectRoot, res.files), r);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents.map((a) => a.spec)).toEqual([
      { name: "helper", description: "A small helper" },
      { name: "software-engineer", description: "Implements features with tests", model: "claude-sonnet-4" },
    ]);
    const se = parsed.agents[1]!;
    expect(se.instructions).toBe(SE_BODY);
    expect(se.source).toBe(join(r.projectRoot, ".cursor/agents/software-engineer.md"));
    expect(se.mcp).toEqual({
      fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" } },
      github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
    });
    expect(se.knowledgeFiles).toEqual([
      join(r.projectRoot, ".cursor/rules/knowledge-common-policies.mdc"),
      join(r.projectRoot, ".cursor/rules/knowledge-domains-security.mdc"),
    ]);
  });

  it("imports a hand-written Cursor project (fixture): rule-only agents, knowledge rules, bad files", () => {
    const dir = join(import.meta.dirname, "../fixtures/cursor/project");
    const src = dirSource(dir);
    const r = { scope: "project" as const, projectRoot: dir, homeDir: "/nonexistent" };
    const parsed = cursorAdapter.parse!(src, r);
    expect(parsed.agents.map((a) => a.spec)).toEqual([
      { name: "api-designer", description: "Designs REST APIs; use when adding endpoints" },
      { name: "reviewer", description: "Reviews pull requests", model: "gpt-5", extensions: { cursor: { readonly: true } } },
    ]);
    expect(parsed.agents[1]!.instructions).toBe("Review the diff for bugs and missing tests.\n");
    expect(parsed.agents[0]!.knowledgeFiles).toEqual([join(dir, ".cursor/rules/style.mdc"), join(dir, ".cursor/rules/typescript.mdc")]);
    expect(parsed.agents[0]!.mcp).toEqual({
      docs: { type: "http", url: "https://docs.example.com/mcp" },
      local: { command: "node", args: ["server.js"], env: { TOKEN: "${MY_TOKEN}" } },
    });
    expect(parsed.warnings.map((w) => [w.code, w.file, w.message])).toEqual([
      ["import-skipped", join(dir, ".cursor/mcp.json"), "cursor: MCP server 'empty' has neither command nor url; skipped"],
      ["import-skipped", join(dir, ".cursor/agents/broken.md"), expect.stringMatching(/^cursor: invalid frontmatter: /)],
    ]);
  });
});

describe("cursor detect", () => {
  it("finds cursor-agent on PATH with its version and ~/.cursor", async () => {
    const env = fakeInstall(t.path, { binaries: { "cursor-agent": "2026.09.12-abc123" }, homeDirs: [".cursor"] });
    const d = await cursorAdapter.detect(env);
    expect(d.installed).toBe(true);
    expect(d.binary).toEqual({ name: "cursor-agent", path: join(t.path, "bin/cursor-agent"), version: "2026.09.12-abc123" });
    expect(d.configPaths).toEqual([{ path: join(t.path, "home/.cursor"), exists: true }]);
    expect(d.exportPaths.user).toEqual([join(t.path, "home/.cursor/agents"), join(t.path, "home/.cursor/mcp.json")]);
    expect(d.nextSteps).toEqual([]);
  });

  it("reports nothing installed with a next step", async () => {
    const env = fakeInstall(t.path);
    const d = await cursorAdapter.detect(env);
    expect(d.installed).toBe(false);
    expect(d.binary).toBeUndefined();
    expect(d.configPaths).toEqual([{ path: join(t.path, "home/.cursor"), exists: false }]);
    expect(d.nextSteps).toEqual(["install Cursor (https://cursor.com/downloads) or the CLI agent: curl https://cursor.com/install -fsS | bash"]);
  });
});
