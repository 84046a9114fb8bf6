// Fixtures of the test kit: realistic resolved agents, temporary folders and a render context, so
// every adapter (built-in or a plugin's) is tested on the same inputs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Library, ResolvedAgent } from "../library/model.ts";
import type { RenderContext, Roots } from "../adapters/types.ts";
import { readKnowledgeBody } from "../library/resolve.ts";

export function tempDir(prefix = "aicfg-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes a tree of files: keys are relative paths, values the content. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

function emptyLibrary(root = "/lib"): Library {
  return {
    root,
    manifestFile: join(root, "aicfg.yaml"),
    manifest: { name: "test" },
    layers: [{ name: "test", root, index: 0 }],
    agents: new Map(),
    knowledge: new Map(),
    mcp: new Map(),
    templates: new Map(),
    skills: new Map(),
    commands: new Map(),
    workflowDirs: [],
    diagnostics: [],
  };
}

/**
 * A realistic agent: instructions, always-on and on-demand knowledge, a stdio and an http MCP
 * server (with env references and a literal secret), tool policy, settings and hooks.
 * Knowledge files are created under `knowledgeRoot` so adapters can read them.
 */
export function realisticAgent(knowledgeRoot: string, overrides: Partial<ResolvedAgent> = {}): ResolvedAgent {
  writeTree(knowledgeRoot, {
    "common/policies.md": "---\ndescription: Org policies\n---\n# Policies\n\n- Review every change.\n",
    "domains/security.md": "# Security\n\nNever commit secrets.\n",
  });
  const k = (path: string, mode: "always" | "on-demand") => ({
    path,
    absPath: join(knowledgeRoot, path),
    mode,
    size: readFileSync(join(knowledgeRoot, path)).length,
    mtimeMs: 0,
    layer: "test",
  });
  return {
    name: "software-engineer",
    description: "Implements features with tests",
    model: "claude-sonnet-4",
    instructions: "# Role\n\nYou are a senior software engineer. Write tests first.\n",
    knowledge: [k("common/policies.md", "always"), k("domains/security.md", "on-demand")],
    mcpServers: {
      fetch: { command: "uvx", args: ["mcp-server-fetch"], env: { API_KEY: "${FETCH_KEY}" }, timeout: 120000 },
      github: { type: "http", url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer ${GITHUB_TOKEN}" } },
    },
    tools: { allow: ["read", "write", "shell", "@fetch"], deny: ["web_search"], trusted: ["read", "@fetch"] },
    toolSettings: {
      write: { allowedPaths: ["src/**", "tests/**"] },
      shell: { allowedCommands: ["npm test", "git status"], autoAllowReadonly: true },
    },
    hooks: {
      sessionStart: [{ command: "git status --short" }],
      beforeTool: [{ command: "./scripts/check.sh", matcher: "shell", timeout: 5000 }],
    },
    targets: [],
    tags: ["engineering"],
    extensions: {},
    sourceFile: "/lib/agents/software-engineer.md",
    provenance: {},
    ...overrides,
  };
}

/** The smallest valid agent. */
export function minimalAgent(overrides: Partial<ResolvedAgent> = {}): ResolvedAgent {
  return {
    name: "helper",
    description: "A small helper",
    instructions: "Be helpful.\n",
    knowledge: [],
    mcpServers: {},
    tools: {},
    toolSettings: {},
    hooks: {},
    targets: [],
    tags: [],
    extensions: {},
    sourceFile: "/lib/agents/helper.md",
    provenance: {},
    ...overrides,
  };
}

export function renderContext(roots: Roots, library: Library = emptyLibrary()): RenderContext {
  return { ...roots, library, readKnowledge: (p) => readKnowledgeBody(p), readBytes: (p) => readFileSync(p) };
}
