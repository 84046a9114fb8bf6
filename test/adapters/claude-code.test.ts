// The Claude Code adapter: sub-agent files, MCP keys, CLAUDE.md imports, rules, permission rules,
// import of real sub-agent files, parse(render(x)) round trips, and detection of a real binary.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claudeCodeAdapter } from "../../src/adapters/claude-code/index.ts";
import { claudeModel } from "../../src/adapters/claude-code/names.ts";
import { permissionPath } from "../../src/adapters/claude-code/render.ts";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { loadManifest, saveManifest } from "../../src/adapters/manifest.ts";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import { setJsonKey, setSection } from "../../src/adapters/shared-files.ts";
import type { FileSource, OutputFile, Roots } from "../../src/adapters/types.ts";
import { modelFor, type ResolvedAgent } from "../../src/library/model.ts";
import { agentArb } from "../../src/testing/arbitraries.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let base: string;
let kroot: string;
beforeAll(() => {
  dir = tempDir("aicfg-claude-code-");
  base = dir.path;
  kroot = join(base, "lib", "knowledge");
});
afterAll(() => dir.cleanup());

const render = (agents: ResolvedAgent[], scope: "project" | "user" = "project") => claudeCodeAdapter.render(agents, renderContext(roots(base, scope)));
const text = (f: OutputFile | undefined): string => {
  if (!f) throw new Error("missing output");
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8");
  if (f.kind === "md-section") return f.content;
  throw new Error(`${f.path} is ${f.kind}`);
};

/** Applies rendered outputs to an in-memory tree, the way the writer would on empty files. */
function materialize(root: string, files: readonly OutputFile[]): FileSource {
  const map = new Map<string, string>();
  for (const f of files) {
    const rel = f.path.slice(root.length + 1);
    const cur = map.get(rel) ?? "";
    if (f.kind === "file") map.set(rel, text(f));
    else if (f.kind === "json-keys")
      map.set(
        rel,
        f.entries.reduce((t, e) => setJsonKey(t, e.key, e.value), cur),
      );
    else if (f.kind === "md-section") map.set(rel, setSection(cur, "claude-code", f.content));
  }
  return {
    root,
    read: (rel) => map.get(rel),
    list: (relDir) => [...map.keys()].filter((k) => k.startsWith(relDir + "/") && !k.slice(relDir.length + 1).includes("/")).sort(),
  };
}

/** A FileSource over a real folder. */
function dirSource(root: string): FileSource {
  return {
    root,
    read: (rel) => {
      try {
        return readFileSync(join(root, rel), "utf8");
      } catch {
        return undefined;
      }
    },
    list: (relDir) => {
      try {
        return readdirSync(join(root, relDir))
          .filter((n) => statSync(join(root, relDir, n)).isFile())
          .sort()
          .map((n) => `${relDir}/${n}`);
      } catch {
        return [];
      }
    },
  };
}

describe("render: the realistic agent, project scope", () => {
  it("writes the sub-agent, the MCP keys, the CLAUDE.md imports and the permission rules", () => {
    const agent = realisticAgent(kroot);
    const r = render([agent]);
    const p = join(base, "project");
    expect(r.files.map((f) => [f.kind, f.path])).toEqual([
      ["file", join(p, ".claude/agents/software-engineer.md")],
      ["json-keys", join(p, ".mcp.json")],
      ["md-section", join(p, "CLAUDE.md")],
      ["json-keys", join(p, ".claude/settings.json")],
    ]);
    expect(text(r.files[0])).toBe(
      [
        "---",
        "name: software-engineer",
        "description: Implements features with tests",
        "tools: Read, Edit, Write, Bash, mcp__fetch__*",
        "disallowedTools: WebSearch",
        "model: sonnet",
        "mcpServers:",
        "  - fetch",
        "  - github",
        "hooks:",
        "  SessionStart:",
        "    - hooks:",
        "        - type: command",
        "          command: git status --short",
        "  PreToolUse:",
        "    - matcher: Bash",
        "      hooks:",
        "        - type: command",
        "          command: ./scripts/check.sh",
        "          timeout: 5",
        "---",
        "",
        "# Role",
        "",
        "You are a senior software engineer. Write tests first.",
        "",
        "<!-- aicfg:on-demand-knowledge -->",
        "## Reference files",
        "",
        "Read these files with the Read tool when the task needs them; they are not loaded up front:",
        "",
        `- ${join(kroot, "domains/security.md")}`,
        "",
      ].join("\n"),
    );
    expect(r.files[1]).toEqual({
      kind: "json-keys",
      path: join(p, ".mcp.json"),
      secret: false,
      entries: [
        {
          key: ["mcpServers", "fetch"],
          value: { type: "stdio", command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, timeout: 120000 },
        },
        {
          key: ["mcpServers", "github"],
          value: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
        },
      ],
    });
    expect(text(r.files[2])).toBe(
      "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n\n" +
        "## Knowledge of software-engineer\n\n" +
        `@${join(kroot, "common/policies.md")}\n`,
    );
    expect(r.files[3]).toEqual({
      kind: "json-keys",
      path: join(p, ".claude/settings.json"),
      entries: [
        { key: ["permissions", "allow"], value: ["Bash(git status *)", "Bash(npm test *)", "Edit(/src/**)", "Edit(/tests/**)", "Read", "mcp__fetch__*"] },
      ],
    });
    expect(r.warnings.map((w) => w.code)).toEqual(["permissions-widened"]);
    expect(r.warnings[0]!.message).toBe(
      `claude-code: the trusted tools and tool settings of agent 'software-engineer' become permission rules in ${join(p, ".claude/settings.json")}, which apply to every Claude Code session there, not only to this agent`,
    );
  });

  it("renders the same bytes twice and is registered under its id", () => {
    const agent = realisticAgent(kroot);
    expect(JSON.stringify(render([agent]))).toBe(JSON.stringify(render([agent])));
    expect(getAdapter("claude-code")).toBe(claudeCodeAdapter);
  });
});

