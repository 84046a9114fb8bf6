// Benchmark (not a test): `node bench/budgets.ts [--files 10000] [--mode always|on-demand]`. Generates a
// synthetic library of N knowledge files (1-5 KB each, as bench/export.ts does) with one agent that
// takes all of it (`knowledge: ["**"]`, always-on by default), renders it for every target (nothing is
// written: the figures come from each adapter's render, the large-context planner included) and
// prints per target what the tool would always load (characters, estimated tokens) against its
// declared budget, the strategy the planner chose (inline, on-demand rules, knowledge folder, index
// with its depth), and the files and bytes the target writes; then the total output against the
// library size (goal: at most 2x the library plus the per-target index files). Peer tools paste the
// whole library into every instruction file (~30 MB here); a target printed OVER does the same.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { measureBudget } from "../src/adapters/budget.ts";
import { isIndexFile } from "../src/adapters/fallback.ts";
import { listAdapters } from "../src/adapters/registry.ts";
import type { OutputFile, RenderContext, Roots } from "../src/adapters/types.ts";
import { loadLibrary } from "../src/library/load.ts";
import { readKnowledgeBody, resolveAll } from "../src/library/resolve.ts";

const { values } = parseArgs({
  options: { files: { type: "string", default: "10000" }, keep: { type: "boolean", default: false }, mode: { type: "string", default: "always" } },
});
if (values.mode !== "always" && values.mode !== "on-demand") throw new Error("--mode is always or on-demand");
const N = Number(values.files);
const repo = fileURLToPath(new URL("..", import.meta.url));
const work = join(repo, "bench", ".work", `budgets-${N}`);
const lib = join(work, "library");

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function generate(): number {
  rmSync(work, { recursive: true, force: true });
  const r = rand(42);
  const ids = listAdapters().map((a) => a.id);
  mkdirSync(join(lib, "agents"), { recursive: true });
  writeFileSync(join(lib, "aicfg.yaml"), `name: budgets\ntargets: [${ids.join(", ")}]\n`);
  const para = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
  let total = 0; // bytes: the bodies are ASCII
  for (let i = 0; i < N; i++) {
    const dir = join(lib, "knowledge", `area-${i % 20}`, `topic-${Math.floor(i / 20) % 25}`);
    if (i < 500) mkdirSync(dir, { recursive: true });
    const size = 1024 + Math.floor(r() * 4096);
    const text = `# Document ${i}\n\n${para.repeat(Math.ceil(size / para.length)).slice(0, size)}\n`;
    total += text.length;
    writeFileSync(join(dir, `doc-${i}.md`), text);
  }
  writeFileSync(
    join(lib, "agents", "librarian.md"),
    `---\ndescription: Knows the whole library\nknowledge: [${values.mode === "always" ? '"**"' : '{path: "**", mode: on-demand}'}]\n---\nYou are the librarian. Answer from the knowledge files.\n`,
  );
  return total;
}

const t0 = performance.now();
const libraryBytes = generate();
const fmt = (n: number) => n.toLocaleString("en-US");
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
console.log(
  `library: ${fmt(N)} knowledge files, ${mb(libraryBytes)}, one agent with knowledge: ["**"] (${values.mode}) (generated in ${Math.round(performance.now() - t0)} ms)`,
);
console.log("");
console.log(
  `${"target".padEnd(17)}${"always-loaded".padStart(14)}${"~tokens".padStart(10)}  ${"budget".padEnd(22)}${"status".padEnd(7)}${"strategy".padEnd(22)}${"files".padStart(7)}${"bytes".padStart(12)}${"of which index".padStart(16)}`,
);

const library = loadLibrary(lib);
const agents = resolveAll(library).agents;
const cache = new Map<string, string>();
const byteLength = (f: OutputFile): number => {
  if (f.kind === "file") return typeof f.content === "string" ? Buffer.byteLength(f.content) : f.content.length;
  if (f.kind === "md-section") return Buffer.byteLength(f.content);
  return Buffer.byteLength(JSON.stringify(f.kind === "json-keys" ? f.entries : f.tables));
};
const over: string[] = [];
let totalBytes = 0;
let indexBytes = 0;
let largestAlways = { target: "", chars: 0 };
const t1 = performance.now();
for (const adapter of listAdapters()) {
  const scope = adapter.scopes.includes("project") ? "project" : "user";
  const roots: Roots = { scope, projectRoot: join(work, "project"), homeDir: join(work, "home") };
  const ctx: RenderContext = {
    ...roots,
    library,
    readKnowledge: (p) => {
      let t = cache.get(p);
      if (t === undefined) cache.set(p, (t = readKnowledgeBody(p)));
      return t;
    },
    readBytes: (p) => readFileSync(p),
  };
  const r = adapter.render(agents, ctx);
  const f = measureBudget(adapter.budget, r.files);
  const b = f.budget;
  if (f.over) over.push(adapter.id);
  if (f.chars > largestAlways.chars) largestAlways = { target: adapter.id, chars: f.chars };
  let bytes = 0;
  let idx = 0;
  for (const o of r.files) {
    const n = byteLength(o);
    bytes += n;
    if (isIndexFile(o.path, adapter.id, roots)) idx += n;
  }
  totalBytes += bytes;
  indexBytes += idx;
  const d = r.contextPlan?.[0];
  const strategy = d ? (d.strategy === "index" ? `index, ${d.levels} level${d.levels === 1 ? "" : "s"}` : d.strategy) : "-";
  const budget = `${fmt(b.max)} ${b.unit}${b.per === "total" ? "" : `/${b.per}`}`;
  console.log(
    `${adapter.id.padEnd(17)}${fmt(f.chars).padStart(14)}${fmt(f.tokens).padStart(10)}  ${budget.padEnd(22)}${(f.over ? "OVER" : "ok").padEnd(7)}${strategy.padEnd(22)}${fmt(r.files.length).padStart(7)}${fmt(bytes).padStart(12)}${fmt(idx).padStart(16)}`,
  );
  if (b.per === "file" && f.files > 1)
    console.log(`${"".padEnd(17)}${`${fmt(f.totalChars)} chars in ${fmt(f.files)} always-loaded files together`.padStart(60)}`);
}
console.log("");
console.log(`rendered and measured every target in ${Math.round(performance.now() - t1)} ms`);
console.log(`largest always-loaded: ${fmt(largestAlways.chars)} chars (${largestAlways.target || "-"})`);
const rest = totalBytes - indexBytes;
console.log(
  `output of all targets: ${mb(totalBytes)} = ${mb(rest)} (${(rest / libraryBytes).toFixed(2)}x the library's ${mb(libraryBytes)}) + ${mb(indexBytes)} of per-target index files; goal <= 2x: ${rest <= 2 * libraryBytes ? "met" : "NOT met"}`,
);
console.log(over.length ? `over budget: ${over.join(", ")}` : "every target is within its budget");
if (!values.keep) rmSync(work, { recursive: true, force: true });
process.exitCode = over.length ? 1 : 0;
