// The Windsurf adapter: exact rule files with triggers (project), global rules and mcp_config.json
// (user), the 12,000-character limit, the trigger override, determinism and detection.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { windsurfAdapter } from "../../src/adapters/windsurf/index.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";
import { dirSource, diskSource, fakeInstall, messages, show } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-windsurf-");
});
afterEach(() => t.cleanup());

const SE_BODY = "# Role\n\nYou are a senior software engineer. Write tests first.\n";
const WARN = (feature: string): string => `windsurf: agent 'software-engineer' uses ${feature}, which windsurf cannot express; it is left out of this target`;

describe("windsurf render", () => {
  it("project scope: model_decision rules for agents, always_on / model_decision rules for knowledge", () => {
    const r = roots(t.path);
    const res = windsurfAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      {
        kind: "file",
        path: ".windsurf/rules/helper.md",
        agent: "helper",
        content: "---\ntrigger: model_decision\ndescription: A small helper\n---\n\nBe helpful.\n",
      },
      {
        kind: "file",
        path: ".windsurf/rules/knowledge-common-policies.md",
        agent: "software-engineer",
        content: "---\ntrigger: always_on\n---\n\n# Policies\n\n- Review every change.\n",
      },
      {
        kind: "file",
        path: ".windsurf/rules/knowledge-domains-security.md",
        agent: "software-engineer",
        content: "---\ntrigger: model_decision\ndescription: Security\n---\n\n# Security\n\nNever commit secrets.\n",
      },
      {
        kind: "file",
        path: ".windsurf/rules/software-engineer.md",
        agent: "software-engineer",
        content: `---\ntrigger: model_decision\ndescription: Implements features with tests\n---\n\n${SE_BODY}`,
      },
    ]);
    expect(messages(res.warnings)).toEqual([
      WARN("a model"),
      WARN("tools.allow"),
      WARN("tools.deny"),
      WARN("tools.trusted"),
      WARN("toolSettings"),
      WARN("hooks (sessionStart, beforeTool)"),
      WARN("MCP servers (fetch, github)"),
    ]);
    expect(res.warnings[6]!.hint).toBe("Windsurf reads MCP servers only in user scope; export with --scope user");
  });

  it("user scope: a global_rules.md section and ~/.codeium/windsurf/mcp_config.json with serverUrl", () => {
    const r = roots(t.path, "user");
    const res = windsurfAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.homeDir)).toEqual([
      {
        kind: "json-keys",
        path: ".codeium/windsurf/mcp_config.json",
        entries: [
          { key: ["mcpServers", "fetch"], value: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${env:FETCH_KEY}" } } },
          {
            key: ["mcpServers", "github"],
            value: { serverUrl: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${env:GITHUB_TOKEN}" } },
          },
        ],
      },
      {
        kind: "md-section",
        path: ".codeium/windsurf/memories/global_rules.md",
        content:
          "## Agent: helper\n\nA small helper\n\nBe helpful.\n\n## Agent: software-engineer\n\nImplements features with tests\n\n### Role\n\nYou are a senior software engineer. Write tests first.\n\n## Knowledge: common/policies.md\n\n### Policies\n\n- Review every change.\n",
      },
    ]);
    expect(messages(res.warnings).slice(-2)).toEqual([WARN("on-demand knowledge domains/security.md"), WARN("timeout (MCP server 'fetch')")]);
  });

  it("reports a rule file over 12,000 characters (still written)", () => {
    const r = roots(t.path);
    const res = windsurfAdapter.render([minimalAgent({ instructions: "x".repeat(12000) + "\n" })], renderContext(r));
    expect(res.files).toHaveLength(1);
    expect(res.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "limit-exceeded",
        "windsurf: agent 'helper': .windsurf/rules/helper.md is 12062 chars; Windsurf reads at most 12000 chars per file (docs.windsurf.com Cascade memories & rules)",
      ],
    ]);
  });

  it("a rule file of exactly 12,000 characters is within the limit", () => {
    const r = roots(t.path);
    const res = windsurfAdapter.render([minimalAgent({ instructions: "x".repeat(11938) + "\n" })], renderContext(r));
    expect([...(res.files[0] as { content: string }).content].length).toBe(12000);
    expect(res.warnings).toEqual([]);
  });

  it("glob knowledge becomes a glob rule; extensions.windsurf.frontmatter overrides the agent's trigger", () => {
    const r = roots(t.path);
    const kdir = join(t.path, "k");
    writeTree(kdir, { "ts.md": '---\napplyTo: ["src/**/*.ts", "test/**/*.ts"]\n---\nStrict types.\n' });
    const agent = minimalAgent({
      knowledge: [{ path: "ts.md", absPath: join(kdir, "ts.md"), mode: "always", size: 1, mtimeMs: 0, layer: "test" }],
      extensions: { windsurf: { frontmatter: { trigger: "manual" } } },
    });
    expect(windsurfAdapter.extensionSchema!.safeParse(agent.extensions.windsurf).success).toBe(true);
    const res = windsurfAdapter.render([agent], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      { kind: "file", path: ".windsurf/rules/helper.md", agent: "helper", content: "---\ntrigger: manual\ndescription: A small helper\n---\n\nBe helpful.\n" },
      {
        kind: "file",
        path: ".windsurf/rules/knowledge-ts.md",
        agent: "helper",
        content: "---\ntrigger: glob\nglobs: src/**/*.ts,test/**/*.ts\n---\n\nStrict types.\n",
      },
    ]);
    expect(res.warnings).toEqual([]);
  });

  it("is deterministic and stays inside its locations", () => {
    for (const scope of ["project", "user"] as const) {
      const r = roots(t.path, scope);
      const a = realisticAgent(join(t.path, "k"));
      const one = windsurfAdapter.render([a, minimalAgent()], renderContext(r));
      expect(windsurfAdapter.render([minimalAgent(), a], renderContext(r))).toEqual(one);
      const locs = windsurfAdapter.locations(r);
      for (const f of one.files) expect(locs.some((l) => f.path === l || f.path.startsWith(l + "/"))).toBe(true);
    }
  });
});

