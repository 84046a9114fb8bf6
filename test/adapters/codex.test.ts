// Tests of the OpenAI Codex adapter: exact custom-agent TOML, config.toml tables and AGENTS.md block
// for both scopes, MCP translation (env_vars, env_http_headers, bearer token, renamed servers),
// warnings and limits, config.toml edits end to end through plan/apply (foreign bytes kept),
// import with a round-trip property, and detection of a fake install.
import fc from "fast-check";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { codexAdapter } from "../../src/adapters/codex/index.ts";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { exportLibrary } from "../../src/adapters/export.ts";
import { folderSource } from "../../src/adapters/import/file-source.ts";
import { emptyManifest } from "../../src/adapters/manifest.ts";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import { parseTomlText, setJsonKey, setSection, setTomlTable } from "../../src/adapters/shared-files.ts";
import type { FileSource, OutputFile, Roots } from "../../src/adapters/types.ts";
import type { ResolvedAgent } from "../../src/library/model.ts";
import type { McpServer } from "../../src/library/schema.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { knowledgeIndex, minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";
import { warningsWithBudget } from "../helpers/budget.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/codex/", import.meta.url));
let tmp: { path: string; cleanup: () => void };
let knowledgeRoot = "";

beforeAll(() => {
  tmp = tempDir("aicfg-codex-");
  knowledgeRoot = join(tmp.path, "lib", "knowledge");
});
afterAll(() => tmp.cleanup());

