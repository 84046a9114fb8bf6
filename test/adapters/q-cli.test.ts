// Tests of the Amazon Q Developer CLI adapter: the exact files rendered for both scopes, warnings
// for what Q cannot express, the secret flag, deny expansion, hooks, validity against the official
// agent-v1 schema, import (parse) with a round-trip property, and detection of a fake install.
import { Ajv } from "ajv";
import fc from "fast-check";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { folderSource } from "../../src/adapters/import/file-source.ts";
import { Q_SCHEMA_URL } from "../../src/adapters/q-cli/dialect.ts";
import { qCliAdapter, QCliExtension } from "../../src/adapters/q-cli/index.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import type { ResolvedAgent } from "../../src/library/model.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { knowledgeIndex, fileContent, memorySource, minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";

const base = "/base";
const project = roots(base, "project");
const user = roots(base, "user");
let tmp: { path: string; cleanup: () => void };
let knowledgeRoot = "";

beforeAll(() => {
  tmp = tempDir("aicfg-q-cli-");
  knowledgeRoot = join(tmp.path, "knowledge");
});
afterAll(() => tmp.cleanup());

function render(agents: ResolvedAgent[], scope: "project" | "user" = "project") {
  return qCliAdapter.render(agents, renderContext(scope === "project" ? project : user));
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
  "$schema": "https://raw.githubusercontent.com/aws/amazon-q-developer-cli/refs/heads/main/schemas/agent-v1.json",
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
        "API_KEY": "\${env:FETCH_KEY}"
      },
      "timeout": 120000
    },
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "command": "",
      "headers": {
        "Authorization": "Bearer \${env:GITHUB_TOKEN}"
      }
    }
  },
  "tools": [
    "fs_read",
    "fs_write",
    "execute_bash",
    "@fetch"
  ],
  "allowedTools": [
    "fs_read",
    "@fetch"
  ],
  "toolsSettings": {
    "fs_write": {
      "allowedPaths": [
        "src/**",
        "tests/**"
      ]
    },
    "execute_bash": {
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
        "matcher": "execute_bash",
        "timeout_ms": 5000
      }
    ]
  },
  "model": "claude-sonnet-4"
}
`;

const minimalJson = `{
  "$schema": "https://raw.githubusercontent.com/aws/amazon-q-developer-cli/refs/heads/main/schemas/agent-v1.json",
  "name": "helper",
  "description": "A small helper",
  "prompt": "Be helpful.\\n",
  "tools": [
    "*"
  ],
  "allowedTools": []
}
`;

describe("render, library beside the project", () => {
  test("always-on knowledge becomes a resource relative to the project root, which Q joins onto the chat's folder; import reads it back", () => {
    const work = join(tmp.path, "work");
    const r = { scope: "project" as const, projectRoot: join(work, "app"), homeDir: join(tmp.path, "home") };
    const agent = realisticAgent(join(work, "team-lib", "knowledge"));
    const out = qCliAdapter.render([agent], renderContext(r));
    const f = onlyFile(out.files);
    expect((JSON.parse(f.content as string) as { resources: string[] }).resources).toEqual(["file://../team-lib/knowledge/common/policies.md"]);
    const back = qCliAdapter.parse!(memorySource(r.projectRoot, out.files), r);
    expect(back.agents[0]!.knowledgeFiles).toEqual([join(work, "team-lib", "knowledge", "common", "policies.md")]);
    // User scope: the agent runs from any folder, so the same file is named absolutely (it is not under the home folder).
    const user = onlyFile(qCliAdapter.render([agent], renderContext({ ...r, scope: "user" })).files);
    expect((JSON.parse(user.content as string) as { resources: string[] }).resources).toEqual([
      `file://${join(work, "team-lib", "knowledge", "common", "policies.md")}`,
    ]);
  });
});