describe("render: user scope", () => {
  it("uses ~/.claude/agents, ~/.claude.json, ~/.claude/CLAUDE.md and ~/.claude/settings.json with cwd-relative paths", () => {
    const r = render([realisticAgent(kroot)], "user");
    const h = join(base, "home");
    expect(r.files.map((f) => [f.kind, f.path])).toEqual([
      ["file", join(h, ".claude/agents/software-engineer.md")],
      ["json-keys", join(h, ".claude.json")],
      ["md-section", join(h, ".claude/CLAUDE.md")],
      ["json-keys", join(h, ".claude/settings.json")],
    ]);
    const settings = r.files[3] as Extract<OutputFile, { kind: "json-keys" }>;
    expect(settings.entries[0]!.value).toEqual(["Bash(git status *)", "Bash(npm test *)", "Edit(src/**)", "Edit(tests/**)", "Read", "mcp__fetch__*"]);
    expect(claudeCodeAdapter.locations(roots(base, "user"))).toEqual([
      join(h, ".claude"),
      join(h, ".claude.json"),
      join(h, ".claude/CLAUDE.md"),
      join(h, ".aicfg/index"),
    ]);
  });

  it("anchors permission paths the way Claude Code reads them", () => {
    expect(permissionPath("src/**", "project")).toBe("/src/**");
    expect(permissionPath("./docs/*.md", "project")).toBe("/docs/*.md");
    expect(permissionPath("/etc/hosts", "project")).toBe("//etc/hosts");
    expect(permissionPath("~/notes/**", "project")).toBe("~/notes/**");
    expect(permissionPath("./src/**", "user")).toBe("src/**");
  });
});

