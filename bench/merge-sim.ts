// Benchmark (not a test): `node bench/merge-sim.ts [--pairs 10000] [--seeds 3] [--hot 0.3] [--jobs 8]`.
// The merge simulator of design §1.4 run against the product's merge (src/library/merge.ts with
// the git diff3 body merger of src/workflows/merge-text.ts). Per seed it makes N random concurrent
// edit pairs (local, upstream) on a realistic agent file: frontmatter scalars, list items, a new key,
// a key re-ordering; body line edits, inserts, deletes, appends. With probability --hot the upstream
// edit hits the same field or line as the local one. An oracle applies both edits to the base
// structure (or declares a true conflict); a clean merge whose result the oracle does not accept is
// a silent loss. Strategies: S1 whole-file `git merge-file` (the baseline), S2 field-level
// frontmatter + diff3 body, S3 = S2 + the insert/insert rule (what the product ships).
import { parseArgs } from "node:util";
import { Document, parse as parseYamlText, type YAMLMap } from "yaml";
import { deepEqual, mergeFile, type MergeText } from "../src/library/merge.ts";
import { splitFrontmatter } from "../src/library/yaml-source.ts";
import { git } from "../src/workflows/git.ts";
import { resolveDiff3, runDiff3, type Diff3Part } from "../src/workflows/merge-text.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "10000" },
    seeds: { type: "string", default: "3" },
    hot: { type: "string", default: "0.3" },
    jobs: { type: "string", default: "8" },
  },
});
const PAIRS = Number(values.pairs);
const SEEDS = Number(values.seeds);
const HOT = Number(values.hot);
const JOBS = Math.max(1, Number(values.jobs));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "agent review code test change file team build deploy check rule policy secret token model tool server request error log metric budget library layer merge branch commit release docs style lint type safety".split(
    " ",
  );
const TOOLS = ["read", "write", "shell", "grep", "glob", "web_fetch", "web_search", "aws", "todo", "thinking", "knowledge", "delegate"];
const MODELS = ["sonnet", "opus", "haiku", "gpt-5", "gemini-2.5-pro", "o4-mini"];

type Fm = {
  name: string;
  description: string;
  model: string;
  tools: { allow: string[]; deny: string[] };
  mcp: string[];
  tags: string[];
  displayName?: string;
  targets?: string[];
};
type Agent = { fm: Fm; body: string[] };

function makeBase(r: () => number, id: number): Agent {
  const pick = <T>(l: readonly T[]) => l[Math.floor(r() * l.length)]!;
  const sentence = () =>
    `${pick(WORDS)[0]!.toUpperCase()}${Array.from({ length: 6 + Math.floor(r() * 8) }, () => pick(WORDS))
      .join(" ")
      .slice(1)} #${Math.floor(r() * 1e9)}.`;
  const shuffled = [...TOOLS].sort(() => r() - 0.5);
  const body: string[] = [`# Agent ${id}`, "", sentence(), ""];
  const sections = 3 + Math.floor(r() * 3);
  for (let s = 0; s < sections; s++) {
    body.push(`## ${pick(WORDS)} ${pick(WORDS)} ${s}`, "");
    const n = 2 + Math.floor(r() * 5);
    for (let i = 0; i < n; i++) body.push(r() < 0.5 ? `- ${sentence()}` : sentence());
    body.push("");
  }
  return {
    fm: {
      name: `agent-${id}`,
      description: `Helps the team with ${pick(WORDS)} and ${pick(WORDS)} work`,
      model: pick(MODELS),
      tools: { allow: shuffled.slice(0, 4), deny: shuffled.slice(4, 5) },
      mcp: ["github", "jira", "slack"].slice(0, 1 + Math.floor(r() * 3)),
      tags: [pick(WORDS), `t${Math.floor(r() * 100)}`],
    },
    body,
  };
}

function renderFm(fm: Fm): Document {
  const doc = new Document(fm);
  const model = (doc.contents as YAMLMap).items.find((p) => String((p.key as { value: unknown }).value) === "model");
  if (model) (model.key as { commentBefore?: string }).commentBefore = " model chosen by the platform team";
  return doc;
}

const SIDE_TEXT = (doc: Document, body: string[]) => `---\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}---\n${body.join("\n")}\n`;

// -------------------------------------------------------------------------------------------
// Edits: each applies to a side's document and body, and describes itself for the oracle.