describe("render", () => {
  test("realistic agent, project scope: the exact file and the on-demand knowledge warning", () => {
    const r = render([realisticAgent(knowledgeRoot)]);
    const f = onlyFile(r.files);
    expect(f.path).toBe("/base/project/.amazonq/cli-agents/software-engineer.json");
    expect(f.agent).toBe("software-engineer");
    expect(f.content).toBe(realisticJson(knowledgeRoot));
    // Every env/header value is a ${VAR} reference: nothing secret is written.
    expect(f.secret).toBeUndefined();
    expect(r.warnings).toEqual([]);
  });

  test("realistic agent, user scope: same content under ~/.aws/amazonq/cli-agents", () => {
    const f = onlyFile(render([realisticAgent(knowledgeRoot)], "user").files);
    expect(f.path).toBe("/base/home/.aws/amazonq/cli-agents/software-engineer.json");
    expect(f.content).toBe(realisticJson(knowledgeRoot));
  });

  test("minimal agent, both scopes: all tools, no trusted tools, no warnings", () => {
    for (const [scope, path] of [
      ["project", "/base/project/.amazonq/cli-agents/helper.json"],
      ["user", "/base/home/.aws/amazonq/cli-agents/helper.json"],
    ] as const) {
      const r = render([minimalAgent()], scope);
      const f = onlyFile(r.files);
      expect(f.path).toBe(path);
      expect(f.content).toBe(minimalJson);
      expect(r.warnings).toEqual([]);
    }
  });

  test("rendering is deterministic and one file per agent", () => {
    const agents = [realisticAgent(knowledgeRoot), minimalAgent()];
    const a = render(agents);
    const b = render(agents);
    expect(a).toEqual(b);
    expect(a.files.map((f) => f.path)).toEqual(["/base/project/.amazonq/cli-agents/software-engineer.json", "/base/project/.amazonq/cli-agents/helper.json"]);
  });

  test("model per target: the q-cli entry wins over default", () => {
    expect(jsonOf(minimalAgent({ model: { default: "claude-opus-4", "q-cli": "claude-sonnet-4.5" } })).model).toBe("claude-sonnet-4.5");
    expect(jsonOf(minimalAgent({ model: { "claude-code": "sonnet" } })).model).toBeUndefined();
  });

  test("features Q cannot express: each is warned about, the rest is still written", () => {
    const odd = minimalAgent({
      name: "odd",
      tools: { allow: ["read", "grep", "web_fetch", "@github"], deny: ["@github/delete_repo"] },
      toolSettings: { web_fetch: { allowedDomains: ["docs.example.com"] } },
      mcpServers: {
        events: { type: "sse", url: "https://events.example.com/sse" },
        runner: { command: "node", args: ["server.js", "--token", "${RUNNER_TOKEN}"] },
        github: { type: "http", url: "https://api.example.com/mcp", headers: { "X-Env": "${DEPLOY_ENV:-dev}" } },
        local: { command: "./mcp", cwd: "/srv" },
      },
      hooks: { sessionStart: [{ command: "date", matcher: "shell" }], afterTool: [{ command: "log-fetch", matcher: "web_fetch" }] },
      knowledge: [{ path: "a.md", absPath: "/lib/knowledge/a.md", mode: "on-demand", size: 1, mtimeMs: 0, layer: "test" }],
    });
    const r = render([odd]);
    expect(
      r.warnings.map((w) => [
        w.code,
        w.message
          .replace(/^Amazon Q Developer CLI: agent 'odd' uses /, "")
          .replace(/, which Amazon Q Developer CLI cannot express; it is left out of this target$/, ""),
      ]),
    ).toEqual([
      ["unsupported-feature", "the SSE MCP server 'events'"],
      ["unsupported-feature", "a default value in headers.X-Env of MCP server 'github'"],
      ["unsupported-feature", "cwd of MCP server 'local'"],
      ["unsupported-feature", "${VAR} references in args[2] of MCP server 'runner'"],
      ["unsupported-feature", "tools.deny '@github/delete_repo' while the rest of @github stays allowed"],
      ["unsupported-feature", "the built-in tools grep, web_fetch"],
      ["unsupported-feature", "toolSettings.web_fetch"],
      ["unsupported-feature", "a matcher on a sessionStart hook"],
      ["unsupported-feature", "the afterTool hook that matches web_fetch"],
    ]);
    expect(r.warnings.every((w) => w.file === "/lib/agents/helper.md" && w.severity === "warning")).toBe(true);
    expect(fileContent(r.files, "odd.json")).toBe(`{
  "$schema": "${Q_SCHEMA_URL}",
  "name": "odd",
  "description": "A small helper",
  "prompt": ${JSON.stringify("Be helpful.\n\n" + knowledgeIndex([["/lib/knowledge", [["a.md", ""]]]]))},
  "mcpServers": {
    "github": {
      "type": "http",
      "url": "https://api.example.com/mcp",
      "command": "",
      "headers": {
        "X-Env": "\${env:DEPLOY_ENV}"
      }
    },
    "local": {
      "command": "./mcp"
    }
  },
  "tools": [
    "fs_read",
    "@github"
  ],
  "allowedTools": [],
  "hooks": {
    "agentSpawn": [
      {
        "command": "date"
      }
    ]
  }
}
`);
  });

  test("literal env or header values mark the file secret; ${VAR} references do not", () => {
    const literal = onlyFile(render([minimalAgent({ mcpServers: { db: { command: "db-mcp", env: { PASSWORD: "hunter2" } } } })]).files);
    expect(literal.secret).toBe(true);
    // Written as given: the user asked for this value, and the file is owned and flagged secret.
    expect(JSON.parse(literal.content as string).mcpServers).toEqual({ db: { command: "db-mcp", env: { PASSWORD: "hunter2" } } });
    const header = onlyFile(
      render([minimalAgent({ mcpServers: { api: { type: "http", url: "https://x.example.com/mcp", headers: { "X-Key": "abc" } } } })]).files,
    );
    expect(header.secret).toBe(true);
    const refs = onlyFile(render([minimalAgent({ mcpServers: { db: { command: "db-mcp", env: { PASSWORD: "${DB_PASSWORD}", EMPTY: "" } } } })]).files);
    expect(refs.secret).toBeUndefined();
    expect(JSON.parse(refs.content as string).mcpServers.db.env).toEqual({ EMPTY: "", PASSWORD: "${env:DB_PASSWORD}" });
  });

  test("${VAR} in command, args or url: the server is left out rather than started with literal text", () => {
    const r = render([
      minimalAgent({
        mcpServers: {
          a: { command: "${HOME}/bin/mcp" },
          b: { type: "http", url: "https://${HOST}.example.com/mcp" },
          ok: { command: "mcp", args: ["--verbose"] },
        },
      }),
    ]);
    expect(JSON.parse(onlyFile(r.files).content as string).mcpServers).toEqual({ ok: { command: "mcp", args: ["--verbose"] } });
    expect(r.warnings.map((w) => w.message)).toEqual([
      "Amazon Q Developer CLI: agent 'helper' uses ${VAR} references in command of MCP server 'a', which Amazon Q Developer CLI cannot express; it is left out of this target",
      "Amazon Q Developer CLI: agent 'helper' uses ${VAR} references in url of MCP server 'b', which Amazon Q Developer CLI cannot express; it is left out of this target",
    ]);
  });

  test("MCP details: timeout, disabled, oauth, autoApprove become allowedTools entries", () => {
    const json = jsonOf(
      minimalAgent({
        mcpServers: {
          api: {
            type: "http",
            url: "https://api.example.com/mcp",
            oauth: { scopes: ["openid"], redirectUri: "http://127.0.0.1:7777/cb" },
            timeout: 5000,
            disabled: true,
          },
          git: { command: "git-mcp", autoApprove: ["git_status", "git_log"] },
        },
        tools: { allow: ["read", "@git", "@api"], trusted: ["read"] },
      }),
    );
    expect(json.mcpServers).toEqual({
      api: {
        type: "http",
        url: "https://api.example.com/mcp",
        command: "",
        oauthScopes: ["openid"],
        oauth: { redirectUri: "http://127.0.0.1:7777/cb" },
        timeout: 5000,
        disabled: true,
      },
      git: { command: "git-mcp" },
    });
    expect(json.allowedTools).toEqual(["fs_read", "@git/git_status", "@git/git_log"]);
  });
});

