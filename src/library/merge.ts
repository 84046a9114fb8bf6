// The per-file 3-way merge of a personal copy against an upstream update (design §1.3): the YAML
// frontmatter field by field on the local yaml Document (its comments and key order are kept;
// scalars merge by value, lists as sets, maps recurse), the markdown body through a text merger the
// caller injects (the git `merge-file --diff3` one lives in workflows/merge-text.ts), and a policy
// per path glob from aicfg.yaml. Pure: no files, no processes.
import picomatch from "picomatch";
import { Document, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import type { z } from "zod";
import type { MergePolicyName, MergeRule } from "./schema.ts";
import { splitFrontmatter } from "./yaml-source.ts";

export type MergePolicy = z.infer<typeof MergePolicyName>;
export type { MergeRule };

/** What a text merger returns: `text` carries conflict markers when `conflicts` > 0. */
export type TextMerge = { text: string; conflicts: number };
/**
 * Merges three texts (LF line endings, each ending in a newline). `union` resolves every conflicting
 * hunk by keeping both sides (upstream first) instead of reporting it.
 */
export type MergeText = (base: string, ours: string, theirs: string, opts: { union: boolean }) => Promise<TextMerge>;

/** The labels of the conflict markers aicfg writes (and `aicfg resolve --edited` looks for). */
export const MARKER_LABELS = { ours: "local", base: "base", theirs: "upstream" } as const;

/** The file next to a live file that holds its conflict markers: `agents/a.md` -> `agents/a.md.conflict.md`. */
export const CONFLICT_SUFFIX = ".conflict.md";
export function conflictFileOf(path: string): string {
  return path + CONFLICT_SUFFIX;
}
export function isConflictFile(path: string): boolean {
  return path.endsWith(CONFLICT_SUFFIX);
}

/** The policy of a library-relative posix path: the first rule whose glob matches, else three-way. */
export function policyFor(path: string, rules: readonly MergeRule[] | undefined): { policy: MergePolicy; rule: number | undefined } {
  for (const [i, r] of (rules ?? []).entries()) {
    if (picomatch(r.path, { dot: true })(path)) return { policy: r.policy, rule: i };
  }
  return { policy: "three-way", rule: undefined };
}

type FieldPath = (string | number)[];
type FieldConflict = { path: FieldPath; base: unknown; ours: unknown; theirs: unknown };

export type MergeInput = {
  /** The file at the locked upstream commit (the merge base); null when it did not exist there. */
  base: string | null;
  /** The local (personal) version; null when the person deleted their copy. */
  ours: string | null;
  /** The new upstream version; null when upstream deleted the file. */
  theirs: string | null;
  policy: MergePolicy;
};

export type MergeOutcome =
  | {
      status: "clean";
      /** What the live file must become; null: the file is deleted. */
      content: string | null;
      /** The rule that decided: unchanged, took-local, took-upstream, merged, or the policy's name. */
      decidedBy: "unchanged" | "took-local" | "took-upstream" | "merged" | "upstream-wins" | "local-wins" | "union";
      /** Local edits that a policy (upstream-wins) replaced, or upstream changes it ignored (local-wins). */
      dropped?: "local" | "upstream";
      /** Something the caller should tell the user (e.g. upstream deleted a file edited locally, kept). */
      note?: string;
    }
  | {
      status: "conflict";
      /** The live file stays as it is (the local version). */
      content: string | null;
      /** The whole file with diff3 markers, for `<file>.conflict.md`. */
      conflictText: string;
      fieldConflicts: FieldConflict[];
      bodyConflicts: number;
      note?: string;
    };

const ABSENT: unique symbol = Symbol("absent");
type Val = unknown;

/** Merges one file. `mergeText` merges the markdown bodies (and files without frontmatter). */
export async function mergeFile(input: MergeInput, mergeText: MergeText): Promise<MergeOutcome> {
  const { base, ours, theirs, policy } = input;
  if (ours === theirs) return { status: "clean", content: ours, decidedBy: "unchanged" };
  if (policy === "upstream-wins")
    return { status: "clean", content: theirs, decidedBy: "upstream-wins", ...(ours !== base ? { dropped: "local" as const } : {}) };
  if (policy === "local-wins") return { status: "clean", content: ours, decidedBy: "local-wins", ...(theirs !== base ? { dropped: "upstream" as const } : {}) };
  if (ours === base) return { status: "clean", content: theirs, decidedBy: "took-upstream" };
  if (theirs === base) return { status: "clean", content: ours, decidedBy: "took-local" };
  if (theirs === null) {
    // nbgitpuller's rule: a file deleted upstream but edited here is kept, never deleted with the edits.
    return { status: "clean", content: ours, decidedBy: "took-local", note: "upstream deleted this file; the local copy has edits and is kept" };
  }
  if (ours === null) {
    return {
      status: "conflict",
      content: null,
      conflictText: theirs,
      fieldConflicts: [],
      bodyConflicts: 1,
      note: "upstream changed a file that was deleted locally; this is the upstream version (resolve --theirs restores it, --ours keeps it deleted)",
    };
  }
  const union = policy === "union";
  const eol = ours.includes("\r\n") ? "\r\n" : "\n";
  const lf = (s: string) => s.replace(/\r\n/g, "\n");
  const b = lf(base ?? "");
  const o = lf(ours);
  const t = lf(theirs);
  const out = await mergeLf(b, o, t, union, mergeText);
  const back = (s: string) => {
    let r = s;
    if (!o.endsWith("\n") && r.endsWith("\n") && !t.endsWith("\n")) r = r.slice(0, -1);
    return eol === "\r\n" ? r.replace(/\n/g, "\r\n") : r;
  };
  if (out.fieldConflicts.length || out.bodyConflicts) {
    return { status: "conflict", content: ours, conflictText: back(out.text), fieldConflicts: out.fieldConflicts, bodyConflicts: out.bodyConflicts };
  }
  return { status: "clean", content: back(out.text), decidedBy: union ? "union" : "merged" };
}

type Merged = { text: string; fieldConflicts: FieldConflict[]; bodyConflicts: number };

const withNl = (s: string) => (s === "" || s.endsWith("\n") ? s : s + "\n");

async function mergeLf(base: string, ours: string, theirs: string, union: boolean, mergeText: MergeText): Promise<Merged> {
  const [sb, so, st] = [splitFrontmatter(base), splitFrontmatter(ours), splitFrontmatter(theirs)];
  const baseHasFm = sb.frontmatter !== undefined || base === "";
  if (so.frontmatter === undefined || st.frontmatter === undefined || !baseHasFm) {
    const r = await mergeText(withNl(base), withNl(ours), withNl(theirs), { union });
    return { text: r.text, fieldConflicts: [], bodyConflicts: r.conflicts };
  }
  const fm = mergeFrontmatter(sb.frontmatter ?? "", so.frontmatter, st.frontmatter);
  if (!fm) {
    // A frontmatter that is not YAML merges as text, like a file without one.
    const r = await mergeText(withNl(base), withNl(ours), withNl(theirs), { union });
    return { text: r.text, fieldConflicts: [], bodyConflicts: r.conflicts };
  }
  const body = await mergeBody(sb.frontmatter === undefined ? "" : sb.body, so.body, st.body, union, mergeText);
  const head = (text: string) => `---\n${withNl(text)}---\n`;
  return { text: head(fm.conflicts.length ? fm.conflictText : fm.text) + body.text, fieldConflicts: fm.conflicts, bodyConflicts: body.conflicts };
}

async function mergeBody(base: string, ours: string, theirs: string, union: boolean, mergeText: MergeText): Promise<TextMerge> {
  if (ours === theirs || base === theirs) return { text: ours, conflicts: 0 };
  if (base === ours) return { text: theirs, conflicts: 0 };
  const r = await mergeText(withNl(base), withNl(ours), withNl(theirs), { union });
  return r;
}

// ---------------------------------------------------------------------------------------------
// Frontmatter

export type FrontmatterMerge = { text: string; conflicts: FieldConflict[]; conflictText: string };

const DOC_OPTS = { schema: "core", uniqueKeys: true, merge: false, keepSourceTokens: false } as const;
const TO_STRING = { lineWidth: 0, flowCollectionPadding: false } as const;

/**
 * Merges three YAML frontmatters field by field. The result is the local Document with upstream's
 * changes applied, so its comments and key order survive. Returns undefined when one side is not
 * valid YAML or not a mapping (the caller merges the file as text then).
 */
export function mergeFrontmatter(base: string, ours: string, theirs: string): FrontmatterMerge | undefined {
  const parse = (s: string): { doc: Document; value: Val } | undefined => {
    const doc = parseDocument(s, DOC_OPTS);
    if (doc.errors.length) return undefined;
    let value: Val;
    try {
      value = doc.toJS({ maxAliasCount: 0 }) ?? {};
    } catch {
      return undefined;
    }
    if (!isPlainObject(value)) return undefined;
    return { doc, value };
  };
  const [pb, po, pt] = [parse(base), parse(ours), parse(theirs)];
  if (!pb || !po || !pt) return undefined;
  const conflicts: FieldConflict[] = [];
  const merged = mergeValue(pb.value, po.value, pt.value, [], conflicts, "ours");
  // Keep text verbatim where one side did not change: no re-serialisation churn.
  let text: string;
  if (deepEqual(merged, po.value)) text = ours;
  else if (deepEqual(pb.value, po.value) && deepEqual(merged, pt.value)) text = theirs;
  else {
    patchNode(po.doc, po.doc.contents as YamlNode, po.value, merged, pt.doc.contents as YamlNode);
    text = po.doc.toString(TO_STRING);
  }
  if (!conflicts.length) return { text, conflicts, conflictText: text };
  const upstreamSide = mergeValue(pb.value, po.value, pt.value, [], [], "theirs") as Record<string, Val>;
  return { text, conflicts, conflictText: markFieldConflicts(text, conflicts, pb.value as Record<string, Val>, upstreamSide) };
}

/** The 3-way merge of two JS values; conflicts are recorded and resolved to the local value. */
function mergeValue(b: Val, o: Val, t: Val, path: FieldPath, conflicts: FieldConflict[], prefer: "ours" | "theirs"): Val {
  if (deepEqual(o, t)) return o;
  if (deepEqual(b, o)) return t;
  if (deepEqual(b, t)) return o;
  if (isPlainObject(o) && isPlainObject(t) && (b === ABSENT || isPlainObject(b))) {
    return mergeMaps(b === ABSENT ? {} : (b as Record<string, Val>), o, t, path, conflicts, prefer);
  }
  if (Array.isArray(o) && Array.isArray(t) && (b === ABSENT || Array.isArray(b))) {
    return mergeLists(b === ABSENT ? [] : (b as Val[]), o, t, path, conflicts, prefer);
  }
  conflicts.push({ path, base: b === ABSENT ? undefined : b, ours: o === ABSENT ? undefined : o, theirs: t === ABSENT ? undefined : t });
  return prefer === "ours" ? o : t;
}

function mergeMaps(
  b: Record<string, Val>,
  o: Record<string, Val>,
  t: Record<string, Val>,
  path: FieldPath,
  conflicts: FieldConflict[],
  prefer: "ours" | "theirs",
): Record<string, Val> {
  const get = (m: Record<string, Val>, k: string): Val => (Object.hasOwn(m, k) ? m[k] : ABSENT);
  // Key order: local keys, with keys new upstream placed after the key that precedes them upstream.
  const order = Object.keys(o);
  const tKeys = Object.keys(t);
  for (const [i, k] of tKeys.entries()) {
    if (order.includes(k) || Object.hasOwn(b, k)) continue;
    const prev = tKeys
      .slice(0, i)
      .reverse()
      .find((p) => order.includes(p));
    order.splice(prev === undefined ? 0 : order.indexOf(prev) + 1, 0, k);
  }
  for (const k of Object.keys(b)) if (!order.includes(k) && Object.hasOwn(t, k)) order.push(k);
  const out: Record<string, Val> = {};
  for (const k of order) {
    const v = mergeValue(get(b, k), get(o, k), get(t, k), [...path, k], conflicts, prefer);
    if (v !== ABSENT) out[k] = v;
  }
  return out;
}

const label = (k: string): string => k.slice(k.indexOf(":") + 1);

/** Items that are maps with a string `name` (inline MCP servers) are matched by name; others by value. */
function itemKey(v: Val): string {
  if (isPlainObject(v) && typeof v.name === "string") return `name:${v.name}`;
  return `value:${canonical(v)}`;
}

function mergeLists(b: Val[], o: Val[], t: Val[], path: FieldPath, conflicts: FieldConflict[], prefer: "ours" | "theirs"): Val[] {
  const index = (l: Val[]) => {
    const m = new Map<string, Val>();
    for (const v of l) if (!m.has(itemKey(v))) m.set(itemKey(v), v);
    return m;
  };
  const [bm, om, tm] = [index(b), index(o), index(t)];
  const out: Val[] = [];
  const seen = new Set<string>();
  const push = (k: string, v: Val) => {
    if (seen.has(k) || v === ABSENT) return;
    seen.add(k);
    out.push(v);
  };
  for (const [k, ov] of om) {
    const bv = bm.has(k) ? bm.get(k) : ABSENT;
    const tv = tm.has(k) ? tm.get(k) : ABSENT;
    // A removal by either side wins, unless the other side changed that (named) item.
    if (tv === ABSENT && bv !== ABSENT) {
      if (!deepEqual(bv, ov)) push(k, mergeValue(bv, ov, tv, [...path, label(k)], conflicts, prefer));
      continue;
    }
    push(k, tv === ABSENT ? ov : mergeValue(bv, ov, tv, [...path, label(k)], conflicts, prefer));
  }
  for (const [k, tv] of tm) {
    if (om.has(k)) continue;
    const bv = bm.has(k) ? bm.get(k) : ABSENT;
    if (bv !== ABSENT) {
      if (!deepEqual(bv, tv)) push(k, mergeValue(bv, ABSENT, tv, [...path, label(k)], conflicts, prefer));
      continue;
    }
    push(k, tv);
  }
  return out;
}

/** Applies `merged` to the local Document node in place, reusing nodes (and their comments) where it can. */
function patchNode(doc: Document, node: YamlNode, oursVal: Val, merged: Val, theirs: YamlNode | undefined): YamlNode {
  if (deepEqual(oursVal, merged)) return node;
  if (isMap(node) && isPlainObject(merged) && isPlainObject(oursVal)) {
    const map = node as YAMLMap<unknown, unknown>;
    const mine = new Map(map.items.map((p) => [keyOf(p), p] as const));
    const up = new Map(isMap(theirs) ? (theirs as YAMLMap<unknown, unknown>).items.map((p) => [keyOf(p), p] as const) : []);
    map.items = Object.entries(merged).map(([k, v]) => {
      const pair = mine.get(k);
      const tPair = up.get(k);
      if (pair) {
        pair.value = patchNode(doc, pair.value as YamlNode, oursVal[k], v, tPair?.value as YamlNode | undefined);
        return pair;
      }
      // A key new upstream: upstream's own node (style, comment above it) when it holds the merged value.
      if (tPair && deepEqual(jsOf(tPair.value), v)) return tPair.clone() as Pair<unknown, unknown>;
      return doc.createPair(k, v);
    });
    return map;
  }
  if (isSeq(node) && Array.isArray(merged) && Array.isArray(oursVal)) {
    const seq = node as YAMLSeq<unknown>;
    const mine = new Map<string, { node: YamlNode; value: Val }>();
    seq.items.forEach((it, i) => {
      const k = itemKey(oursVal[i]);
      if (!mine.has(k)) mine.set(k, { node: it as YamlNode, value: oursVal[i] });
    });
    const up = new Map<string, YamlNode>();
    if (isSeq(theirs)) for (const it of (theirs as YAMLSeq<unknown>).items) up.set(itemKey(jsOf(it)), it as YamlNode);
    seq.items = merged.map((v) => {
      const k = itemKey(v);
      const m = mine.get(k);
      if (m) return patchNode(doc, m.node, m.value, v, up.get(k));
      const t = up.get(k);
      return t && deepEqual(jsOf(t), v) ? t.clone() : doc.createNode(v);
    });
    return seq;
  }
  // A scalar (or a change of kind): the new value, keeping the local node's comments.
  const fresh = doc.createNode(merged) as YamlNode;
  const old = node as YamlNode | null;
  if (old?.comment) fresh.comment = old.comment;
  if (old?.commentBefore) fresh.commentBefore = old.commentBefore;
  return fresh;
}

function keyOf(p: Pair<unknown, unknown>): string {
  return String(isScalar(p.key) ? p.key.value : p.key);
}

function jsOf(node: unknown): Val {
  if (node && typeof node === "object" && "toJSON" in node && typeof (node as { toJSON: unknown }).toJSON === "function")
    return (node as { toJSON: () => Val }).toJSON();
  return node;
}

/**
 * The frontmatter for `<file>.conflict.md`: the merged text, where each conflicting top-level field
 * becomes a diff3 block (local: as merged, conflicts taken locally / base / upstream: as merged,
 * conflicts taken from upstream), so a person picks or edits one block in one file.
 */
function markFieldConflicts(text: string, conflicts: FieldConflict[], base: Record<string, Val>, upstreamSide: Record<string, Val>): string {
  const doc = parseDocument(text, DOC_OPTS);
  const lines = withNl(text).split("\n").slice(0, -1);
  const tops = [...new Set(conflicts.map((c) => String(c.path[0])))];
  const spans = new Map<string, [number, number]>();
  const lineAt = (off: number) => text.slice(0, off).split("\n").length - 1;
  if (isMap(doc.contents)) {
    const items = (doc.contents as YAMLMap<unknown, unknown>).items;
    for (const [i, p] of items.entries()) {
      const k = keyOf(p);
      if (!tops.includes(k) || !isScalar(p.key) || !p.key.range) continue;
      const first = lineAt(p.key.range[0]);
      const next = items[i + 1];
      let end = next && isScalar(next.key) && next.key.range ? lineAt(next.key.range[0]) : lines.length;
      // The next key's own comment lines belong to it, not to this block.
      while (end > first + 1 && /^\s*#/.test(lines[end - 1] ?? "")) end--;
      spans.set(k, [first, end]);
    }
  }
  const render = (k: string, v: Val) => (v === undefined ? "" : new Document({ [k]: v }).toString(TO_STRING));
  const block = (k: string, local: string) =>
    `<<<<<<< ${MARKER_LABELS.ours}\n${local}||||||| ${MARKER_LABELS.base}\n${render(k, base[k])}=======\n${render(k, upstreamSide[k])}>>>>>>> ${MARKER_LABELS.theirs}`;
  const out: string[] = [];
  let i = 0;
  for (const [k, [s, e]] of [...spans.entries()].sort((a, b) => a[1][0] - b[1][0])) {
    out.push(
      ...lines.slice(i, s),
      block(
        k,
        lines
          .slice(s, e)
          .map((l) => l + "\n")
          .join(""),
      ),
    );
    i = e;
  }
  out.push(...lines.slice(i));
  for (const k of tops) if (!spans.has(k)) out.push(block(k, ""));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Values

function isPlainObject(v: Val): v is Record<string, Val> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function canonical(v: Val): string {
  if (v === ABSENT) return "\u0000absent";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  if (v instanceof Date) return `date:${v.toISOString()}`;
  return JSON.stringify(v) ?? String(v);
}

/** Equality by value; maps ignore key order (a re-serialised frontmatter is not an edit). */
export function deepEqual(a: Val, b: Val): boolean {
  return a === b || canonical(a) === canonical(b);
}
