// Library analytics (the dashboard's matrix and health pages, `aicfg report`) on a real library in
// a temp folder with real exports: fresh / stale / drift per agent and target, unsupported features,
// knowledge sizes as on disk, and always-loaded tokens per agent per tool that agree with the
// export's own budget figures (o200k_base counts from gpt-tokenizer).
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { countTokens } from "gpt-tokenizer";
import { libraryAnalytics } from "../../src/adapters/analytics.ts";
import { exportLibrary } from "../../src/adapters/export.ts";
import { loadLibrary } from "../../src/library/load.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void } | undefined;
afterEach(() => {
  dir?.cleanup();
  dir = undefined;
});

const BODY = "Review every change for correctness, tests and naming.\n";

function setup() {
  dir = tempDir("aicfg-analytics-");
  const lib = join(dir.path, "lib");
  const root = join(dir.path, "project");
  const state = join(dir.path, "state");
  writeTree(lib, {
    "aicfg.yaml": "name: acme\ntargets: [claude-code, kiro-cli, q-cli]\n",
    "agents/reviewer.md": `---\ndescription: Reviews changes\nknowledge: [style.md]\ntools: { allow: [read, grep, glob] }\n---\n${BODY}`,
    "agents/writer.md": "---\ndescription: Writes docs\ntargets: [claude-code, kiro-cli]\n---\nWrite clear documentation.\n",
    "knowledge/style.md": "# Style\n\nShort sentences. Active voice.\n".repeat(20),
    "knowledge/unused.md": "# Unused\n",
  });
  return { lib, root, state };
}

