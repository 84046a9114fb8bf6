// The declarative long-tail targets: the TargetDefinition schema, the generic adapter's placement
// rules, and for EACH definition the exact list of files it writes for the shared fixtures plus the
// exact content of at least one of them. Also detection, limits, determinism and the registry size.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportLibrary } from "../../src/adapters/export.ts";
import { genericAdapter, mcpPath } from "../../src/adapters/generic/adapter.ts";
import { TargetDefinition, type TargetDefinitionInput } from "../../src/adapters/generic/definition.ts";
import { GENERIC_ADAPTERS } from "../../src/adapters/generic/index.ts";
import { demoteHeadings, knowledgeSlug } from "../../src/adapters/generic/shared.ts";
import { GENERIC_TARGETS } from "../../src/adapters/generic/targets.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";
import { warningsWithBudget } from "../helpers/budget.ts";
import { diskSource, fakeInstall, messages, show, type Shown } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-generic-");
});
afterEach(() => t.cleanup());

const SE_BODY = "# Role\n\nYou are a senior software engineer. Write tests first.\n";
/** The shared instructions-file section: both agents, then the always-on knowledge. */
const SECTION =
  "## Agent: helper\n\nA small helper\n\nBe helpful.\n\n## Agent: software-engineer\n\nImplements features with tests\n\n### Role\n\nYou are a senior software engineer. Write tests first.\n\n## Knowledge: common/policies.md\n\n### Policies\n\n- Review every change.\n";
const KNOWLEDGE_ONLY = "## Knowledge: common/policies.md\n\n### Policies\n\n- Review every change.\n";
const POLICIES = "# Policies\n\n- Review every change.\n";

/** Claude Desktop's config lives elsewhere on macOS. */
const CLAUDE_DESKTOP =
  process.platform === "darwin" ? "Library/Application Support/Claude/claude_desktop_config.json" : ".config/Claude/claude_desktop_config.json";

type Expected = { id: string; scope: "project" | "user"; files: string[]; check: Record<string, string | { key: string[]; value: unknown }[]> };

const fetchPlain = (env: string) => ({ command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: env } });
const githubAt = (urlKey: string, auth: string, extra: Record<string, unknown> = {}) => ({
  ...extra,
  [urlKey]: "https://api.githubcopilot.com/mcp/",
  headers: { Authorization: auth },
});

