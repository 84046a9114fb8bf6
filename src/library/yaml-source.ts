// Parses user-written YAML (and markdown frontmatter) safely and keeps positions, so that schema
// errors can point at file:line:col. Hardened per security goal G30: size cap before parsing,
// core schema, unique keys, no aliases, null-prototype-safe output.
import { isMap, isPair, isScalar, isSeq, LineCounter, parse as parseYamlValue, parseDocument, type Document, type Node as YamlNode } from "yaml";
import type { z } from "zod";
import type { Diagnostic } from "./diagnostics.ts";

export const MAX_YAML_BYTES = 1024 * 1024;

export type Position = { line: number; col: number };

export type ParsedYaml = {
  value: unknown;
  diagnostics: Diagnostic[];
  /** Position of the value (or, with `key`, of the key) at a path in the document. */
  locate: (path: readonly PropertyKey[], key?: boolean) => Position;
};

/**
 * @param lineOffset lines before this text in the file (for frontmatter that starts after `---`).
 */
export function parseYaml(text: string, file: string, lineOffset = 0): ParsedYaml {
  const diagnostics: Diagnostic[] = [];
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_YAML_BYTES) {
    diagnostics.push({
      severity: "error",
      code: "file-too-large",
      message: `YAML is ${size} bytes, over the ${MAX_YAML_BYTES}-byte limit`,
      file,
      line: 1 + lineOffset,
      col: 1,
      hint: "split it into smaller files",
    });
    return { value: undefined, diagnostics, locate: () => ({ line: 1 + lineOffset, col: 1 }) };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    schema: "core",
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    merge: false,
  });
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line + lineOffset, col: p.col };
  };
  for (const err of [...doc.errors, ...doc.warnings]) {
    const p = pos(err.pos[0]);
    diagnostics.push({
      severity: doc.errors.includes(err) ? "error" : "warning",
      code: "yaml-syntax",
      message: `YAML: ${firstLine(err.message)}`,
      file,
      ...p,
      hint: yamlHint(err.code),
    });
  }
  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 0 });
    } catch (e) {
      diagnostics.push({
        severity: "error",
        code: "yaml-alias",
        message: `YAML: ${firstLine((e as Error).message)}`,
        file,
        line: 1 + lineOffset,
        col: 1,
        hint: "anchors and aliases (&a / *a) are not allowed; repeat the value instead",
      });
    }
  }
  return { value, diagnostics, locate: (path, key) => locateIn(doc, path, key, pos) };
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear once in a mapping";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation and that every 'key: value' has a space after ':'";
    case "BLOCK_AS_IMPLICIT_KEY":
      return "a value that contains ': ' must be quoted";
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    default:
      return undefined;
  }
}

function locateIn(doc: Document, path: readonly PropertyKey[], key: boolean | undefined, pos: (offset: number) => Position): Position {
  let node: unknown = doc.contents;
  let best: [number, number] | undefined = (node as YamlNode | null)?.range ? [(node as YamlNode).range![0], 0] : undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      if (last && key && isScalar(pair.key) && pair.key.range) {
        return pos(pair.key.range[0]);
      }
      const target = (pair.value ?? pair.key) as YamlNode | null;
      if (target && "range" in target && target.range) best = [target.range[0], 0];
      else if (isScalar(pair.key) && pair.key.range) best = [pair.key.range[0], 0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      if (item.range) best = [item.range[0], 0];
      node = item;
    } else break;
  }
  return best ? pos(best[0]) : pos(0);
}

/** Converts zod issues into positioned diagnostics, with a hint per kind of mistake. */
export function zodIssuesToDiagnostics(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  locate: ParsedYaml["locate"],
  hints: { knownKeys?: (path: readonly PropertyKey[]) => string[] | undefined } = {},
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    const where = path.length ? path.map(String).join(".") : "(top level)";
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) {
        const p = locate([...path, k], true);
        const known = hints.knownKeys?.(path);
        const suggestion = known ? closest(k, known) : undefined;
        out.push({
          severity: "error",
          code: "unknown-field",
          message: `unknown field '${k}'${path.length ? ` in ${where}` : ""}`,
          file,
          ...p,
          hint: suggestion
            ? `did you mean '${suggestion}'?`
            : known?.length
              ? `allowed fields: ${known.join(", ")}`
              : "remove it, or put tool-specific fields under extensions.<tool>",
        });
      }
      continue;
    }
    // With reportInput, a present value of the wrong type carries it; an absent field does not.
    const missing = issue.code === "invalid_type" && (!("input" in issue) || (issue as { input?: unknown }).input === undefined);
    const p = locate(path, missing);
    // A schema may end its own message with "\nhint: ..." to give the hint too.
    const [own, ownHint] = issue.message.split("\nhint: ", 2) as [string, string | undefined];
    const msg = missing ? `missing required field '${String(path[path.length - 1] ?? "")}'` : `${where}: ${own}`;
    const d: Diagnostic = { severity: "error", code: issue.code === "invalid_type" ? "invalid-type" : "invalid-value", message: msg, file, ...p };
    const hint = (!missing && ownHint) || issueHint(issue);
    if (hint) d.hint = hint;
    out.push(d);
  }
  return out;
}