function render(agents: ResolvedAgent[], r: Roots) {
  return codexAdapter.render(agents, renderContext(r));
}
function text(f: OutputFile | undefined): string {
  if (!f) throw new Error("missing output");
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8");
  if (f.kind === "md-section") return f.content;
  throw new Error(`${f.path} is ${f.kind}`);
}
function byPath(files: OutputFile[], path: string): OutputFile {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no output ${path}; have ${files.map((x) => x.path).join(", ")}`);
  return f;
}
/** A FileSource over rendered outputs, shared files merged into empty files as the writer would. */
function renderedSource(root: string, files: OutputFile[]): FileSource {
  const map = new Map<string, string>();
  for (const f of files) {
    const rel = f.path.slice(root.length + 1);
    const cur = map.get(rel) ?? "";
    if (f.kind === "file") map.set(rel, text(f));
    else if (f.kind === "toml-tables")
      map.set(
        rel,
        f.tables.reduce((t, e) => setTomlTable(t, e.path, e.value), cur),
      );
    else if (f.kind === "json-keys")
      map.set(
        rel,
        f.entries.reduce((t, e) => setJsonKey(t, e.key, e.value), cur),
      );
    else map.set(rel, setSection(cur, "codex", f.content));
  }
  return {
    root,
    read: (rel) => map.get(rel),
    list: (dir) => [...map.keys()].filter((k) => k.startsWith(dir + "/") && !k.slice(dir.length + 1).includes("/")).sort(),
  };
}

/** The on-demand file is listed by the planner's index, as a path into the library (not copied). */
const softwareEngineerToml = (knowledgeDir: string): string => `name = "software-engineer"
description = "Implements features with tests"
model = "claude-sonnet-4"
sandbox_mode = "workspace-write"
developer_instructions = '''
# Role

You are a senior software engineer. Write tests first.

${knowledgeIndex([[`${knowledgeDir}/domains`, [["security.md", "Security"]]]])}
## Knowledge: common/policies.md

# Policies

- Review every change.
'''
`;

const HELPER_TOML = `name = "helper"
description = "A small helper"
sandbox_mode = "workspace-write"
developer_instructions = '''
Be helpful.
'''
`;

const REALISTIC_WARNINGS = [
  [
    "codex: agent 'software-engineer' uses per-tool permissions (tools.allow / tools.deny), which codex cannot express; it is left out of this target",
    "Codex only has a sandbox mode; 'workspace-write' was derived from whether write or shell is allowed",
  ],
  [
    "codex: agent 'software-engineer' uses trusted tools (tools.trusted), which codex cannot express; it is left out of this target",
    "Codex asks for approval by its approval_policy, not per tool",
  ],
  [
    "codex: agent 'software-engineer' uses toolSettings (allowed paths and commands), which codex cannot express; it is left out of this target",
    "use Codex rules or the sandbox settings in config.toml by hand",
  ],
  ["codex: agent 'software-engineer' uses hooks (sessionStart, beforeTool), which codex cannot express; it is left out of this target", undefined],
  [
    "codex: agent 'software-engineer' uses env.API_KEY (a ${VAR} reference under another name, with a default or mixed with text) of MCP server 'fetch', which codex cannot express; it is left out of this target",
    "Codex cannot rename or interpolate variables; only 'API_KEY: ${API_KEY}' (inherited through env_vars) or a literal value can be expressed",
  ],
];

describe("render, project scope", () => {
  test("writes the exact agent TOML (on-demand knowledge referenced, not copied), config.toml tables and AGENTS.md block", () => {
    const r = roots(tmp.path, "project");
    const res = render([realisticAgent(knowledgeRoot), minimalAgent()], r);
    const p = r.projectRoot;
    expect(res.files.map((f) => [f.kind, f.path.slice(p.length), f.agent ?? null, (f as { secret?: boolean }).secret ?? false])).toEqual([
      ["file", "/.codex/agents/helper.toml", "helper", false],
      ["file", "/.codex/agents/software-engineer.toml", "software-engineer", false],
      ["toml-tables", "/.codex/config.toml", null, false],
      ["md-section", "/AGENTS.md", null, false],
    ]);
    expect(text(byPath(res.files, join(p, ".codex/agents/helper.toml")))).toBe(HELPER_TOML);
    expect(text(byPath(res.files, join(p, ".codex/agents/software-engineer.toml")))).toBe(softwareEngineerToml(knowledgeRoot));
    expect(res.files.some((f) => f.path.includes("/.codex/knowledge/"))).toBe(false);
    const config = byPath(res.files, join(p, ".codex/config.toml"));
    expect(config.kind === "toml-tables" && config.tables).toEqual([
      { path: ["mcp_servers", "fetch"], value: { command: "uvx", args: ["mcp-server-fetch"], tool_timeout_sec: 120 } },
      { path: ["mcp_servers", "github"], value: { url: "https://api.githubcopilot.com/mcp/", bearer_token_env_var: "GITHUB_TOKEN" } },
    ]);
    expect(text(byPath(res.files, join(p, "AGENTS.md")))).toBe(
      "# Custom agents\n\nThese Codex custom agents come from the aicfg library. Ask Codex to spawn the matching agent by name for such tasks.\n\n" +
        "- `helper`: A small helper (`.codex/agents/helper.toml`)\n" +
        "- `software-engineer`: Implements features with tests (`.codex/agents/software-engineer.toml`)\n",
    );
    expect(res.warnings.map((w) => [w.message, w.hint])).toEqual(REALISTIC_WARNINGS);
    expect(new Set(res.warnings.map((w) => w.code))).toEqual(new Set(["unsupported-feature"]));
    expect(res.warnings.every((w) => w.file === "/lib/agents/software-engineer.md")).toBe(true);
  });

  test("the minimal agent alone gives one TOML and the AGENTS.md block, no config.toml and no warnings", () => {
    const r = roots(tmp.path, "project");
    const res = render([minimalAgent()], r);
    expect(res.files.map((f) => f.path.slice(r.projectRoot.length))).toEqual(["/.codex/agents/helper.toml", "/AGENTS.md"]);
    expect(text(res.files[0])).toBe(HELPER_TOML);
    expect(res.warnings).toEqual([]);
  });

  test("knowledge all agents share always-on is inlined into AGENTS.md once", () => {
    const r = roots(tmp.path, "project");
    const real = realisticAgent(knowledgeRoot);
    const helper = minimalAgent({ knowledge: [real.knowledge[0]!] });
    const res = render([real, helper], r);
    expect(text(byPath(res.files, join(r.projectRoot, "AGENTS.md")))).toBe(
      "# Custom agents\n\nThese Codex custom agents come from the aicfg library. Ask Codex to spawn the matching agent by name for such tasks.\n\n" +
        "- `helper`: A small helper (`.codex/agents/helper.toml`)\n" +
        "- `software-engineer`: Implements features with tests (`.codex/agents/software-engineer.toml`)\n" +
        "\n## Knowledge: common/policies.md\n\n# Policies\n\n- Review every change.\n",
    );
    expect(text(byPath(res.files, join(r.projectRoot, ".codex/agents/helper.toml")))).toBe(
      `name = "helper"\ndescription = "A small helper"\nsandbox_mode = "workspace-write"\ndeveloper_instructions = '''\nBe helpful.\n\n## Knowledge: common/policies.md\n\n# Policies\n\n- Review every change.\n'''\n`,
    );
  });
});

describe("render, user scope", () => {
  test("writes under ~/.codex and names its own files with ~/, which Codex resolves from any folder", () => {
    const r = roots(tmp.path, "user");
    const res = render([realisticAgent(knowledgeRoot), minimalAgent()], r);
    const h = r.homeDir;
    expect(res.files.map((f) => [f.kind, f.path.slice(h.length)])).toEqual([
      ["file", "/.codex/agents/helper.toml"],
      ["file", "/.codex/agents/software-engineer.toml"],
      ["toml-tables", "/.codex/config.toml"],
      ["md-section", "/.codex/AGENTS.md"],
    ]);
    expect(text(res.files[1])).toBe(softwareEngineerToml(knowledgeRoot));
    expect(text(res.files[3])).toBe(
      "# Custom agents\n\nThese Codex custom agents come from the aicfg library. Ask Codex to spawn the matching agent by name for such tasks.\n\n" +
        `- \`helper\`: A small helper (\`~/.codex/agents/helper.toml\`)\n` +
        `- \`software-engineer\`: Implements features with tests (\`~/.codex/agents/software-engineer.toml\`)\n`,
    );
  });
});

