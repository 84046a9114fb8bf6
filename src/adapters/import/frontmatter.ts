// Reads the frontmatter of an AI tool's markdown agent file the way that tool reads it, for import.
// Strict YAML first; when it fails, the frontmatter is cut into top-level entries at the keys the
// tool knows and each entry is read on its own: strict YAML where it parses, else `key: rest of the
// line` (plus its continuation lines) for the tool's scalar keys. Tools such as Claude Code load
// files that strict YAML rejects (an unquoted `Triggers on: 'x'` in a description); dropping those
// agents on import would lose real work. The library loader itself stays strict: importers write
// what they read back as valid YAML.
import type { Diagnostic } from "../../library/diagnostics.ts";
import { parseYaml, type Position } from "../../library/yaml-source.ts";

/**
 * The top-level keys a tool knows. `string`, `number` and `boolean` keys may be read line-wise
 * when strict YAML fails; `structured` keys (lists, mappings) only as YAML.
 */
export type FrontmatterKeys = Readonly<Record<string, "string" | "number" | "boolean" | "structured">>;

export type FrontmatterRead = {
  /** The fields read; undefined when nothing could be read (see `diagnostics`). */
  value: Record<string, unknown> | undefined;
  /** Errors when unreadable; else warnings (at most one for the line-wise fallback). */
  diagnostics: Diagnostic[];
  /** Where a top-level key is written (1-based, in the file). */
  locate: (key: string) => Position;
  /** Keys that were read line-wise, not as YAML. */
  lenientKeys: string[];
};

/**
 * A line that starts a top-level entry: `key:` then a space, a tab or the end of the line. Tabs
 * before it count as no indentation (YAML never indents with tabs, so the author meant top level).
 */
const KEY_LINE = /^\t*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$/;

/**
 * @param frontmatter the text between the `---` lines
 * @param fmLine lines before the frontmatter in the file (1 when it follows the opening `---`)
 * @param tool the tool's display name, for the warning ("read line by line, as Claude Code does")
 */