const TABLE: Expected[] = [
  { id: "aider", scope: "project", files: ["md-section CONVENTIONS.md"], check: { "CONVENTIONS.md": SECTION } },
  {
    id: "amp",
    scope: "project",
    files: ["json-keys .amp/settings.json", "md-section AGENTS.md"],
    check: {
      "AGENTS.md": SECTION,
      ".amp/settings.json": [
        { key: ["amp.mcpServers", "fetch"], value: fetchPlain("${FETCH_KEY}") },
        { key: ["amp.mcpServers", "github"], value: githubAt("url", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  { id: "goose", scope: "project", files: ["md-section .goosehints"], check: { ".goosehints": SECTION } },
  {
    id: "junie",
    scope: "project",
    files: ["md-section .junie/guidelines.md", "json-keys .junie/mcp/mcp.json"],
    check: {
      ".junie/guidelines.md": SECTION,
      ".junie/mcp/mcp.json": [
        { key: ["mcpServers", "fetch"], value: fetchPlain("${FETCH_KEY}") },
        { key: ["mcpServers", "github"], value: githubAt("url", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  {
    id: "opencode",
    scope: "project",
    files: ["file .opencode/agents/helper.md", "file .opencode/agents/software-engineer.md", "md-section AGENTS.md", "json-keys opencode.json"],
    check: {
      ".opencode/agents/software-engineer.md": `---\ndescription: Implements features with tests\nmode: subagent\n---\n\n${SE_BODY}`,
      "AGENTS.md": KNOWLEDGE_ONLY,
      "opencode.json": [
        { key: ["mcp", "fetch"], value: { type: "local", command: ["uvx", "mcp-server-fetch"], environment: { API_KEY: "{env:FETCH_KEY}" } } },
        { key: ["mcp", "github"], value: githubAt("url", "Bearer {env:GITHUB_TOKEN}", { type: "remote" }) },
      ],
    },
  },
  {
    id: "roo",
    scope: "project",
    files: ["json-keys .roo/mcp.json", "file .roo/rules/helper.md", "file .roo/rules/knowledge-common-policies.md", "file .roo/rules/software-engineer.md"],
    check: {
      ".roo/rules/software-engineer.md": SE_BODY,
      ".roo/mcp.json": [
        { key: ["mcpServers", "fetch"], value: fetchPlain("${env:FETCH_KEY}") },
        { key: ["mcpServers", "github"], value: githubAt("url", "Bearer ${env:GITHUB_TOKEN}", { type: "streamable-http" }) },
      ],
    },
  },
  {
    id: "kilo-code",
    scope: "project",
    files: [
      "json-keys .kilocode/mcp.json",
      "file .kilocode/rules/helper.md",
      "file .kilocode/rules/knowledge-common-policies.md",
      "file .kilocode/rules/software-engineer.md",
    ],
    check: { ".kilocode/rules/knowledge-common-policies.md": POLICIES, ".kilocode/rules/helper.md": "Be helpful.\n" },
  },
  {
    id: "zed",
    scope: "project",
    files: ["md-section .rules", "json-keys .zed/settings.json"],
    check: {
      ".rules": SECTION,
      ".zed/settings.json": [
        { key: ["context_servers", "fetch"], value: fetchPlain("${FETCH_KEY}") },
        { key: ["context_servers", "github"], value: githubAt("url", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  { id: "warp", scope: "project", files: ["md-section WARP.md"], check: { "WARP.md": SECTION } },
  {
    id: "continue",
    scope: "project",
    files: [
      "file .continue/rules/helper.md",
      "file .continue/rules/knowledge-common-policies.md",
      "file .continue/rules/knowledge-domains-security.md",
      "file .continue/rules/software-engineer.md",
    ],
    check: {
      ".continue/rules/helper.md": "---\nname: helper\ndescription: A small helper\nalwaysApply: false\n---\n\nBe helpful.\n",
      ".continue/rules/knowledge-common-policies.md": `---\nname: common-policies\nalwaysApply: true\n---\n\n${POLICIES}`,
      ".continue/rules/knowledge-domains-security.md":
        "---\nname: domains-security\ndescription: Security\nalwaysApply: false\n---\n\n# Security\n\nNever commit secrets.\n",
    },
  },
  {
    id: "qwen-code",
    scope: "project",
    files: ["file .qwen/agents/helper.md", "file .qwen/agents/software-engineer.md", "json-keys .qwen/settings.json", "md-section QWEN.md"],
    check: {
      ".qwen/agents/helper.md": "---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n",
      "QWEN.md": KNOWLEDGE_ONLY,
      ".qwen/settings.json": [
        { key: ["mcpServers", "fetch"], value: { ...fetchPlain("${FETCH_KEY}"), timeout: 120000 } },
        { key: ["mcpServers", "github"], value: githubAt("httpUrl", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  { id: "trae", scope: "project", files: ["md-section .trae/rules/project_rules.md"], check: { ".trae/rules/project_rules.md": SECTION } },
  {
    id: "jetbrains-ai",
    scope: "project",
    files: ["file .aiassistant/rules/helper.md", "file .aiassistant/rules/knowledge-common-policies.md", "file .aiassistant/rules/software-engineer.md"],
    check: { ".aiassistant/rules/knowledge-common-policies.md": POLICIES },
  },
  {
    id: "augment",
    scope: "project",
    files: [
      "file .augment/rules/helper.md",
      "file .augment/rules/knowledge-common-policies.md",
      "file .augment/rules/knowledge-domains-security.md",
      "file .augment/rules/software-engineer.md",
    ],
    check: {
      ".augment/rules/software-engineer.md": `---\ntype: agent_requested\ndescription: Implements features with tests\n---\n\n${SE_BODY}`,
      ".augment/rules/knowledge-common-policies.md": `---\ntype: always_apply\n---\n\n${POLICIES}`,
    },
  },
  {
    id: "antigravity",
    scope: "project",
    files: [
      "json-keys .agents/mcp_config.json",
      "file .agents/rules/helper.md",
      "file .agents/rules/knowledge-common-policies.md",
      "file .agents/rules/knowledge-domains-security.md",
      "file .agents/rules/software-engineer.md",
    ],
    check: {
      ".agents/rules/helper.md": "---\ntrigger: model_decision\ndescription: A small helper\n---\n\nBe helpful.\n",
      ".agents/mcp_config.json": [
        { key: ["mcpServers", "fetch"], value: fetchPlain("${env:FETCH_KEY}") },
        { key: ["mcpServers", "github"], value: githubAt("serverUrl", "Bearer ${env:GITHUB_TOKEN}") },
      ],
    },
  },
  {
    id: "devin",
    scope: "project",
    files: [
      "json-keys .devin/mcp_config.json",
      "file .devin/rules/helper.md",
      "file .devin/rules/knowledge-common-policies.md",
      "file .devin/rules/knowledge-domains-security.md",
      "file .devin/rules/software-engineer.md",
    ],
    check: { ".devin/rules/knowledge-common-policies.md": `---\ntrigger: always_on\n---\n\n${POLICIES}` },
  },
  {
    id: "kiro-ide",
    scope: "project",
    files: [
      "file .kiro/steering/helper.md",
      "file .kiro/steering/knowledge-common-policies.md",
      "file .kiro/steering/knowledge-domains-security.md",
      "file .kiro/steering/software-engineer.md",
    ],
    check: {
      ".kiro/steering/software-engineer.md": `---\ninclusion: auto\nname: software-engineer\ndescription: Implements features with tests\n---\n\n${SE_BODY}`,
      ".kiro/steering/knowledge-common-policies.md": `---\ninclusion: always\n---\n\n${POLICIES}`,
    },
  },
  {
    id: "claude-desktop",
    scope: "user",
    files: [`json-keys ${CLAUDE_DESKTOP}`],
    check: { [CLAUDE_DESKTOP]: [{ key: ["mcpServers", "fetch"], value: fetchPlain("${FETCH_KEY}") }] },
  },
  {
    id: "firebase-studio",
    scope: "project",
    files: ["md-section .idx/airules.md", "json-keys .idx/mcp.json"],
    check: {
      ".idx/airules.md": SECTION,
      ".idx/mcp.json": [
        { key: ["mcpServers", "fetch"], value: fetchPlain("${FETCH_KEY}") },
        { key: ["mcpServers", "github"], value: githubAt("url", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  {
    id: "crush",
    scope: "project",
    files: ["json-keys .crush.json", "md-section CRUSH.md"],
    check: {
      "CRUSH.md": SECTION,
      ".crush.json": [
        { key: ["mcp", "fetch"], value: { type: "stdio", ...fetchPlain("$FETCH_KEY") } },
        { key: ["mcp", "github"], value: githubAt("url", "Bearer $GITHUB_TOKEN", { type: "http" }) },
      ],
    },
  },
  { id: "openhands", scope: "project", files: ["md-section .openhands/microagents/repo.md"], check: { ".openhands/microagents/repo.md": SECTION } },
  {
    id: "factory-droid",
    scope: "project",
    files: ["file .factory/droids/helper.md", "file .factory/droids/software-engineer.md", "json-keys .factory/mcp.json", "md-section AGENTS.md"],
    check: {
      ".factory/droids/software-engineer.md": `---\nname: software-engineer\ndescription: Implements features with tests\nmodel: claude-sonnet-4\n---\n\n${SE_BODY}`,
      ".factory/mcp.json": [
        { key: ["mcpServers", "fetch"], value: { type: "stdio", ...fetchPlain("${FETCH_KEY}") } },
        { key: ["mcpServers", "github"], value: githubAt("url", "Bearer ${GITHUB_TOKEN}", { type: "http" }) },
      ],
    },
  },
  {
    id: "tabnine",
    scope: "project",
    files: [
      "json-keys .tabnine/agent/settings.json",
      "file .tabnine/guidelines/helper.md",
      "file .tabnine/guidelines/knowledge-common-policies.md",
      "file .tabnine/guidelines/software-engineer.md",
    ],
    check: {
      ".tabnine/guidelines/software-engineer.md": SE_BODY,
      ".tabnine/agent/settings.json": [
        { key: ["mcpServers", "fetch"], value: { ...fetchPlain("${FETCH_KEY}"), timeout: 120000 } },
        { key: ["mcpServers", "github"], value: githubAt("httpUrl", "Bearer ${GITHUB_TOKEN}") },
      ],
    },
  },
  { id: "rovodev", scope: "project", files: ["md-section AGENTS.md"], check: { "AGENTS.md": SECTION } },
  { id: "codebuddy", scope: "project", files: ["md-section CODEBUDDY.md"], check: { "CODEBUDDY.md": SECTION } },
];

function renderFor(id: string, scope: "project" | "user") {
  const adapter = GENERIC_ADAPTERS.find((a) => a.id === id)!;
  const r = roots(t.path, scope);
  const res = adapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
  return { adapter, r, res, shown: show(res.files, scope === "project" ? r.projectRoot : r.homeDir) };
}

function contentOf(f: Shown): string | { key: string[]; value: unknown }[] {
  return f.kind === "json-keys" ? f.entries : f.content;
}

describe("generic targets: exact output of every definition", () => {
  it("the table covers every definition", () => {
    expect(TABLE.map((e) => e.id).sort()).toEqual(GENERIC_TARGETS.map((d) => d.id).sort());
  });

  for (const e of TABLE) {
    it(`${e.id} (${e.scope})`, () => {
      const { shown, res, adapter } = renderFor(e.id, e.scope);
      expect(shown.map((f) => `${f.kind} ${f.path}`)).toEqual(e.files);
      for (const [path, want] of Object.entries(e.check)) {
        const f = shown.find((x) => x.path === path);
        expect(f, `${e.id} writes ${path}`).toBeDefined();
        expect(contentOf(f!)).toEqual(want);
      }
      // Every file stays inside the declared locations; none is marked secret (only ${VAR} references).
      const locs = adapter.locations(roots(t.path, e.scope));
      for (const f of res.files) expect(locs.some((l) => f.path === l || f.path.startsWith(l + "/"))).toBe(true);
      expect(shown.some((f) => "secret" in f)).toBe(false);
      // Warnings name only software-engineer's features: the minimal agent fits every target that takes instructions.
      const helperWarnings = res.warnings.filter((w) => w.message.includes("agent 'helper'"));
      expect(messages(helperWarnings)).toEqual(
        e.id === "claude-desktop"
          ? ["claude-desktop: agent 'helper' uses instructions, which claude-desktop cannot express; it is left out of this target"]
          : [],
      );
      expect(res.warnings.every((w) => w.code === "unsupported-feature" && w.severity === "warning")).toBe(true);
    });
  }

  it("every definition is valid, sourced and has a unique id that no other adapter uses", () => {
    const ids = listAdapters().map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of GENERIC_TARGETS) {
      expect(TargetDefinition.safeParse(d).success).toBe(true);
      expect(d.sources.length).toBeGreaterThan(0);
    }
    expect(GENERIC_TARGETS.length).toBeGreaterThanOrEqual(22);
  });

  it("the registry has at least 30 targets including every generic one", () => {
    const ids = listAdapters().map((a) => a.id);
    for (const d of GENERIC_TARGETS) expect(ids).toContain(d.id);
    for (const id of ["cursor", "gemini-cli", "windsurf", "cline", "agents-md"]) expect(ids).toContain(id);
    expect(ids.length).toBeGreaterThanOrEqual(30);
  });
});

describe("generic adapter behaviour", () => {
  const base: TargetDefinitionInput = {
    id: "demo",
    displayName: "Demo",
    description: "a demo tool",
    scopes: {
      project: {
        rules: {
          dir: ".demo/rules",
          agentAs: "onDemand",
          frontmatter: {
            always: { mode: "always" },
            onDemand: { mode: "ask", description: { from: "description" } },
            glob: { mode: "files", files: { from: "globs", as: "first" } },
          },
        },
      },
    },
    detect: { binaries: ["demo"], configDirs: [".demo"], projectMarkers: [".demo"], install: "install demo" },
    sources: ["https://demo.example.com/docs"],
  };

  it("rejects a bad definition with the path of the problem", () => {
    const bad = { ...base, scopes: { project: { rules: { dir: "../escape", frontmatter: { always: {} } } } } };
    const r = TargetDefinition.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["scopes.project.rules.dir", "must be a relative path without '..' (relative to the project root or the home folder)"],
    ]);
    expect(() => genericAdapter({ ...base, scopes: {} })).toThrow(/define the project scope, the user scope or both/);
    expect(TargetDefinition.safeParse({ ...base, sources: [] }).success).toBe(false);
  });

  it("maps glob knowledge with the `first` style, and warns about globs a tool cannot scope", () => {
    const kdir = join(t.path, "k");
    writeTree(kdir, { "api.md": '---\napplyTo: ["api/**", "lib/**"]\n---\nREST.\n' });
    const agent = minimalAgent({ knowledge: [{ path: "api.md", absPath: join(kdir, "api.md"), mode: "always", size: 1, mtimeMs: 0, layer: "test" }] });
    const r = roots(t.path);
    const demo = genericAdapter(base);
    expect(show(demo.render([agent], renderContext(r)).files, r.projectRoot).find((f) => f.path.endsWith("knowledge-api.md"))).toEqual({
      kind: "file",
      path: ".demo/rules/knowledge-api.md",
      agent: "helper",
      content: "---\nmode: files\nfiles: api/**\n---\n\nREST.\n",
    });
    const noGlobs = genericAdapter({ ...base, scopes: { project: { rules: { dir: ".demo/rules", frontmatter: { always: {} } } } } });
    const res = noGlobs.render([agent], renderContext(r));
    expect(show(res.files, r.projectRoot).map((f) => f.path)).toEqual([".demo/rules/helper.md", ".demo/rules/knowledge-api.md"]);
    expect(messages(res.warnings)).toEqual([
      "demo: agent 'helper' uses the applyTo globs of knowledge api.md, which demo cannot express; it is left out of this target",
    ]);
    expect(res.warnings[0]!.hint).toBe("Demo cannot scope rules to files; it is loaded as always knowledge");
  });

  it("marks the MCP file secret when a value is a literal, and enforces a byte limit", () => {
    const demo = genericAdapter({
      ...base,
      sizeLimit: { max: 40, unit: "bytes", source: "demo docs" },
      scopes: { project: { instructions: { file: "DEMO.md" }, mcp: { file: ".demo/mcp.json", shape: { envSyntax: "braces" } } } },
    });
    const r = roots(t.path);
    const agent = minimalAgent({ instructions: "ü".repeat(20) + "\n", mcpServers: { db: { command: "db", env: { PASSWORD: "s3cret" } } } });
    const res = demo.render([agent], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      {
        kind: "json-keys",
        path: ".demo/mcp.json",
        entries: [{ key: ["mcpServers", "db"], value: { command: "db", env: { PASSWORD: "s3cret" } } }],
        secret: true,
      },
      { kind: "md-section", path: "DEMO.md", content: `## Agent: helper\n\nA small helper\n\n${"ü".repeat(20)}\n` },
    ]);
    expect(res.warnings).toEqual([]);
    expect(warningsWithBudget(demo, res).map((w) => [w.code, w.message.replace(/ \(.*?tokens\)/, "")])).toEqual([
      ["limit-exceeded", `demo: always-loaded context in ${join(r.projectRoot, "DEMO.md")} is 75 bytes, over its budget of 40 bytes per file (demo docs)`],
    ]);
  });

  it("an agent named like a knowledge rule is written once and the clash is reported", () => {
    const roo = GENERIC_ADAPTERS.find((a) => a.id === "roo")!;
    const r = roots(t.path);
    const clashing = minimalAgent({ name: "knowledge-common-policies" });
    const res = roo.render([realisticAgent(join(t.path, "k")), clashing], renderContext(r));
    const path = join(r.projectRoot, ".roo/rules/knowledge-common-policies.md");
    expect(res.files.filter((f) => f.path === path)).toEqual([
      { kind: "file", path, content: "Be helpful.\n", agent: "knowledge-common-policies", alwaysLoaded: true },
    ]);
    expect(res.warnings.filter((w) => w.code === "name-clash").map((w) => w.message)).toEqual([
      `roo: ${path} would be written twice (an agent and a knowledge file map to the same name); the second is left out`,
    ]);
  });

  it("reports ${VAR:-default} fallbacks a tool cannot spell and references a tool does not expand", () => {
    const r = roots(t.path);
    const agent = minimalAgent({ mcpServers: { api: { type: "http", url: "https://${HOST:-api.example.com}/mcp" } } });
    const crush = GENERIC_ADAPTERS.find((a) => a.id === "crush")!.render([agent], renderContext(r));
    expect(crush.files.find((f) => f.kind === "json-keys")).toEqual({
      kind: "json-keys",
      path: join(r.projectRoot, ".crush.json"),
      entries: [{ key: ["mcp", "api"], value: { type: "http", url: "https://$HOST/mcp" } }],
    });
    expect(messages(crush.warnings)).toEqual([
      "crush: agent 'helper' uses the ${VAR:-default} fallback in url (MCP server 'api'), which crush cannot express; it is left out of this target",
    ]);
    const zed = GENERIC_ADAPTERS.find((a) => a.id === "zed")!.render([agent], renderContext(r));
    expect(messages(zed.warnings)).toEqual([
      "zed: agent 'helper': MCP server 'api' refers to environment variables in url, which zed does not expand; the text is written as-is",
    ]);
  });

  it("picks the MCP file per platform", () => {
    const m = {
      file: ".config/x.json",
      fileByPlatform: { darwin: "Library/x.json" },
      key: ["mcpServers"],
      shape: TargetDefinition.shape.scopes.parse({ user: { mcp: { file: "a", shape: { envSyntax: "literal" } } } }).user!.mcp!.shape,
    };
    expect(mcpPath(m, "darwin")).toBe("Library/x.json");
    expect(mcpPath(m, "linux")).toBe(".config/x.json");
    expect(mcpPath(m, "win32")).toBe(".config/x.json");
  });

  it("derives capabilities from the definition", () => {
    expect(genericAdapter(base).capabilities).toMatchObject({
      instructions: "yes",
      "knowledge-always": "yes",
      "knowledge-on-demand": "yes",
      "mcp-stdio": "no",
      model: "no",
    });
    const windsurfLike = GENERIC_ADAPTERS.find((a) => a.id === "devin")!;
    expect(windsurfLike.capabilities).toMatchObject({ "knowledge-on-demand": "partial", "mcp-stdio": "yes", "mcp-http": "yes" });
    expect(GENERIC_ADAPTERS.find((a) => a.id === "claude-desktop")!.capabilities).toMatchObject({ instructions: "no", "mcp-stdio": "yes", "mcp-http": "no" });
  });

  it("extension frontmatter goes into the agent's own file and is validated", () => {
    const demo = genericAdapter(base);
    const r = roots(t.path);
    const agent = minimalAgent({ extensions: { demo: { frontmatter: { mode: "manual", tags: ["a", "b"] } } } });
    expect(show(demo.render([agent], renderContext(r)).files, r.projectRoot)).toEqual([
      {
        kind: "file",
        path: ".demo/rules/helper.md",
        agent: "helper",
        content: "---\nmode: manual\ndescription: A small helper\ntags:\n  - a\n  - b\n---\n\nBe helpful.\n",
      },
    ]);
    expect(demo.extensionSchema!.safeParse({ frontmatter: { x: { nested: 1 } } }).success).toBe(false);
    const single = genericAdapter({ ...base, scopes: { project: { instructions: { file: "DEMO.md" } } } });
    expect(messages(single.render([agent], renderContext(r)).warnings)).toEqual([
      "demo: agent 'helper' uses extensions.demo.frontmatter, which demo cannot express; it is left out of this target",
    ]);
  });

  it("leaves out a model id the tool does not take unless it is given per target", () => {
    const opencode = GENERIC_ADAPTERS.find((a) => a.id === "opencode")!;
    const r = roots(t.path);
    const perTarget = opencode.render([minimalAgent({ model: { opencode: "anthropic/claude-sonnet-4", default: "claude-sonnet-4" } })], renderContext(r));
    expect(show(perTarget.files, r.projectRoot)[0]).toEqual({
      kind: "file",
      path: ".opencode/agents/helper.md",
      agent: "helper",
      content: "---\ndescription: A small helper\nmode: subagent\nmodel: anthropic/claude-sonnet-4\n---\n\nBe helpful.\n",
    });
    expect(perTarget.warnings).toEqual([]);
    const shared = opencode.render([minimalAgent({ model: "claude-sonnet-4" })], renderContext(r));
    expect(messages(shared.warnings)).toEqual([
      "opencode: agent 'helper' uses the model 'claude-sonnet-4', which opencode cannot express; it is left out of this target",
    ]);
  });

  it("user scope of targets that have one stays under the home folder; others say the scope is missing", () => {
    for (const a of GENERIC_ADAPTERS) {
      const r = roots(t.path, "user");
      const res = a.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
      if (a.scopes.includes("user")) {
        expect(res.files.length, a.id).toBeGreaterThan(0);
        for (const f of res.files) expect(f.path.startsWith(r.homeDir + "/"), `${a.id} ${f.path}`).toBe(true);
      } else {
        expect(res.files).toEqual([]);
        expect(res.warnings.map((w) => w.code)).toEqual(["scope-unsupported"]);
      }
    }
  });

  it("is deterministic and independent of agent order", () => {
    for (const a of GENERIC_ADAPTERS) {
      const r = roots(t.path, a.scopes[0]!);
      const x = realisticAgent(join(t.path, "k"));
      expect(a.render([minimalAgent(), x], renderContext(r)), a.id).toEqual(a.render([x, minimalAgent()], renderContext(r)));
    }
  });
});

describe("generic parse", () => {
  it("only targets whose agents can be told apart from rules can be imported", () => {
    expect(GENERIC_ADAPTERS.filter((a) => a.parse).map((a) => a.id)).toEqual([
      "opencode",
      "continue",
      "qwen-code",
      "augment",
      "antigravity",
      "devin",
      "kiro-ide",
      "factory-droid",
    ]);
  });

  for (const id of ["opencode", "continue", "qwen-code", "augment", "antigravity", "devin", "kiro-ide", "factory-droid"]) {
    it(`${id}: parse(render(x)) keeps agents, instructions, the model it wrote and the MCP servers`, () => {
      const { adapter, r, res } = renderFor(id, "project");
      const parsed = adapter.parse!(diskSource(r.projectRoot, res.files), r);
      expect(parsed.warnings).toEqual([]);
      expect(parsed.agents.map((a) => a.spec)).toEqual([
        { name: "helper", description: "A small helper" },
        { name: "software-engineer", description: "Implements features with tests", ...(id === "factory-droid" ? { model: "claude-sonnet-4" } : {}) },
      ]);
      expect(parsed.agents.map((a) => a.instructions)).toEqual(["Be helpful.\n", SE_BODY]);
      const layout = GENERIC_TARGETS.find((d) => d.id === id)!.scopes.project!;
      const expectedMcp = !layout.mcp
        ? {}
        : {
            fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, ...(id === "qwen-code" ? { timeout: 120000 } : {}) },
            github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
          };
      for (const a of parsed.agents) expect(a.mcp).toEqual(expectedMcp);
    });
  }

  it("keeps unmapped frontmatter of an agent file as extension frontmatter", () => {
    const opencode = GENERIC_ADAPTERS.find((a) => a.id === "opencode")!;
    const r = roots(t.path);
    const src = diskSource(r.projectRoot, [], {
      ".opencode/agents/planner.md": "---\ndescription: Plans work\nmode: subagent\nmodel: anthropic/claude-opus-4\ntemperature: 0.1\n---\n\nPlan first.\n",
      "opencode.json": "{ not json",
    });
    const parsed = opencode.parse!(src, r);
    expect(parsed.agents.map((a) => a.spec)).toEqual([
      { name: "planner", description: "Plans work", model: "anthropic/claude-opus-4", extensions: { opencode: { frontmatter: { temperature: 0.1 } } } },
    ]);
    expect(parsed.warnings.map((w) => w.message)).toEqual(["opencode: could not read opencode.json: 1:3: invalid symbol"]);
  });
});

describe("generic detect", () => {
  it("finds a binary, config folders and a project marker", async () => {
    const env = fakeInstall(t.path, { binaries: { crush: "crush version v0.9.2" }, homeDirs: [".config/crush"] });
    const d = await GENERIC_ADAPTERS.find((a) => a.id === "crush")!.detect(env);
    expect(d).toEqual({
      installed: true,
      binary: { name: "crush", path: join(t.path, "bin/crush"), version: "0.9.2" },
      configPaths: [{ path: join(t.path, "home/.config/crush"), exists: true }],
      exportPaths: {
        project: [join(t.path, "project/CRUSH.md"), join(t.path, "project/.crush.json")],
        user: [join(t.path, "home/.config/crush/CRUSH.md"), join(t.path, "home/.config/crush/crush.json")],
      },
      notes: [],
      nextSteps: [],
    });
  });

  it("finds a VS Code extension (Roo Code) and reports the status note", async () => {
    const env = fakeInstall(t.path, { homeDirs: [".vscode/extensions/rooveterinaryinc.roo-cline-3.54.0"] });
    const d = await GENERIC_ADAPTERS.find((a) => a.id === "roo")!.detect(env);
    expect(d.installed).toBe(true);
    expect(d.notes).toEqual([
      "Roo Code reached end of life (final release 3.54.0, 2026-05-15); Zoo Code continues it and reads the same .roo/ files [2nd]",
      "VS Code extension RooVeterinaryInc.roo-cline 3.54.0 is installed",
    ]);
  });

  it("reports nothing installed for every generic target on an empty machine", async () => {
    const env = fakeInstall(t.path);
    for (const a of GENERIC_ADAPTERS) {
      const d = await a.detect(env);
      expect(d.installed, a.id).toBe(false);
      expect(d.nextSteps.length, a.id).toBe(1);
    }
  });
});

describe("generic helpers", () => {
  it("knowledge slugs are flat and safe", () => {
    expect(knowledgeSlug("common/policies.md")).toBe("common-policies");
    expect(knowledgeSlug("Team Notes/Ünïcode & more.markdown")).toBe("team-notes-n-code-more");
    expect(knowledgeSlug("../..")).toBe("knowledge");
  });

  it("demotes headings up to h6 and leaves ~~~ fences alone", () => {
    expect(demoteHeadings("# A\n~~~\n# not\n~~~\n##### B\n#no-space\n", 2)).toBe("### A\n~~~\n# not\n~~~\n###### B\n#no-space\n");
  });
});

describe("through the real export pipeline", () => {
  it("writes cursor, roo and agents-md files, keeps the user's JSON, and reports hand edits as drift", () => {
    const lib = join(t.path, "lib");
    const project = join(t.path, "project");
    writeTree(lib, {
      "aicfg.yaml": "name: demo\ntargets: [cursor, roo, agents-md]\n",
      "agents/dev.md": "---\ndescription: Builds things\nknowledge: [common/**]\nmcp: [fetch]\n---\nBuild carefully.\n",
      "knowledge/common/rules.md": "# Rules\n\nSmall commits.\n",
      "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\nenv:\n  TOKEN: abc123\n",
    });
    mkdirSync(join(project, ".cursor"), { recursive: true });
    const userJson = '{\n  // my own server\n  "mcpServers": {\n    "mine": { "command": "my-mcp" }\n  }\n}\n';
    writeFileSync(join(project, ".cursor/mcp.json"), userJson);
    const opts = { library: lib, scope: "project" as const, root: project, stateDir: join(t.path, "state"), now: () => new Date("2026-11-24T06:00:00Z") };

    const first = exportLibrary(opts);
    expect(first.errors).toEqual([]);
    expect(first.plan.entries.map((e) => `${e.action} ${e.path.slice(project.length + 1)}`)).toEqual(
      [
        "update .cursor/mcp.json",
        "create .cursor/rules/dev.mdc",
        "create .cursor/rules/knowledge-common-rules.mdc",
        "create .roo/mcp.json",
        "create .roo/rules/dev.md",
        "create .roo/rules/knowledge-common-rules.md",
        "create AGENTS.md",
        "create .cursor/agents/dev.md",
      ].sort((a, b) => (a.split(" ")[1]! < b.split(" ")[1]! ? -1 : 1)),
    );
    expect(first.plan.entries.find((e) => e.path.endsWith(".roo/mcp.json"))!.secret).toBe(true);
    const mcp = readFileSync(join(project, ".cursor/mcp.json"), "utf8");
    expect(mcp.startsWith('{\n  // my own server\n  "mcpServers": {\n    "mine": { "command": "my-mcp" }')).toBe(true);
    expect(JSON.parse(mcp.replace("// my own server", ""))).toEqual({
      mcpServers: { mine: { command: "my-mcp" }, fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { TOKEN: "abc123" } } },
    });
    expect(statSync(join(project, ".roo/mcp.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(project, ".roo/rules/dev.md"), "utf8")).toBe("Build carefully.\n");
    expect(readFileSync(join(project, "AGENTS.md"), "utf8")).toBe(
      "<!-- aicfg:begin agents-md (generated by aicfg export; edit the library instead) -->\n## Agent: dev\n\nBuilds things\n\nBuild carefully.\n\n## Knowledge: common/rules.md\n\n### Rules\n\nSmall commits.\n<!-- aicfg:end agents-md -->\n",
    );

    const second = exportLibrary({ ...opts, noCache: true });
    expect(second.plan.entries.every((e) => e.action === "unchanged")).toBe(true);

    writeFileSync(join(project, ".roo/rules/dev.md"), "Edited by hand.\n");
    const third = exportLibrary({ ...opts, noCache: true });
    expect(third.plan.entries.filter((e) => e.action !== "unchanged").map((e) => [e.action, e.path.slice(project.length + 1)])).toEqual([
      ["drift", ".roo/rules/dev.md"],
    ]);
    expect(readFileSync(join(project, ".roo/rules/dev.md"), "utf8")).toBe("Edited by hand.\n");
  });
});
