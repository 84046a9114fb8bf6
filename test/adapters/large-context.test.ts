// A library far over every budget (2,000 knowledge files, ~6 MB) through every adapter: nothing a
// tool always loads is over its budget, and every knowledge file still reaches the agent, inlined,
// as an on-demand rule, in a knowledge folder or through the index (fallback.ts). The same for
// knowledge the agent marks on-demand, which used to reach only some of the targets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureBudget } from "../../src/adapters/budget.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import type { ResolvedKnowledge } from "../../src/library/model.ts";
import { minimalAgent, renderContext, tempDir } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
const files = new Map<number, { path: string; absPath: string; size: number }>();

function generate(n: number): void {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const para = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. ";
  for (let i = 0; i < n; i++) {
    const path = `area-${i % 10}/topic-${Math.floor(i / 10) % 20}/doc-${i}.md`;
    const abs = join(dir.path, "knowledge", path);
    mkdirSync(join(abs, ".."), { recursive: true });
    const size = 1024 + Math.floor(rand() * 4096);
    // Every other file is scoped to source globs: tools with glob rules would copy each into a rule of their own.
    const front = i % 2 ? `---\ndescription: Document ${i} for area ${i % 10}\napplyTo: ["src/area-${i % 10}/**"]\n---\n` : "";
    const text = `${front}# Document ${i}\n\n${para.repeat(Math.ceil(size / para.length)).slice(0, size)}\n`;
    writeFileSync(abs, text);
    files.set(i, { path, absPath: abs, size: text.length });
  }
}

const librarySize = (): number => [...files.values()].reduce((n, f) => n + f.size, 0);

function text(f: OutputFile): string {
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("latin1");
  if (f.kind === "md-section") return f.content;
  return "";
}

beforeAll(() => {
  dir = tempDir("aicfg-large-");
  generate(2_000);
});
afterAll(() => dir.cleanup());