export function readFrontmatter(frontmatter: string, file: string, fmLine: number, keys: FrontmatterKeys, tool: string): FrontmatterRead {
  const strict = parseYaml(frontmatter, file, fmLine);
  const errors = strict.diagnostics.filter((d) => d.severity === "error");
  if (!errors.length) {
    const v = strict.value;
    if (v !== null && v !== undefined && (typeof v !== "object" || Array.isArray(v))) {
      return {
        value: undefined,
        diagnostics: [{ severity: "error", code: "invalid-frontmatter", message: "frontmatter is not a mapping of fields", file, line: fmLine + 1, col: 1 }],
        locate: () => ({ line: fmLine + 1, col: 1 }),
        lenientKeys: [],
      };
    }
    return { value: (v ?? {}) as Record<string, unknown>, diagnostics: strict.diagnostics, locate: (k) => strict.locate([k], true), lenientKeys: [] };
  }
  // Only syntax errors have a line-wise reading; an oversized file or an alias stays an error.
  if (errors.some((d) => d.code !== "yaml-syntax"))
    return { value: undefined, diagnostics: errors, locate: () => ({ line: fmLine + 1, col: 1 }), lenientKeys: [] };

  const entries = splitEntries(frontmatter, keys);
  const value: Record<string, unknown> = {};
  const at = new Map<string, Position>();
  const lenientKeys: string[] = [];
  const lost: Diagnostic[] = [];
  for (const e of entries) {
    const line = fmLine + 1 + e.line;
    if (Object.hasOwn(value, e.key)) {
      lost.push({ severity: "warning", code: "yaml-syntax", message: `field '${e.key}' is given twice; the first is kept`, file, line, col: 1 });
      continue;
    }
    at.set(e.key, { line, col: 1 });
    const alone = parseYaml(e.text, file, line - 1);
    const ok = !alone.diagnostics.some((d) => d.severity === "error");
    const v = ok ? (alone.value as Record<string, unknown> | null)?.[e.key] : undefined;
    const kind = keys[e.key]!;
    if (ok && v !== undefined) {
      value[e.key] = v;
      continue;
    }
    if (kind === "structured") {
      const first = alone.diagnostics.find((d) => d.severity === "error");
      lost.push({
        severity: "warning",
        code: "yaml-syntax",
        message: `field '${e.key}' is not valid YAML${first ? ` (${first.message.replace(/^YAML: /, "")})` : ""}; left out`,
        file,
        line: first?.line ?? line,
        col: first?.col ?? 1,
      });
      continue;
    }
    // `[...` or `{...` that does not parse is a broken list or mapping, not text: no line-wise reading
    // can tell what was meant, so the file keeps its YAML error.
    if (/^[[{]/.test(e.rest)) return { value: undefined, diagnostics: errors, locate: () => ({ line: fmLine + 1, col: 1 }), lenientKeys: [] };
    value[e.key] = lineValue(e.rest, e.continuation, kind);
    lenientKeys.push(e.key);
  }
  if (!Object.keys(value).length) return { value: undefined, diagnostics: errors, locate: () => ({ line: fmLine + 1, col: 1 }), lenientKeys: [] };
  const first = errors[0]!;
  const diagnostics: Diagnostic[] = [];
  if (lenientKeys.length) {
    diagnostics.push({
      severity: "warning",
      code: "lenient-frontmatter",
      message: `frontmatter is not valid YAML (${first.message.replace(/^YAML: /, "")}); ${lenientKeys.join(", ")} read line by line, as ${tool} reads it`,
      file,
      line: first.line ?? fmLine + 1,
      col: first.col ?? 1,
      hint: `quote the value (e.g. ${lenientKeys[0]}: "...") so that strict YAML readers accept the file; the library copy is written as valid YAML`,
    });
  }
  diagnostics.push(...lost);
  return { value, diagnostics, locate: (k) => at.get(k) ?? { line: fmLine + 1, col: 1 }, lenientKeys };
}

type Entry = { key: string; line: number; rest: string; continuation: string[]; text: string };

/**
 * Cuts the frontmatter at lines `key:` of a known key written at the start of a line (or after
 * tabs only). Any other line (space-indented, or an unknown `word:` such as `user:` in an example
 * dialogue) continues the entry before it. Lines before the first known key are ignored.
 */
function splitEntries(frontmatter: string, keys: FrontmatterKeys): Entry[] {
  const out: Entry[] = [];
  const lines = frontmatter.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const m = KEY_LINE.exec(raw);
    if (m && Object.hasOwn(keys, m[1]!)) {
      out.push({ key: m[1]!, line: i, rest: m[2] ?? "", continuation: [], text: raw });
      continue;
    }
    const cur = out[out.length - 1];
    if (!cur) continue;
    cur.continuation.push(raw);
    cur.text += `\n${raw}`;
  }
  return out;
}

/**
 * A scalar read line-wise: the rest of the key's line, then its continuation lines (without their
 * indentation, newlines kept), with trailing blank lines dropped. A value wholly inside one pair of
 * quotes loses them (`'It's fine'` means It's fine); numbers and booleans are converted for keys of
 * that kind when they look like one.
 */
function lineValue(rest: string, continuation: string[], kind: "string" | "number" | "boolean"): string | number | boolean {
  const lines = [rest, ...continuation.map((l) => l.replace(/^[ \t]+/, "").replace(/[ \t]+$/, ""))];
  while (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  let text = lines.join("\n").trim();
  const q = text[0];
  if (text.length >= 2 && (q === '"' || q === "'") && text.endsWith(q) && !text.includes("\n")) text = text.slice(1, -1);
  if (kind === "number" && /^-?\d+$/.test(text)) return Number(text);
  if (kind === "boolean" && /^(true|false)$/.test(text)) return text === "true";
  return text;
}