describe("tool policy", () => {
  const servers = { fetch: { command: "uvx" }, github: { type: "http" as const, url: "https://api.example.com/mcp" } };

  test("deny without allow lists every Q built-in that remains and each server not denied", () => {
    const r = render([minimalAgent({ mcpServers: servers, tools: { deny: ["shell", "@github", "web_search"], trusted: ["*"] } })]);
    const json = JSON.parse(onlyFile(r.files).content as string);
    const rest = ["fs_read", "fs_write", "use_aws", "todo_list", "thinking", "knowledge", "delegate", "@fetch"];
    expect(json.tools).toEqual(rest);
    // `*` is not allowed in allowedTools: trusting everything lists the visible tools.
    expect(json.allowedTools).toEqual(rest);
    expect(r.warnings).toEqual([]);
  });

  test("denying only tools Q does not have keeps '*'", () => {
    expect(jsonOf(minimalAgent({ tools: { deny: ["web_search", "grep"] } })).tools).toEqual(["*"]);
  });

  test("allow '*' with a deny expands the same way; deny '*' leaves no tools", () => {
    expect(jsonOf(minimalAgent({ tools: { allow: ["*"], deny: ["write", "aws"] } })).tools).toEqual([
      "fs_read",
      "execute_bash",
      "todo_list",
      "thinking",
      "knowledge",
      "delegate",
    ]);
    const none = jsonOf(minimalAgent({ mcpServers: servers, tools: { deny: ["*"], trusted: ["read"] } }));
    expect(none.tools).toEqual([]);
    expect(none.allowedTools).toEqual([]);
  });

  test("an explicit allow minus the denied entries; trusted '*' without deny lists all tools", () => {
    expect(
      jsonOf(minimalAgent({ mcpServers: servers, tools: { allow: ["read", "shell", "@github", "@github/list_issues"], deny: ["@github"] } })).tools,
    ).toEqual(["fs_read", "execute_bash"]);
    const all = jsonOf(minimalAgent({ mcpServers: servers, tools: { trusted: ["*"] } }));
    expect(all.tools).toEqual(["*"]);
    expect(all.allowedTools).toEqual(["fs_read", "fs_write", "execute_bash", "use_aws", "todo_list", "thinking", "knowledge", "delegate", "@fetch", "@github"]);
  });

  test("tool settings map to Q's tool names; aws services and read paths included", () => {
    expect(
      jsonOf(
        minimalAgent({
          toolSettings: {
            read: { allowedPaths: ["**"], deniedPaths: [".env"] },
            aws: { allowedServices: ["s3"], deniedServices: ["iam"], autoAllowReadonly: true },
            shell: { deniedCommands: ["rm .*"] },
          },
        }),
      ).toolsSettings,
    ).toEqual({
      fs_read: { allowedPaths: ["**"], deniedPaths: [".env"] },
      execute_bash: { deniedCommands: ["rm .*"] },
      use_aws: { allowedServices: ["s3"], deniedServices: ["iam"], autoAllowReadonly: true },
    });
  });
});