type Spot = { kind: string; field?: string; line?: number };
type FmOp = { op: "set"; path: string[]; value: unknown } | { op: "add" | "remove"; path: string[]; item: string };
type BodyOp = { op: "edit"; line: number; text: string } | { op: "delete"; line: number } | { op: "insert"; after: number; text: string };
type Edit = { spot: Spot; fm?: FmOp; body?: BodyOp; reorder?: boolean };

const KINDS = ["set", "add", "remove", "addKey", "edit", "insert", "delete", "append", "reorder"] as const;
const LISTS = [["tools", "allow"], ["mcp"], ["tags"]] as const;

function contentLines(body: string[]): number[] {
  return body.flatMap((l, i) => (l.trim() !== "" && !l.startsWith("#") ? [i] : []));
}

function getList(fm: Fm, path: readonly string[]): string[] {
  return path.length === 2 ? (fm.tools as Record<string, string[]>)[path[1]!]! : ((fm as Record<string, unknown>)[path[0]!] as string[]);
}

function drawEdit(r: () => number, base: Agent, tag: string, like?: Spot): Edit {
  const kind = like?.kind ?? KINDS[Math.floor(r() * KINDS.length)]!;
  const fresh = () => `${tag} ${WORDS[Math.floor(r() * WORDS.length)]} ${Math.floor(r() * 1e9)}`;
  const lines = contentLines(base.body);
  switch (kind) {
    case "set": {
      const field = like?.field ?? (r() < 0.5 ? "description" : "model");
      return {
        spot: { kind, field },
        fm: { op: "set", path: [field], value: field === "model" ? `${MODELS[Math.floor(r() * MODELS.length)]}-${Math.floor(r() * 1000)}` : fresh() },
      };
    }
    case "add": {
      const li = like?.field !== undefined ? Number(like.field) : Math.floor(r() * LISTS.length);
      const path = LISTS[li]!;
      const have = getList(base.fm, path);
      const pool = path[0] === "tools" ? TOOLS.filter((t) => !have.includes(t) && !base.fm.tools.deny.includes(t)) : [`${path[0]}-${Math.floor(r() * 40)}`];
      return { spot: { kind, field: String(li) }, fm: { op: "add", path: [...path], item: pool[Math.floor(r() * pool.length)]! } };
    }
    case "remove": {
      const li = like?.field !== undefined ? Number(like.field) : Math.floor(r() * LISTS.length);
      const path = LISTS[li]!;
      const have = getList(base.fm, path);
      return { spot: { kind, field: String(li) }, fm: { op: "remove", path: [...path], item: have[Math.floor(r() * have.length)]! } };
    }
    case "addKey":
      return { spot: { kind, field: "displayName" }, fm: { op: "set", path: ["displayName"], value: fresh() } };
    case "edit":
    case "delete":
    case "insert": {
      const line = like?.line ?? lines[Math.floor(r() * lines.length)]!;
      if (kind === "edit") return { spot: { kind, line }, body: { op: "edit", line, text: `${fresh()} edited line.` } };
      if (kind === "delete") return { spot: { kind, line }, body: { op: "delete", line } };
      return { spot: { kind, line }, body: { op: "insert", after: line, text: `${fresh()} inserted line.` } };
    }
    case "append":
      return { spot: { kind }, body: { op: "insert", after: base.body.length - 1, text: `${fresh()} appended line.` } };
    default:
      return { spot: { kind: "reorder" }, reorder: true };
  }
}

function applySide(base: Agent, e: Edit, r: () => number): string {
  const doc = renderFm(structuredClone(base.fm));
  const body = [...base.body];
  if (e.fm) {
    const f = e.fm;
    if (f.op === "set") doc.setIn(f.path, f.value);
    else {
      const seq = doc.getIn(f.path, true) as { items: { value?: unknown }[] };
      if (f.op === "add") doc.addIn(f.path, f.item);
      else seq.items = seq.items.filter((it) => String(it.value) !== f.item);
    }
  }
  if (e.reorder) {
    const items = (doc.contents as YAMLMap).items;
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
  }
  if (e.body) {
    const b = e.body;
    if (b.op === "edit") body[b.line] = b.text;
    else if (b.op === "delete") body.splice(b.line, 1);
    else body.splice(b.after + 1, 0, b.text);
  }
  return SIDE_TEXT(doc, body);
}

// -------------------------------------------------------------------------------------------
// Oracle

type Expected = { conflict: true } | { conflict: false; fm: unknown; bodies: string[][] };

