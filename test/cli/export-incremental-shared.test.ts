// The adapters that write shared files (AGENTS.md, CLAUDE.md, GEMINI.md, .mcp.json, .vscode/mcp.json,
// config.toml, settings.json) name each output with what it reads (RenderContext.output): a one-file
// edit renders only the outputs that hold that file, and the shared files, merged into what the user
// wrote there, come out byte for byte as a cold export of the same library writes them.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runInChild, tempDir, writeTree } from "../helpers/fixtures.ts";
import { expectSameTree } from "../helpers/tree.ts";
import { cli } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
  writeTree(join(dir.path, "lib"), {
    "aicfg.yaml": "name: shared\ntargets: []\nexport:\n  scope: project\n",
    "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    "agents/alpha.md": "---\ndescription: Designs the API\nknowledge: [api/**]\nmcp: [fetch]\ntools:\n  trusted: [read]\n---\nDesign the API carefully.\n",
    "agents/beta.md": "---\ndescription: Writes the docs\nknowledge: [docs.md, shared.md]\n---\nWrite the docs plainly.\n",
    "agents/gamma.md":
      "---\ndescription: Reviews changes\nknowledge: [shared.md, { path: review.md, mode: on-demand }, { path: style.md, mode: on-demand }]\n---\nReview every change.\n",
    "knowledge/api/rest.md": "---\ndescription: REST rules\n---\n# REST\n\nUse nouns for resources.\n",
    "knowledge/api/errors.md": "# Errors\n\nReturn problem+json.\n",
    "knowledge/docs.md": "---\ntitle: Docs style\n---\n# Docs\n\nShort sentences.\n",
    "knowledge/shared.md": "# Shared\n\nBe kind in reviews and docs.\n",
    "knowledge/review.md": "# Review\n\nCheck the tests first.\n",
    "knowledge/style.md": "---\napplyTo: src/**\n---\n# Style\n\nTwo spaces.\n",
  });
});
afterEach(() => dir.cleanup());

const lib = () => join(dir.path, "lib");

/** What the user wrote in the shared files before any export: merged into, never overwritten. */
function seed(root: string): void {
  writeTree(root, {
    "AGENTS.md": "# My project\n\nWritten by hand.\n",
    "GEMINI.md": "# Gemini notes\n\nWritten by hand.\n",
    ".mcp.json": '{\n    "mcpServers": {\n        "mine": { "command": "my-server" }\n    }\n}\n',
    ".vscode/mcp.json": '{\n\t"servers": {\n\t\t"mine": { "type": "stdio", "command": "my-server" }\n\t}\n}\n',
    ".cursor/mcp.json": '{ "mcpServers": { "mine": { "command": "my-server" } } }\n',
    ".gemini/settings.json": '{\n  "theme": "dark",\n  "mcpServers": {}\n}\n',
    ".codex/config.toml": 'model = "o3"\n\n[mcp_servers.mine]\ncommand = "my-server"\n',
    ".claude/settings.json": '{\n  "env": { "A": "1" }\n}\n',
  });
}

type Target = { target: string; cached: boolean; rendered: number; whole?: boolean; outputs?: { rendered: number; cached: number } };
type FileEntry = { path: string; targets: string[]; agent?: string; action: string };

const SIX = ["agents-md", "claude-code", "codex", "copilot", "cursor", "gemini-cli"] as const;
/**
 * Outputs holding docs.md's text (always-on knowledge of beta alone): AGENTS.md and GEMINI.md inline it,
 * Codex inlines it in beta's TOML, Copilot and Cursor give it a file of its own; Claude Code imports it
 * from CLAUDE.md by path, so no output of it holds the text.
 */
const HOLDING_DOCS: Record<(typeof SIX)[number], number> = { "agents-md": 1, "claude-code": 0, codex: 1, copilot: 1, cursor: 1, "gemini-cli": 1 };

/**
 * Outputs holding style.md's text (on-demand, `applyTo: src/**`, of gamma): a rule of its own in Claude
 * Code, Copilot and Cursor; the others list it in gamma's knowledge index by path and title, which a
 * body edit leaves as it was.
 */
const HOLDING_STYLE: Record<(typeof SIX)[number], number> = { "agents-md": 0, "claude-code": 1, codex: 0, copilot: 1, cursor: 1, "gemini-cli": 0 };

describe("aicfg export: the adapters with shared files render only the outputs an edit reaches", () => {
  for (const target of SIX) {
    it(`${target}: a knowledge, agent and MCP edit each render only their outputs and write what a cold export writes`, async () => {
      let runs = 0;
      const exportTo = async (out: string, state: string, json = true) => {
        const args = ["export", "--library", lib(), "--target", target, "--root", join(dir.path, out), "--state-dir", join(dir.path, state)];
        const r = await cli(json ? [...args, "--json"] : args);
        expect(r.err).not.toContain("error:");
        return r;
      };
      const run = async () => {
        const j = (await exportTo("out", "state")).json();
        expect(j.ok, JSON.stringify(j.errors)).toBe(true);
        // The oracle: the same library exported cold, into a fresh root (seeded alike) with a fresh state.
        const oracle = `oracle-${++runs}`;
        seed(join(dir.path, oracle));
        expect((await exportTo(oracle, `state-${oracle}`)).json().ok).toBe(true);
        expectSameTree(join(dir.path, "out"), join(dir.path, oracle));
        const t = (j.targets as Target[]).find((x) => x.target === target)!;
        expect(t.whole, target).toBeUndefined();
        const changed = (j.files as FileEntry[]).filter((f) => f.targets.includes(target) && f.action !== "unchanged");
        return { j, t, changed };
      };

      seed(join(dir.path, "out"));
      const first = await run();
      const cold = first.j;
      const total = cold.rendered.totalOutputs as number;
      // Memoized from the first export: every output rendered, none cached; the user's part of each shared file kept.
      expect(first.t.outputs).toEqual({ rendered: first.t.rendered, cached: 0 });
      expect(first.t.rendered).toBe(total);
      expect(total).toBeGreaterThanOrEqual(target === "agents-md" ? 1 : 5);
      expect(readFileSync(join(dir.path, "out", "AGENTS.md"), "utf8")).toContain("Written by hand.");

      // 1. docs.md, always-on knowledge of beta alone: only the outputs holding its text are rendered again.
      writeFileSync(join(lib(), "knowledge", "docs.md"), "---\ntitle: Docs style\n---\n# Docs\n\nVery short sentences, always.\n");
      const docs = await run();
      expect(docs.t.rendered, target).toBe(HOLDING_DOCS[target]);
      expect(docs.changed.length, target).toBe(HOLDING_DOCS[target]);
      if (!docs.t.cached) expect(docs.t.outputs, target).toEqual({ rendered: HOLDING_DOCS[target], cached: total - HOLDING_DOCS[target] });
      expect(docs.j.rendered.outputs).toBe(HOLDING_DOCS[target]);

      // The human summary says it too.
      writeFileSync(join(lib(), "knowledge", "docs.md"), "---\ntitle: Docs style\n---\n# Docs\n\nVery short sentences.\n");
      const human = await exportTo("out", "state", false);
      expect(human.out).toContain(`${HOLDING_DOCS[target]} of ${total} output(s) rendered again`);

      // 2. style.md, on-demand knowledge of gamma with applyTo globs: a rule of its own where the tool has them.
      writeFileSync(join(lib(), "knowledge", "style.md"), "---\napplyTo: src/**\n---\n# Style\n\nTwo spaces, no tabs.\n");
      const style = await run();
      expect(style.t.rendered, target).toBe(HOLDING_STYLE[target]);
      expect(style.changed.length, target).toBe(HOLDING_STYLE[target]);

      // 3. beta's instructions: only beta's own outputs and the shared files that hold its text.
      writeFileSync(
        join(lib(), "agents", "beta.md"),
        "---\ndescription: Writes the docs\nknowledge: [docs.md, shared.md]\n---\nWrite the docs plainly and briefly.\n",
      );
      const beta = await run();
      expect(beta.t.rendered, target).toBe(beta.changed.length);
      expect(beta.t.rendered, target).toBeGreaterThan(0);
      for (const f of beta.changed) expect(f.agent === undefined || f.agent === "beta", f.path).toBe(true);

      // 4. The MCP server alpha uses: the shared MCP file changes; only alpha's outputs and the shared files may be rendered again.
      writeFileSync(join(lib(), "mcp", "fetch.yaml"), "command: uvx\nargs: [mcp-server-fetch, --ignore-robots-txt]\n");
      const mcp = await run();
      const reachable = (cold.files as FileEntry[]).filter((f) => f.targets.includes(target) && (f.agent === undefined || f.agent === "alpha")).length;
      expect(mcp.t.rendered, target).toBeGreaterThanOrEqual(mcp.changed.length);
      expect(mcp.t.rendered, target).toBeLessThanOrEqual(reachable);
      if (target !== "agents-md")
        expect(
          mcp.changed.some((f) => f.agent === undefined && /mcp|config\.toml|settings\.json/.test(f.path)),
          target,
        ).toBe(true);
      for (const f of mcp.changed) expect(f.agent === undefined || f.agent === "alpha", f.path).toBe(true);
    });
  }
});

describe("aicfg export: claude-projects in a new process after a one-part edit", () => {
  it("deflates only the changed part again (the others come from its ZIPs on disk, checked by inflating) and writes what a cold export writes", () => {
    // 40 files: merged into upload parts, so an edit of one file changes one part.
    const files: Record<string, string> = {
      "aicfg.yaml": "name: bundles\ntargets: []\n",
      "agents/all.md": '---\ndescription: Reads everything\nknowledge: ["**"]\n---\nFollow every document.\n',
    };
    for (let i = 0; i < 40; i++) files[`knowledge/k-${String(i).padStart(2, "0")}.md`] = `# Rule ${i}\n\n${"Keep handlers small. ".repeat(50 + i)}\n`;
    writeTree(join(dir.path, "big"), files);
    const main = fileURLToPath(new URL("../../src/daemon/cli/main.ts", import.meta.url));
    const exportIn = (out: string) => {
      const args = [
        "export",
        "--library",
        join(dir.path, "big"),
        "--target",
        "claude-projects",
        "--root",
        join(dir.path, out),
        "--state-dir",
        join(dir.path, `${out}-state`),
      ];
      const r = runInChild(`import { runCli } from ${JSON.stringify(main)}; process.exitCode = await runCli(${JSON.stringify(args)});`);
      expect(r.status, r.stderr).toBe(0);
    };
    exportIn("out");
    appendFileSync(join(dir.path, "big", "knowledge", "k-07.md"), "One more line.\n");
    exportIn("out");
    exportIn("cold");
    const zip = join("claude-projects", "all", "all.zip");
    expect(readFileSync(join(dir.path, "out", zip)).length).toBeGreaterThan(1000);
    expectSameTree(join(dir.path, "out"), join(dir.path, "cold"));
  });
});
