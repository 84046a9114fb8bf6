// Editors for files we share with the user: they change only the keys, tables or marked block we
// own and leave every other byte as it was. What we insert follows the file's own layout (indent
// unit, line endings, final newline), so a merged file reads as if one person wrote all of it.
import { applyEdits, createScanner, modify, parse as parseJsonc, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";

// ---------- layout shared by JSON and TOML ----------

type Eol = "\n" | "\r\n";

/** The file's line ending: CRLF when most line breaks are CRLF, LF otherwise (and for a new file). */
function detectEol(text: string): Eol {
  const crlf = text.split("\r\n").length - 1;
  const all = text.split("\n").length - 1;
  return crlf > all - crlf ? "\r\n" : "\n";
}

/** Line and column (both from 1) of an offset, for file:line:col messages. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

// ---------- JSON ----------

/** `error` is "line:col: what" (for messages that already name the file), `message` the "what" alone. */
export type ParseFailure = { ok: false; error: string; message: string; line?: number; column?: number };

export function parseJsonText(text: string): { ok: true; value: unknown } | ParseFailure {
  if (!text.trim()) return { ok: true, value: {} };
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0]!;
    const { line, column } = lineColumn(text, e.offset);
    const message = describeJsonError(printParseErrorCode(e.error));
    return { ok: false, error: `${line}:${column}: ${message}`, message, line, column };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    const at = lineColumn(text, text.length - text.trimStart().length);
    const message = "the top level is not a JSON object";
    return { ok: false, error: `${at.line}:${at.column}: ${message}`, message, ...at };
  }
  return { ok: true, value };
}

