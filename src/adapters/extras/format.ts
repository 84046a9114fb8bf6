// Text transforms for exported commands: the universal argument placeholders ($ARGUMENTS, $1..$9)
// rewritten into a tool's syntax, and TOML strings for Gemini-style command files. Pure functions.
import type { CommandFormat } from "./table.ts";

/**
 * `$ARGUMENTS` (not followed by a word character or `[`, so Claude's native `$ARGUMENTS[0]` and
 * names like `$ARGUMENTS_X` are left alone) and `$1`..`$9` (not followed by another digit).
 */
const UNIVERSAL = /\$ARGUMENTS(?![A-Za-z0-9_[])|\$([1-9])(?![0-9])/g;

export type Translation = {
  text: string;
  /** Placeholders the tool cannot express, in order of first use (kept as written in `text`). */
  unsupported: string[];
};

/** Rewrites the universal placeholders of a command body into the syntax of one tool. */
export function translatePlaceholders(body: string, placeholders: CommandFormat["placeholders"]): Translation {
  const unsupported: string[] = [];
  const text = body.replace(UNIVERSAL, (match: string, digit: string | undefined) => {
    if (digit === undefined) {
      if (placeholders.all !== undefined) return placeholders.all;
    } else if (placeholders.positional !== undefined) {
      const n = Number(digit);
      return placeholders.positional.replaceAll("{n}", String(n)).replaceAll("{i}", String(n - 1));
    }
    if (!unsupported.includes(match)) unsupported.push(match);
    return match;
  });
  return { text, unsupported };
}

/** Control characters TOML does not allow raw in strings (tab and, in multi-line strings, newline are fine). */
function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === "\b") return "\\b";
  if (ch === "\f") return "\\f";
  if (ch === "\r") return "\\r";
  if (ch === "\n") return "\\n";
  return `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** A TOML basic string: `"..."` on one line. */
export function tomlBasicString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u0008\u000A-\u001F\u007F]/g, escapeControl)}"`;
}

/**
 * A TOML multi-line basic string whose value is exactly `value`: the newline after the opening
 * `"""` is trimmed by TOML; backslashes are escaped, and so is every quote that is followed by
 * another quote or ends the value (so no raw `"""` can form and nothing runs into the closing
 * delimiter), and control characters other than tab and newline (a CR too, so CRLF text keeps
 * its bytes).
 */
export function tomlMultilineString(value: string): string {
  const escaped = value
    .replace(/\\/g, "\\\\")
    .replace(/"(?="|$)/g, '\\"')
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, escapeControl);
  return `"""\n${escaped}"""`;
}