describe("render: tools, models, hooks, extensions", () => {
  it("maps every universal tool and warns about those Claude Code lacks", () => {
    const agent = minimalAgent({
      tools: {
        allow: [
          "read",
          "write",
          "shell",
          "grep",
          "glob",
          "web_fetch",
          "web_search",
          "todo",
          "delegate",
          "aws",
          "thinking",
          "knowledge",
          "@gh/get_issue",
          "@fetch",
        ],
        deny: ["*", "shell"],
      },
    });
    const r = render([agent]);
    const fm = text(r.files[0]).split("---")[1]!;
    expect(fm).toContain("tools: Read, Edit, Write, Bash, Grep, Glob, WebFetch, WebSearch, TodoWrite, Agent, mcp__gh__get_issue, mcp__fetch__*\n");
    expect(fm).toContain("disallowedTools: Bash\n");
    expect(r.warnings.map((w) => w.message)).toEqual([
      "claude-code: agent 'helper' uses the 'aws' tool (tools.allow), which claude-code cannot express; it is left out of this target",
      "claude-code: agent 'helper' uses the 'thinking' tool (tools.allow), which claude-code cannot express; it is left out of this target",
      "claude-code: agent 'helper' uses the 'knowledge' tool (tools.allow), which claude-code cannot express; it is left out of this target",
      "claude-code: agent 'helper' uses '*' in tools.deny, which claude-code cannot express; it is left out of this target",
    ]);
  });

  it("leaves tools out for '*' (all tools) and writes an empty list when nothing allowed is expressible", () => {
    expect(text(render([minimalAgent({ tools: { allow: ["*"] } })]).files[0])).toBe("---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n");
    expect(text(render([minimalAgent({ tools: { allow: ["aws"] } })]).files[0])).toBe(
      "---\nname: helper\ndescription: A small helper\ntools: []\n---\n\nBe helpful.\n",
    );
  });

  it("maps model ids to Claude Code aliases, keeps per-target ids and drops other vendors' models", () => {
    expect(claudeModel({ model: "claude-sonnet-4" })).toEqual({ model: "sonnet" });
    expect(claudeModel({ model: "claude-opus-4-1-20250805" })).toEqual({ model: "opus" });
    expect(claudeModel({ model: { default: "claude-haiku-4-5" } })).toEqual({ model: "haiku" });
    expect(claudeModel({ model: "claude-3-7-sonnet-latest" })).toEqual({ model: "claude-3-7-sonnet-latest" });
    expect(claudeModel({ model: "us.anthropic.claude-sonnet-4-20250514-v1:0" })).toEqual({ model: "us.anthropic.claude-sonnet-4-20250514-v1:0" });
    expect(claudeModel({ model: "inherit" })).toEqual({ model: "inherit" });
    expect(claudeModel({ model: { "claude-code": "claude-opus-4-1-20250805", default: "gpt-5" } })).toEqual({ model: "claude-opus-4-1-20250805" });
    expect(claudeModel({ model: { "q-cli": "claude-sonnet-4" } })).toEqual({});
    expect(claudeModel({ model: "gpt-5-codex" })).toEqual({ dropped: "gpt-5-codex" });
    const r = render([minimalAgent({ model: "gpt-5-codex" })]);
    expect(text(r.files[0])).not.toContain("model:");
    expect(r.warnings.map((w) => w.code)).toEqual(["unsupported-feature"]);
    expect(r.warnings[0]!.hint).toBe("it is not a Claude model; the sub-agent inherits the session's model. Set model: {claude-code: <id>} to choose one");
  });

  it("writes hooks in Claude Code's shape with second timeouts and Claude tool matchers", () => {
    const agent = minimalAgent({
      hooks: {
        promptSubmit: [{ command: "./log-prompt.sh", matcher: "ignored" }],
        afterTool: [{ command: "npm run lint", matcher: "write|@fetch", timeout: 1500 }],
        stop: [{ command: "./done.sh", timeout: 60000 }],
      },
    });
    expect(text(render([agent]).files[0])).toBe(
      [
        "---",
        "name: helper",
        "description: A small helper",
        "hooks:",
        "  UserPromptSubmit:",
        "    - hooks:",
        "        - type: command",
        "          command: ./log-prompt.sh",
        "  PostToolUse:",
        "    - matcher: Edit|Write|mcp__fetch__.*",
        "      hooks:",
        "        - type: command",
        "          command: npm run lint",
        "          timeout: 2",
        "  Stop:",
        "    - hooks:",
        "        - type: command",
        "          command: ./done.sh",
        "          timeout: 60",
        "---",
        "",
        "Be helpful.",
        "",
      ].join("\n"),
    );
  });

  it("writes extensions.claude-code fields in a fixed order and rejects unknown ones through its schema", () => {
    const agent = minimalAgent({
      extensions: {
        "claude-code": {
          initialPrompt: "Start by reading README.md",
          color: "cyan",
          permissionMode: "acceptEdits",
          maxTurns: 12,
          skills: ["code-review"],
          memory: "project",
          effort: "high",
          background: false,
          isolation: "worktree",
        },
      },
    });
    expect(text(render([agent]).files[0])).toBe(
      "---\nname: helper\ndescription: A small helper\npermissionMode: acceptEdits\ncolor: cyan\nmaxTurns: 12\nskills:\n  - code-review\nmemory: project\neffort: high\nbackground: false\nisolation: worktree\ninitialPrompt: Start by reading README.md\n---\n\nBe helpful.\n",
    );
    const schema = claudeCodeAdapter.extensionSchema!;
    expect(schema.safeParse({ colour: "red" }).success).toBe(false);
    expect(schema.safeParse({ permissionMode: "yolo" }).success).toBe(false);
    const bad = render([minimalAgent({ extensions: { "claude-code": { maxTurns: -1 } } })]);
    expect(text(bad.files[0])).toBe("---\nname: helper\ndescription: A small helper\n---\n\nBe helpful.\n");
    expect(bad.warnings.map((w) => w.code)).toEqual(["invalid-extension"]);
  });
});