test("hooks: universal events map to Q triggers with snake_case fields and Q tool names in matchers", () => {
  const json = jsonOf(
    minimalAgent({
      hooks: {
        sessionStart: [{ command: "a" }],
        promptSubmit: [{ command: "b", timeout: 1000 }],
        beforeTool: [{ command: "c", matcher: "write" }],
        afterTool: [
          { command: "d", matcher: "@github/create_issue" },
          { command: "e", matcher: "*" },
        ],
        stop: [{ command: "f" }],
      },
    }),
  );
  expect(json.hooks).toEqual({
    agentSpawn: [{ command: "a" }],
    userPromptSubmit: [{ command: "b", timeout_ms: 1000 }],
    preToolUse: [{ command: "c", matcher: "fs_write" }],
    postToolUse: [
      { command: "d", matcher: "@github/create_issue" },
      { command: "e", matcher: "*" },
    ],
    stop: [{ command: "f" }],
  });
});

describe("extensions.q-cli", () => {
  test("useLegacyMcpJson, toolAliases and extra resources are written where Q expects them", () => {
    const json = jsonOf(
      minimalAgent({
        model: "claude-sonnet-4",
        extensions: {
          "q-cli": { useLegacyMcpJson: true, toolAliases: { "@github/get_issues": "issues" }, resources: ["file://README.md"] },
          "kiro-cli": { welcomeMessage: "hi" },
        },
      }),
    );
    expect(Object.keys(json)).toEqual([
      "$schema",
      "name",
      "description",
      "prompt",
      "tools",
      "toolAliases",
      "allowedTools",
      "resources",
      "useLegacyMcpJson",
      "model",
    ]);
    expect(json.toolAliases).toEqual({ "@github/get_issues": "issues" });
    expect(json.resources).toEqual(["file://README.md"]);
    expect(json.useLegacyMcpJson).toBe(true);
  });

  test("the extension schema is strict", () => {
    expect(QCliExtension.safeParse({ useLegacyMcpJson: true }).success).toBe(true);
    const bad = QCliExtension.safeParse({ includeMcpJson: true });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.code).toBe("unrecognized_keys");
    expect(QCliExtension.safeParse({ resources: ["README.md"] }).success).toBe(false);
  });

  test("an invalid extension passed to render is reported and left out", () => {
    const r = render([minimalAgent({ extensions: { "q-cli": { welcomeMessage: "hi" } } })]);
    expect(onlyFile(r.files).content).toBe(minimalJson);
    expect(r.warnings.map((w) => w.code)).toEqual(["invalid-extension"]);
  });
});

