// A one-file edit renders only the outputs that read that file: targets whose adapter renders one
// agent alone (Adapter.split) render only the agents that read it, every other adapter names each
// output with its inputs (RenderContext.output), so no target is rendered whole. Whatever was
// cached, the exported bytes equal a cold export of the edited library.
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest } from "../../src/adapters/manifest.ts";
import { GENERIC_TARGETS } from "../../src/adapters/generic/targets.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { expectSameTree as expectSameTreeAt, targetText } from "../helpers/tree.ts";
import { cli } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
  writeTree(join(dir.path, "lib"), {
    "aicfg.yaml": "name: incr\ntargets: []\nexport:\n  scope: project\n",
    "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    "agents/alpha.md": "---\ndescription: Designs the API\nknowledge: [api/**]\nmcp: [fetch]\n---\nDesign the API carefully.\n",
    "agents/beta.md": "---\ndescription: Writes the docs\nknowledge: [docs.md, shared.md]\n---\nWrite the docs plainly.\n",
    "agents/gamma.md": "---\ndescription: Reviews changes\nknowledge: [shared.md, { path: review.md, mode: on-demand }]\n---\nReview every change.\n",
    "knowledge/api/rest.md": "---\ndescription: REST rules\n---\n# REST\n\nUse nouns for resources.\n",
    "knowledge/api/errors.md": "# Errors\n\nReturn problem+json.\n",
    "knowledge/docs.md": "---\ntitle: Docs style\n---\n# Docs\n\nShort sentences.\n",
    "knowledge/shared.md": "# Shared\n\nBe kind in reviews and docs.\n",
    "knowledge/review.md": "# Review\n\nCheck the tests first.\n",
  });
});
afterEach(() => dir.cleanup());

const lib = () => join(dir.path, "lib");
const exportTo = async (out: string, state: string) => {
  const r = await cli(["export", "--library", lib(), "--target", "all", "--root", join(dir.path, out), "--state-dir", join(dir.path, state), "--json"]);
  expect(r.err).not.toContain("error:");
  return r.json();
};

function expectSameTree(a: string, b: string): void {
  expectSameTreeAt(join(dir.path, a), join(dir.path, b));
}

type Target = {
  target: string;
  cached: boolean;
  rendered: number;
  whole?: boolean;
  units?: { rendered: string[]; cached: string[] };
  outputs?: { rendered: number; cached: number };
};
/** Targets whose adapter names each output's inputs (RenderContext.output): every target not rendered per agent. */
const memoized = new Set(
  listAdapters()
    .filter((a) => a.split !== "agent")
    .map((a) => a.id),
);
type FileEntry = { path: string; targets: string[]; agent?: string; action: string };

describe("aicfg export: a one-file edit renders only the outputs that read it", () => {
  it("renders only the edited file's agent in split targets and only the outputs holding its text elsewhere, and writes what a cold export writes", async () => {
    const cold = await exportTo("out", "state");
    expect(cold.ok).toBe(true);
    // A file several targets share (AGENTS.md) counts once per target that renders it.
    expect(cold.rendered.outputs).toBeGreaterThanOrEqual(cold.rendered.totalOutputs);
    const exported = cold.targets.map((t: Target) => t.target);
    // Every target with a project scope, each given all three agents.
    expect(exported.length).toBe(listAdapters().filter((a) => a.scopes.includes("project")).length);
    const split = new Set(
      listAdapters()
        .filter((a) => a.split === "agent")
        .map((a) => a.id),
    );
    expect(split.size).toBeGreaterThanOrEqual(4);
    // Every adapter is incremental: split per agent, or memoized per output (the generic ones and the six that share files).
    expect(memoized).toEqual(
      new Set([...GENERIC_TARGETS.map((d) => d.id), "cline", "windsurf", "agents-md", "claude-code", "codex", "copilot", "cursor", "gemini-cli"]),
    );
    expect(cold.rendered.whole).toEqual([]);
    // What beta's unit wrote per split target at the cold export: exactly what an edit of beta's knowledge may render.
    const betaOutputs = (target: string) => cold.files.filter((f: FileEntry) => f.targets.includes(target) && f.agent === "beta").length;

    writeFileSync(join(lib(), "knowledge", "docs.md"), "---\ntitle: Docs style\n---\n# Docs\n\nVery short sentences, always.\n");
    const edit = await exportTo("out", "state");
    expect(edit.ok).toBe(true);
    const again = edit.targets.filter((t: Target) => !t.cached);
    expect(again.length).toBeGreaterThan(0);
    for (const t of again) {
      if (split.has(t.target)) {
        // docs.md is read by beta alone: alpha and gamma keep their cached outputs.
        expect(t.units, t.target).toEqual({ rendered: ["beta"], cached: ["alpha", "gamma"] });
        expect(t.whole).toBeUndefined();
        expect(t.rendered, t.target).toBe(betaOutputs(t.target));
      } else {
        expect(memoized.has(t.target), t.target).toBe(true);
        // Only the outputs holding docs.md's text (in the target's own part of a shared file) are rendered again.
        const changedHere = edit.files.filter(
          (f: FileEntry) => f.targets.includes(t.target) && targetText(f.path, t.target).includes("Very short sentences, always."),
        ).length;
        expect(t.outputs, t.target).toEqual({ rendered: changedHere, cached: expect.any(Number) });
        expect(t.rendered, t.target).toBe(changedHere);
        expect(t.whole).toBeUndefined();
      }
    }
    // Embedding targets of both kinds were involved: a split one (chatgpt copies the knowledge) and a memoized one (cursor rules).
    expect(again.map((t: Target) => t.target)).toEqual(expect.arrayContaining(["chatgpt", "cursor"]));
    expect(edit.rendered.whole).toEqual([]);
    // A file several targets write (AGENTS.md, an MCP file) is one output: the export's count takes each
    // path once, so it is at most the targets' sum and at least the largest of them; a cold export renders
    // every output exactly once.
    const perTarget = again.map((t: Target) => t.rendered);
    expect(edit.rendered.outputs).toBeLessThanOrEqual(perTarget.reduce((n: number, k: number) => n + k, 0));
    expect(edit.rendered.outputs).toBeGreaterThanOrEqual(Math.max(...perTarget));
    expect(cold.rendered.outputs).toBe(cold.rendered.totalOutputs);
    expect(edit.rendered.outputs).toBeLessThan(cold.rendered.outputs);
    expect(edit.rendered.totalOutputs).toBe(cold.rendered.totalOutputs);
    // Of the split targets, only beta's files changed.
    const changed = edit.files.filter((f: FileEntry) => f.action !== "unchanged");
    expect(changed.length).toBeGreaterThan(0);
    for (const f of changed) if (f.targets.some((t: string) => split.has(t))) expect(f.agent, f.path).toBe("beta");

    // The oracle: a cold export of the edited library, into a fresh root with a fresh state.
    await exportTo("oracle", "state-oracle");
    expectSameTree("out", "oracle");

    const human = await cli(["export", "--library", lib(), "--target", "all", "--root", join(dir.path, "out"), "--state-dir", join(dir.path, "state")]);
    expect(human.out).toContain(`0 of ${cold.rendered.totalOutputs} output(s) rendered again (0 target(s) whose inputs changed).`);
  });

  it("editing one agent renders only that agent in split targets, and a same-size edit with its mtime put back is not missed", async () => {
    // An old, whole-second mtime: not "racy" and exactly restorable, so only the content (and ctime) tell the edit.
    const shared = join(lib(), "knowledge", "shared.md");
    utimesSync(shared, 1_700_000_000, 1_700_000_000);
    await exportTo("out", "state");
    writeFileSync(join(lib(), "agents", "alpha.md"), "---\ndescription: Designs the API\nknowledge: [api/**]\nmcp: [fetch]\n---\nDesign the API with care.\n");
    const agentEdit = await exportTo("out", "state");
    for (const t of agentEdit.targets.filter((x: Target) => x.units && !x.cached)) {
      expect(t.units, t.target).toEqual({ rendered: ["alpha"], cached: ["beta", "gamma"] });
    }
    expect(agentEdit.targets.filter((x: Target) => x.units && !x.cached).length).toBe(listAdapters().filter((a) => a.split === "agent").length);
    await exportTo("oracle-1", "state-oracle-1");
    expectSameTree("out", "oracle-1");

    const before = statSync(shared);
    writeFileSync(shared, "# Shared\n\nBe KIND in reviews and docs.\n");
    utimesSync(shared, before.atime, before.mtime);
    expect(statSync(shared).size).toBe(before.size);
    expect(statSync(shared).mtimeMs).toBe(before.mtimeMs);
    const sameStat = await exportTo("out", "state");
    expect(sameStat.written).toBeGreaterThan(0);
    // shared.md is read by beta and gamma: alpha stays cached wherever agents are rendered alone.
    for (const t of sameStat.targets.filter((x: Target) => x.units && !x.cached)) {
      expect(t.units, t.target).toEqual({ rendered: ["beta", "gamma"], cached: ["alpha"] });
    }
    await exportTo("oracle-2", "state-oracle-2");
    expectSameTree("out", "oracle-2");
  });

  it("sees a same-size edit with its mtime put back in an export whose options have no record yet", async () => {
    const docs = join(lib(), "knowledge", "docs.md");
    utimesSync(docs, 1_700_000_000, 1_700_000_000);
    await exportTo("out", "state");
    const before = statSync(docs);
    writeFileSync(docs, readFileSync(docs, "utf8").replace("Short", "SHORT"));
    utimesSync(docs, before.atime, before.mtime);
    expect(statSync(docs).mtimeMs).toBe(before.mtimeMs);
    // Other options, another no-op record (none yet), the same render cache: it must not vouch for docs.md.
    const r = await cli([
      "export",
      "--library",
      lib(),
      "--target",
      "cursor",
      "--root",
      join(dir.path, "out"),
      "--state-dir",
      join(dir.path, "state"),
      "--json",
    ]);
    expect(r.json().ok).toBe(true);
    expect(readFileSync(join(dir.path, "out", ".cursor", "rules", "knowledge-docs.mdc"), "utf8")).toContain("SHORT sentences.");
  });

  it("drops the cache records of an agent that is gone, and its outputs with them", async () => {
    await exportTo("out", "state");
    const cache = () => Object.keys(loadManifest(join(dir.path, "state")).cache);
    const units = (name: string) => cache().filter((k) => k.endsWith(`\u0000agent\u0000${name}`) && !k.includes("\u0000out\u0000"));
    // The memoized outputs of gamma (one per memoized target) go too.
    const memos = (name: string) => cache().filter((k) => k.endsWith(`\u0000out\u0000agent\u0000${name}`));
    const memoizedHere = listAdapters().filter((a) => memoized.has(a.id) && a.scopes.includes("project")).length;
    expect(memos("gamma").length).toBe(memoizedHere);
    expect(units("gamma").length).toBe(listAdapters().filter((a) => a.split === "agent").length);
    rmSync(join(lib(), "agents", "gamma.md"));
    const r = await exportTo("out", "state");
    expect(r.ok).toBe(true);
    expect(units("gamma")).toEqual([]);
    expect(memos("gamma")).toEqual([]);
    expect(memos("beta").length).toBe(memoizedHere);
    expect(units("beta").length).toBeGreaterThan(0);
    await exportTo("oracle", "state-oracle");
    expectSameTree("out", "oracle");
  });
});

describe("aicfg export: every target, edit after edit, writes what a cold export writes", () => {
  for (const scope of ["project", "user"] as const) {
    it(`${scope} scope: knowledge of one agent and of two, an MCP server, a mode move, a rename and a removal`, async () => {
      const run = async (out: string, state: string) => {
        const args = ["export", "--library", lib(), "--target", "all", "--scope", scope, "--root", join(dir.path, out), "--state-dir", join(dir.path, state)];
        const r = await cli([...args, "--json"]);
        expect(r.err).not.toContain("error:");
        const j = r.json();
        expect(j.ok, JSON.stringify(j.errors)).toBe(true);
        return j;
      };
      const cold = await run("out", "state");
      // Every target with this scope is exported (both scopes together cover all 37).
      expect(cold.targets.map((t: Target) => t.target).sort()).toEqual(
        listAdapters()
          .filter((a) => a.scopes.includes(scope))
          .map((a) => a.id)
          .sort(),
      );
      for (const t of cold.targets as Target[]) if (memoized.has(t.target)) expect(t.outputs, t.target).toEqual({ rendered: t.rendered, cached: 0 });
      let n = 0;
      const step = async (edit: () => void) => {
        edit();
        const r = await run("out", "state");
        // A file several targets write (a shared index page) is one output: counted once, never more than the total.
        expect(r.rendered.outputs).toBeLessThanOrEqual(r.rendered.totalOutputs);
        n++;
        // The oracle: a cold export of the edited library into a fresh root with a fresh state.
        await run(`oracle-${n}`, `state-oracle-${n}`);
        expectSameTree("out", `oracle-${n}`);
        return r;
      };
      const write = (rel: string, text: string) => writeFileSync(join(lib(), rel), text);

      // 1. docs.md, read by beta alone: in every memoized target exactly the outputs that hold its text
      // are rendered again (its rule file, or the instructions file that inlines it), nothing else.
      const marker = "Short sentences.";
      const holding = new Map<string, number>();
      for (const f of cold.files as FileEntry[])
        for (const t of f.targets) if (targetText(f.path, t).includes(marker)) holding.set(t, (holding.get(t) ?? 0) + 1);
      const r1 = await step(() => write("knowledge/docs.md", "---\ntitle: Docs style\n---\n# Docs\n\nVery short sentences, always.\n"));
      let memoTargets = 0;
      for (const t of r1.targets as Target[]) {
        if (!memoized.has(t.target)) continue;
        memoTargets++;
        const expected = holding.get(t.target) ?? 0;
        expect(expected, t.target).toBeLessThanOrEqual(1);
        if (t.cached) expect(expected, t.target).toBe(0);
        else expect(t.outputs, t.target).toEqual({ rendered: expected, cached: t.outputs!.rendered + t.outputs!.cached - expected });
        if (!t.cached) expect(t.rendered, t.target).toBe(expected);
      }
      expect(memoTargets).toBeGreaterThan(20);
      expect([...holding].filter(([t, k]) => memoized.has(t) && k === 1).length).toBeGreaterThan(10);
      // Cached outputs were given back: a memoized target with more outputs than docs.md's kept them.
      expect((r1.targets as Target[]).some((t) => t.outputs && t.outputs.rendered === 1 && t.outputs.cached > 0)).toBe(true);

      // 2. Knowledge shared by two agents (beta and gamma).
      await step(() => write("knowledge/shared.md", "# Shared\n\nBe kind and precise in reviews and docs.\n"));
      // 3. An MCP server's definition.
      await step(() => write("mcp/fetch.yaml", "command: uvx\nargs: [mcp-server-fetch, --ignore-robots-txt]\n"));
      // 4. A knowledge file moving from on-demand to always (gamma's review.md), and 5. one from always to on-demand (beta's docs.md).
      await step(() => write("agents/gamma.md", "---\ndescription: Reviews changes\nknowledge: [shared.md, review.md]\n---\nReview every change.\n"));
      await step(() =>
        write(
          "agents/beta.md",
          "---\ndescription: Writes the docs\nknowledge: [{ path: docs.md, mode: on-demand }, shared.md]\n---\nWrite the docs plainly.\n",
        ),
      );
      // Knowledge growing over the budgets and back: the large-context planner (fallback.ts) decides otherwise, and the outputs follow.
      const huge = await step(() => write("knowledge/shared.md", `# Shared\n\n${"Be kind and precise in reviews and docs. ".repeat(6000)}\n`));
      expect(huge.files.some((f: FileEntry) => f.path.includes(join(".aicfg", "index")) || f.action !== "unchanged")).toBe(true);
      await step(() => write("knowledge/shared.md", "# Shared\n\nBe kind.\n"));
      // 6. An agent renamed, 7. an agent removed.
      await step(() => {
        write("agents/alpha2.md", readFileSync(join(lib(), "agents", "alpha.md"), "utf8"));
        rmSync(join(lib(), "agents", "alpha.md"));
      });
      const removed = await step(() => rmSync(join(lib(), "agents", "gamma.md")));
      expect(removed.files.some((f: FileEntry) => f.action === "delete")).toBe(true);
      const gone = Object.keys(loadManifest(join(dir.path, "state")).cache).filter((k) => /\u0000out\u0000agent\u0000(gamma|alpha)$/.test(k));
      expect(gone).toEqual([]);
    });
  }
});

describe("aicfg export: the large-context planner's index pages", () => {
  it("an edit that leaves every index page's text as it was renders none of them again", async () => {
    // 500 knowledge files of 1.5 KB always loaded by one agent: over the budgets of the targets that
    // fall back to an index (agents-md, codex, devin, windsurf), whose pages list every file.
    const files: Record<string, string> = {
      "aicfg.yaml": "name: idx\n",
      "agents/all.md": '---\ndescription: Knows all\nknowledge: ["**"]\n---\nHelp.\n',
    };
    for (let i = 1; i <= 500; i++) files[`knowledge/t${i}.md`] = `---\ndescription: Topic ${i}\n---\n# Topic ${i}\n\n${"x".repeat(1500)}\n`;
    rmSync(lib(), { recursive: true, force: true });
    writeTree(lib(), files);
    const cold = await exportTo("out", "state");
    const indexed = new Set<string>();
    for (const f of cold.files as FileEntry[]) if (f.path.includes(join(".aicfg", "index"))) for (const t of f.targets) indexed.add(t);
    expect(indexed.size).toBeGreaterThan(0);
    writeFileSync(join(lib(), "knowledge", "t5.md"), `${files["knowledge/t5.md"]}One more line.\n`);
    const edit = await exportTo("out", "state");
    for (const t of edit.targets as Target[]) {
      if (!indexed.has(t.target)) continue;
      // The index targets do not inline the file's text, and its description did not change: nothing of theirs is new.
      expect(edit.files.filter((f: FileEntry) => f.targets.includes(t.target) && f.action !== "unchanged").length, t.target).toBe(0);
      expect(t.rendered, t.target).toBe(0);
    }
  });
});