function issueHint(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "invalid_value" && "values" in issue) {
    return `expected one of: ${(issue.values as unknown[]).map(String).join(", ")}`;
  }
  if (issue.code === "invalid_type") return `expected ${issue.expected}`;
  if (issue.code === "too_big") return `at most ${String(issue.maximum)}`;
  if (issue.code === "too_small") return `at least ${String(issue.minimum)}`;
  return undefined;
}

/** Nearest known word by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Splits `---\nyaml\n---\nbody` into its parts; `bodyLine` is the 1-based line the body starts on. */
export function splitFrontmatter(text: string): { frontmatter: string | undefined; body: string; fmLine: number; bodyLine: number } {
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?^---[ \t]*(?:\r?\n|$)/m.exec(src);
  if (m?.index !== 0) return { frontmatter: undefined, body: src, fmLine: 0, bodyLine: 1 };
  const fm = m[1] ?? "";
  const consumed = m[0];
  const bodyLine = consumed.split("\n").length + (consumed.endsWith("\n") ? 0 : 1);
  return { frontmatter: fm, body: src.slice(consumed.length), fmLine: 1, bodyLine };
}

/**
 * A frontmatter's top-level mapping as plain values, or undefined when it is not a mapping or not
 * valid YAML (callers then fall back to their defaults; the loader reports the error itself).
 * Frontmatter written as `key: <JSON value>` lines, which is most of it (quoted strings, flow lists),
 * or as flow lists of plain words (`tags: [api, style]`), is read without the YAML parser: JSON is valid YAML with the same meaning, and reading 10,000
 * files' frontmatter that way takes milliseconds instead of seconds. Anything else (plain scalars,
 * comments, block lists, anchors, a repeated key) goes to the YAML parser.
 */
export function frontmatterFields(frontmatter: string): Readonly<Record<string, unknown>> | undefined {
  if (fieldsSeen.has(frontmatter)) return fieldsSeen.get(frontmatter);
  const fields = readFields(frontmatter);
  // The same texts come back on every export of a long-running process (the daemon): each is parsed once.
  if (fieldsSeen.size >= FIELDS_SEEN_MAX) fieldsSeen.clear();
  fieldsSeen.set(frontmatter, fields);
  return fields;
}

/** Frontmatter texts already read (callers never change what they are given), a few MB at 100,000 files. */
const fieldsSeen = new Map<string, Readonly<Record<string, unknown>> | undefined>();
const FIELDS_SEEN_MAX = 200_000;

function readFields(frontmatter: string): Record<string, unknown> | undefined {
  const fast = jsonLines(frontmatter);
  if (fast) return fast;
  try {
    const v: unknown = parseYamlValue(frontmatter);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const JSON_LINE = /^([A-Za-z_][A-Za-z0-9_-]*):[ \t]+(["[].*?)[ \t]*$/;

function jsonLines(frontmatter: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const line of frontmatter.split("\n")) {
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text === "") continue;
    const m = JSON_LINE.exec(text);
    if (!m || m[1] === "__proto__" || Object.hasOwn(out, m[1]!)) return undefined;
    const words = plainWords(m[2]!);
    if (words) {
      out[m[1]!] = words;
      continue;
    }
    try {
      out[m[1]!] = JSON.parse(m[2]!);
    } catch {
      return undefined;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** `[a, b-c, d_e]`: a flow list of plain words (tags), which YAML reads as strings; anything else is undefined. */
const WORD_LIST = /^\[[ \t]*(?:[A-Za-z_][A-Za-z0-9_-]*(?:[ \t]*,[ \t]*[A-Za-z_][A-Za-z0-9_-]*)*)?[ \t]*\]$/;
/** Plain words YAML 1.2's core schema reads as something else than a string. */
const YAML_WORDS = new Set(["true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"]);

function plainWords(text: string): string[] | undefined {
  if (!WORD_LIST.test(text)) return undefined;
  const words = text
    .slice(1, -1)
    .split(",")
    .map((w) => w.trim())
    .filter((w) => w !== "");
  return words.some((w) => YAML_WORDS.has(w)) ? undefined : words;
}