function describeJsonError(code: string): string {
  // "CommaExpected" -> "comma expected"
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

export function getJsonPath(value: unknown, key: readonly string[]): unknown {
  let cur: unknown = value;
  for (const k of key) {
    if (!cur || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** How a JSON file is laid out: what we insert is printed the same way. */
export type JsonStyle = { indent: string; eol: Eol; finalNewline: boolean; colon: string };

/**
 * Indent unit by vote: every member that starts its own line at nesting depth d with w leading
 * spaces votes for w/d spaces (tabs likewise), so a file whose first indented line sits two levels
 * deep still reads as 4-space and not 8. No vote (a one-line or a new file): 2 spaces, which is also
 * how a file aicfg creates is laid out.
 */
export function detectJsonStyle(text: string, root: Node | undefined = parseTree(text)): JsonStyle {
  const indents = new Map<string, number>();
  const colons = new Map<string, number>();
  const vote = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const walk = (n: Node, depth: number): void => {
    for (const c of n.children ?? []) {
      if (n.type === "object" || n.type === "array") {
        const ws = ownLineIndent(text, c.offset);
        if (ws) {
          if (/^\t+$/.test(ws) && ws.length === depth + 1) vote(indents, "\t");
          else if (/^ +$/.test(ws) && ws.length % (depth + 1) === 0) vote(indents, " ".repeat(ws.length / (depth + 1)));
          if (c.type === "property" && c.children?.length === 2) {
            const between = text.slice(c.children[0]!.offset + c.children[0]!.length, c.children[1]!.offset);
            if (/^[ \t]*:[ \t]*$/.test(between)) vote(colons, between);
          }
        }
      }
      walk(c, n.type === "property" ? depth : depth + 1);
    }
  };
  if (root) walk(root, 0);
  const best = (m: Map<string, number>, dflt: string): string => [...m].sort((a, b) => b[1] - a[1])[0]?.[0] ?? dflt;
  return { indent: best(indents, "  "), eol: detectEol(text), finalNewline: text.trim() === "" || /\n$/.test(text), colon: best(colons, ": ") };
}

/** The leading white space of the line `offset` is on, if nothing but white space precedes it there. */
function ownLineIndent(text: string, offset: number): string | undefined {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  if (start === 0) return undefined;
  const ws = text.slice(start, offset);
  return /^[ \t]*$/.test(ws) ? ws : undefined;
}

/** The indentation of the line `offset` is on (whatever precedes it there). */
function lineIndentAt(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))![0];
}

/** Up to about this width an array of plain values stays on one line (`"args": ["-y", "server"]`), as people write them. */
const ONE_LINE_ARRAY_MAX = 100;

/**
 * Prints a value as a person would: objects one member per line, nested with the file's unit from
 * `base`; arrays of plain values on one line while they fit, else one item per line.
 */
function printJson(v: unknown, s: JsonStyle, base: string): string {
  const inner = base + s.indent;
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    if (v.every((x) => x === null || typeof x !== "object")) {
      const line = printJsonCompact(v, s);
      if (inner.replace(/\t/g, "    ").length + line.length <= ONE_LINE_ARRAY_MAX) return line;
    }
    return `[${s.eol}${v.map((x) => inner + printJson(x ?? null, s, inner)).join(`,${s.eol}`)}${s.eol}${base}]`;
  }
  if (v && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (!entries.length) return "{}";
    return `{${s.eol}${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}${s.colon}${printJson(x, s, inner)}`).join(`,${s.eol}`)}${s.eol}${base}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** One-line form, for a value whose old text was on one line. */
function printJsonCompact(v: unknown, s: JsonStyle): string {
  if (Array.isArray(v)) return `[${v.map((x) => printJsonCompact(x ?? null, s)).join(", ")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}${s.colon}${printJsonCompact(x, s)}`).join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

function findProperty(obj: Node, name: string): Node | undefined {
  return obj.children?.find((p) => p.type === "property" && p.children?.[0]?.value === name);
}

/** The object nodes along `key` from the root (as far as they exist), and the property at its end if any. */
function walkKey(root: Node, key: readonly string[]): { objects: Node[]; property?: Node; blocked: boolean } {
  const objects = [root];
  for (let i = 0; i < key.length; i++) {
    const prop = findProperty(objects[i]!, key[i]!);
    if (!prop) return { objects, blocked: false };
    if (i === key.length - 1) return { objects, property: prop, blocked: false };
    const val = prop.children?.[1];
    if (val?.type !== "object") return { objects, blocked: true };
    objects.push(val);
  }
  return { objects, blocked: false };
}

const TOKEN = { comma: 5, lineComment: 12, blockComment: 13, lineBreak: 14, trivia: 15 } as const;

/** What follows a member on its line: a comma, comments, and where the line break (if any) starts. */
function tailOf(text: string, end: number): { comma: number | undefined; tailEnd: number; lineBreak: boolean } {
  const sc = createScanner(text, false);
  sc.setPosition(end);
  let comma: number | undefined;
  let tailEnd = end;
  for (;;) {
    const t = sc.scan() as number;
    if (t === TOKEN.trivia) continue;
    if (t === TOKEN.comma && comma === undefined) {
      comma = sc.getTokenOffset();
      tailEnd = comma + 1;
    } else if (t === TOKEN.lineComment || t === TOKEN.blockComment) tailEnd = sc.getTokenOffset() + sc.getTokenLength();
    else return { comma, tailEnd, lineBreak: t === TOKEN.lineBreak };
  }
}

function hasComment(text: string, from: number, to: number): boolean {
  const sc = createScanner(text.slice(from, to), false);
  for (let t = sc.scan() as number; t !== 17; t = sc.scan() as number) if (t === TOKEN.lineComment || t === TOKEN.blockComment) return true;
  return false;
}

const isOneLine = (text: string, n: Node): boolean => !text.slice(n.offset, n.offset + n.length).includes("\n");

/**
 * A one-line container we laid out over several lines to insert into it, as it was before: given
 * back when removing our members leaves it exactly as the expansion made it, so add then remove
 * restores the original bytes. `path` leads to the container, `chain` on from it to the object we
 * inserted into.
 */
export type JsonLayout = { path: string[]; chain: string[]; text: string; indent: string };

/**
 * The rule for a one-line container we must insert into: the outermost one-line object on the path
 * down to it, and each one-line object below that on the path, is laid out one member per line at
 * the file's unit; the user's other members keep their own text, each on its line, byte for byte.
 * Why: a new multi-line entry after one-line siblings (or a one-line entry of 200 characters) reads
 * as machine-made, and re-laying out only the path changes the fewest of the user's lines.
 */
function expandChain(objText: string, chain: readonly string[], s: Pick<JsonStyle, "indent" | "eol">, base: string): string {
  const node = parseTree(objText);
  if (node?.type !== "object" || !node.children?.length) return objText;
  const inner = base + s.indent;
  const members = node.children.map((p) => {
    const k = p.children![0]!;
    const v = p.children![1];
    if (chain.length && k.value === chain[0] && v?.type === "object") {
      const head = objText.slice(p.offset, v.offset);
      return inner + head + expandChain(objText.slice(v.offset, v.offset + v.length), chain.slice(1), s, inner);
    }
    return inner + objText.slice(p.offset, p.offset + p.length);
  });
  return `{${s.eol}${members.join(`,${s.eol}`)}${s.eol}${base}}`;
}

/**
 * Sets (or with `undefined`, removes) one key path; the stateless form of `editJsonKey`. Every byte
 * we do not own, comments included, stays as it was.
 */
export function setJsonKey(text: string, key: readonly string[], value: unknown, restore: readonly JsonLayout[] = []): string {
  return editJsonKey(text, key, value, restore).text;
}

/**
 * Sets or removes one key path. An insert that had to lay out a one-line container over several
 * lines says so in `expanded`; hand that back in `restore` on a later removal to get the one-line
 * form back once nothing of ours is left in it.
 */
export function editJsonKey(
  text: string,
  key: readonly string[],
  value: unknown,
  restore: readonly JsonLayout[] = [],
): { text: string; expanded?: JsonLayout } {
  const isNew = !text.trim();
  const style = detectJsonStyle(isNew ? "" : text);
  const base = isNew ? `{}${style.eol}` : text;
  const root = parseTree(base);
  if (root?.type !== "object") return { text: finish(applyEdits(base, modify(base, [...key], value, {})), style) };
  if (value === undefined) {
    if (isNew) return { text };
    let out = removeMember(base, root, key);
    // Drop parents that the removal left empty, but only those holding nothing at all.
    for (let depth = key.length - 1; depth >= 1; depth--) {
      const parentKey = key.slice(0, depth);
      const parent = getJsonPath(parseJsonc(out), parentKey);
      if (!parent || typeof parent !== "object" || Array.isArray(parent) || Object.keys(parent).length) break;
      // A comment in it ("// servers go here") is the user's: keep the object that holds it.
      const node = walkKey(parseTree(out)!, parentKey).property?.children?.[1];
      if (node && hasComment(out, node.offset, node.offset + node.length)) break;
      out = removeMember(out, parseTree(out)!, parentKey);
    }
    for (const r of restore) out = restoreLayout(out, r, style.eol);
    return { text: out };
  }
  const walked = walkKey(root, key);
  if (walked.blocked) return { text: finish(applyEdits(base, modify(base, [...key], value, {})), style) };
  if (walked.property) return { text: finish(replaceValue(base, walked.property, value, style), style) };

  // Insert: the deepest existing object takes the new member (with the missing parents nested in it).
  let out = base;
  let expanded: JsonLayout | undefined;
  const objects = walked.objects;
  const target = objects[objects.length - 1]!;
  // The outermost one-line object of the path down to the target, unless only an empty target is one-line.
  let from = objects.length - 1;
  while (from > 0 && isOneLine(base, objects[from - 1]!)) from--;
  const outer = objects[from]!;
  const needsExpand = isOneLine(base, outer) && (from < objects.length - 1 || !!target.children?.length);
  if (needsExpand && !hasComment(base, outer.offset, outer.offset + outer.length)) {
    const original = base.slice(outer.offset, outer.offset + outer.length);
    const chain = key.slice(from, objects.length - 1);
    const laidOut = expandChain(original, chain, style, lineIndentAt(base, outer.offset));
    out = base.slice(0, outer.offset) + laidOut + base.slice(outer.offset + outer.length);
    expanded = { path: key.slice(0, from), chain: [...chain], text: original, indent: style.indent };
  }
  const tree = parseTree(out)!;
  const container = walkKey(tree, key).objects[objects.length - 1]!;
  let nested: unknown = value;
  for (let i = key.length - 1; i >= objects.length; i--) nested = { [key[i]!]: nested };
  out = insertMember(out, container, key[objects.length - 1]!, nested, style);
  return { text: finish(out, style), ...(expanded ? { expanded } : {}) };
}

function finish(text: string, s: JsonStyle): string {
  return s.finalNewline && !text.endsWith("\n") ? text + s.eol : text;
}

function replaceValue(text: string, prop: Node, value: unknown, s: JsonStyle): string {
  const v = prop.children![1]!;
  const old = text.slice(v.offset, v.offset + v.length);
  const printed =
    old.includes("\n") || (v.type !== "object" && v.type !== "array") ? printJson(value, s, lineIndentAt(text, prop.offset)) : printJsonCompact(value, s);
  return text.slice(0, v.offset) + printed + text.slice(v.offset + v.length);
}

function insertMember(text: string, obj: Node, name: string, value: unknown, s: JsonStyle): string {
  const close = obj.offset + obj.length - 1;
  const members = obj.children ?? [];
  if (!members.length) {
    const closeIndent = lineIndentAt(text, obj.offset);
    const indent = closeIndent + s.indent;
    const member = `${JSON.stringify(name)}${s.colon}${printJson(value, s, indent)}`;
    const inner = text.slice(obj.offset + 1, close);
    if (!hasComment(text, obj.offset + 1, close)) return `${text.slice(0, obj.offset + 1)}${s.eol}${indent}${member}${s.eol}${closeIndent}${text.slice(close)}`;
    // Comments inside an empty object ("// add servers here"): our member goes after them.
    const closeOwn = ownLineIndent(text, close);
    if (closeOwn !== undefined) {
      const lineStart = close - closeOwn.length;
      return `${text.slice(0, lineStart)}${indent}${member}${s.eol}${text.slice(lineStart)}`;
    }
    return `${text.slice(0, close)}${inner.endsWith("\n") ? "" : s.eol}${indent}${member}${s.eol}${closeIndent}${text.slice(close)}`;
  }
  const last = members[members.length - 1]!;
  const indent = ownLineIndent(text, last.offset) ?? lineIndentAt(text, obj.offset) + s.indent;
  const member = `${JSON.stringify(name)}${s.colon}${printJson(value, s, indent)}`;
  const end = last.offset + last.length;
  const tail = tailOf(text, end);
  if (tail.comma !== undefined) {
    // The user ends members with a comma (JSONC trailing comma): so does ours.
    return `${text.slice(0, tail.tailEnd)}${s.eol}${indent}${member},${text.slice(tail.tailEnd)}`;
  }
  return `${text.slice(0, end)},${text.slice(end, tail.tailEnd)}${s.eol}${indent}${member}${text.slice(tail.tailEnd)}`;
}

/** Removes one member: its whole line when it has one to itself, else through jsonc-parser. */
function removeMember(text: string, root: Node, key: readonly string[]): string {
  const { property } = walkKey(root, key);
  if (!property) return text;
  const obj = property.parent!;
  const members = obj.children!;
  const idx = members.indexOf(property);
  const close = obj.offset + obj.length - 1;
  if (members.length === 1 && !hasComment(text, obj.offset + 1, close)) {
    // Nothing else inside: back to `{}`, as an empty object is written by hand.
    return text.slice(0, obj.offset + 1) + text.slice(close);
  }
  const own = ownLineIndent(text, property.offset);
  const tail = tailOf(text, property.offset + property.length);
  if (own === undefined || !tail.lineBreak) return applyEdits(text, modify(text, [...key], undefined, {}));
  // The line break before our line, our line, and our comma.
  const lineStart = property.offset - own.length;
  const from = text[lineStart - 2] === "\r" ? lineStart - 2 : lineStart - 1;
  let out = text.slice(0, from) + text.slice(tail.tailEnd);
  if (idx === members.length - 1 && idx > 0 && tail.comma === undefined) {
    // We were last: the comma that separated us from the one before goes too.
    const prev = members[idx - 1]!;
    const prevTail = tailOf(text, prev.offset + prev.length);
    if (prevTail.comma !== undefined) out = out.slice(0, prevTail.comma) + out.slice(prevTail.comma + 1);
  }
  return out;
}

function restoreLayout(text: string, r: JsonLayout, eol: Eol): string {
  const root = parseTree(text);
  if (root?.type !== "object") return text;
  let node: Node | undefined = root;
  for (const k of r.path) {
    const v: Node | undefined = node ? findProperty(node, k)?.children?.[1] : undefined;
    node = v?.type === "object" ? v : undefined;
  }
  if (!node) return text;
  const cur = text.slice(node.offset, node.offset + node.length);
  if (cur !== expandChain(r.text, r.chain, { indent: r.indent, eol }, lineIndentAt(text, node.offset))) return text;
  return text.slice(0, node.offset) + r.text + text.slice(node.offset + node.length);
}

// ---------- TOML ----------

export function parseTomlText(text: string): { ok: true; value: Record<string, unknown> } | ParseFailure {
  try {
    return { ok: true, value: parseToml(text) as Record<string, unknown> };
  } catch (e) {
    // smol-toml's TomlError carries the position (line and column from 1).
    const err = e as Error & { line?: number; column?: number };
    const message = (err.message.split("\n")[0] ?? "invalid TOML").replace(/^Invalid TOML document: /, "");
    if (typeof err.line === "number" && typeof err.column === "number") {
      return { ok: false, error: `${err.line}:${err.column}: ${message}`, message, line: err.line, column: err.column };
    }
    return { ok: false, error: message, message };
  }
}

const HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/;

function headerPath(line: string): string[] | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  let mm: RegExpExecArray | null;
  const src = m[1]!;
  while (re.lastIndex < src.length && (mm = re.exec(src))) {
    parts.push(mm[1] !== undefined ? JSON.parse(`"${mm[1]}"`) : (mm[2] ?? mm[3]!));
  }
  return parts;
}