describe("official agent-v1 schema", () => {
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../fixtures/q-cli/agent-v1.json", import.meta.url)), "utf8")) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  // Two defects of the published file (see test/fixtures/q-cli/README.md).
  ajv.addFormat("uint64", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addKeyword("$definitions");
  const validate = ajv.compile({ ...schema, $definitions: schema.definitions });

  test("every rendered file validates", () => {
    const agents = [
      realisticAgent(knowledgeRoot),
      minimalAgent(),
      minimalAgent({
        name: "everything",
        model: "claude-sonnet-4",
        mcpServers: {
          api: { type: "http", url: "https://api.example.com/mcp", oauth: { scopes: ["openid"] }, timeout: 1000, disabled: false },
          git: { command: "git-mcp", env: { A: "1" } },
        },
        tools: { deny: ["shell"], trusted: ["*"] },
        toolSettings: { read: { deniedPaths: [".env"] }, aws: { allowedServices: ["s3"] } },
        hooks: {
          sessionStart: [{ command: "a" }],
          promptSubmit: [{ command: "b" }],
          beforeTool: [{ command: "c", matcher: "read" }],
          afterTool: [{ command: "d" }],
          stop: [{ command: "e", timeout: 10 }],
        },
        extensions: { "q-cli": { useLegacyMcpJson: false, toolAliases: { "@git/status": "st" }, resources: ["file://AGENTS.md"] } },
      }),
    ];
    for (const f of render(agents).files) {
      const ok = validate(JSON.parse((f as { content: string }).content));
      expect({ path: f.path, ok, errors: validate.errors ?? null }).toEqual({ path: f.path, ok: true, errors: null });
    }
  });

  test("the validator rejects what Q refuses (unknown top-level keys)", () => {
    expect(validate({ name: "x", includeMcpJson: true })).toBe(false);
    expect(validate.errors![0]!.keyword).toBe("additionalProperties");
  });
});

describe("parse", () => {
  test("round trip of the realistic agent, project and user layout", () => {
    for (const scope of ["project", "user"] as const) {
      const r = scope === "project" ? project : user;
      const root = scope === "project" ? r.projectRoot : r.homeDir;
      const parsed = qCliAdapter.parse!(memorySource(root, render([realisticAgent(knowledgeRoot)], scope).files), r);
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
          source:
            scope === "project" ? "/base/project/.amazonq/cli-agents/software-engineer.json" : "/base/home/.aws/amazonq/cli-agents/software-engineer.json",
        },
      ]);
    }
  });

  test("hand-written files on disk: file:// prompt, legacy allowReadOnly, Q-only fields; bad JSON is reported and the rest imports", () => {
    const root = join(tmp.path, "hand");
    writeTree(root, {
      ".amazonq/cli-agents/prompts/reviewer.md": "Review carefully.\n",
      ".amazonq/cli-agents/reviewer.json": JSON.stringify({
        name: "reviewer",
        prompt: "file://./prompts/reviewer.md",
        tools: ["fs_read", "execute_bash", "introspect", "@git"],
        allowedTools: ["fs_*", "@git/git_status"],
        toolsSettings: { execute_bash: { allowedCommands: ["git diff"], allowReadOnly: true }, "@git/git_status": { x: 1 } },
        resources: ["file://README.md", "file:///opt/policies.md"],
        hooks: { agentSpawn: [{ command: "git status", cache_ttl_seconds: 10 }], agentNeedsAttention: [{ command: "say hi" }] },
        useLegacyMcpJson: true,
        toolAliases: { "@git/git_status": "status" },
      }),
      ".amazonq/cli-agents/broken.json": '{\n  "name": "broken",\n  "tools": [,]\n}\n',
      ".amazonq/cli-agents/notes.txt": "not an agent",
    });
    const r = { scope: "project" as const, projectRoot: root, homeDir: join(tmp.path, "nohome") };
    const parsed = qCliAdapter.parse!(folderSource(root), r);
    expect(parsed.agents).toEqual([
      {
        spec: {
          name: "reviewer",
          description: "Imported from Amazon Q Developer CLI (reviewer.json)",
          tools: { allow: ["read", "shell", "@git"], trusted: ["@git/git_status"] },
          toolSettings: { shell: { allowedCommands: ["git diff"], autoAllowReadonly: true } },
          hooks: { sessionStart: [{ command: "git status" }] },
          extensions: { "q-cli": { toolAliases: { "@git/git_status": "status" }, useLegacyMcpJson: true } },
        },
        instructions: "Review carefully.\n",
        mcp: {},
        knowledgeFiles: [join(root, "README.md"), "/opt/policies.md"],
        source: join(root, ".amazonq/cli-agents/reviewer.json"),
      },
    ]);
    expect(parsed.warnings).toEqual([
      {
        severity: "warning",
        code: "import-invalid-json",
        message: "Amazon Q Developer CLI: the agent file is not valid JSON (ValueExpected); it was not imported",
        file: join(root, ".amazonq/cli-agents/broken.json"),
        line: 3,
        col: 13,
        hint: "Amazon Q Developer CLI refuses this file too; fix it or run 'q agent validate --path .amazonq/cli-agents/broken.json'",
      },
      {
        severity: "warning",
        code: "import-dropped-field",
        message:
          "Amazon Q Developer CLI: agent 'reviewer': tools 'introspect', allowedTools 'fs_*', toolsSettings.@git/git_status, hooks.agentSpawn[0].cache_ttl_seconds, hooks.agentNeedsAttention have no universal equivalent and were not imported",
        file: join(root, ".amazonq/cli-agents/reviewer.json"),
      },
    ]);
  });

  test("a prompt file outside the source and a name that is not a slug", () => {
    const root = join(tmp.path, "outside");
    writeTree(root, { ".aws/amazonq/cli-agents/My Agent.json": JSON.stringify({ prompt: "file:///etc/passwd", tools: ["*"] }) });
    const parsed = qCliAdapter.parse!(folderSource(root), { scope: "user", projectRoot: join(tmp.path, "p"), homeDir: root });
    expect(parsed.agents.map((a) => [a.spec.name, a.instructions, a.spec.tools])).toEqual([["my-agent", "", {}]]);
    expect(parsed.warnings.map((w) => [w.code, w.message])).toEqual([
      ["import-renamed", "Amazon Q Developer CLI: agent 'My Agent' is imported as 'my-agent'"],
      ["import-prompt-missing", `Amazon Q Developer CLI: the prompt file file:///etc/passwd is outside ${root}; the agent is imported without instructions`],
    ]);
  });

  test("property: parse(render(x)) keeps name, description, instructions, model, MCP servers and tools.allow", () => {
    fc.assert(
      fc.property(agentArb(), (agent) => {
        const parsed = qCliAdapter.parse!(memorySource(project.projectRoot, render([agent]).files), project);
        expect(parsed.agents).toHaveLength(1);
        const got = parsed.agents[0]!;
        expect(got.spec.name).toBe(agent.name);
        expect(got.spec.description).toBe(agent.description);
        expect(got.instructions).toBe(agent.instructions);
        expect(got.spec.model).toBe(agent.model);
        expect(got.mcp).toEqual(agent.mcpServers);
        // Q has no web_fetch / web_search: those are warned about at render and cannot come back.
        expect(got.spec.tools?.allow).toEqual(agent.tools.allow?.filter((t) => t !== "web_fetch" && t !== "web_search"));
      }),
      { numRuns: 100 },
    );
  });
});

