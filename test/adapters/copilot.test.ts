// Tests of the GitHub Copilot adapter: exact agent files, instruction files, MCP entries and the
// copilot-instructions.md block for both scopes, the tool alias mapping, warnings and the body
// limit, .vscode/mcp.json edits end to end (the user's comments and servers kept), import with a
// round-trip property, and detection of a fake CLI and VS Code extension.
import fc from "fast-check";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copilotAdapter } from "../../src/adapters/copilot/index.ts";
import { ALIAS_TOOLS, TOOL_ALIAS, universalTools } from "../../src/adapters/copilot/tools.ts";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { folderSource } from "../../src/adapters/import/file-source.ts";
import { emptyManifest } from "../../src/adapters/manifest.ts";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import type { OutputFile, Roots } from "../../src/adapters/types.ts";
import type { Diagnostic } from "../../src/library/diagnostics.ts";
import type { ResolvedAgent } from "../../src/library/model.ts";
import type { BuiltinTool } from "../../src/library/schema.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { memorySource, minimalAgent, realisticAgent, renderContext, roots, tempDir } from "../helpers/fixtures.ts";
import { warningsWithBudget } from "../helpers/budget.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/copilot/", import.meta.url));
let tmp: { path: string; cleanup: () => void };
let knowledgeRoot = "";

beforeAll(() => {
  tmp = tempDir("aicfg-copilot-");
  knowledgeRoot = join(tmp.path, "lib", "knowledge");
});
afterAll(() => tmp.cleanup());

function render(agents: ResolvedAgent[], r: Roots) {
  return copilotAdapter.render(agents, renderContext(r));
}
function text(f: OutputFile | undefined): string {
  if (!f) throw new Error("missing output");
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8");
  if (f.kind === "md-section") return f.content;
  throw new Error(`${f.path} is ${f.kind}`);
}
function toolsOf(agent: ResolvedAgent) {
  const res = render([agent], roots(tmp.path));
  const t = text(res.files[0]);
  const m = /\ntools:\n((?: {2}- .*\n)*)/.exec(t) ?? /\ntools: (\[\])\n/.exec(t);
  const tools = m
    ? m[1] === "[]"
      ? []
      : m[1]!
          .trim()
          .split("\n")
          .map((l) => l.replace(/^\s*- /, "").replace(/^"(.*)"$/, "$1"))
    : undefined;
  return { tools, warnings: res.warnings.map((w) => w.message) };
}

const SOFTWARE_ENGINEER_AGENT = `---
name: software-engineer
description: Implements features with tests
tools:
  - read
  - edit
  - execute
  - fetch/*
model: claude-sonnet-4
mcp-servers:
  fetch:
    type: local
    command: uvx
    args:
      - mcp-server-fetch
    env:
      API_KEY: \${FETCH_KEY}
    tools:
      - "*"
  github:
    type: http
    url: https://api.githubcopilot.com/mcp/
    headers:
      Authorization: Bearer \${GITHUB_TOKEN}
    tools:
      - "*"
---

# Role

You are a senior software engineer. Write tests first.

## Knowledge

- [common/policies.md](../instructions/software-engineer-common-policies.instructions.md) (always applied)
- [domains/security.md](../instructions/software-engineer-domains-security.instructions.md) (read it when relevant)
`;
const HELPER_AGENT = "---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n";
const POLICIES_INSTRUCTIONS = `---
description: common/policies.md (knowledge of the software-engineer agent, from the aicfg library)
applyTo: "**"
---

# Policies

- Review every change.
`;
const SECURITY_INSTRUCTIONS = `---
description: domains/security.md (knowledge of the software-engineer agent, from the aicfg library)
---

# Security

Never commit secrets.
`;
const INDEX =
  "# Custom agents\n\nThese GitHub Copilot custom agents come from the aicfg library; choose the matching one as the agent in Copilot Chat or the Copilot CLI.\n\n" +
  "- `helper`: A small helper (`.github/agents/helper.agent.md`)\n" +
  "- `software-engineer`: Implements features with tests (`.github/agents/software-engineer.agent.md`)\n";
