// The Gemini CLI adapter: exact subagents, GEMINI.md section and settings.json keys, tool-name
// mapping, warnings, determinism, import (fixture and parse(render(x)) property), detection.
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { geminiCliAdapter, geminiTools, universalTools } from "../../src/adapters/gemini-cli/index.ts";
import { modelFor } from "../../src/library/model.ts";
import type { McpServer } from "../../src/library/schema.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { knowledgeIndex, minimalAgent, realisticAgent, renderContext, roots, tempDir } from "../helpers/fixtures.ts";
import { dirSource, diskSource, fakeInstall, messages, show } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-gemini-");
});
afterEach(() => t.cleanup());

/** Empty args/env/headers are not written (and mean the same as absent). */
function withoutEmpty(servers: Record<string, McpServer>): Record<string, McpServer> {
  const out: Record<string, McpServer> = {};
  for (const [n, s] of Object.entries(servers)) {
    const c: McpServer = { ...s };
    if (c.args && !c.args.length) delete c.args;
    if (c.env && !Object.keys(c.env).length) delete c.env;
    if (c.headers && !Object.keys(c.headers).length) delete c.headers;
    out[n] = c;
  }
  return out;
}

const WARN = (feature: string): string =>
  `gemini-cli: agent 'software-engineer' uses ${feature}, which gemini-cli cannot express; it is left out of this target`;

describe("gemini-cli render", () => {
  it("writes subagents, a GEMINI.md section with always-on knowledge and settings.json keys", () => {
    const r = roots(t.path);
    const res = geminiCliAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      {
        kind: "file",
        path: ".gemini/agents/helper.md",
        agent: "helper",
        content: "---\nname: helper\ndescription: A small helper\nkind: local\n---\n\nBe helpful.\n",
      },
      {
        kind: "file",
        path: ".gemini/agents/software-engineer.md",
        agent: "software-engineer",
        content:
          "---\nname: software-engineer\ndescription: Implements features with tests\nkind: local\ntools:\n  - read_file\n  - read_many_files\n  - list_directory\n  - write_file\n  - replace\n  - run_shell_command\n  - mcp_fetch_*\n---\n\n# Role\n\nYou are a senior software engineer. Write tests first.\n\n" +
          knowledgeIndex([[`${join(t.path, "k")}/domains`, [["security.md", "Security"]]]]),
      },
      {
        kind: "json-keys",
        path: ".gemini/settings.json",
        entries: [
          {
            key: ["mcpServers", "fetch"],
            value: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, timeout: 120000, trust: true },
          },
          { key: ["mcpServers", "github"], value: { httpUrl: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } } },
        ],
      },
      { kind: "md-section", path: "GEMINI.md", content: "## Knowledge: common/policies.md\n\n### Policies\n\n- Review every change.\n" },
    ]);
    expect(messages(res.warnings)).toEqual([
      WARN("tools.deny"),
      WARN("toolSettings"),
      WARN("hooks (sessionStart, beforeTool)"),
      WARN("tools.trusted (read)"),
      WARN("the model 'claude-sonnet-4'"),
    ]);
  });

  it("user scope goes under ~/.gemini", () => {
    const r = roots(t.path, "user");
    const res = geminiCliAdapter.render([realisticAgent(join(t.path, "k"))], renderContext(r));
    expect(show(res.files, r.homeDir).map((f) => `${f.kind} ${f.path}`)).toEqual([
      "md-section .gemini/GEMINI.md",
      "file .gemini/agents/software-engineer.md",
      "json-keys .gemini/settings.json",
    ]);
    for (const f of res.files) expect(geminiCliAdapter.locations(r).some((l) => f.path === l || f.path.startsWith(l + "/"))).toBe(true);
  });

  it("keeps a per-target Gemini model and sse/http transports apart; unknown tools are reported", () => {
    const r = roots(t.path);
    const agent = minimalAgent({
      model: { "gemini-cli": "gemini-2.5-pro", default: "claude-sonnet-4" },
      tools: { allow: ["grep", "web_search", "aws", "@events/subscribe"] },
      mcpServers: {
        events: { type: "sse", url: "https://events.example.com/sse" },
        local: { command: "srv", cwd: "/srv", includeTools: ["a"], oauth: { scopes: ["x"] } },
      },
      extensions: { "gemini-cli": { temperature: 0.2, max_turns: 12 } },
    });
    const res = geminiCliAdapter.render([agent], renderContext(r));
    const shown = show(res.files, r.projectRoot);
    expect(shown[0]).toEqual({
      kind: "file",
      path: ".gemini/agents/helper.md",
      agent: "helper",
      content:
        "---\nname: helper\ndescription: A small helper\nkind: local\ntools:\n  - grep_search\n  - google_web_search\n  - mcp_events_subscribe\nmodel: gemini-2.5-pro\ntemperature: 0.2\nmax_turns: 12\n---\n\nBe helpful.\n",
    });
    expect(shown[1]).toEqual({
      kind: "json-keys",
      path: ".gemini/settings.json",
      entries: [
        { key: ["mcpServers", "events"], value: { url: "https://events.example.com/sse" } },
        { key: ["mcpServers", "local"], value: { command: "srv", cwd: "/srv", includeTools: ["a"] } },
      ],
    });
    expect(messages(res.warnings)).toEqual([
      "gemini-cli: agent 'helper' uses the tools aws, which gemini-cli cannot express; it is left out of this target",
      "gemini-cli: agent 'helper' uses oauth (MCP server 'local'), which gemini-cli cannot express; it is left out of this target",
    ]);
  });

  it("is deterministic and independent of agent order", () => {
    const r = roots(t.path);
    const a = realisticAgent(join(t.path, "k"));
    const b = minimalAgent();
    expect(geminiCliAdapter.render([b, a], renderContext(r))).toEqual(geminiCliAdapter.render([a, b], renderContext(r)));
  });

  it("validates its extension fields", () => {
    expect(geminiCliAdapter.extensionSchema!.safeParse({ temperature: 3 }).success).toBe(false);
    expect(geminiCliAdapter.extensionSchema!.safeParse({ max_turns: 5, timeout_mins: 2 }).success).toBe(true);
  });
});