describe.each(["always", "on-demand"] as const)("2,000 %s knowledge files through every target", (mode) => {
  const knowledge = (): ResolvedKnowledge[] => [...files.values()].map((f) => ({ ...f, mode, mtimeMs: 0, layer: "test" }));

  it.each(listAdapters().map((a) => [a.id, a] as const))("%s: within its budget, every file reachable", (_id, adapter) => {
    const scope = adapter.scopes[0]!;
    const roots = { scope, projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") };
    const agent = minimalAgent({ name: "librarian", tools: { allow: ["*"] }, knowledge: knowledge() });
    const r = adapter.render([agent], renderContext(roots));
    const figures = measureBudget(adapter.budget, r.files);
    expect(figures.over, `${figures.used} ${adapter.budget.unit} always loaded (budget ${adapter.budget.max})`).toBe(false);
    // A target that takes no instructions in this scope (MCP servers only) has nowhere to put knowledge: it says so.
    if (!r.files.some((f) => text(f).includes("You are a helper") || text(f).includes("Be helpful."))) {
      expect(r.warnings.some((w) => w.code === "unsupported-feature" && w.message.includes("instructions"))).toBe(true);
      return;
    }
    // Every document is named (index lines, rule files, upload parts, references) in some output or its path.
    const seen = new Set<string>();
    for (const f of r.files) for (const m of `${f.path}\n${text(f)}`.matchAll(/doc-(\d+)\.md/g)) seen.add(m[1]!);
    const missing = [...files.keys()].filter((i) => !seen.has(String(i)));
    expect(missing.length, `missing e.g. doc-${missing[0]}.md`).toBe(0);
    // No output is a copy of the library: the largest file stays far below its 6 MB.
    const largest = Math.max(...r.files.map((f) => text(f).length));
    expect(largest).toBeLessThan(2_000_000);
    // Nor are all outputs together, except the upload bundles (a web project or a GPT needs its own copy):
    // glob-scoped files past the copy limit are indexed with their globs, like the rest.
    const total = r.files.reduce((n, f) => n + text(f).length, 0);
    if (adapter.largeContext.strategies[0] !== "knowledge-folder") expect(total).toBeLessThan(librarySize() / 2);
  });
});

describe("files a tool loads along at session start count against its budget", () => {
  it.each(["q-cli", "kiro-cli", "claude-code"])("%s: the referenced knowledge is measured, not only the references", (id) => {
    const adapter = listAdapters().find((a) => a.id === id)!;
    const roots = { scope: "project" as const, projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") };
    const few = [...files.values()].slice(0, 3).map((f) => ({ ...f, mode: "always" as const, mtimeMs: 0, layer: "test" }));
    const r = adapter.render([minimalAgent({ knowledge: few })], renderContext(roots));
    expect(r.contextPlan).toEqual([{ ...(adapter.budget.per === "agent" ? { agent: "helper" } : {}), strategy: "inline", files: 3 }]);
    const figures = measureBudget(adapter.budget, r.files);
    const referenced = few.reduce((n, f) => n + f.size, 0);
    const own = r.files.filter((f) => (f.kind === "file" || f.kind === "md-section") && f.alwaysLoaded).reduce((n, f) => n + text(f).length, 0);
    expect(figures.chars).toBe(own + referenced);
    expect(figures.tokens).toBeGreaterThan(referenced / 4);
  });
});

describe("index pages are shared by the targets of one export", () => {
  it("every target whose index of an agent is the same names the same pages, once, with one content per path", () => {
    const roots = { scope: "project" as const, projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") };
    const ctx = renderContext(roots);
    const all = [...files.values()].map((f) => ({ ...f, mode: "always" as const, mtimeMs: 0, layer: "test" }));
    const agent = minimalAgent({ name: "librarian", tools: { allow: ["*"] }, knowledge: all });
    const pages = new Map<string, string>();
    let written = 0;
    for (const adapter of listAdapters().filter((a) => a.scopes.includes("project"))) {
      for (const f of adapter.render([agent], ctx).files) {
        if (f.kind !== "file" || !f.path.includes("/.aicfg/index/")) continue;
        written++;
        const before = pages.get(f.path);
        // Two targets writing one path with different text would be an output clash (plan.ts).
        if (before !== undefined) expect(text(f) === before, f.path).toBe(true);
        pages.set(f.path, text(f));
      }
    }
    expect(written).toBeGreaterThan(pages.size * 5);
    expect([...pages.keys()].every((p) => p.includes("/.aicfg/index/shared/librarian/"))).toBe(true);
  });
});

describe("a folder of more files than two index levels list within the budget", () => {
  it("windsurf (12,000 characters per rule): the folder list goes into index files of its own, and every file is reachable", () => {
    const flat = tempDir("aicfg-flat-");
    try {
      const many: ResolvedKnowledge[] = [];
      for (let i = 0; i < 10_000; i++) {
        const path = `all/doc-${String(i).padStart(5, "0")}.md`;
        const abs = join(flat.path, "knowledge", path);
        if (i === 0) mkdirSync(join(abs, ".."), { recursive: true });
        const text = `---\ndescription: "${"A long description of what this document covers, repeated to fill the index line ".slice(0, 90)} ${i}"\n---\n# Doc ${i}\n`;
        writeFileSync(abs, text);
        many.push({ path, absPath: abs, size: text.length, mode: "always", mtimeMs: 0, layer: "test" });
      }
      const adapter = listAdapters().find((a) => a.id === "windsurf")!;
      const roots = { scope: "project" as const, projectRoot: join(flat.path, "project"), homeDir: join(flat.path, "home") };
      const r = adapter.render([minimalAgent({ name: "librarian", knowledge: many })], renderContext(roots));
      expect(measureBudget(adapter.budget, r.files).over).toBe(false);
      expect(r.contextPlan?.find((d) => d.strategy === "index")?.levels).toBe(3);
      // Follow the references: the instructions name folder-list files, those name page files, those name every document.
      const byRef = new Map(r.files.map((f) => [f.path.slice(roots.projectRoot.length + 1), text(f)] as const));
      const refs = (t: string) => [...t.matchAll(/: (\.aicfg\/index\/\S+\.md)$/gm)].map((m) => m[1]!);
      const top = r.files.filter((f) => text(f).includes("## Knowledge index")).map(text);
      const folders = top.flatMap(refs);
      expect(folders.length).toBeGreaterThan(0);
      const pages = folders.flatMap((p) => refs(byRef.get(p) ?? ""));
      const seen = new Set(pages.flatMap((p) => [...(byRef.get(p) ?? "").matchAll(/doc-(\d+)\.md/g)].map((m) => Number(m[1]))));
      expect(seen.size).toBe(10_000);
    } finally {
      flat.cleanup();
    }
  });
});