describe("MCP servers", () => {
  const agentWith = (servers: Record<string, McpServer>, extra: Partial<ResolvedAgent> = {}) =>
    minimalAgent({ name: "ops", sourceFile: "/lib/agents/ops.md", mcpServers: servers, ...extra });
  const tablesOf = (files: OutputFile[]) => {
    const f = files.find((x) => x.kind === "toml-tables");
    if (f?.kind !== "toml-tables") throw new Error("no config.toml output");
    return f;
  };

  test("env references become env_vars, literal values env (secret), header refs env_http_headers and bearer_token_env_var", () => {
    const res = render(
      [
        agentWith({
          db: {
            command: "db-mcp",
            args: ["--ro"],
            env: { DB_URL: "${DB_URL}", MODE: "fast" },
            cwd: "/srv",
            disabled: true,
            includeTools: ["query"],
            excludeTools: ["drop"],
            timeout: 1500,
          },
          api: {
            type: "http",
            url: "https://mcp.example.com/mcp",
            headers: { Authorization: "Bearer ${API_TOKEN}", "X-Team": "core", "X-Key": "${TEAM_KEY}" },
          },
        }),
      ],
      roots(tmp.path),
    );
    const f = tablesOf(res.files);
    expect(f.secret).toBe(true);
    expect(f.tables).toEqual([
      {
        path: ["mcp_servers", "api"],
        value: {
          url: "https://mcp.example.com/mcp",
          bearer_token_env_var: "API_TOKEN",
          http_headers: { "X-Team": "core" },
          env_http_headers: { "X-Key": "TEAM_KEY" },
        },
      },
      {
        path: ["mcp_servers", "db"],
        value: {
          command: "db-mcp",
          args: ["--ro"],
          env_vars: ["DB_URL"],
          cwd: "/srv",
          env: { MODE: "fast" },
          enabled: false,
          enabled_tools: ["query"],
          disabled_tools: ["drop"],
          tool_timeout_sec: 1.5,
        },
      },
    ]);
    expect(res.warnings).toEqual([]);
    expect(setTomlTable("", f.tables[1]!.path, f.tables[1]!.value)).toBe(
      '[mcp_servers.db]\ncommand = "db-mcp"\nargs = ["--ro"]\nenv_vars = ["DB_URL"]\ncwd = "/srv"\nenabled = false\nenabled_tools = ["query"]\ndisabled_tools = ["drop"]\ntool_timeout_sec = 1.5\n\n[mcp_servers.db.env]\nMODE = "fast"\n',
    );
  });

  test("only references are not secret; what Codex cannot express is warned about without echoing values", () => {
    const res = render(
      [
        agentWith({
          web: {
            type: "sse",
            url: "https://sse.example.com/sse",
            headers: { "X-Mixed": "k-${PART}" },
            env: { A: "b" },
            autoApprove: ["get"],
            oauth: { scopes: ["read"] },
          },
          tool: { command: "t", env: { TOKEN: "${OTHER}" } },
        }),
      ],
      roots(tmp.path),
    );
    const f = tablesOf(res.files);
    expect(f.secret).toBeUndefined();
    expect(f.tables).toEqual([
      { path: ["mcp_servers", "tool"], value: { command: "t" } },
      { path: ["mcp_servers", "web"], value: { url: "https://sse.example.com/sse" } },
    ]);
    expect(res.warnings.map((w) => w.message)).toEqual([
      "codex: agent 'ops' uses env.TOKEN (a ${VAR} reference under another name, with a default or mixed with text) of MCP server 'tool', which codex cannot express; it is left out of this target",
      "codex: agent 'ops' uses the SSE transport of MCP server 'web', which codex cannot express; it is left out of this target",
      "codex: agent 'ops' uses header 'X-Mixed' (a value mixing text and ${VAR}) of MCP server 'web', which codex cannot express; it is left out of this target",
      "codex: agent 'ops' uses env (on a remote server) of MCP server 'web', which codex cannot express; it is left out of this target",
      "codex: agent 'ops' uses autoApprove of MCP server 'web', which codex cannot express; it is left out of this target",
      "codex: agent 'ops' uses oauth settings of MCP server 'web', which codex cannot express; it is left out of this target",
    ]);
    expect(res.warnings[5]!.hint).toBe("run 'codex mcp login web' once instead");
  });

  test("dotted server names are mapped to '-' with a warning; a clash between agents keeps the first", () => {
    const a = agentWith({ "awslabs.core-mcp-server": { command: "uvx", args: ["awslabs.core-mcp-server@latest"] } });
    const b = minimalAgent({ name: "zeta", sourceFile: "/lib/agents/zeta.md", mcpServers: { "awslabs-core-mcp-server": { command: "other" } } });
    const res = render([b, a], roots(tmp.path));
    expect(tablesOf(res.files).tables).toEqual([
      { path: ["mcp_servers", "awslabs-core-mcp-server"], value: { command: "uvx", args: ["awslabs.core-mcp-server@latest"] } },
    ]);
    expect(res.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "renamed",
        "codex: agent 'ops': MCP server 'awslabs.core-mcp-server' is written as 'awslabs-core-mcp-server' (Codex server names allow only letters, digits, '_' and '-')",
      ],
      [
        "mcp-name-conflict",
        "codex: MCP server 'awslabs-core-mcp-server' of agent 'zeta' (from 'awslabs-core-mcp-server') differs from the one of agent 'ops' (from 'awslabs.core-mcp-server'); config.toml holds one table per name, the one of 'ops' is kept",
      ],
    ]);
  });

  test("the same server in two agents is written once without a warning", () => {
    const s: McpServer = { command: "uvx", args: ["mcp-server-fetch"] };
    const res = render([agentWith({ fetch: s }), minimalAgent({ mcpServers: { fetch: s } })], roots(tmp.path));
    expect(tablesOf(res.files).tables).toEqual([{ path: ["mcp_servers", "fetch"], value: { command: "uvx", args: ["mcp-server-fetch"] } }]);
    expect(res.warnings).toEqual([]);
  });
});