describe("gemini-cli tool names", () => {
  it("maps universal tools to Gemini names and back", () => {
    const lost: string[] = [];
    expect(geminiTools(["*", "read", "todo", "@github", "@my_srv/do_it", "delegate"], lost)).toEqual([
      "*",
      "read_file",
      "read_many_files",
      "list_directory",
      "write_todos",
      "mcp_github_*",
      "mcp_my_srv_do_it",
    ]);
    expect(lost).toEqual(["delegate"]);
    const unknown: string[] = [];
    expect(
      universalTools(
        ["read_file", "list_directory", "search_file_content", "mcp_my_srv_do_it", "mcp_github_*", "discovered_tool_x"],
        ["my_srv", "github"],
        unknown,
      ),
    ).toEqual(["read", "grep", "@my_srv/do_it", "@github"]);
    expect(unknown).toEqual(["discovered_tool_x"]);
  });
});

describe("gemini-cli parse", () => {
  it("round-trips name, description, instructions, Gemini model, tools and MCP servers", () => {
    fc.assert(
      fc.property(agentArb(), fc.constantFrom("gemini-2.5-pro", undefined), (agent, geminiModel) => {
        const a = geminiModel ? { ...agent, model: { "gemini-cli": geminiModel } } : agent;
        const r = roots("/rt");
        const ctx = { ...renderContext(r), readKnowledge: () => "", readBytes: () => new Uint8Array() };
        const res = geminiCliAdapter.render([a], ctx);
        const parsed = geminiCliAdapter.parse!(diskSource(r.projectRoot, res.files), r);
        expect(parsed.warnings).toEqual([]);
        expect(parsed.agents).toHaveLength(1);
        const back = parsed.agents[0]!;
        const model = modelFor(a, "gemini-cli");
        expect(back.spec).toEqual({
          name: a.name,
          description: a.description,
          ...(model?.startsWith("gemini-") ? { model } : {}),
          ...(a.tools.allow ? { tools: { allow: a.tools.allow } } : {}),
        });
        expect(back.instructions).toBe(a.instructions);
        expect(back.mcp).toEqual(a.tools.allow ? {} : withoutEmpty(a.mcpServers));
      }),
      { numRuns: 150 },
    );
  });

  it("imports a hand-written .gemini folder (fixture)", () => {
    const dir = join(import.meta.dirname, "../fixtures/gemini-cli/project");
    const r = { scope: "project" as const, projectRoot: dir, homeDir: "/nonexistent" };
    const parsed = geminiCliAdapter.parse!(dirSource(dir), r);
    expect(parsed.agents.map((a) => a.spec)).toEqual([
      { name: "docs-writer", description: "Writes docs", tools: { allow: ["read", "write", "@docs"] }, extensions: { "gemini-cli": { temperature: 0.3 } } },
      { name: "triage", description: "Triages issues", model: "gemini-2.5-flash" },
    ]);
    expect(parsed.agents[0]!.mcp).toEqual({ docs: { type: "http", url: "https://docs.example.com/mcp", headers: { "X-Key": "${DOCS_KEY}" } } });
    expect(parsed.agents[1]!.mcp).toEqual({
      docs: { type: "http", url: "https://docs.example.com/mcp", headers: { "X-Key": "${DOCS_KEY}" } },
      legacy: { type: "sse", url: "https://legacy.example.com/sse" },
      local: { command: "python", args: ["-m", "srv"], env: { HOME_DIR: "${HOME}" }, cwd: "./tools", timeout: 30000, includeTools: ["search"] },
    });
    expect(parsed.agents[1]!.knowledgeFiles).toEqual([join(dir, "GEMINI.md")]);
    expect(parsed.warnings.map((w) => [w.file, w.message])).toEqual([
      [join(dir, ".gemini/agents/docs-writer.md"), "gemini-cli: unknown tools save_memory of 'docs-writer' were left out"],
      [join(dir, ".gemini/agents/remote.md"), "gemini-cli: 'remote' is a remote (A2A) agent; skipped"],
    ]);
  });
});

describe("gemini-cli detect", () => {
  it("finds gemini on PATH and ~/.gemini, and notes the Antigravity transition", async () => {
    const env = fakeInstall(t.path, { binaries: { gemini: "0.31.0" }, homeDirs: [".gemini"] });
    const d = await geminiCliAdapter.detect(env);
    expect(d.installed).toBe(true);
    expect(d.binary).toEqual({ name: "gemini", path: join(t.path, "bin/gemini"), version: "0.31.0" });
    expect(d.configPaths).toEqual([
      { path: join(t.path, "home/.gemini"), exists: true },
      { path: join(t.path, "home/.config/gemini-cli"), exists: false },
    ]);
    expect(d.notes).toEqual([
      "since 2026-06-18 Gemini CLI serves only Gemini Code Assist (enterprise) and API-key users; individual accounts moved to Antigravity CLI (agy): export the antigravity target for them",
    ]);
  });

  it("reports nothing installed", async () => {
    const d = await geminiCliAdapter.detect(fakeInstall(t.path));
    expect(d.installed).toBe(false);
    expect(d.nextSteps).toEqual(["install Gemini CLI: npm install -g @google/gemini-cli"]);
  });
});