describe("windsurf parse", () => {
  it("reads agents (model_decision rules) back; other rules are knowledge", () => {
    const r = roots(t.path);
    const res = windsurfAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    const parsed = windsurfAdapter.parse!(diskSource(r.projectRoot, res.files), r);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents.map((a) => [a.spec, a.instructions, a.knowledgeFiles])).toEqual([
      [
        { name: "helper", description: "A small helper" },
        "Be helpful.\n",
        [join(r.projectRoot, ".windsurf/rules/knowledge-common-policies.md"), join(r.projectRoot, ".windsurf/rules/knowledge-domains-security.md")],
      ],
      [
        { name: "software-engineer", description: "Implements features with tests" },
        SE_BODY,
        [join(r.projectRoot, ".windsurf/rules/knowledge-common-policies.md"), join(r.projectRoot, ".windsurf/rules/knowledge-domains-security.md")],
      ],
    ]);
  });

  it("imports a hand-written .windsurf/rules folder (fixture)", () => {
    const dir = join(import.meta.dirname, "../fixtures/windsurf/project");
    const r = { scope: "project" as const, projectRoot: dir, homeDir: "/nonexistent" };
    const parsed = windsurfAdapter.parse!(dirSource(dir), r);
    expect(parsed.agents.map((a) => [a.spec, a.instructions, a.source])).toEqual([
      [{ name: "api-designer", description: "Designs REST endpoints" }, "Use nouns in paths.\n", join(dir, ".windsurf/rules/api-designer.md")],
    ]);
    expect(parsed.agents[0]!.knowledgeFiles).toEqual([join(dir, ".windsurf/rules/style.md"), join(dir, ".windsurf/rules/typescript.md")]);
    expect(parsed.warnings.map((w) => [w.code, w.file, w.message])).toEqual([
      ["import-skipped", join(dir, ".windsurf/rules/broken.md"), expect.stringMatching(/^windsurf: invalid frontmatter: Flow sequence/)],
    ]);
    expect(windsurfAdapter.parse!(dirSource(dir), { ...r, scope: "user", homeDir: dir })).toEqual({ agents: [], warnings: [] });
  });
});

describe("windsurf detect", () => {
  it("finds the windsurf binary and ~/.codeium/windsurf", async () => {
    const env = fakeInstall(t.path, { binaries: { windsurf: "1.12.4\nabc123\nx64" }, homeDirs: [".codeium/windsurf"] });
    const d = await windsurfAdapter.detect(env);
    expect(d.installed).toBe(true);
    expect(d.binary).toEqual({ name: "windsurf", path: join(t.path, "bin/windsurf"), version: "1.12.4" });
    expect(d.configPaths).toEqual([
      { path: join(t.path, "home/.codeium/windsurf"), exists: true },
      { path: join(t.path, "project/.windsurf"), exists: false },
    ]);
    expect(d.exportPaths).toEqual({
      project: [join(t.path, "project/.windsurf/rules")],
      user: [join(t.path, "home/.codeium/windsurf/memories/global_rules.md"), join(t.path, "home/.codeium/windsurf/mcp_config.json")],
    });
  });

  it("reports nothing installed", async () => {
    const d = await windsurfAdapter.detect(fakeInstall(t.path));
    expect(d.installed).toBe(false);
    expect(d.nextSteps).toEqual(["install Windsurf: https://windsurf.com/download"]);
  });
});