describe("render: knowledge", () => {
  it("turns on-demand knowledge with applyTo into a path-scoped rule and groups shared always-on imports", () => {
    const k = join(base, "lib2", "knowledge");
    writeTree(k, {
      "api/style.md":
        "---\ndescription: API style\napplyTo:\n  - src/api/**/*.ts\n  - src/api/**/*.tsx\nmode: on-demand\n---\n# API style\n\nUse kebab-case URLs.\n",
      "common/policies.md": "# Policies\n",
      "team/notes.md": "# Notes\n",
    });
    const kn = (path: string, mode: "always" | "on-demand") => ({ path, absPath: join(k, path), mode, size: 1, mtimeMs: 0, layer: "test" });
    const a = minimalAgent({
      name: "api-dev",
      tools: { allow: ["write"] },
      knowledge: [kn("common/policies.md", "always"), kn("api/style.md", "on-demand"), kn("team/notes.md", "always")],
    });
    const b = minimalAgent({ name: "writer", knowledge: [kn("common/policies.md", "always")] });
    const r = render([b, a]);
    const p = join(base, "project");
    expect(r.files.map((f) => f.path)).toEqual([
      join(p, ".claude/agents/api-dev.md"),
      join(p, ".claude/agents/writer.md"),
      join(p, "CLAUDE.md"),
      join(p, ".claude/rules/api-style.md"),
    ]);
    expect(text(r.files[0])).toBe("---\nname: api-dev\ndescription: A small helper\ntools: Edit, Write\n---\n\nBe helpful.\n");
    expect(text(r.files[2])).toBe(
      "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n\n" +
        `## Knowledge of api-dev\n\n@${join(k, "team/notes.md")}\n\n` +
        `## Knowledge of api-dev, writer\n\n@${join(k, "common/policies.md")}\n`,
    );
    expect(text(r.files[3])).toBe(
      "---\npaths:\n  - src/api/**/*.ts\n  - src/api/**/*.tsx\n---\n\n<!-- generated by aicfg export from knowledge/api/style.md; edit the library instead -->\n\n# API style\n\nUse kebab-case URLs.\n",
    );
    expect(r.warnings).toEqual([]);
  });

  it("names library files inside the project relatively and files in the home folder with ~/, so committed files work on other machines", () => {
    const r = roots(base);
    const inProject = join(r.projectRoot, "ai-library", "knowledge");
    const inHome = join(r.homeDir, "team-lib", "knowledge");
    writeTree(inProject, { "rules.md": "# Rules\n", "deep/guide.md": "# Guide\n" });
    writeTree(inHome, { "personal.md": "# Me\n" });
    const kn = (root: string, path: string, mode: "always" | "on-demand") => ({ path, absPath: join(root, path), mode, size: 1, mtimeMs: 0, layer: "test" });
    const agent = minimalAgent({
      knowledge: [kn(inProject, "rules.md", "always"), kn(inHome, "personal.md", "always"), kn(inProject, "deep/guide.md", "on-demand")],
    });
    const out = claudeCodeAdapter.render([agent], renderContext(r));
    expect(text(out.files[1])).toBe(
      "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n\n## Knowledge of helper\n\n@~/team-lib/knowledge/personal.md\n@ai-library/knowledge/rules.md\n",
    );
    expect(text(out.files[0]).endsWith("\n- ai-library/knowledge/deep/guide.md\n")).toBe(true);
    const back = claudeCodeAdapter.parse!(materialize(r.projectRoot, out.files), r);
    expect(back.agents[0]!.knowledgeFiles).toEqual([join(inProject, "deep/guide.md")]);
    const user = claudeCodeAdapter.render([agent], renderContext(roots(base, "user")));
    expect(text(user.files[1])).toContain(`\n@~/team-lib/knowledge/personal.md\n@${join(inProject, "rules.md")}\n`);
  });

  it("names a library beside the project relative to CLAUDE.md and to the project root, so both can move together", () => {
    const work = join(base, "work");
    const r: Roots = { scope: "project", projectRoot: join(work, "app"), homeDir: join(base, "home") };
    const lib = join(work, "team-lib", "knowledge");
    writeTree(lib, { "rules.md": "# Rules\n", "deep/guide.md": "# Guide\n" });
    const kn = (path: string, mode: "always" | "on-demand") => ({ path, absPath: join(lib, path), mode, size: 1, mtimeMs: 0, layer: "test" });
    const agent = minimalAgent({ knowledge: [kn("rules.md", "always"), kn("deep/guide.md", "on-demand")] });
    const out = claudeCodeAdapter.render([agent], renderContext(r));
    expect(text(out.files[1])).toBe(
      "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n\n## Knowledge of helper\n\n@../team-lib/knowledge/rules.md\n",
    );
    expect(text(out.files[0]).endsWith("\n- ../team-lib/knowledge/deep/guide.md\n")).toBe(true);
    const back = claudeCodeAdapter.parse!(materialize(r.projectRoot, out.files), r);
    expect(back.agents[0]!.knowledgeFiles).toEqual([join(lib, "deep/guide.md")]);
  });

  it("warns instead of overwriting when two knowledge files map to one rule file", () => {
    const k = join(base, "lib3", "knowledge");
    writeTree(k, { "api/style.md": "---\napplyTo: src/**\n---\nA\n", "api-style.md": "---\napplyTo: lib/**\n---\nB\n" });
    const kn = (path: string) => ({ path, absPath: join(k, path), mode: "on-demand" as const, size: 1, mtimeMs: 0, layer: "test" });
    const r = render([minimalAgent({ knowledge: [kn("api-style.md"), kn("api/style.md")] })]);
    expect(r.files.map((f) => f.path.slice(join(base, "project").length + 1))).toEqual([".claude/agents/helper.md", ".claude/rules/api-style.md"]);
    expect(text(r.files[1])).toBe(
      "---\npaths:\n  - lib/**\n---\n\n<!-- generated by aicfg export from knowledge/api-style.md; edit the library instead -->\n\nB\n",
    );
    expect(r.warnings.map((w) => w.message)).toEqual([
      `claude-code: knowledge/api/style.md of agent 'helper' would become the same rule file as knowledge/api-style.md (${join(base, "project", ".claude/rules/api-style.md")}); it is left out`,
    ]);
  });

  it("warns when an agent must read on-demand files but may not use the read tool", () => {
    const r = render([realisticAgent(kroot, { tools: { allow: ["shell"] }, toolSettings: {} })]);
    expect(r.warnings.map((w) => w.message)).toEqual([
      "claude-code: agent 'software-engineer' uses on-demand knowledge without the read tool, which claude-code cannot express; it is left out of this target",
    ]);
  });
});