function startsWithPath(p: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= p.length && prefix.every((s, i) => p[i] === s);
}

/**
 * How a TOML file is laid out: keys indented under their header or not, `k = v` or `k=v`, blank
 * lines between tables, arrays as `["a"]` or `[ "a" ]`. A file without any says nothing, and we
 * write what people and Codex's documentation write: `k = v`, a blank line, `["a", "b"]`.
 */
type TomlStyle = { eol: Eol; keyIndent: string; equals: string; blankBetween: boolean; arrayPad: boolean };

function detectTomlStyle(text: string): TomlStyle {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const indents = new Map<string, number>();
  const equals = new Map<string, number>();
  let blank = 0;
  let tight = 0;
  let inTable = false;
  let padded = 0;
  let tightArrays = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (headerPath(line)) {
      if (i > 0 && !/^\s*#/.test(lines[i - 1]!)) lines[i - 1]!.trim() === "" ? blank++ : tight++;
      inTable = true;
      continue;
    }
    const kv = /^([ \t]*)(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')([ \t]*=[ \t]*)\S/.exec(line);
    if (!kv) continue;
    if (inTable) indents.set(kv[1]!, (indents.get(kv[1]!) ?? 0) + 1);
    equals.set(kv[2]!, (equals.get(kv[2]!) ?? 0) + 1);
    const arr = /^\[([ \t]?)[^\]\s]/.exec(line.slice(kv[0].length - 1));
    if (arr) arr[1] ? padded++ : tightArrays++;
  }
  const best = (m: Map<string, number>, dflt: string): string => [...m].sort((a, b) => b[1] - a[1])[0]?.[0] ?? dflt;
  return { eol: detectEol(text), keyIndent: best(indents, ""), equals: best(equals, " = "), blankBetween: blank >= tight, arrayPad: padded > tightArrays };
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

/** A value on one line as people write it (`["a", "b"]`, `{ X = "1" }`); scalars escaped by smol-toml. */
function tomlValue(v: unknown, s: TomlStyle): string {
  if (Array.isArray(v)) {
    const pad = s.arrayPad && v.length ? " " : "";
    return `[${pad}${v.map((x) => tomlValue(x, s)).join(", ")}${pad}]`;
  }
  if (isTable(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.length ? `{ ${entries.map(([k, x]) => `${tomlKey(k)}${s.equals}${tomlValue(x, s)}`).join(", ")} }` : "{}";
  }
  return stringifyToml({ v }).replace(/^v = /, "").replace(/\n$/, "");
}

function isTable(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Renders one table (and its sub-tables) as TOML lines with a full `[a.b]` header: scalar and array
 * keys first, then each sub-table under its own header, laid out in the file's style.
 */
function renderTomlLines(path: readonly string[], value: Record<string, unknown>, s: TomlStyle): string[] {
  const out = [`[${path.map(tomlKey).join(".")}]`];
  const subs: [string, Record<string, unknown>][] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (isTable(v)) subs.push([k, v]);
    else out.push(`${s.keyIndent}${tomlKey(k)}${s.equals}${tomlValue(v, s)}`);
  }
  for (const [k, v] of subs) out.push(...(s.blankBetween ? [""] : []), ...renderTomlLines([...path, k], v, s));
  return out;
}

/**
 * Replaces (or with `undefined`, removes) the `[path]` table and its sub-tables in TOML text,
 * keeping everything else byte-for-byte. A table not present is appended at the end, laid out as
 * the file's other tables are (line endings, key indent, `=` spacing, blank line before headers).
 */
export function setTomlTable(text: string, path: readonly string[], value: Record<string, unknown> | undefined): string {
  const style = detectTomlStyle(text);
  // Lines keep their own "\r": a file with mixed endings keeps them; ours get the file's ending.
  const cr = style.eol === "\r\n" ? "\r" : "";
  const lines = text.length ? text.split("\n") : [];
  const finalNewline = !text.length || text.endsWith("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  let start = -1;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const hp = headerPath(lines[i]!);
    if (!hp) continue;
    if (start === -1 && hp.length === path.length && startsWithPath(hp, path)) {
      start = i;
      continue;
    }
    if (start !== -1 && !startsWithPath(hp, path)) {
      end = i;
      break;
    }
  }
  const block = value === undefined ? [] : renderTomlLines(path, value, style).map((l) => l + cr);
  if (start === -1) {
    if (value === undefined) return text;
    // A new [mcp_servers.x] goes after the file's last [mcp_servers.*] table, as a person groups
    // them; with no sibling, at the end.
    const at = afterLastSibling(lines, path);
    if (at !== undefined) {
      const sep = style.blankBetween ? [cr] : [];
      return [...lines.slice(0, at), ...sep, ...block, ...lines.slice(at)].join("\n") + (finalNewline ? "\n" : "");
    }
    const sep = lines.length && lines[lines.length - 1]!.trim() !== "" && style.blankBetween ? [cr] : [];
    return [...lines, ...sep, ...block].join("\n") + "\n";
  }
  // Keep blank lines that separated the old block from the next one, and comments just above the
  // next header: those belong to it.
  let blockEnd = end;
  while (blockEnd > start + 1 && isBlankOrComment(lines[blockEnd - 1]!)) blockEnd--;
  const before = lines.slice(0, start);
  const after = lines.slice(blockEnd);
  const tail = after.length && !finalNewline ? "" : "\n";
  if (value === undefined) {
    while (before.length && before[before.length - 1]!.trim() === "" && (after.length === 0 || after[0]!.trim() === "")) before.pop();
    const joined = [...before, ...after];
    return joined.length ? joined.join("\n") + tail : "";
  }
  return [...before, ...block, ...after].join("\n") + tail;
}

const isBlankOrComment = (line: string): boolean => /^\s*(#.*)?$/.test(line);

/** The line after the last table under the same parent as `path` (its sub-tables included, blank lines not). */
function afterLastSibling(lines: readonly string[], path: readonly string[]): number | undefined {
  if (path.length < 2) return undefined;
  const parent = path.slice(0, -1);
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    const hp = headerPath(lines[i]!);
    if (hp && hp.length > parent.length && startsWithPath(hp, parent)) last = i;
  }
  if (last === -1) return undefined;
  let end = last + 1;
  while (end < lines.length && !headerPath(lines[end]!)) end++;
  if (end === lines.length) return undefined;
  while (end > last + 1 && isBlankOrComment(lines[end - 1]!)) end--;
  return end;
}

export function getTomlTable(value: Record<string, unknown>, path: readonly string[]): unknown {
  return getJsonPath(value, path);
}

// ---------- Markdown sections ----------

export type CommentStyle = "html" | "hash";

export function sectionMarkers(target: string, style: CommentStyle = "html"): { begin: string; end: string } {
  return style === "hash"
    ? { begin: `# aicfg:begin ${target} (generated by aicfg export; edit the library instead)`, end: `# aicfg:end ${target}` }
    : {
        begin: `<!-- aicfg:begin ${target} (generated by aicfg export; edit the library instead) -->`,
        end: `<!-- aicfg:end ${target} -->`,
      };
}

function findSection(text: string, target: string, style: CommentStyle): { start: number; end: number; inner: string } | undefined {
  const beginRe =
    style === "hash"
      ? new RegExp(`^# aicfg:begin ${escapeRe(target)}(?: [^\\n]*)?\\n?`, "m")
      : new RegExp(`<!-- aicfg:begin ${escapeRe(target)}(?: [^\\n]*?)? -->\\n?`);
  const b = beginRe.exec(text);
  if (!b) return undefined;
  const endMarker = sectionMarkers(target, style).end;
  const e = text.indexOf(endMarker, b.index + b[0].length);
  if (e === -1) return undefined;
  let end = e + endMarker.length;
  if (text[end] === "\n") end++;
  return { start: b.index, end, inner: text.slice(b.index + b[0].length, e) };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function getSection(text: string, target: string, style: CommentStyle = "html"): string | undefined {
  return findSection(text, target, style)?.inner;
}

/** Replaces, inserts (at the end) or with `undefined` removes our marked block. */
export function setSection(text: string, target: string, content: string | undefined, style: CommentStyle = "html"): string {
  const found = findSection(text, target, style);
  const { begin, end } = sectionMarkers(target, style);
  const body = content === undefined ? undefined : content.endsWith("\n") ? content : content + "\n";
  if (!found) {
    if (body === undefined) return text;
    const sep = text.length === 0 ? "" : text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
    return `${text}${sep}${begin}\n${body}${end}\n`;
  }
  if (body === undefined) {
    // Remove the block and the blank line that was put before it when it was inserted.
    let before = text.slice(0, found.start);
    let after = text.slice(found.end);
    if (before.endsWith("\n\n")) before = before.slice(0, -1);
    else if (!before.length && after.startsWith("\n")) after = after.slice(1);
    if (!after.length) before = before.replace(/\n+$/, before.trim() ? "\n" : "");
    return before + after;
  }
  return text.slice(0, found.start) + `${begin}\n${body}${end}\n` + text.slice(found.end);
}