describe("agent settings", () => {
  test("sandbox_mode is read-only without write and shell, workspace-write otherwise; extensions override", () => {
    const r = roots(tmp.path);
    const ro = render([minimalAgent({ tools: { allow: ["read", "grep"] } })], r);
    expect(text(ro.files[0])).toContain('\nsandbox_mode = "read-only"\n');
    const denied = render([minimalAgent({ tools: { deny: ["write", "shell"] } })], r);
    expect(text(denied.files[0])).toContain('\nsandbox_mode = "read-only"\n');
    const ext = render(
      [
        minimalAgent({
          model: { codex: "gpt-5-codex", default: "claude-sonnet-4" },
          extensions: { codex: { sandbox_mode: "danger-full-access", model_reasoning_effort: "high", nickname_candidates: ["Hal", "Ada"] } },
        }),
      ],
      r,
    );
    expect(text(ext.files[0])).toBe(
      `name = "helper"\ndescription = "A small helper"\nnickname_candidates = [ "Hal", "Ada" ]\nmodel = "gpt-5-codex"\nmodel_reasoning_effort = "high"\nsandbox_mode = "danger-full-access"\ndeveloper_instructions = '''\nBe helpful.\n'''\n`,
    );
  });

  test("instructions a literal string cannot hold are written as an escaped string that parses back", () => {
    const instructions = "Use '''triple''' quotes\r\nand a \u0007 bell.\n";
    const res = render([minimalAgent({ instructions })], roots(tmp.path));
    const t = text(res.files[0]);
    expect(t).toBe(
      `name = "helper"\ndescription = "A small helper"\nsandbox_mode = "workspace-write"\ndeveloper_instructions = "Use '''triple''' quotes\\r\\nand a \\u0007 bell.\\n"\n`,
    );
    const parsed = parseTomlText(t);
    expect(parsed.ok && parsed.value.developer_instructions).toBe(instructions);
  });

  test("the extension schema is strict", () => {
    const schema = codexAdapter.extensionSchema!;
    expect(schema.safeParse({ sandbox_mode: "read-only", model_reasoning_effort: "xhigh", nickname_candidates: ["A"] }).success).toBe(true);
    const bad = schema.safeParse({ sandbox_mode: "yolo", colour: "red" });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => [i.code, i.path.join(".")]).sort()).toEqual([
      ["invalid_value", "sandbox_mode"],
      ["unrecognized_keys", ""],
    ]);
  });
});