const REALISTIC_WARNINGS = [
  "copilot: agent 'software-engineer' uses trusted tools (tools.trusted), which copilot cannot express; it is left out of this target",
  "copilot: agent 'software-engineer' uses toolSettings (allowed paths and commands), which copilot cannot express; it is left out of this target",
  "copilot: agent 'software-engineer' uses hooks (sessionStart, beforeTool), which copilot cannot express; it is left out of this target",
  "copilot: agent 'software-engineer' uses timeout of MCP server 'fetch', which copilot cannot express; it is left out of this target",
];

describe("render", () => {
  test("project scope: exact agent files, instruction files, .vscode/mcp.json servers and the index block", () => {
    const r = roots(tmp.path, "project");
    const res = render([realisticAgent(knowledgeRoot), minimalAgent()], r);
    const p = r.projectRoot;
    expect(res.files.map((f) => [f.kind, f.path.slice(p.length), f.agent ?? null, (f as { secret?: boolean }).secret ?? false])).toEqual([
      ["file", "/.github/agents/helper.agent.md", "helper", false],
      ["file", "/.github/agents/software-engineer.agent.md", "software-engineer", false],
      ["file", "/.github/instructions/software-engineer-common-policies.instructions.md", "software-engineer", false],
      ["file", "/.github/instructions/software-engineer-domains-security.instructions.md", "software-engineer", false],
      ["json-keys", "/.vscode/mcp.json", null, false],
      ["md-section", "/.github/copilot-instructions.md", null, false],
    ]);
    expect(text(res.files[0])).toBe(HELPER_AGENT);
    expect(text(res.files[1])).toBe(SOFTWARE_ENGINEER_AGENT);
    expect(text(res.files[2])).toBe(POLICIES_INSTRUCTIONS);
    expect(text(res.files[3])).toBe(SECURITY_INSTRUCTIONS);
    const mcp = res.files[4]!;
    expect(mcp.kind === "json-keys" && mcp.entries).toEqual([
      { key: ["servers", "fetch"], value: { type: "stdio", command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${env:FETCH_KEY}" } } },
      {
        key: ["servers", "github"],
        value: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${env:GITHUB_TOKEN}" } },
      },
    ]);
    expect(text(res.files[5])).toBe(INDEX);
    expect(res.warnings.map((w) => w.message)).toEqual(REALISTIC_WARNINGS);
    expect(res.warnings.map((w) => w.hint)).toEqual([
      "Copilot asks for confirmation by its own settings (VS Code: chat.tools.autoApprove), not per agent",
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("user scope: ~/.copilot agents and instructions, CLI mcp-config.json, no index block", () => {
    const r = roots(tmp.path, "user");
    const res = render([realisticAgent(knowledgeRoot), minimalAgent()], r);
    const h = r.homeDir;
    expect(res.files.map((f) => [f.kind, f.path.slice(h.length)])).toEqual([
      ["file", "/.copilot/agents/helper.agent.md"],
      ["file", "/.copilot/agents/software-engineer.agent.md"],
      ["file", "/.copilot/instructions/software-engineer-common-policies.instructions.md"],
      ["file", "/.copilot/instructions/software-engineer-domains-security.instructions.md"],
      ["json-keys", "/.copilot/mcp-config.json"],
    ]);
    expect(text(res.files[1])).toBe(SOFTWARE_ENGINEER_AGENT);
    expect(text(res.files[2])).toBe(POLICIES_INSTRUCTIONS);
    const mcp = res.files[4]!;
    expect(mcp.kind === "json-keys" && mcp.entries).toEqual([
      { key: ["mcpServers", "fetch"], value: { type: "local", command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, tools: ["*"] } },
      {
        key: ["mcpServers", "github"],
        value: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" }, tools: ["*"] },
      },
    ]);
    expect(res.warnings.map((w) => w.message)).toEqual(REALISTIC_WARNINGS);
  });

  test("literal secrets mark the agent file and mcp.json secret; disabled and denied servers are left out", () => {
    const agent = minimalAgent({
      tools: { deny: ["@old"] },
      mcpServers: {
        vault: {
          command: "vault-mcp",
          cwd: "/srv",
          env: { VAULT_TOKEN: "s3cr3t" },
          includeTools: ["read_secret"],
          autoApprove: ["read_secret"],
          excludeTools: ["x"],
          oauth: {},
        },
        off: { command: "off", disabled: true },
        old: { command: "old" },
      },
    });
    const res = render([agent], roots(tmp.path));
    expect(res.files.map((f) => [f.path.slice(join(tmp.path, "project").length), (f as { secret?: boolean }).secret ?? false])).toEqual([
      ["/.github/agents/helper.agent.md", true],
      ["/.vscode/mcp.json", true],
      ["/.github/copilot-instructions.md", false],
    ]);
    expect(text(res.files[0])).toBe(
      "---\nname: helper\ndescription: A small helper\ntools:\n  - read\n  - edit\n  - search\n  - execute\n  - web\n  - todo\n  - agent\n  - vault/*\n" +
        "mcp-servers:\n  vault:\n    type: local\n    command: vault-mcp\n    args: []\n    env:\n      VAULT_TOKEN: s3cr3t\n    tools:\n      - read_secret\n---\n\nBe helpful.\n",
    );
    const mcp = res.files[1]!;
    expect(mcp.kind === "json-keys" && mcp.entries).toEqual([
      { key: ["servers", "vault"], value: { type: "stdio", command: "vault-mcp", env: { VAULT_TOKEN: "s3cr3t" } } },
    ]);
    expect(res.warnings.map((w) => w.message)).toEqual([
      "copilot: agent 'helper' uses the disabled MCP server 'off', which copilot cannot express; it is left out of this target",
      "copilot: agent 'helper' uses cwd of MCP server 'vault', which copilot cannot express; it is left out of this target",
      "copilot: agent 'helper' uses autoApprove of MCP server 'vault', which copilot cannot express; it is left out of this target",
      "copilot: agent 'helper' uses excludeTools of MCP server 'vault', which copilot cannot express; it is left out of this target",
      "copilot: agent 'helper' uses includeTools in .vscode/mcp.json of MCP server 'vault', which copilot cannot express; it is left out of this target",
      "copilot: agent 'helper' uses oauth settings of MCP server 'vault', which copilot cannot express; it is left out of this target",
    ]);
    expect(JSON.stringify(res.warnings)).not.toContain("s3cr3t");
  });

  test("a ${VAR:-default} loses its default in .vscode/mcp.json, with a warning", () => {
    const res = render(
      [minimalAgent({ mcpServers: { api: { type: "http", url: "https://api.example.com/mcp", headers: { "X-Region": "${REGION:-eu}" } } } })],
      roots(tmp.path),
    );
    const mcp = res.files.find((f) => f.kind === "json-keys")!;
    expect(mcp.kind === "json-keys" && mcp.entries).toEqual([
      { key: ["servers", "api"], value: { type: "http", url: "https://api.example.com/mcp", headers: { "X-Region": "${env:REGION}" } } },
    ]);
    expect(text(res.files[0])).toContain("    headers:\n      X-Region: ${REGION:-eu}\n");
    expect(res.warnings.map((w) => w.message)).toEqual([
      "copilot: agent 'helper' uses a ${VAR:-default} default in .vscode/mcp.json of MCP server 'api', which copilot cannot express; it is left out of this target",
    ]);
    expect(
      render(
        [minimalAgent({ mcpServers: { api: { type: "http", url: "https://api.example.com/mcp", headers: { "X-Region": "${REGION:-eu}" } } } })],
        roots(tmp.path, "user"),
      ).warnings,
    ).toEqual([]);
  });

  test("two agents with different servers under one name: the first is kept in mcp.json with a warning", () => {
    const a = minimalAgent({ name: "alpha", mcpServers: { db: { command: "db-a" } } });
    const b = minimalAgent({ name: "beta", sourceFile: "/lib/agents/beta.md", mcpServers: { db: { command: "db-b" } } });
    const res = render([b, a], roots(tmp.path));
    const mcp = res.files.find((f) => f.kind === "json-keys")!;
    expect(mcp.kind === "json-keys" && mcp.entries).toEqual([{ key: ["servers", "db"], value: { type: "stdio", command: "db-a" } }]);
    expect(res.warnings.map((w) => [w.code, w.message, w.file])).toEqual([
      [
        "mcp-name-conflict",
        `copilot: MCP server 'db' of agent 'beta' differs from the one of agent 'alpha'; ${join(tmp.path, "project", ".vscode", "mcp.json")} holds one entry per name, the one of 'alpha' is kept`,
        "/lib/agents/beta.md",
      ],
    ]);
  });

  test("knowledge paths that give the same slug get numbered instruction files, linked from the body", () => {
    mkdirSync(join(knowledgeRoot, "a"), { recursive: true });
    writeFileSync(join(knowledgeRoot, "a", "b.md"), "One\n");
    writeFileSync(join(knowledgeRoot, "a-b.md"), "Two\n");
    const k = (path: string) => ({ path, absPath: join(knowledgeRoot, path), mode: "on-demand" as const, size: 4, mtimeMs: 0, layer: "test" });
    const res = render([minimalAgent({ knowledge: [k("a/b.md"), k("a-b.md")] })], roots(tmp.path));
    const dir = join(tmp.path, "project", ".github", "instructions");
    expect(res.files.filter((f) => f.path.startsWith(dir)).map((f) => [f.path.slice(dir.length), text(f)])).toEqual([
      ["/helper-a-b.instructions.md", "---\ndescription: a/b.md (knowledge of the helper agent, from the aicfg library)\n---\n\nOne\n"],
      ["/helper-a-b-2.instructions.md", "---\ndescription: a-b.md (knowledge of the helper agent, from the aicfg library)\n---\n\nTwo\n"],
    ]);
    expect(text(res.files[0])).toBe(
      "---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n\n## Knowledge\n\n" +
        "- [a/b.md](../instructions/helper-a-b.instructions.md) (read it when relevant)\n- [a-b.md](../instructions/helper-a-b-2.instructions.md) (read it when relevant)\n",
    );
  });

  test("a knowledge file's own applyTo globs become the instruction file's applyTo, not \"**\"", () => {
    writeFileSync(join(knowledgeRoot, "ts.md"), '---\napplyTo: ["src/**/*.ts", "test/**/*.ts"]\n---\nStrict types.\n');
    writeFileSync(join(knowledgeRoot, "ui.md"), "---\napplyTo: src/components/**\n---\nUse the design system.\n");
    writeFileSync(join(knowledgeRoot, "all.md"), "Everywhere.\n");
    const k = (path: string, mode: "always" | "on-demand") => ({ path, absPath: join(knowledgeRoot, path), mode, size: 1, mtimeMs: 0, layer: "test" });
    const res = render([minimalAgent({ knowledge: [k("ts.md", "always"), k("ui.md", "on-demand"), k("all.md", "always")] })], roots(tmp.path));
    const dir = join(tmp.path, "project", ".github", "instructions");
    expect(res.files.filter((f) => f.path.startsWith(dir)).map((f) => [f.path.slice(dir.length), text(f)])).toEqual([
      [
        "/helper-ts.instructions.md",
        "---\ndescription: ts.md (knowledge of the helper agent, from the aicfg library)\napplyTo: src/**/*.ts,test/**/*.ts\n---\n\nStrict types.\n",
      ],
      [
        "/helper-ui.instructions.md",
        "---\ndescription: ui.md (knowledge of the helper agent, from the aicfg library)\napplyTo: src/components/**\n---\n\nUse the design system.\n",
      ],
      ["/helper-all.instructions.md", '---\ndescription: all.md (knowledge of the helper agent, from the aicfg library)\napplyTo: "**"\n---\n\nEverywhere.\n'],
    ]);
  });

  test("an agent prompt over 30,000 characters is reported", () => {
    const res = render([minimalAgent({ instructions: "é".repeat(30_001) + "\n" })], roots(tmp.path));
    const agentFile = join(tmp.path, "project", ".github", "agents", "helper.agent.md");
    expect(warningsWithBudget(copilotAdapter, res).map((w) => [w.code, w.message.replace(/ \(.*?tokens\)/, "")])).toEqual([
      [
        "limit-exceeded",
        `copilot: always-loaded context in ${agentFile} is 30,052 chars, over its budget of 30,000 chars per file (agent prompt body, 30,000 characters (github/docs custom-agents-configuration))`,
      ],
    ]);
    // The frontmatter counts too (50 characters here): a body of 29,950 characters fits.
    expect(warningsWithBudget(copilotAdapter, render([minimalAgent({ instructions: "a".repeat(29_949) + "\n" })], roots(tmp.path)))).toEqual([]);
  });

  test("render is deterministic and independent of the agents' order", () => {
    const r = roots(tmp.path);
    expect(JSON.stringify(render([minimalAgent(), realisticAgent(knowledgeRoot)], r))).toBe(
      JSON.stringify(render([realisticAgent(knowledgeRoot), minimalAgent()], r)),
    );
  });
});

describe("tool aliases", () => {
  test("no allow and no deny means no tools key (all tools)", () => {
    expect(toolsOf(minimalAgent())).toEqual({ tools: undefined, warnings: [] });
    expect(toolsOf(minimalAgent({ tools: { allow: ["*"] } }))).toEqual({ tools: undefined, warnings: [] });
  });

  test("deny '*' means no tools at all", () => {
    expect(toolsOf(minimalAgent({ tools: { deny: ["*"] } }))).toEqual({ tools: [], warnings: [] });
  });

  test("a deny inside a shared alias removes the whole alias, with a warning", () => {
    expect(toolsOf(minimalAgent({ tools: { deny: ["web_search"] }, mcpServers: { fetch: { command: "f" } } }))).toEqual({
      tools: ["read", "edit", "search", "execute", "todo", "agent", "fetch/*"],
      warnings: [
        "copilot: agent 'helper' uses allowing web_fetch while denying a tool that shares its Copilot alias, which copilot cannot express; it is left out of this target",
      ],
    });
  });

  test("allowed tools map to aliases; tools without an alias and single-tool denies are warned about", () => {
    expect(toolsOf(minimalAgent({ tools: { allow: ["grep", "glob", "aws", "thinking", "@gh/get_issue", "@docs"], deny: ["@docs/drop"] } }))).toEqual({
      tools: ["search", "docs/*", "gh/get_issue"],
      warnings: [
        "copilot: agent 'helper' uses a deny of one MCP tool (@docs/drop), which copilot cannot express; it is left out of this target",
        "copilot: agent 'helper' uses the tools aws, thinking, which copilot cannot express; it is left out of this target",
      ],
    });
  });

  test("compatible alias names are read case-insensitively; unknown names are reported", () => {
    const warnings: Diagnostic[] = [];
    expect(
      universalTools(
        ["Bash", "Grep", "WebFetch", "Task", "TodoWrite", "MultiEdit", "NotebookRead", "*", "azure.ext/tool", "frobnicate"],
        "/a.agent.md",
        warnings,
      ),
    ).toEqual(["shell", "grep", "web_fetch", "delegate", "todo", "write", "read", "*", "@azure.ext/tool"]);
    expect(warnings).toEqual([
      {
        severity: "warning",
        code: "import-lossy",
        message: "copilot: tool 'frobnicate' has no universal equivalent; dropped",
        file: "/a.agent.md",
        hint: "known aliases: read, edit, search, execute, web, todo, agent and server/tool",
      },
    ]);
  });

  test("every alias maps back to the universal tools it came from", () => {
    for (const [tool, alias] of Object.entries(TOOL_ALIAS) as [BuiltinTool, string | undefined][]) {
      if (alias) expect(ALIAS_TOOLS[alias], `${tool} -> ${alias}`).toContain(tool);
    }
  });
});

describe(".vscode/mcp.json and copilot-instructions.md through plan and apply", () => {
  test("the user's comments, inputs and own server survive; our servers are added, updated and removed", () => {
    const dir = tempDir("aicfg-copilot-e2e-");
    try {
      const r: Roots = { scope: "project", projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") };
      const stateDir = join(dir.path, "state");
      const mcpPath = join(r.projectRoot, ".vscode", "mcp.json");
      const instructionsPath = join(r.projectRoot, ".github", "copilot-instructions.md");
      const original = readFileSync(join(FIXTURES, "mcp.json"), "utf8");
      mkdirSync(join(r.projectRoot, ".vscode"), { recursive: true });
      mkdirSync(join(r.projectRoot, ".github"), { recursive: true });
      writeFileSync(mcpPath, original);
      writeFileSync(instructionsPath, "Always answer in English.\n");
      const manifest = emptyManifest();
      const exportOnce = (agents: ResolvedAgent[], now: string) => {
        const out = copilotAdapter.render(agents, renderContext(r));
        const plan = planExport([{ target: "copilot", scope: "project", root: r.projectRoot, files: out.files, prune: true }], manifest, { force: false, now });
        expect(plan.errors).toEqual([]);
        expect(applyPlan(plan, manifest, stateDir, now).failed).toEqual([]);
        return plan;
      };
      const agent = minimalAgent({ mcpServers: { fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { KEY: "${FETCH_KEY}" } } } });
      exportOnce([agent], "2026-01-01T00:00:00.000Z");
      expect(readFileSync(mcpPath, "utf8")).toBe(
        original.replace(
          '"mine": { "type": "stdio", "command": "my-mcp", "env": { "KEY": "${input:api-key}" } }\n',
          '"mine": { "type": "stdio", "command": "my-mcp", "env": { "KEY": "${input:api-key}" } },\n    "fetch": {\n      "type": "stdio",\n      "command": "uvx",\n      "args": ["mcp-server-fetch"],\n      "env": {\n        "KEY": "${env:FETCH_KEY}"\n      }\n    }\n',
        ),
      );
      expect(readFileSync(instructionsPath, "utf8")).toBe(
        "Always answer in English.\n\n<!-- aicfg:begin copilot (generated by aicfg export; edit the library instead) -->\n" +
          "# Custom agents\n\nThese GitHub Copilot custom agents come from the aicfg library; choose the matching one as the agent in Copilot Chat or the Copilot CLI.\n\n" +
          "- `helper`: A small helper (`.github/agents/helper.agent.md`)\n<!-- aicfg:end copilot -->\n",
      );
      expect(exportOnce([agent], "2026-01-02T00:00:00.000Z").entries.map((e) => e.action)).toEqual(["unchanged", "unchanged", "unchanged"]);
      exportOnce([minimalAgent()], "2026-01-03T00:00:00.000Z");
      expect(readFileSync(mcpPath, "utf8")).toBe(original);
    } finally {
      dir.cleanup();
    }
  });
});

describe("parse", () => {
  test("reads back the rendered realistic agent, its servers and knowledge links", () => {
    const r = roots(tmp.path);
    const res = render([realisticAgent(knowledgeRoot)], r);
    const parsed = copilotAdapter.parse!(memorySource(r.projectRoot, res.files), r);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents).toEqual([
      {
        spec: {
          name: "software-engineer",
          description: "Implements features with tests",
          model: "claude-sonnet-4",
          tools: { allow: ["read", "write", "shell", "@fetch"] },
          mcp: ["fetch", "github"],
        },
        instructions: "# Role\n\nYou are a senior software engineer. Write tests first.\n",
        mcp: {
          fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" } },
          github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
        },
        knowledgeFiles: [
          join(r.projectRoot, ".github/instructions/software-engineer-common-policies.instructions.md"),
          join(r.projectRoot, ".github/instructions/software-engineer-domains-security.instructions.md"),
        ],
        source: join(r.projectRoot, ".github/agents/software-engineer.agent.md"),
      },
    ]);
  });

  test("user scope reads ~/.copilot/agents and takes servers named only in tools from mcp-config.json", () => {
    const r = roots(tmp.path, "user");
    const files = new Map([
      [".copilot/agents/ops.agent.md", "---\ndescription: Runs the ops checks\ntools: [execute, 'pager/*']\n---\n\nCheck the pager.\n"],
      [
        ".copilot/mcp-config.json",
        '{ "mcpServers": { "pager": { "type": "local", "command": "pager-mcp", "env": { "PD_KEY": "${PD_KEY}" }, "tools": ["*"] } } }\n',
      ],
    ]);
    const parsed = copilotAdapter.parse!(
      { root: r.homeDir, read: (rel) => files.get(rel), list: (d) => [...files.keys()].filter((k) => k.startsWith(d + "/")) },
      r,
    );
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents).toEqual([
      {
        spec: { name: "ops", description: "Runs the ops checks", tools: { allow: ["shell", "@pager"] }, mcp: ["pager"] },
        instructions: "Check the pager.\n",
        mcp: { pager: { command: "pager-mcp", env: { PD_KEY: "${PD_KEY}" } } },
        knowledgeFiles: [],
        source: join(r.homeDir, ".copilot/agents/ops.agent.md"),
      },
    ]);
  });

  test("reads a hand-written agent, taking servers named only in tools from .vscode/mcp.json", () => {
    const dir = tempDir("aicfg-copilot-parse-");
    try {
      mkdirSync(join(dir.path, ".github", "agents"), { recursive: true });
      mkdirSync(join(dir.path, ".vscode"), { recursive: true });
      writeFileSync(join(dir.path, ".github", "agents", "reviewer.agent.md"), readFileSync(join(FIXTURES, "reviewer.agent.md")));
      writeFileSync(
        join(dir.path, ".vscode", "mcp.json"),
        '{ "servers": { "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": { "Authorization": "Bearer ${env:GH_TOKEN}", "X-Key": "${input:key}" } } } }\n',
      );
      const r: Roots = { scope: "project", projectRoot: dir.path, homeDir: join(dir.path, "home") };
      const parsed = copilotAdapter.parse!(folderSource(dir.path), r);
      const file = join(dir.path, ".github", "agents", "reviewer.agent.md");
      expect(parsed.agents).toEqual([
        {
          spec: {
            name: "reviewer",
            description: "Reviews pull requests for correctness",
            model: "Claude Sonnet 4.5",
            tools: { allow: ["read", "grep", "glob", "web_fetch", "web_search", "@docs", "@github/get_issue"] },
            mcp: ["docs", "github"],
          },
          instructions: "You review code. Point out bugs first.\n",
          mcp: {
            docs: { command: "docs-mcp", args: ["--stdio"], env: { DOCS_TOKEN: "${DOCS_TOKEN}" }, includeTools: ["search", "fetch"] },
            github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GH_TOKEN}" } },
          },
          knowledgeFiles: [],
          source: file,
        },
      ]);
      expect(parsed.warnings.map((w) => [w.code, w.message, w.file])).toEqual([
        ["import-lossy", "copilot: tool 'think' has no universal equivalent; dropped", file],
        ["import-lossy", "copilot: github.headers.X-Key uses a VS Code input (${input:...}); dropped", join(dir.path, ".vscode", "mcp.json")],
        ["import-lossy", "copilot: keys handoffs have no place in the library model; dropped", file],
      ]);
    } finally {
      dir.cleanup();
    }
  });

  test("bad frontmatter and a missing description are precise errors; other agents still import", () => {
    const files = new Map([
      [".github/agents/a.agent.md", "---\nname: a\ndescription: [unclosed\n---\nBody\n"],
      [".github/agents/b.agent.md", "---\nname: b\n---\nBody\n"],
      [".github/agents/c.agent.md", "---\ndescription: Fine\n---\nDo it.\n"],
    ]);
    const parsed = copilotAdapter.parse!(
      { root: "/p", read: (rel) => files.get(rel), list: (d) => [...files.keys()].filter((k) => k.startsWith(d + "/")) },
      { scope: "project", projectRoot: "/p", homeDir: "/h" },
    );
    expect(parsed.agents.map((a) => [a.spec.name, a.spec.description, a.instructions])).toEqual([["c", "Fine", "Do it.\n"]]);
    expect(parsed.warnings.map((w) => [w.severity, w.code, w.file, w.line])).toEqual([
      ["error", "yaml-syntax", "/p/.github/agents/a.agent.md", 3],
      ["error", "import-invalid", "/p/.github/agents/b.agent.md", 2],
    ]);
  });

  test("parse(render(x)) keeps name, description, instructions, model, MCP servers and the tool aliases", () => {
    const r = roots(tmp.path);
    const aliases = (allow: readonly string[] | undefined): string[] | undefined =>
      allow === undefined ? undefined : [...new Set(allow.map((t) => TOOL_ALIAS[t as BuiltinTool] ?? t))].sort();
    const norm = (servers: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(servers).map(([n, s]) => [
          n,
          Object.fromEntries(
            Object.entries(s as object).filter(([, v]) => !(Array.isArray(v) ? v.length === 0 : v && typeof v === "object" && Object.keys(v).length === 0)),
          ),
        ]),
      );
    fc.assert(
      fc.property(agentArb(), (agent) => {
        const res = render([agent], r);
        const parsed = copilotAdapter.parse!(memorySource(r.projectRoot, res.files), r);
        expect(parsed.agents).toHaveLength(1);
        const back = parsed.agents[0]!;
        expect(back.spec.name).toBe(agent.name);
        expect(back.spec.description).toBe(agent.description);
        expect(back.instructions).toBe(agent.instructions);
        expect(back.spec.model).toBe(agent.model);
        expect(norm(back.mcp)).toEqual(norm(agent.mcpServers));
        expect(aliases(back.spec.tools?.allow)).toEqual(aliases(agent.tools.allow));
      }),
      { numRuns: 60 },
    );
  });
});

describe("detect", () => {
  test("finds a fake copilot binary, ~/.copilot and a VS Code Copilot Chat extension", async () => {
    const dir = tempDir("aicfg-copilot-detect-");
    try {
      const bin = join(dir.path, "bin");
      mkdirSync(bin);
      writeFileSync(join(bin, "copilot"), '#!/bin/sh\necho "0.0.354"\necho "Commit: 1a2b3c"\n');
      chmodSync(join(bin, "copilot"), 0o755);
      const home = join(dir.path, "home");
      mkdirSync(join(home, ".copilot", "agents"), { recursive: true });
      mkdirSync(join(home, ".vscode", "extensions", "github.copilot-chat-0.33.2"), { recursive: true });
      mkdirSync(join(home, ".vscode", "extensions", "ms-python.python-2026.1.0"), { recursive: true });
      const d = await copilotAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(dir.path, "p"), env: { PATH: bin } }));
      const p = join(dir.path, "p");
      expect(d).toEqual({
        installed: true,
        binary: { name: "copilot", path: join(bin, "copilot"), version: "0.0.354" },
        configPaths: [
          { path: join(home, ".copilot"), exists: true },
          { path: join(home, ".copilot", "agents"), exists: true },
          { path: join(home, ".copilot", "mcp-config.json"), exists: false },
        ],
        generation: "copilot-cli 0.0.354, copilot-chat 0.33.2",
        exportPaths: {
          project: [
            join(p, ".github", "copilot-instructions.md"),
            join(p, ".github", "instructions"),
            join(p, ".github", "agents"),
            join(p, ".vscode", "mcp.json"),
          ],
          user: [join(home, ".copilot", "instructions"), join(home, ".copilot", "agents"), join(home, ".copilot", "mcp-config.json")],
        },
        notes: [`VS Code extension found: ${join(home, ".vscode", "extensions", "github.copilot-chat-0.33.2")}`],
        nextSteps: [],
      });
    } finally {
      dir.cleanup();
    }
  });

  test("the VS Code extension alone counts as installed, with a note on the user scope", async () => {
    const home = join(tmp.path, "vscode-only-home");
    mkdirSync(join(home, ".vscode-server", "extensions", "GitHub.copilot-chat-0.40.0"), { recursive: true });
    const d = await copilotAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(tmp.path, "p"), env: { PATH: join(tmp.path, "nobin") } }));
    expect(d.installed).toBe(true);
    expect(d.generation).toBe("copilot-chat 0.40.0");
    expect(d.notes[1]).toBe(
      "user-scope export writes ~/.copilot/ (Copilot CLI); VS Code reads user agents and MCP servers from its profile folder, which aicfg does not write",
    );
  });

  test("reports nothing installed on an empty PATH and home", async () => {
    const d = await copilotAdapter.detect(
      realDetectEnv({ homeDir: join(tmp.path, "nohome"), projectRoot: join(tmp.path, "p"), env: { PATH: join(tmp.path, "nobin") } }),
    );
    expect(d.installed).toBe(false);
    expect(d.binary).toBeUndefined();
    expect(d.generation).toBeUndefined();
    expect(d.nextSteps).toEqual(["install the GitHub Copilot Chat extension in VS Code, or Copilot CLI: npm install -g @github/copilot"]);
  });

  test("is registered", () => {
    expect(getAdapter("copilot")).toBe(copilotAdapter);
    expect(copilotAdapter.scopes).toEqual(["project", "user"]);
  });
});