describe("detect", () => {
  function fakeInstall(name: string, script: string, dirs: string[]): { bin: string; home: string } {
    const dir = join(tmp.path, `install-${name}-${Math.random().toString(36).slice(2)}`);
    const bin = join(dir, "bin");
    const home = join(dir, "home");
    mkdirSync(bin, { recursive: true });
    for (const d of dirs) mkdirSync(join(home, d), { recursive: true });
    writeFileSync(join(bin, name), script);
    chmodSync(join(bin, name), 0o755);
    return { bin, home };
  }

  test("a Q 1.19 install: binary, version, generation, config folders, export paths", async () => {
    const { bin, home } = fakeInstall("q", "#!/bin/sh\necho 'q 1.19.7'\n", [".aws/amazonq/cli-agents"]);
    const det = await qCliAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: "/work/proj", env: { PATH: bin } }));
    expect(det).toEqual({
      installed: true,
      binary: { name: "q", path: join(bin, "q"), version: "1.19.7" },
      generation: "amazon-q-cli",
      configPaths: [
        { path: join(home, ".aws/amazonq"), exists: true },
        { path: join(home, ".aws/amazonq/cli-agents"), exists: true },
      ],
      exportPaths: { project: ["/work/proj/.amazonq/cli-agents"], user: [join(home, ".aws/amazonq/cli-agents")] },
      notes: ["Amazon Q Developer CLI is end-of-life (maintenance only since November 2025); Kiro CLI is its successor and reads the same kind of agent JSON"],
      nextSteps: ["install Kiro CLI (curl -fsSL https://cli.kiro.dev/install | bash) and export to the kiro-cli target too"],
    });
  });

  test("`qchat` alone, auto-upgraded to Kiro CLI, is recognised as Kiro", async () => {
    const { bin, home } = fakeInstall("qchat", "#!/bin/sh\necho 'kiro-cli 1.20.0'\n", []);
    const det = await qCliAdapter.detect(realDetectEnv({ homeDir: home, env: { PATH: bin } }));
    expect(det.binary).toEqual({ name: "qchat", path: join(bin, "qchat"), version: "1.20.0" });
    expect(det.generation).toBe("kiro-cli 1.x");
    expect(det.nextSteps).toEqual(["aicfg export --target kiro-cli"]);
  });

  test("nothing on PATH: not installed, and the next step points at Kiro CLI", async () => {
    const home = join(tmp.path, "empty-home");
    mkdirSync(join(home, ".aws/amazonq"), { recursive: true });
    const det = await qCliAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: "/work/proj", env: { PATH: "" } }));
    expect(det.installed).toBe(false);
    expect(det.binary).toBeUndefined();
    expect(det.generation).toBeUndefined();
    expect(det.configPaths).toEqual([
      { path: join(home, ".aws/amazonq"), exists: true },
      { path: join(home, ".aws/amazonq/cli-agents"), exists: false },
    ]);
    expect(det.notes).toEqual([`${join(home, ".aws/amazonq")} exists, but neither 'q' nor 'qchat' is on PATH`]);
    expect(det.nextSteps).toEqual([
      "Amazon Q Developer CLI is end-of-life (maintenance only since November 2025); install its successor Kiro CLI instead (curl -fsSL https://cli.kiro.dev/install | bash) and export with 'aicfg export --target kiro-cli'",
    ]);
  });
});

test("registered, with locations that contain every rendered path", () => {
  expect(getAdapter("q-cli")).toBe(qCliAdapter);
  for (const r of [project, user]) {
    const [loc] = qCliAdapter.locations(r);
    for (const f of qCliAdapter.render([realisticAgent(knowledgeRoot), minimalAgent()], renderContext(r)).files)
      expect(f.path.startsWith(loc + "/")).toBe(true);
  }
});