describe("render: MCP servers", () => {
  it("leaves out disabled servers, warns about fields Claude Code lacks, maps excludeTools/autoApprove and marks literal secrets", () => {
    const a = minimalAgent({
      name: "ops",
      mcpServers: {
        off: { command: "x", disabled: true },
        db: { command: "db-mcp", cwd: "/srv", env: { DB_PASSWORD: "hunter2" }, excludeTools: ["drop_table"], autoApprove: ["query"] },
        events: { type: "sse", url: "https://events.example.com/sse", includeTools: ["tail"] },
      },
    });
    const b = minimalAgent({ name: "zeta", mcpServers: { db: { command: "other-db" } } });
    const r = render([b, a]);
    const fm = text(r.files[0]).split("---")[1]!;
    expect(fm).toBe("\nname: ops\ndescription: A small helper\ndisallowedTools: mcp__db__drop_table\nmcpServers:\n  - db\n  - events\n");
    expect(r.files[2]).toEqual({
      kind: "json-keys",
      path: join(base, "project", ".mcp.json"),
      secret: true,
      entries: [
        { key: ["mcpServers", "db"], value: { type: "stdio", command: "db-mcp", env: { DB_PASSWORD: "hunter2" } } },
        { key: ["mcpServers", "events"], value: { type: "sse", url: "https://events.example.com/sse" } },
      ],
    });
    expect(r.files[3]).toEqual({
      kind: "json-keys",
      path: join(base, "project", ".claude/settings.json"),
      entries: [{ key: ["permissions", "allow"], value: ["mcp__db__query"] }],
    });
    expect(r.warnings.map((w) => `${w.code}: ${w.message}`)).toEqual([
      "unsupported-feature: claude-code: agent 'ops' uses cwd of MCP server 'db', which claude-code cannot express; it is left out of this target",
      "unsupported-feature: claude-code: agent 'ops' uses includeTools of MCP server 'events', which claude-code cannot express; it is left out of this target",
      "unsupported-feature: claude-code: agent 'ops' uses the disabled MCP server 'off', which claude-code cannot express; it is left out of this target",
      "mcp-name-clash: claude-code: agent 'zeta' defines MCP server 'db' differently from agent 'ops'; Claude Code has one server per name, 'ops''s definition is kept",
    ]);
  });
});