describe("limits and determinism", () => {
  test("always-on knowledge over the 32 KiB of AGENTS.md becomes an index of the library file, within the budget and said so", () => {
    writeFileSync(join(knowledgeRoot, "common", "big.md"), "# Big\n\n" + "x".repeat(40_000) + "\n");
    const big = { path: "common/big.md", absPath: join(knowledgeRoot, "common", "big.md"), mode: "always" as const, size: 40_008, mtimeMs: 0, layer: "test" };
    const res = render([minimalAgent({ knowledge: [big] })], roots(tmp.path));
    const section = text(res.files.find((f) => f.kind === "md-section"));
    expect(section).not.toContain("xxxx");
    expect(text(res.files.find((f) => f.path.endsWith("helper.toml")))).toContain(knowledgeIndex([[join(knowledgeRoot, "common"), [["big.md", "Big"]]]]));
    expect(res.warnings.map((w) => w.code)).toEqual(["context-fallback"]);
    expect(res.warnings[0]!.message).toBe(
      "codex: agent 'helper': its 1 always-on knowledge files (40,008 bytes) are more than OpenAI Codex CLI loads at once (32,768 bytes); they are given as an index in the agent's instructions that points to each file, read when needed",
    );
    expect(warningsWithBudget(codexAdapter, res)).toEqual(res.warnings);
    const small = render([minimalAgent()], roots(tmp.path));
    expect(warningsWithBudget(codexAdapter, small)).toEqual([]);
  });

  test("render is deterministic and independent of the agents' order", () => {
    const r = roots(tmp.path);
    const a = render([realisticAgent(knowledgeRoot), minimalAgent()], r);
    const b = render([minimalAgent(), realisticAgent(knowledgeRoot)], r);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe("config.toml and AGENTS.md through plan and apply", () => {
  test("the user's keys, comments and own server survive byte-for-byte; removed servers go, hand edits are drift", () => {
    const dir = tempDir("aicfg-codex-e2e-");
    try {
      const r: Roots = { scope: "project", projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") };
      const stateDir = join(dir.path, "state");
      const configPath = join(r.projectRoot, ".codex", "config.toml");
      const agentsMd = join(r.projectRoot, "AGENTS.md");
      const original = readFileSync(join(FIXTURES, "config.toml"), "utf8");
      mkdirSync(join(r.projectRoot, ".codex"), { recursive: true });
      writeFileSync(configPath, original);
      writeFileSync(agentsMd, "# Project rules\n\nUse pnpm.\n");
      const manifest = emptyManifest();
      const exportOnce = (agent: ResolvedAgent, now: string) => {
        const out = codexAdapter.render([agent], renderContext(r));
        const plan = planExport([{ target: "codex", scope: "project", root: r.projectRoot, files: out.files, prune: true }], manifest, { force: false, now });
        expect(plan.errors).toEqual([]);
        const applied = applyPlan(plan, manifest, stateDir, now);
        expect(applied.failed).toEqual([]);
        return plan;
      };

      const agent = realisticAgent(knowledgeRoot);
      const first = exportOnce(agent, "2026-01-01T00:00:00.000Z");
      expect(first.entries.map((e) => [e.path.slice(r.projectRoot.length), e.action])).toEqual([
        ["/.codex/agents/software-engineer.toml", "create"],
        ["/.codex/config.toml", "update"],
        ["/AGENTS.md", "update"],
      ]);
      const fetchBlock = '[mcp_servers.fetch]\ncommand = "uvx"\nargs = ["mcp-server-fetch"]\ntool_timeout_sec = 120\n';
      // New [mcp_servers.*] tables go after the user's own ones, before [profiles.deep].
      const beforeProfiles = (blocks: string): string => original.replace("\n[profiles.deep]", `\n${blocks}\n[profiles.deep]`);
      const githubBlock = '[mcp_servers.github]\nurl = "https://api.githubcopilot.com/mcp/"\nbearer_token_env_var = "GITHUB_TOKEN"\n';
      expect(readFileSync(configPath, "utf8")).toBe(beforeProfiles(fetchBlock + "\n" + githubBlock));
      expect(readFileSync(agentsMd, "utf8")).toBe(
        "# Project rules\n\nUse pnpm.\n\n<!-- aicfg:begin codex (generated by aicfg export; edit the library instead) -->\n" +
          "# Custom agents\n\nThese Codex custom agents come from the aicfg library. Ask Codex to spawn the matching agent by name for such tasks.\n\n" +
          "- `software-engineer`: Implements features with tests (`.codex/agents/software-engineer.toml`)\n" +
          "\n## Knowledge: common/policies.md\n\n# Policies\n\n- Review every change.\n<!-- aicfg:end codex -->\n",
      );
      expect(readFileSync(join(r.projectRoot, ".codex/agents/software-engineer.toml"), "utf8")).toBe(softwareEngineerToml(knowledgeRoot));

      const again = exportOnce(agent, "2026-01-02T00:00:00.000Z");
      expect(again.entries.map((e) => e.action)).toEqual(["unchanged", "unchanged", "unchanged"]);

      const withoutGithub = { ...agent, mcpServers: { fetch: agent.mcpServers.fetch! } };
      exportOnce(withoutGithub, "2026-01-03T00:00:00.000Z");
      expect(readFileSync(configPath, "utf8")).toBe(beforeProfiles(fetchBlock));

      writeFileSync(configPath, readFileSync(configPath, "utf8").replace("tool_timeout_sec = 120", "tool_timeout_sec = 300"));
      const drift = exportOnce(withoutGithub, "2026-01-04T00:00:00.000Z");
      expect(drift.entries.find((e) => e.path === configPath)).toMatchObject({
        action: "drift",
        reason: "'mcp_servers.fetch' was changed by hand since the last export",
      });
      expect(readFileSync(configPath, "utf8")).toBe(beforeProfiles(fetchBlock.replace("120", "300")));
    } finally {
      dir.cleanup();
    }
  });
});

describe("parse", () => {
  test("reads back the rendered realistic agent with its servers", () => {
    const r = roots(tmp.path);
    const res = render([realisticAgent(knowledgeRoot)], r);
    const parsed = codexAdapter.parse!(renderedSource(r.projectRoot, res.files), r);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents).toEqual([
      {
        spec: {
          name: "software-engineer",
          description: "Implements features with tests",
          model: "claude-sonnet-4",
          mcp: ["fetch", "github"],
          extensions: { codex: { sandbox_mode: "workspace-write" } },
        },
        // The planner's index comes off again on import; the inlined always-on knowledge stays.
        instructions:
          "# Role\n\nYou are a senior software engineer. Write tests first.\n\n## Knowledge: common/policies.md\n\n# Policies\n\n- Review every change.\n",
        mcp: {
          fetch: { command: "uvx", args: ["mcp-server-fetch"], timeout: 120000 },
          github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
        },
        knowledgeFiles: [],
        source: join(r.projectRoot, ".codex/agents/software-engineer.toml"),
      },
    ]);
  });

  test("reads a hand-written agent and config.toml from disk, reporting what it drops", () => {
    const dir = tempDir("aicfg-codex-parse-");
    try {
      mkdirSync(join(dir.path, ".codex", "agents"), { recursive: true });
      writeFileSync(join(dir.path, ".codex", "agents", "reviewer.toml"), readFileSync(join(FIXTURES, "reviewer.toml")));
      writeFileSync(
        join(dir.path, ".codex", "config.toml"),
        readFileSync(join(FIXTURES, "config.toml"), "utf8") +
          '\n[mcp_servers.remote]\nurl = "https://mcp.example.com/mcp"\nenv_http_headers = { "X-Key" = "KEY" }\nstartup_timeout_sec = 20\n\n[mcp_servers.local]\ncommand = "srv"\nenv_vars = ["HOME_DIR"]\nenv = { MODE = "x" }\nenabled = false\n',
      );
      const r: Roots = { scope: "project", projectRoot: dir.path, homeDir: join(dir.path, "home") };
      const parsed = codexAdapter.parse!(folderSource(dir.path), r);
      expect(parsed.agents).toEqual([
        {
          spec: {
            name: "reviewer",
            description: "Reviews pull requests for correctness",
            model: "gpt-5-codex",
            mcp: ["docs", "local", "remote"],
            extensions: { codex: { model_reasoning_effort: "high", sandbox_mode: "read-only", nickname_candidates: ["Rex"] } },
          },
          instructions: "You review code.\nPoint out bugs first.\n",
          mcp: {
            docs: { command: "docs-server", args: ["--port", "4000"] },
            local: { command: "srv", env: { MODE: "x", HOME_DIR: "${HOME_DIR}" }, disabled: true },
            remote: { type: "http", url: "https://mcp.example.com/mcp", headers: { "X-Key": "${KEY}" } },
          },
          knowledgeFiles: [],
          source: join(dir.path, ".codex", "agents", "reviewer.toml"),
        },
      ]);
      expect(parsed.warnings.map((w) => [w.code, w.message])).toEqual([
        ["import-lossy", "codex: MCP server 'remote': startup_timeout_sec has no place in the library model; dropped"],
        ["import-lossy", "codex: keys web_search have no place in the library model; dropped"],
      ]);
    } finally {
      dir.cleanup();
    }
  });

  test("broken TOML and missing fields are precise errors; other agents still import", () => {
    const files = new Map([
      [".codex/agents/bad.toml", 'name = "bad"\ndescription = "x\n'],
      [".codex/agents/empty.toml", 'name = "empty"\n'],
      [".codex/agents/ok.toml", 'name = "ok"\ndescription = "fine"\ndeveloper_instructions = "Go."\n'],
    ]);
    const src: FileSource = { root: "/p", read: (rel) => files.get(rel), list: (d) => [...files.keys()].filter((k) => k.startsWith(d + "/")) };
    const parsed = codexAdapter.parse!(src, { scope: "project", projectRoot: "/p", homeDir: "/h" });
    expect(parsed.agents.map((a) => a.spec.name)).toEqual(["ok"]);
    expect(parsed.warnings.map((w) => [w.severity, w.code, w.file, w.line, w.col])).toEqual([
      ["error", "toml-syntax", "/p/.codex/agents/bad.toml", 2, 17],
      ["error", "import-invalid", "/p/.codex/agents/empty.toml", undefined, undefined],
    ]);
    expect(parsed.warnings[1]!.message).toBe("codex: description, developer_instructions missing or not a string; agent skipped");
  });

  test("parse(render(x)) keeps name, description, instructions, model and MCP servers", () => {
    const r = roots(tmp.path);
    // Empty args / env / headers mean the same as absent ones.
    const norm = (servers: Record<string, McpServer>) =>
      Object.fromEntries(
        Object.entries(servers).map(([n, s]) => [
          n,
          Object.fromEntries(
            Object.entries(s).filter(([, v]) => !(Array.isArray(v) ? v.length === 0 : v && typeof v === "object" && Object.keys(v).length === 0)),
          ),
        ]),
      );
    fc.assert(
      fc.property(agentArb(), (agent) => {
        const res = render([agent], r);
        const parsed = codexAdapter.parse!(renderedSource(r.projectRoot, res.files), r);
        expect(parsed.agents).toHaveLength(1);
        const back = parsed.agents[0]!;
        expect(back.spec.name).toBe(agent.name);
        expect(back.spec.description).toBe(agent.description);
        expect(back.instructions).toBe(agent.instructions);
        expect(back.spec.model).toBe(agent.model);
        expect(norm(back.mcp)).toEqual(norm(agent.mcpServers));
      }),
      { numRuns: 60 },
    );
  });
});

describe("detect", () => {
  test("finds a fake codex binary, its version and the config folder, and notes CODEX_HOME", async () => {
    const dir = tempDir("aicfg-codex-detect-");
    try {
      const bin = join(dir.path, "bin");
      mkdirSync(bin);
      writeFileSync(join(bin, "codex"), '#!/bin/sh\necho "codex-cli 0.98.0"\n');
      chmodSync(join(bin, "codex"), 0o755);
      const home = join(dir.path, "home");
      mkdirSync(join(home, ".codex"), { recursive: true });
      writeFileSync(join(home, ".codex", "config.toml"), "");
      const d = await codexAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(dir.path, "p"), env: { PATH: bin } }));
      expect(d).toEqual({
        installed: true,
        binary: { name: "codex", path: join(bin, "codex"), version: "0.98.0" },
        configPaths: [
          { path: join(home, ".codex"), exists: true },
          { path: join(home, ".codex", "config.toml"), exists: true },
          { path: join(home, ".codex", "agents"), exists: false },
          { path: join(home, ".codex", "AGENTS.md"), exists: false },
        ],
        generation: "codex-cli 0.98.0",
        exportPaths: {
          project: [
            join(dir.path, "p", "AGENTS.md"),
            join(dir.path, "p", ".codex", "agents"),
            join(dir.path, "p", ".codex", "config.toml"),
            join(dir.path, "p", ".codex", "knowledge"),
          ],
          user: [join(home, ".codex", "AGENTS.md"), join(home, ".codex", "agents"), join(home, ".codex", "config.toml"), join(home, ".codex", "knowledge")],
        },
        notes: ["project-scope .codex/config.toml and AGENTS.md are read only in projects Codex trusts"],
        nextSteps: [],
      });
      const other = join(dir.path, "codex-home");
      const withHome = await codexAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(dir.path, "p"), env: { PATH: bin, CODEX_HOME: other } }));
      expect(withHome.configPaths[0]).toEqual({ path: other, exists: false });
      expect(withHome.notes[0]).toBe(`CODEX_HOME is ${other}; aicfg writes user-scope files to ${join(home, ".codex")}, which this Codex does not read`);
      expect(withHome.nextSteps).toEqual([`unset CODEX_HOME, or link ${join(home, ".codex")} to ${other}`]);
    } finally {
      dir.cleanup();
    }
  });

  test("reports nothing installed on an empty PATH and home", async () => {
    const d = await codexAdapter.detect(
      realDetectEnv({ homeDir: join(tmp.path, "nohome"), projectRoot: join(tmp.path, "p"), env: { PATH: join(tmp.path, "nobin") } }),
    );
    expect(d.installed).toBe(false);
    expect(d.binary).toBeUndefined();
    expect(d.configPaths.every((c) => !c.exists)).toBe(true);
    expect(d.nextSteps).toEqual(["install Codex CLI: npm install -g @openai/codex (or brew install --cask codex)"]);
  });

  test("is registered with its capabilities", () => {
    expect(getAdapter("codex")).toBe(codexAdapter);
    expect(codexAdapter.scopes).toEqual(["project", "user"]);
    expect(codexAdapter.capabilities.hooks).toBe("no");
    expect(codexAdapter.capabilities["mcp-stdio"]).toBe("yes");
  });
});