function oracle(base: Agent, o: Edit, t: Edit): Expected {
  const fm = structuredClone(base.fm) as Record<string, unknown>;
  const setAt = (path: string[], v: unknown) => {
    let cur = fm;
    for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
    cur[path[path.length - 1]!] = v;
  };
  if (o.fm?.op === "set" && t.fm?.op === "set" && o.fm.path.join(".") === t.fm.path.join(".") && o.fm.value !== t.fm.value) return { conflict: true };
  for (const e of [o, t]) {
    const f = e.fm;
    if (!f) continue;
    if (f.op === "set") setAt(f.path, f.value);
    else {
      const list = getList(fm as Fm, f.path);
      const next = f.op === "add" ? (list.includes(f.item) ? list : [...list, f.item]) : list.filter((x) => x !== f.item);
      setAt(f.path, next);
    }
  }
  // A removal by either side wins over the other's add only for the same item, which never happens here.
  const ob = o.body;
  const tb = t.body;
  const edits = new Map<number, BodyOp>();
  if (ob && ob.op !== "insert") edits.set(ob.line, ob);
  if (tb && tb.op !== "insert") {
    const mine = edits.get(tb.line);
    if (mine && JSON.stringify(mine) !== JSON.stringify(tb)) return { conflict: true };
    edits.set(tb.line, tb);
  }
  const build = (first: BodyOp | undefined, second: BodyOp | undefined) => {
    const out: string[] = [];
    const ins = [first, second].filter((x): x is Extract<BodyOp, { op: "insert" }> => x?.op === "insert");
    for (const [i, line] of base.body.entries()) {
      const e = edits.get(i);
      if (!e) out.push(line);
      else if (e.op === "edit") out.push(e.text);
      for (const x of ins) if (x.after === i) out.push(x.text);
    }
    return out;
  };
  const bodies = [build(tb, ob), build(ob, tb)];
  return { conflict: false, fm, bodies };
}

function sortLists(v: unknown): unknown {
  if (Array.isArray(v)) return [...v].map(sortLists).sort();
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortLists(x)]));
  return v;
}

function accepted(text: string, exp: Extract<Expected, { conflict: false }>): boolean {
  const { frontmatter, body } = splitFrontmatter(text);
  if (frontmatter === undefined) return false;
  let fm: unknown;
  try {
    fm = parseYamlText(frontmatter);
  } catch {
    return false;
  }
  const lists = (x: unknown): boolean =>
    Array.isArray(x) ? new Set(x.map(String)).size === x.length && x.every(lists) : x && typeof x === "object" ? Object.values(x).every(lists) : true;
  if (!lists(fm) || !deepEqual(sortLists(fm), sortLists(exp.fm))) return false;
  const lines = body.replace(/\n$/, "").split("\n");
  return exp.bodies.some((b) => b.length === lines.length && b.every((l, i) => l === lines[i]));
}

// -------------------------------------------------------------------------------------------
// Strategies

