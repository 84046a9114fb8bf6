// Tests of the Kiro CLI adapter: the exact 2.x agent JSON for both scopes, Kiro's tool names and
// settings (web_fetch domains), its extension fields, import of Kiro and Q-era files with a
// round-trip property, and detection of 2.x / 3.x installs and of a missing one.
import fc from "fast-check";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { folderSource } from "../../src/adapters/import/file-source.ts";
import { kiroCliAdapter, KiroCliExtension } from "../../src/adapters/kiro-cli/index.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import type { ResolvedAgent } from "../../src/library/model.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { knowledgeIndex, memorySource, minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";

const project = roots("/base", "project");
const user = roots("/base", "user");
let tmp: { path: string; cleanup: () => void };
let knowledgeRoot = "";

beforeAll(() => {
  tmp = tempDir("aicfg-kiro-cli-");
  knowledgeRoot = join(tmp.path, "knowledge");
});
afterAll(() => tmp.cleanup());

function render(agents: ResolvedAgent[], scope: "project" | "user" = "project") {
  return kiroCliAdapter.render(agents, renderContext(scope === "project" ? project : user));
}
function onlyFile(files: OutputFile[]): Extract<OutputFile, { kind: "file" }> {
  expect(files).toHaveLength(1);
  const f = files[0]!;
  if (f.kind !== "file") throw new Error(`expected a whole file, got ${f.kind}`);
  return f;
}
function jsonOf(agent: ResolvedAgent): Record<string, unknown> {
  return JSON.parse(onlyFile(render([agent]).files).content as string) as Record<string, unknown>;
}

const realisticJson = (k: string) => `{
  "name": "software-engineer",
  "description": "Implements features with tests",
  "prompt": ${JSON.stringify("# Role\n\nYou are a senior software engineer. Write tests first.\n\n" + knowledgeIndex([[`${k}/domains`, [["security.md", "Security"]]]]))},
  "mcpServers": {
    "fetch": {
      "command": "uvx",
      "args": [
        "mcp-server-fetch"
      ],
      "env": {
        "API_KEY": "\${FETCH_KEY}"
      },
      "timeout": 120000
    },
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {
        "Authorization": "Bearer \${GITHUB_TOKEN}"
      }
    }
  },
  "tools": [
    "read",
    "write",
    "shell",
    "@fetch"
  ],
  "allowedTools": [
    "read",
    "@fetch"
  ],
  "toolsSettings": {
    "write": {
      "allowedPaths": [
        "src/**",
        "tests/**"
      ]
    },
    "shell": {
      "allowedCommands": [
        "npm test",
        "git status"
      ],
      "autoAllowReadonly": true
    }
  },
  "resources": [
    "file://${k}/common/policies.md"
  ],
  "hooks": {
    "agentSpawn": [
      {
        "command": "git status --short"
      }
    ],
    "preToolUse": [
      {
        "command": "./scripts/check.sh",
        "matcher": "shell",
        "timeout_ms": 5000
      }
    ]
  },
  "model": "claude-sonnet-4"
}
`;

const minimalJson = `{
  "name": "helper",
  "description": "A small helper",
  "prompt": "Be helpful.\\n",
  "tools": [
    "*"
  ],
  "allowedTools": []
}
`;

describe("render", () => {
  test("realistic agent, both scopes: the exact file under .kiro/agents and one warning", () => {
    for (const [scope, path] of [
      ["project", "/base/project/.kiro/agents/software-engineer.json"],
      ["user", "/base/home/.kiro/agents/software-engineer.json"],
    ] as const) {
      const r = render([realisticAgent(knowledgeRoot)], scope);
      const f = onlyFile(r.files);
      expect(f.path).toBe(path);
      expect(f.content).toBe(realisticJson(knowledgeRoot));
      expect(f.secret).toBeUndefined();
      expect(r.warnings).toEqual([]);
    }
  });

  test("minimal agent, both scopes", () => {
    for (const [scope, path] of [
      ["project", "/base/project/.kiro/agents/helper.json"],
      ["user", "/base/home/.kiro/agents/helper.json"],
    ] as const) {
      const r = render([minimalAgent()], scope);
      expect(onlyFile(r.files).path).toBe(path);
      expect(onlyFile(r.files).content).toBe(minimalJson);
      expect(r.warnings).toEqual([]);
    }
  });

  test("Kiro has grep, glob, web_fetch and web_search: no warning, Kiro names", () => {
    const r = render([minimalAgent({ tools: { allow: ["grep", "glob", "web_fetch", "web_search", "todo", "delegate"], trusted: ["grep"] } })]);
    expect(r.warnings).toEqual([]);
    const json = JSON.parse(onlyFile(r.files).content as string);
    expect(json.tools).toEqual(["grep", "glob", "web_fetch", "web_search", "todo_list", "delegate"]);
    expect(json.allowedTools).toEqual(["grep"]);
  });

  test("deny without allow lists every Kiro built-in that remains", () => {
    const json = jsonOf(minimalAgent({ mcpServers: { fetch: { command: "uvx" } }, tools: { deny: ["shell", "web_search"] } }));
    expect(json.tools).toEqual(["read", "write", "grep", "glob", "web_fetch", "aws", "todo_list", "thinking", "knowledge", "delegate", "@fetch"]);
  });

  test("web_fetch domains become trusted/blocked URL regexes; a malformed domain is warned about", () => {
    const r = render([
      minimalAgent({ toolSettings: { web_fetch: { allowedDomains: ["docs.example.com", "*.github.com", "bad domain"], deniedDomains: ["internal.corp"] } } }),
    ]);
    expect(JSON.parse(onlyFile(r.files).content as string).toolsSettings).toEqual({
      web_fetch: {
        trusted: ["^https?://docs\\.example\\.com(:[0-9]+)?([/?#].*)?$", "^https?://([A-Za-z0-9-]+\\.)+github\\.com(:[0-9]+)?([/?#].*)?$"],
        blocked: ["^https?://internal\\.corp(:[0-9]+)?([/?#].*)?$"],
      },
    });
    expect(r.warnings.map((w) => w.message)).toEqual([
      "Kiro CLI: agent 'helper' uses toolSettings.web_fetch.allowedDomains entry 'bad domain', which Kiro CLI cannot express; it is left out of this target",
    ]);
    const trusted = new RegExp((JSON.parse(onlyFile(r.files).content as string).toolsSettings.web_fetch.trusted as string[])[1]!);
    expect(
      ["https://api.github.com/x", "https://github.com/", "https://evilgithub.com/", "https://api.github.com.evil.io/"].map((u) => trusted.test(u)),
    ).toEqual([true, false, false, false]);
  });

  test("extensions.kiro-cli: key order as in Kiro's reference, skill resources", () => {
    const json = jsonOf(
      minimalAgent({
        model: "claude-sonnet-4",
        extensions: {
          "kiro-cli": {
            welcomeMessage: "Ready.",
            keyboardShortcut: "ctrl+shift+a",
            includeMcpJson: true,
            toolAliases: { "@gh/get_issues": "issues" },
            resources: ["skill://.kiro/skills/**/SKILL.md"],
          },
          "q-cli": { useLegacyMcpJson: true },
        },
      }),
    );
    expect(Object.keys(json)).toEqual([
      "name",
      "description",
      "prompt",
      "tools",
      "toolAliases",
      "allowedTools",
      "resources",
      "includeMcpJson",
      "model",
      "keyboardShortcut",
      "welcomeMessage",
    ]);
    expect([json.includeMcpJson, json.keyboardShortcut, json.welcomeMessage, json.resources]).toEqual([
      true,
      "ctrl+shift+a",
      "Ready.",
      ["skill://.kiro/skills/**/SKILL.md"],
    ]);
  });

  test("the extension schema is strict and checks its values", () => {
    expect(KiroCliExtension.safeParse({ includeMcpJson: false, welcomeMessage: "hi" }).success).toBe(true);
    expect(KiroCliExtension.safeParse({ useLegacyMcpJson: true }).success).toBe(false);
    expect(KiroCliExtension.safeParse({ keyboardShortcut: "a" }).success).toBe(false);
    expect(KiroCliExtension.safeParse({ resources: ["https://x"] }).success).toBe(false);
  });

  test("an SSE server and ${VAR} in args are left out with warnings; literal env marks the file secret", () => {
    const r = render([
      minimalAgent({
        mcpServers: {
          sse: { type: "sse", url: "https://e.example.com/sse" },
          run: { command: "run", args: ["${TOKEN}"] },
          db: { command: "db", env: { PW: "x" } },
        },
      }),
    ]);
    const f = onlyFile(r.files);
    expect(f.secret).toBe(true);
    expect(JSON.parse(f.content as string).mcpServers).toEqual({ db: { command: "db", env: { PW: "x" } } });
    expect(r.warnings.map((w) => w.message)).toEqual([
      "Kiro CLI: agent 'helper' uses ${VAR} references in args[0] of MCP server 'run', which Kiro CLI cannot express; it is left out of this target",
      "Kiro CLI: agent 'helper' uses the SSE MCP server 'sse', which Kiro CLI cannot express; it is left out of this target",
    ]);
  });
});

describe("parse", () => {
  test("round trip of the realistic agent", () => {
    const parsed = kiroCliAdapter.parse!(memorySource(project.projectRoot, render([realisticAgent(knowledgeRoot)]).files), project);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.agents).toEqual([
      {
        spec: {
          name: "software-engineer",
          description: "Implements features with tests",
          model: "claude-sonnet-4",
          mcp: ["fetch", "github"],
          tools: { allow: ["read", "write", "shell", "@fetch"], trusted: ["read", "@fetch"] },
          toolSettings: { write: { allowedPaths: ["src/**", "tests/**"] }, shell: { allowedCommands: ["npm test", "git status"], autoAllowReadonly: true } },
          hooks: { sessionStart: [{ command: "git status --short" }], beforeTool: [{ command: "./scripts/check.sh", matcher: "shell", timeout: 5000 }] },
        },
        instructions: "# Role\n\nYou are a senior software engineer. Write tests first.\n",
        mcp: {
          fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, timeout: 120000 },
          github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
        },
        knowledgeFiles: [join(knowledgeRoot, "common/policies.md")],
        source: "/base/project/.kiro/agents/software-engineer.json",
      },
    ]);
  });

  test("a Kiro file with Q-era tool names, ${env:VAR}, web_fetch regexes and Kiro-only fields", () => {
    const home = join(tmp.path, "home-parse");
    writeTree(home, {
      ".kiro/agents/ops.json": JSON.stringify({
        name: "ops",
        description: "Operations",
        prompt: "Run ops.",
        mcpServers: { api: { url: "https://api.example.com/mcp", headers: { Authorization: "Bearer ${env:API_TOKEN}" }, disabledTools: ["drop"] } },
        tools: ["fs_read", "execute_bash", "code", "@api"],
        allowedTools: ["read"],
        toolsSettings: {
          execute_bash: { allowedCommands: ["^ls"], denyByDefault: true },
          web_fetch: { trusted: ["^https?://docs\\.example\\.com(:[0-9]+)?([/?#].*)?$", "https://.*"] },
        },
        resources: ["file://~/notes.md", "skill://.kiro/skills/**/SKILL.md"],
        includeMcpJson: true,
        welcomeMessage: "Hi",
        keyboardShortcut: "ctrl+o",
        permissions: { rules: [] },
      }),
    });
    const parsed = kiroCliAdapter.parse!(folderSource(home), { scope: "user", projectRoot: join(tmp.path, "p"), homeDir: home });
    expect(parsed.agents).toEqual([
      {
        spec: {
          name: "ops",
          description: "Operations",
          mcp: ["api"],
          tools: { allow: ["read", "shell", "@api"], trusted: ["read"] },
          toolSettings: { shell: { allowedCommands: ["^ls"] }, web_fetch: { allowedDomains: ["docs.example.com"] } },
          extensions: {
            "kiro-cli": { resources: ["skill://.kiro/skills/**/SKILL.md"], includeMcpJson: true, welcomeMessage: "Hi", keyboardShortcut: "ctrl+o" },
          },
        },
        instructions: "Run ops.",
        mcp: { api: { type: "http", url: "https://api.example.com/mcp", headers: { Authorization: "Bearer ${API_TOKEN}" } } },
        knowledgeFiles: ["~/notes.md"],
        source: join(home, ".kiro/agents/ops.json"),
      },
    ]);
    expect(parsed.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "import-dropped-field",
        "Kiro CLI: agent 'ops': mcpServers.api.disabledTools, tools 'code', toolsSettings.execute_bash.denyByDefault, toolsSettings.web_fetch.trusted 'https://.*', permissions have no universal equivalent and were not imported",
      ],
    ]);
  });

  test("property: parse(render(x)) keeps name, description, instructions, model, MCP servers and tools.allow", () => {
    fc.assert(
      fc.property(agentArb(), (agent) => {
        const parsed = kiroCliAdapter.parse!(memorySource(user.homeDir, render([agent], "user").files), user);
        expect(parsed.agents).toHaveLength(1);
        const got = parsed.agents[0]!;
        expect(got.spec.name).toBe(agent.name);
        expect(got.spec.description).toBe(agent.description);
        expect(got.instructions).toBe(agent.instructions);
        expect(got.spec.model).toBe(agent.model);
        expect(got.mcp).toEqual(agent.mcpServers);
        expect(got.spec.tools?.allow).toEqual(agent.tools.allow);
      }),
      { numRuns: 100 },
    );
  });
});

