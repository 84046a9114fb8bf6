// Shared test fixtures: realistic resolved agents, temporary folders, in-memory file sources and
// a render context, so every adapter is tested on the same inputs.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Library, ResolvedAgent } from "../../src/library/model.ts";
import type { FileSource, OutputFile, RenderContext, Roots } from "../../src/adapters/types.ts";
import { readKnowledgeBody } from "../../src/library/resolve.ts";

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

export function roots(base: string, scope: "project" | "user" = "project"): Roots {
  return { scope, projectRoot: join(base, "project"), homeDir: join(base, "home") };
}

/** Turns rendered whole files into a FileSource rooted at `root` (for parse round-trips). */
export function memorySource(root: string, files: readonly OutputFile[]): FileSource {
  const map = new Map<string, string>();
  for (const f of files) {
    if (!f.path.startsWith(root + "/")) continue;
    const rel = f.path.slice(root.length + 1);
    if (f.kind === "file") map.set(rel, typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8"));
  }
  return {
    root,
    read: (rel) => map.get(rel),
    list: (relDir) => {
      const prefix = relDir ? relDir.replace(/\/$/, "") + "/" : "";
      return [...map.keys()].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes("/")).sort();
    },
  };
}

/** Content of one rendered whole file by path suffix; throws when absent. */
export function fileContent(files: readonly OutputFile[], suffix: string): string {
  const f = files.find((x) => x.path.endsWith(suffix));
  if (!f) throw new Error(`no rendered file ends with ${suffix}; have: ${files.map((x) => x.path).join(", ")}`);
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8");
  if (f.kind === "md-section") return f.content;
  return JSON.stringify(f.kind === "json-keys" ? f.entries : f.tables);
}

/** Runs an ES-module snippet in a child process of the current runtime (Node, Bun or Deno). */
export function runInChild(code: string, opts: { cwd?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const args = g.Deno ? ["eval", "--ext=ts", code] : g.Bun ? ["-e", code] : ["--input-type=module", "-e", code];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", cwd: opts.cwd ?? process.cwd() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The exact one-level knowledge index the large-context planner (src/adapters/fallback.ts) appends to
 * an agent's instructions: `groups` are [folder as the agent reads it, [[file name, description], ...]];
 * `level` is the heading level of its title (4 in AGENTS.md-style agent blocks, which demote headings by two).
 */
export function knowledgeIndex(groups: [string, [string, string][]][], level = 2): string {
  const h = "#".repeat(level);
  const list = groups.map(([dir, files]) => `${h}# ${dir}/\n\n${files.map(([n, d]) => `- ${n}${d ? `: ${d}` : ""}\n`).join("")}`).join("\n");
  return (
    `<!-- aicfg:knowledge-index -->\n${h} Knowledge index\n\n` +
    "These knowledge files are not loaded up front. Before you answer, read the ones the task needs with your file-reading tool; " +
    "paths are relative to the folder you run in (the project root), `~` is the home folder.\n\n" +
    list +
    "<!-- aicfg:knowledge-index-end -->\n"
  );
}