describe("export through the real writer", () => {
  it("keeps the user's own servers, settings and CLAUDE.md text byte-for-byte and refuses to take over their permissions", () => {
    const t = tempDir("aicfg-cc-write-");
    try {
      const r = roots(t.path);
      const p = r.projectRoot;
      const userMcp = '{\n    "mcpServers": {\n        "mine": { "command": "my-server" }\n    }\n}\n';
      writeTree(p, {
        ".mcp.json": userMcp,
        ".claude/settings.json": '{\n  "model": "opus",\n  "permissions": {\n    "allow": ["Bash(make *)"]\n  }\n}\n',
        "CLAUDE.md": "# My project\n\nUse pnpm.\n",
      });
      const agent = realisticAgent(join(t.path, "lib", "knowledge"));
      const files = claudeCodeAdapter.render([agent], renderContext(r)).files;
      const state = join(t.path, "state");
      const manifest = loadManifest(state);
      const plan = planExport([{ target: "claude-code", scope: "project", root: p, files, prune: true }], manifest, {
        force: false,
        now: "2026-01-01T00:00:00.000Z",
      });
      expect(plan.errors).toEqual([]);
      expect(plan.entries.map((e) => [e.path.slice(p.length + 1), e.action])).toEqual([
        [".claude/agents/software-engineer.md", "create"],
        [".claude/settings.json", "conflict"],
        [".mcp.json", "update"],
        ["CLAUDE.md", "update"],
      ]);
      expect(plan.entries[1]!.reason).toBe("'permissions.allow' already exists and was not written by aicfg");
      const applied = applyPlan(plan, manifest, state, "2026-01-01T00:00:00.000Z");
      saveManifest(state, manifest);
      expect(applied.failed).toEqual([]);
      const mcp = readFileSync(join(p, ".mcp.json"), "utf8");
      expect(mcp.startsWith('{\n    "mcpServers": {\n        "mine": { "command": "my-server" },\n        "fetch": {\n')).toBe(true);
      expect(JSON.parse(mcp).mcpServers.github).toEqual({
        type: "http",
        url: "https://api.githubcopilot.com/mcp/",
        headers: { Authorization: "Bearer ${GITHUB_TOKEN}" },
      });
      expect(readFileSync(join(p, ".claude/settings.json"), "utf8")).toBe('{\n  "model": "opus",\n  "permissions": {\n    "allow": ["Bash(make *)"]\n  }\n}\n');
      expect(readFileSync(join(p, "CLAUDE.md"), "utf8")).toBe(
        "# My project\n\nUse pnpm.\n\n<!-- aicfg:begin claude-code (generated by aicfg export; edit the library instead) -->\n" +
          "Always-on knowledge of the Claude Code agents exported by aicfg (imported from the library, not copied).\n\n" +
          `## Knowledge of software-engineer\n\n@${join(t.path, "lib", "knowledge", "common/policies.md")}\n<!-- aicfg:end claude-code -->\n`,
      );
      // Read back what was written: the exported agent imports with its servers.
      const back = claudeCodeAdapter.parse!(dirSource(p), r);
      expect(back.agents.map((a) => [a.spec.name, Object.keys(a.mcp)])).toEqual([["software-engineer", ["fetch", "github"]]]);
      // Removing the agent's servers later removes only our keys.
      const again = claudeCodeAdapter.render([minimalAgent()], renderContext(r)).files;
      const manifest2 = loadManifest(state);
      const plan2 = planExport([{ target: "claude-code", scope: "project", root: p, files: again, prune: true }], manifest2, {
        force: false,
        now: "2026-01-02T00:00:00.000Z",
      });
      expect(applyPlan(plan2, manifest2, state, "2026-01-02T00:00:00.000Z").failed).toEqual([]);
      expect(readFileSync(join(p, ".mcp.json"), "utf8")).toBe(userMcp);
      expect(readFileSync(join(p, "CLAUDE.md"), "utf8")).toBe("# My project\n\nUse pnpm.\n");
      expect(readdirSync(join(p, ".claude/agents"))).toEqual(["helper.md"]);
    } finally {
      t.cleanup();
    }
  });
});