describe("detect", () => {
  function fakeInstall(version: string, withConfig: boolean): { bin: string; home: string } {
    const dir = join(tmp.path, `kiro-${version}-${Math.random().toString(36).slice(2)}`);
    const bin = join(dir, "bin");
    const home = join(dir, "home");
    mkdirSync(bin, { recursive: true });
    mkdirSync(home, { recursive: true });
    if (withConfig) mkdirSync(join(home, ".kiro/agents"), { recursive: true });
    writeFileSync(join(bin, "kiro-cli"), `#!/bin/sh\necho 'kiro-cli ${version}'\n`);
    chmodSync(join(bin, "kiro-cli"), 0o755);
    return { bin, home };
  }

  test("a Kiro CLI 2.x install", async () => {
    const { bin, home } = fakeInstall("2.3.1", true);
    const det = await kiroCliAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: "/work/proj", env: { PATH: bin } }));
    expect(det).toEqual({
      installed: true,
      binary: { name: "kiro-cli", path: join(bin, "kiro-cli"), version: "2.3.1" },
      generation: "kiro-cli 2.x",
      configPaths: [
        { path: join(home, ".kiro"), exists: true },
        { path: join(home, ".kiro/agents"), exists: true },
      ],
      exportPaths: { project: ["/work/proj/.kiro/agents"], user: [join(home, ".kiro/agents")] },
      notes: [],
      nextSteps: [],
    });
  });

  test("a Kiro CLI 3.x install without ~/.kiro yet", async () => {
    const { bin, home } = fakeInstall("3.0.2", false);
    const det = await kiroCliAdapter.detect(realDetectEnv({ homeDir: home, env: { PATH: bin } }));
    expect(det.generation).toBe("kiro-cli 3.x");
    expect(det.notes).toEqual([
      "Kiro CLI 3.x still reads these JSON agents (the 2.x format); run them with 'kiro-cli --v2' if hooks in the agent file must run, since the v3 harness reads hooks from .kiro/hooks/ instead",
    ]);
    expect(det.nextSteps).toEqual(["start Kiro CLI once ('kiro-cli login') so it creates ~/.kiro/"]);
  });

  test("nothing on PATH: not installed; an old Q config is pointed at its successor", async () => {
    const home = join(tmp.path, "kiro-empty-home");
    mkdirSync(join(home, ".aws/amazonq"), { recursive: true });
    const det = await kiroCliAdapter.detect(realDetectEnv({ homeDir: home, env: { PATH: "" } }));
    expect(det.installed).toBe(false);
    expect(det.binary).toBeUndefined();
    expect(det.configPaths.map((c) => c.exists)).toEqual([false, false]);
    expect(det.nextSteps).toEqual([
      "install Kiro CLI: curl -fsSL https://cli.kiro.dev/install | bash (https://kiro.dev/docs/cli/installation); it is the successor of the Amazon Q Developer CLI found here and takes over its login and settings",
    ]);
  });
});

test("registered, with locations that contain every rendered path", () => {
  expect(getAdapter("kiro-cli")).toBe(kiroCliAdapter);
  for (const r of [project, user]) {
    const [loc] = kiroCliAdapter.locations(r);
    for (const f of kiroCliAdapter.render([realisticAgent(knowledgeRoot), minimalAgent()], renderContext(r)).files)
      expect(f.path.startsWith(loc + "/")).toBe(true);
  }
});