async function wholeFile(base: string, ours: string, theirs: string): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "aicfg-sim-"));
  try {
    writeFileSync(join(dir, "o"), ours);
    writeFileSync(join(dir, "b"), base);
    writeFileSync(join(dir, "t"), theirs);
    const r = await git(["merge-file", "-p", "--", "o", "b", "t"], { cwd: dir });
    return r.code === 0 ? r.stdout : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Tally = { clean: number; conflict: number; loss: number; falseConflict: number; commentLost: number };
const tally = (): Tally => ({ clean: 0, conflict: 0, loss: 0, falseConflict: 0, commentLost: 0 });

async function pool<T>(items: T[], jobs: number, f: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

async function runSeed(seed: number) {
  const r = rng(seed);
  const pairs = Array.from({ length: PAIRS }, (_, i) => {
    const base = makeBase(r, i);
    const o = drawEdit(r, base, "local");
    const hot = r() < HOT && o.spot.kind !== "reorder";
    const t = drawEdit(r, base, "upstream", hot ? o.spot : undefined);
    return {
      base,
      o,
      t,
      texts: [SIDE_TEXT(renderFm(structuredClone(base.fm)), base.body), applySide(base, o, r), applySide(base, t, r)] as const,
      exp: oracle(base, o, t),
    };
  });
  const S = { S1: tally(), S2: tally(), S3: tally() };
  let trueConflicts = 0;
  let flagged = 0;
  const losses: string[] = [];
  await pool(pairs, JOBS, async (p) => {
    const [b, o, t] = p.texts;
    let diff3: Promise<{ parts: Diff3Part[]; size: number }> | undefined;
    const cached = (x: string, y: string, z: string) => (diff3 ??= runDiff3(x, y, z));
    const s2: MergeText = async (x, y, z) => {
      const { parts, size } = await cached(x, y, z);
      const n = parts.filter((q) => q.kind === "conflict").length;
      return n ? { text: "", conflicts: n } : resolveDiff3(parts, size, false);
    };
    const s3: MergeText = async (x, y, z) => {
      const { parts, size } = await cached(x, y, z);
      return resolveDiff3(parts, size, false);
    };
    const results: [keyof typeof S, string | undefined][] = [
      ["S1", await wholeFile(b, o, t)],
      ["S2", await mergeFile({ base: b, ours: o, theirs: t, policy: "three-way" }, s2).then((m) => (m.status === "clean" ? (m.content ?? "") : undefined))],
      ["S3", await mergeFile({ base: b, ours: o, theirs: t, policy: "three-way" }, s3).then((m) => (m.status === "clean" ? (m.content ?? "") : undefined))],
    ];
    if (p.exp.conflict) trueConflicts++;
    for (const [name, text] of results) {
      const s = S[name];
      if (text === undefined) {
        s.conflict++;
        if (!p.exp.conflict) s.falseConflict++;
        else if (name === "S3") flagged++;
      } else if (p.exp.conflict) {
        // A clean merge of a true conflict chose for the user: a silent loss.
        s.loss++;
        if (name === "S3" && losses.length < 3) losses.push(`${p.o.spot.kind} vs ${p.t.spot.kind}`);
      } else if (accepted(text, p.exp)) {
        s.clean++;
        if (!text.includes("# model chosen by the platform team")) s.commentLost++;
      } else {
        s.loss++;
        if (name === "S3" && losses.length < 3) losses.push(`${p.o.spot.kind} vs ${p.t.spot.kind}:\n${text}\nEXPECTED ${JSON.stringify(p.exp)}`);
      }
    }
  });
  return { S, trueConflicts, flagged, losses };
}

const pct = (n: number, d: number) => (d ? ((100 * n) / d).toFixed(1) : "-");
console.log(
  `merge-sim: ${PAIRS} pairs x ${SEEDS} seeds, hot ${HOT}, ${JOBS} parallel git children, git ${(await git(["--version"], { cwd: tmpdir() })).stdout.trim().replace("git version ", "")}`,
);
console.log(
  "seed  true-conflicts  strategy                          auto-resolved (all / mergeable)  conflicts  false-conflicts  silent-losses  comments-lost  S3-true-conflicts-flagged",
);
const t0 = performance.now();
let totalLoss = 0;
let worstS3 = Infinity;
let worstS3Mergeable = Infinity;
for (let s = 1; s <= SEEDS; s++) {
  const seedStart = performance.now();
  const { S, trueConflicts, flagged, losses } = await runSeed(s);
  const mergeable = PAIRS - trueConflicts;
  const names = { S1: "S1 whole-file git merge-file", S2: "S2 field-level + diff3 body", S3: "S3 = S2 + insert/insert (aicfg)" };
  for (const k of ["S1", "S2", "S3"] as const) {
    const x = S[k];
    console.log(
      `${String(s).padEnd(4)}  ${pct(trueConflicts, PAIRS).padStart(5)} %         ${names[k].padEnd(32)}  ${pct(x.clean, PAIRS).padStart(5)} % / ${pct(x.clean, mergeable).padStart(5)} %          ${String(x.conflict).padStart(9)}  ${String(x.falseConflict).padStart(15)}  ${String(x.loss).padStart(13)}  ${String(x.commentLost).padStart(13)}  ${k === "S3" ? pct(flagged, trueConflicts) + " %" : ""}`,
    );
  }
  totalLoss += S.S3.loss;
  worstS3 = Math.min(worstS3, (100 * S.S3.clean) / PAIRS);
  worstS3Mergeable = Math.min(worstS3Mergeable, (100 * S.S3.clean) / mergeable);
  for (const l of losses) console.log(`  S3 loss example: ${l}`);
  console.log(`      seed ${s}: ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
}
// The bar counts pairs that can be merged at all: a true conflict (same field set to two values,
// the same line edited two ways) is a correct conflict, not a failure to auto-resolve.
console.log(
  `total ${((performance.now() - t0) / 1000).toFixed(1)} s; S3 worst seed ${worstS3Mergeable.toFixed(1)} % of mergeable pairs auto-resolved (${worstS3.toFixed(1)} % of all pairs), ${totalLoss} silent losses (bar: >= 95 % at hot 0.3, 0 losses)`,
);