describe("library analytics", () => {
  it("tells fresh, stale and drift apart per agent and target", () => {
    const { lib, root, state } = setup();
    const before = libraryAnalytics({ library: loadLibrary(lib), stateDir: state, root });
    expect(before.targets.map((t) => t.id)).toEqual(["claude-code", "kiro-cli", "q-cli"]);
    expect(before.matrix.every((c) => c.status === "stale")).toBe(true);
    expect(before.matrix.filter((c) => c.agent === "writer").map((c) => c.target)).toEqual(["claude-code", "kiro-cli"]);

    const done = exportLibrary({ library: lib, stateDir: state, root });
    expect(done.errors).toEqual([]);
    const fresh = libraryAnalytics({ library: loadLibrary(lib), stateDir: state, root });
    expect(fresh.matrix.map((c) => `${c.agent}/${c.target}:${c.status}`)).toEqual([
      "reviewer/claude-code:fresh",
      "writer/claude-code:fresh",
      "reviewer/kiro-cli:fresh",
      "writer/kiro-cli:fresh",
      "reviewer/q-cli:fresh",
    ]);

    // A hand edit of one exported file is drift for that agent and target only.
    const kiroWriter = join(root, ".kiro", "agents", "writer.json");
    writeFileSync(kiroWriter, readFileSync(kiroWriter, "utf8").replace("Write clear documentation.", "Edited by hand."));
    // A changed agent is stale in each of its targets.
    const agentFile = join(lib, "agents", "reviewer.md");
    writeFileSync(agentFile, readFileSync(agentFile, "utf8").replace("Reviews changes", "Reviews every change"));
    const after = libraryAnalytics({ library: loadLibrary(lib), stateDir: state, root });
    const status = Object.fromEntries(after.matrix.map((c) => [`${c.agent}/${c.target}`, c.status]));
    expect(status).toEqual({
      "reviewer/claude-code": "stale",
      "writer/claude-code": "fresh",
      "reviewer/kiro-cli": "stale",
      "writer/kiro-cli": "drift",
      "reviewer/q-cli": "stale",
    });
    expect(after.agents.find((a) => a.name === "writer")!.states).toEqual({ fresh: 1, stale: 0, drift: 1, none: 0 });
  });

  it("names the features a target cannot express, and sizes knowledge as on disk", () => {
    const { lib, root, state } = setup();
    const a = libraryAnalytics({ library: loadLibrary(lib), stateDir: state, root });
    const q = a.matrix.find((c) => c.agent === "reviewer" && c.target === "q-cli")!;
    expect(q.unsupported.join(" ")).toMatch(/glob/);
    expect(a.matrix.find((c) => c.agent === "writer" && c.target === "kiro-cli")!.unsupported).toEqual([]);
    expect(a.knowledge.map((k) => [k.path, k.bytes, k.usedBy])).toEqual([
      ["style.md", statSync(join(lib, "knowledge", "style.md")).size, 1],
      ["unused.md", statSync(join(lib, "knowledge", "unused.md")).size, 0],
    ]);
    const reviewer = a.agents.find((x) => x.name === "reviewer")!;
    expect(reviewer.instructionsChars).toBe(BODY.length);
    expect(reviewer.alwaysBytes).toBe(statSync(join(lib, "knowledge", "style.md")).size);
  });

  it("measures always-loaded tokens per agent per tool with gpt-tokenizer, agreeing with the export's budget figures", () => {
    const { lib, root, state } = setup();
    const a = libraryAnalytics({ library: loadLibrary(lib), stateDir: state, root });
    for (const t of a.targets) {
      const cells = a.budgets.filter((c) => c.target === t.id);
      expect(cells.map((c) => c.agent).sort()).toEqual([...t.agents].sort());
      for (const c of cells) {
        expect(c.figures.budget).toEqual(t.budget);
        expect(c.share).toBeCloseTo(c.figures.used / t.budget.max, 12);
        expect(c.figures.tokens).toBeGreaterThan(0);
      }
      // One session as an agent is what a per-agent budget bounds: the export reports the largest.
      if (t.budget.per === "agent") expect(Math.max(...cells.map((c) => c.figures.tokens))).toBe(t.whole!.tokens);
    }
    // Recounted here from the renders themselves: the always-loaded text of each agent's session
    // (shared files plus its own, files loaded along at bytes / 4), counted by gpt-tokenizer.
    const renders = new Map<string, OutputFile[]>();
    exportLibrary({ library: lib, stateDir: state, root, dryRun: true, noCache: true, onRender: (t, r) => renders.set(t, r.files) });
    let checked = 0;
    for (const c of a.budgets) {
      const budget = a.targets.find((t) => t.id === c.target)!.budget;
      if (budget.per === "file") continue;
      const loaded = renders
        .get(c.target)!
        .filter((f): f is Extract<OutputFile, { kind: "file" | "md-section" }> => (f.kind === "file" || f.kind === "md-section") && f.alwaysLoaded === true)
        .filter((f) => f.agent === undefined || f.agent === c.agent);
      const own = loaded.filter((f) => f.agent === c.agent);
      const shared = loaded.filter((f) => f.agent === undefined);
      const parts = budget.per === "agent" && own.length ? [...shared, ...own] : loaded;
      const text = parts.map((f) => (typeof f.content === "string" ? f.content : new TextDecoder().decode(f.content))).join("\n");
      const extra = parts.reduce((n, f) => n + (f.loadsBytes ?? 0), 0);
      expect(c.figures.tokens, `${c.agent} in ${c.target}`).toBe(countTokens(text) + Math.ceil(extra / 4));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it("tells how each agent's knowledge reaches each tool: inline, or the large-context form when it does not fit", () => {
    dir = tempDir("aicfg-analytics-");
    const lib = join(dir.path, "lib");
    writeTree(lib, {
      "aicfg.yaml": "name: acme\ntargets: [codex, claude-code]\n",
      "agents/big.md": "---\ndescription: Knows a lot\nknowledge: [big/**]\n---\nUse the knowledge.\n",
      "agents/small.md": "---\ndescription: Knows little\nknowledge: [small.md]\n---\nBe brief.\n",
      ...Object.fromEntries(
        Array.from({ length: 8 }, (_, i) => [`knowledge/big/part-${i}.md`, `# Part ${i}\n\n${"All work is reviewed twice before release. ".repeat(200)}\n`]),
      ),
      "knowledge/small.md": "# Small\n\nOne rule.\n",
    });
    const a = libraryAnalytics({ library: loadLibrary(lib), stateDir: join(dir.path, "state"), root: join(dir.path, "project") });
    const codex = a.budgets.filter((c) => c.target === "codex");
    // Codex loads AGENTS.md up to its byte limit: ~70 KB of always-on knowledge does not fit inline.
    expect(codex.map((c) => c.context?.strategy)).toEqual(["index", "index"]);
    expect(codex.find((c) => c.agent === "big")!.context!.files).toBe(8);
    const claude = a.budgets.filter((c) => c.target === "claude-code");
    expect(claude.every((c) => c.context?.strategy === "inline")).toBe(true);
  });
});
