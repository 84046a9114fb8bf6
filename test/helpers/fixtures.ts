// Shared test fixtures: realistic resolved agents, temporary folders, in-memory file sources and
// a render context, so every adapter is tested on the same inputs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { FileSource, OutputFile, Roots } from "../../src/adapters/types.ts";
export { minimalAgent, realisticAgent, renderContext, tempDir, writeTree } from "../../src/testing/fixtures.ts";

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