describe("parse: real sub-agent files", () => {
  const fixture = join(import.meta.dirname, "..", "fixtures", "claude-code", "project");
  const file = (rel: string) => join(fixture, rel);

  it("imports a full sub-agent with tools, servers, hooks and Claude-only fields, and warns about the rest", () => {
    const r: Roots = { scope: "project", projectRoot: fixture, homeDir: join(base, "home") };
    const res = claudeCodeAdapter.parse!(dirSource(fixture), r);
    expect(res.agents).toEqual([
      {
        spec: {
          name: "code-reviewer",
          description: "Reviews changes for bugs, security and style. Use after every change.",
          model: { "claude-code": "opus" },
          tools: { allow: ["read", "grep", "glob", "shell", "delegate", "@github/get_pull_request"], deny: ["write"] },
          mcp: ["github", "local-notes"],
          hooks: {
            beforeTool: [{ command: "./scripts/guard.sh", matcher: "shell|@github", timeout: 30000 }],
            stop: [{ command: "./scripts/summary.sh" }],
          },
          extensions: { "claude-code": { permissionMode: "plan", color: "purple", memory: "project" } },
        },
        instructions: "You are a meticulous code reviewer.\n\nReport problems by severity.\n",
        mcp: {
          github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
          "local-notes": { command: "node", args: ["notes-server.js"] },
        },
        knowledgeFiles: [],
        source: file(".claude/agents/code-reviewer.md"),
      },
    ]);
    expect(res.warnings.map((w) => [w.code, w.message, w.line ?? null])).toEqual([
      ["unknown-field", "field 'favouriteColour' is not known to the import and is left out", 35],
      ["tool-narrowed", "tool 'Bash(git diff *)': the part in parentheses has no universal equivalent; imported as 'shell'", 4],
      ["unknown-tool", "tool 'NotebookRead' has no universal equivalent; left out", 4],
      ["unknown-mcp", `MCP server 'missing-server' is not defined in ${file(".mcp.json")}; left out`, 9],
      ["unsupported-feature", "hook event 'Notification' has no universal equivalent; left out", null],
      ["invalid-field", "maxTurns: Too small: expected number to be >0; left out", 33],
      ["import-skipped", "agent not imported: description Invalid input: expected string, received undefined", 1],
      // Every server of .mcp.json is imported into the registry now, so the one no agent uses warns too.
      ["unsupported-feature", "MCP server 'live' uses WebSocket transport, which the library has no field for; left out", null],
    ]);
    expect(res.warnings.map((w) => w.severity)).toEqual([...Array(6).fill("warning"), "error", "warning"]);
    expect(res.warnings[6]!.file).toBe(file(".claude/agents/no-description.md"));
    expect(res.skipped).toEqual([{ file: file(".claude/agents/no-description.md"), reason: "missing description", error: true }]);
    expect(Object.keys(res.servers!.servers).sort()).toEqual(["fetch", "github"]); // local-notes is inline in the agent; live (ws) is left out
  });

  it("does not take inherited object names for tools or hook events", () => {
    const root = join(base, "parse-proto");
    writeTree(root, {
      ".claude/agents/odd.md":
        "---\nname: odd\ndescription: Odd\ntools: constructor, Read\nhooks:\n  toString:\n    - hooks:\n        - type: command\n          command: x\n---\n\nHi.\n",
    });
    const res = claudeCodeAdapter.parse!(dirSource(root), { scope: "project", projectRoot: root, homeDir: join(base, "h") });
    expect(res.agents.map((a) => a.spec)).toEqual([{ name: "odd", description: "Odd", tools: { allow: ["read"] } }]);
    expect(res.warnings.map((w) => w.message)).toEqual([
      "tool 'constructor' has no universal equivalent; left out",
      "hook event 'toString' has no universal equivalent; left out",
    ]);
  });

  it("reads user-scope servers from ~/.claude.json", () => {
    const home = join(base, "parse-home");
    writeTree(home, {
      ".claude/agents/helper.md": "---\nname: helper\ndescription: Helps\nmcpServers: [fetch]\nmodel: inherit\n---\n\nHelp.\n",
      ".claude.json": JSON.stringify({ numStartups: 3, mcpServers: { fetch: { type: "stdio", command: "uvx", args: ["mcp-server-fetch"] } } }),
    });
    const res = claudeCodeAdapter.parse!(dirSource(home), { scope: "user", projectRoot: join(base, "p"), homeDir: home });
    expect(res.agents.map((a) => [a.spec, a.mcp])).toEqual([
      [{ name: "helper", description: "Helps", mcp: ["fetch"] }, { fetch: { command: "uvx", args: ["mcp-server-fetch"] } }],
    ]);
    expect(res.warnings).toEqual([]);
  });
});