describe("through the real export pipeline", () => {
  test("a library on disk exports to chatgpt, codex and copilot together; bad extensions stop only that target's agent", () => {
    const dir = tempDir("aicfg-openai-gh-");
    try {
      const lib = join(dir.path, "lib");
      const project = join(dir.path, "project");
      writeTree(lib, {
        "aicfg.yaml": "name: demo\ntargets: [chatgpt, codex, copilot]\n",
        "agents/dev.md":
          "---\ndescription: Builds things\nknowledge: [common/**]\nmcp: [awslabs.core-mcp-server]\nextensions:\n  codex: {model_reasoning_effort: high}\n---\nBuild carefully.\n",
        "agents/ops.md": "---\ndescription: Runs things\nextensions:\n  codex: {sandbox_mode: yolo}\n---\nRun carefully.\n",
        "knowledge/common/rules.md": "# Rules\n\nSmall commits.\n",
        "mcp/awslabs.core-mcp-server.yaml": "command: uvx\nargs: [awslabs.core-mcp-server@latest]\nenv:\n  FASTMCP_LOG_LEVEL: ERROR\n",
      });
      const opts = { library: lib, scope: "project" as const, root: project, stateDir: join(dir.path, "state"), now: () => new Date("2026-11-24T06:00:00Z") };
      const first = exportLibrary(opts);
      expect(first.errors.map((e) => [e.code, e.message])).toEqual([
        [
          "invalid-extension",
          'extensions.codex.sandbox_mode of agent \'ops\': Invalid option: expected one of "read-only"|"workspace-write"|"danger-full-access"',
        ],
      ]);
      expect(first.plan.entries.map((e) => `${e.action} ${e.path.slice(project.length + 1)}`)).toEqual([
        "create .codex/agents/dev.toml",
        "create .codex/config.toml",
        "create .github/agents/dev.agent.md",
        "create .github/agents/ops.agent.md",
        "create .github/copilot-instructions.md",
        "create .github/instructions/dev-common-rules.instructions.md",
        "create .vscode/mcp.json",
        "create AGENTS.md",
        "create chatgpt/dev/README.md",
        "create chatgpt/dev/gpt.json",
        "create chatgpt/dev/instructions.txt",
        "create chatgpt/dev/knowledge/common/rules.md",
        "create chatgpt/ops/README.md",
        "create chatgpt/ops/gpt.json",
        "create chatgpt/ops/instructions.txt",
        "create chatgpt/plugins/dev/.codex-plugin/plugin.json",
        "create chatgpt/plugins/dev/.mcp.json",
        "create chatgpt/plugins/dev/skills/dev/SKILL.md",
        "create chatgpt/plugins/ops/.codex-plugin/plugin.json",
        "create chatgpt/plugins/ops/skills/ops/SKILL.md",
      ]);
      expect(readFileSync(join(project, ".codex/config.toml"), "utf8")).toBe(
        '[mcp_servers.awslabs-core-mcp-server]\ncommand = "uvx"\nargs = ["awslabs.core-mcp-server@latest"]\n\n[mcp_servers.awslabs-core-mcp-server.env]\nFASTMCP_LOG_LEVEL = "ERROR"\n',
      );
      expect(statSync(join(project, ".codex/config.toml")).mode & 0o777).toBe(0o600);
      expect(statSync(join(project, "chatgpt/plugins/dev/.mcp.json")).mode & 0o777).toBe(0o600);
      expect(statSync(join(project, ".vscode/mcp.json")).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(project, ".codex/agents/dev.toml"), "utf8")).toBe(
        `name = "dev"\ndescription = "Builds things"\nmodel_reasoning_effort = "high"\nsandbox_mode = "workspace-write"\ndeveloper_instructions = '''\nBuild carefully.\n\n## Knowledge: common/rules.md\n\n# Rules\n\nSmall commits.\n'''\n`,
      );
      expect(first.warnings.filter((w) => w.code === "renamed").map((w) => w.message)).toEqual([
        "codex: agent 'dev': MCP server 'awslabs.core-mcp-server' is written as 'awslabs-core-mcp-server' (Codex server names allow only letters, digits, '_' and '-')",
      ]);
      const second = exportLibrary({ ...opts, noCache: true });
      expect(second.plan.entries.every((e) => e.action === "unchanged")).toBe(true);
    } finally {
      dir.cleanup();
    }
  });
});
