// Editors for files we share with the user: they change only the keys, tables or marked block we
// own and leave every other byte as it was.
import { applyEdits, format, modify, parse as parseJsonc, type ParseError } from "jsonc-parser";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";

// ---------- JSON ----------

export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: {} };
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) return { ok: false, error: `invalid JSON at offset ${errors[0]!.offset}` };
  if (!value || typeof value !== "object" || Array.isArray(value)) return { ok: false, error: "the top level is not a JSON object" };
  return { ok: true, value };
}

export function getJsonPath(value: unknown, key: readonly string[]): unknown {
  let cur: unknown = value;
  for (const k of key) {
    if (!cur || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function detectIndent(text: string): { insertSpaces: boolean; tabSize: number } {
  const m = /^( +|\t)"/m.exec(text);
  if (!m) return { insertSpaces: true, tabSize: 2 };
  return m[1] === "\t" ? { insertSpaces: false, tabSize: 1 } : { insertSpaces: true, tabSize: m[1]!.length };
}

/**
 * Sets (or with `undefined`, removes) one key path. Only the inserted text is formatted (in the
 * file's own indentation); every other byte, comments included, stays as it was.
 */
export function setJsonKey(text: string, key: readonly string[], value: unknown): string {
  const base = text.trim() ? text : "{}\n";
  let out = applyMinimal(base, key, value);
  if (value === undefined) {
    // Drop parents that the removal left empty, but only those holding nothing at all.
    for (let depth = key.length - 1; depth >= 1; depth--) {
      const parentKey = key.slice(0, depth);
      const parsed = parseJsonText(out);
      const parent = parsed.ok ? getJsonPath(parsed.value, parentKey) : undefined;
      if (parent && typeof parent === "object" && !Array.isArray(parent) && Object.keys(parent).length === 0) {
        out = applyMinimal(out, parentKey, undefined);
      } else break;
    }
  }
  return out.endsWith("\n") ? out : out + "\n";
}

function applyMinimal(text: string, key: readonly string[], value: unknown): string {
  const edits = modify(text, [...key], value, {});
  const ranges: [number, number][] = [];
  let delta = 0;
  for (const e of [...edits].sort((a, b) => a.offset - b.offset)) {
    const start = e.offset + delta;
    ranges.push([start, start + e.content.length]);
    delta += e.content.length - e.length;
  }
  const out = applyEdits(text, edits);
  if (value === undefined) return out;
  const fmt = format(out, undefined, { ...detectIndent(text), eol: "\n" }).filter((f) =>
    ranges.some(([s, t]) => f.offset >= s && f.offset < t && f.offset + f.length <= t),
  );
  return applyEdits(out, fmt);
}

// ---------- TOML ----------

export function parseTomlText(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  try {
    return { ok: true, value: parseToml(text) as Record<string, unknown> };
  } catch (e) {
    return { ok: false, error: (e as Error).message.split("\n")[0] ?? "invalid TOML" };
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

/** Renders one table (and its sub-tables) as TOML text with a full `[a.b]` header. */
export function renderTomlTable(path: readonly string[], value: Record<string, unknown>): string {
  let obj: Record<string, unknown> = value;
  for (let i = path.length - 1; i >= 0; i--) obj = { [path[i]!]: obj };
  const text = stringifyToml(obj);
  // smol-toml may emit empty parent headers ([a]) before [a.b]; drop those lines.
  const lines = text.split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const hp = headerPath(line);
    if (hp && hp.length < path.length && startsWithPath(path, hp)) continue;
    out.push(line);
  }
  return out.join("\n").replace(/^\n+/, "").replace(/\n*$/, "\n");
}

/**
 * Replaces (or with `undefined`, removes) the `[path]` table and its sub-tables in TOML text,
 * keeping everything else byte-for-byte. A table not present is appended at the end.
 */
export function setTomlTable(text: string, path: readonly string[], value: Record<string, unknown> | undefined): string {
  const lines = text.length ? text.split("\n") : [];
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
  const block = value === undefined ? [] : renderTomlTable(path, value).replace(/\n$/, "").split("\n");
  if (start === -1) {
    if (value === undefined) return text;
    const prefix = lines.length ? [...lines, ...(lines[lines.length - 1] === "" ? [] : [""])] : [];
    return [...prefix, ...block].join("\n") + "\n";
  }
  // Keep blank lines that separated the old block from the next one.
  let blockEnd = end;
  while (blockEnd > start && lines[blockEnd - 1]!.trim() === "") blockEnd--;
  const before = lines.slice(0, start);
  const after = lines.slice(blockEnd);
  if (value === undefined) {
    while (before.length && before[before.length - 1]!.trim() === "" && (after.length === 0 || after[0]!.trim() === "")) before.pop();
    const joined = [...before, ...after];
    return joined.length ? joined.join("\n") + "\n" : "";
  }
  return [...before, ...block, ...after].join("\n") + "\n";
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
