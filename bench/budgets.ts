// Benchmark (not a test): `node bench/budgets.ts [--files 10000]`. Generates a synthetic library of N
// knowledge files (1-5 KB each, as bench/export.ts does) with one agent that takes all of it
// (`knowledge: ["**"]`, always-on), exports it to every target (a dry run: the figures come from the
// render, nothing is written) and prints per target what the tool would always load: characters,
// estimated tokens, the declared budget and whether it is over. Peer tools paste the whole library
// into every instruction file (~30 MB here); a target printed OVER does that too.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exportLibrary } from "../src/adapters/export.ts";
import { listAdapters } from "../src/adapters/registry.ts";

const { values } = parseArgs({ options: { files: { type: "string", default: "10000" }, keep: { type: "boolean", default: false } } });
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
  let total = 0;
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
    `---\ndescription: Knows the whole library\nknowledge: ["**"]\n---\nYou are the librarian. Answer from the knowledge files.\n`,
  );
  return total;
}

const t0 = performance.now();
const libraryChars = generate();
const fmt = (n: number) => n.toLocaleString("en-US");
console.log(
  `library: ${fmt(N)} knowledge files, ${fmt(libraryChars)} characters, one agent with knowledge: ["**"] (generated in ${Math.round(performance.now() - t0)} ms)`,
);
console.log("");
console.log(
  `${"target".padEnd(17)}${"always-loaded chars".padStart(20)}${"~tokens".padStart(12)}  ${"budget".padEnd(24)} status  largest  (tokens: how counted)`,
);
console.log(`${"".padEnd(17)}${"(largest session or file)".padStart(32)}`);

const over: string[] = [];
const t1 = performance.now();
for (const scope of ["project", "user"] as const) {
  const targets = listAdapters()
    .filter((a) => (scope === "project" ? a.scopes.includes("project") : !a.scopes.includes("project")))
    .map((a) => a.id);
  if (!targets.length) continue;
  const r = exportLibrary({ library: lib, targets, scope, root: join(work, scope), stateDir: join(work, "state"), dryRun: true, noCache: true });
  for (const e of r.errors) console.error(`error: ${e.message}`);
  for (const t of r.targets) {
    const f = t.budget;
    if (!f) continue;
    const b = f.budget;
    const status = f.over ? "OVER " : "ok   ";
    if (f.over) over.push(t.target);
    const budget = `${fmt(b.max)} ${b.unit}${b.per === "total" ? "" : `/${b.per}`}`;
    const largest = f.largest ? f.largest.replace(join(work, scope) + "/", "") : "-";
    console.log(
      `${t.target.padEnd(17)}${fmt(f.chars).padStart(20)}${fmt(f.tokens).padStart(12)}  ${budget.padEnd(24)} ${status}  ${largest}  (${f.tokenizer})`,
    );
    if (b.per === "file" && f.files > 1)
      console.log(`${"".padEnd(17)}${`${fmt(f.totalChars)} chars in ${fmt(f.files)} always-loaded files together`.padStart(60)}`);
  }
}
console.log("");
console.log(`rendered and measured every target in ${Math.round(performance.now() - t1)} ms`);
console.log(over.length ? `over budget: ${over.join(", ")}` : "every target is within its budget");
if (!values.keep) rmSync(work, { recursive: true, force: true });
process.exitCode = over.length ? 1 : 0;