describe("parse(render(x))", () => {
  it("keeps name, description, instructions, the Claude model, tools.allow and MCP servers", () => {
    const r = roots(base);
    fc.assert(
      fc.property(agentArb(), (agent) => {
        const out = claudeCodeAdapter.render([agent], renderContext(r));
        const res = claudeCodeAdapter.parse!(materialize(r.projectRoot, out.files), r);
        expect(res.warnings).toEqual([]);
        expect(res.agents).toHaveLength(1);
        const back = res.agents[0]!;
        expect(back.spec.name).toBe(agent.name);
        expect(back.spec.description).toBe(agent.description);
        expect(back.instructions).toBe(agent.instructions);
        expect(modelFor(back.spec, "claude-code")).toBe(claudeModel(agent).model);
        expect(back.spec.tools?.allow).toEqual(agent.tools.allow);
        expect(back.mcp).toEqual(agent.mcpServers);
        expect(back.spec.mcp ?? []).toEqual(Object.keys(agent.mcpServers).sort());
      }),
      { numRuns: 60 },
    );
  });

  it("reads the on-demand knowledge list back as knowledge files", () => {
    const r = roots(base);
    const agent = realisticAgent(kroot);
    const res = claudeCodeAdapter.parse!(materialize(r.projectRoot, claudeCodeAdapter.render([agent], renderContext(r)).files), r);
    expect(res.agents[0]!.knowledgeFiles).toEqual([join(kroot, "domains/security.md")]);
    expect(res.agents[0]!.instructions).toBe(agent.instructions);
    expect(res.agents[0]!.spec.hooks).toEqual({
      sessionStart: [{ command: "git status --short" }],
      beforeTool: [{ command: "./scripts/check.sh", matcher: "shell", timeout: 5000 }],
    });
  });
});

describe("detect", () => {
  it("finds a real claude binary, its version and the config folders", async () => {
    const bin = join(base, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "claude"), "#!/bin/sh\necho '2.1.301 (Claude Code)'\n");
    chmodSync(join(bin, "claude"), 0o755);
    const home = join(base, "detect-home");
    const project = join(base, "detect-project");
    writeTree(home, { ".claude/settings.json": "{}\n", ".claude.json": "{}\n" });
    writeTree(project, { ".mcp.json": "{}\n" });
    const d = await claudeCodeAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: project, env: { PATH: bin } }));
    expect(d.installed).toBe(true);
    expect(d.binary).toEqual({ name: "claude", path: join(bin, "claude"), version: "2.1.301" });
    expect(d.generation).toBe("claude-code 2.1.301");
    expect(d.configPaths).toEqual([
      { path: join(home, ".claude"), exists: true },
      { path: join(home, ".claude.json"), exists: true },
      { path: join(project, ".claude"), exists: false },
      { path: join(project, ".mcp.json"), exists: true },
      { path: join(project, "CLAUDE.md"), exists: false },
    ]);
    expect(d.exportPaths.project).toEqual([
      join(project, ".claude/agents"),
      join(project, ".mcp.json"),
      join(project, "CLAUDE.md"),
      join(project, ".claude/rules"),
      join(project, ".claude/settings.json"),
    ]);
    expect(d.nextSteps[0]).toBe("run 'aicfg export --target claude-code', then '/agents' inside Claude Code to see the exported sub-agents");
  });

  it("reports a missing binary with install steps and notes a leftover ~/.claude", async () => {
    const home = join(base, "detect-home2");
    writeTree(home, { ".claude/CLAUDE.md": "# me\n" });
    const d = await claudeCodeAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(base, "nowhere"), env: { PATH: join(base, "no-bin") } }));
    expect(d.installed).toBe(false);
    expect(d.binary).toBeUndefined();
    expect(d.notes).toEqual(["~/.claude exists but the 'claude' binary is not on PATH (installed elsewhere, or only the IDE extension is used)"]);
    expect(d.nextSteps[0]).toBe("install Claude Code: npm install -g @anthropic-ai/claude-code (or the native installer from code.claude.com)");
  });
});

describe("claude-code: project-wide permission rules", () => {
  it("says once, for all agents, that their rules apply to every session", async () => {
    const { minimalAgent, renderContext, tempDir } = await import("../helpers/fixtures.ts");
    const d = tempDir();
    try {
      const roots = { scope: "project" as const, projectRoot: join(d.path, "p"), homeDir: join(d.path, "h") };
      const a = minimalAgent({ name: "a", tools: { trusted: ["read"] } });
      const b = minimalAgent({ name: "b", tools: { trusted: ["grep"] } });
      const c = minimalAgent({ name: "c" });
      const r = claudeCodeAdapter.render([a, b, c], renderContext(roots));
      const widened = r.warnings.filter((w) => w.code === "permissions-widened");
      expect(widened.map((w) => w.message)).toEqual([
        `claude-code: the trusted tools and tool settings of agents 'a', 'b' become permission rules in ${join(roots.projectRoot, ".claude/settings.json")}, which apply to every Claude Code session there, not only to these agents`,
      ]);
    } finally {
      d.cleanup();
    }
  });
});
