// The placeholder translation table of every target with commands, and the TOML strings of
// Gemini-style command files (checked by parsing them back with a real TOML parser).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { EXTRAS_TARGETS, translatePlaceholders } from "../../src/adapters/extras/index.ts";
import { tomlBasicString, tomlMultilineString } from "../../src/adapters/extras/format.ts";

/** Any Unicode scalar value (no lone surrogates: those cannot be stored in a UTF-8 file at all). */
const scalar = fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })).map((cp) => String.fromCodePoint(cp));
const anyText = fc.string({ unit: scalar, maxLength: 200 });

const BODY = "All: $ARGUMENTS. First: $1, second: $2, ninth: $9.";

describe("placeholder translation", () => {
  it("translates $ARGUMENTS and $1..$9 per tool, or keeps them and lists what it cannot express", () => {
    const table: Record<string, { text: string; unsupported: string[] }> = {};
    for (const t of EXTRAS_TARGETS) {
      for (const scope of ["project", "user"] as const) {
        const f = t[scope]?.commands;
        if (f) table[`${t.id}/${scope}`] = translatePlaceholders(BODY, f.placeholders);
      }
    }
    const kept = { text: BODY, unsupported: ["$ARGUMENTS", "$1", "$2", "$9"] };
    const argsOnly = (all: string) => ({ text: `All: ${all}. First: $1, second: $2, ninth: $9.`, unsupported: ["$1", "$2", "$9"] });
    const claude = { text: "All: $ARGUMENTS. First: $ARGUMENTS[0], second: $ARGUMENTS[1], ninth: $ARGUMENTS[8].", unsupported: [] };
    const dollar = { text: BODY, unsupported: [] };
    expect(table).toEqual({
      "claude-code/project": claude,
      "claude-code/user": claude,
      "codex/user": dollar,
      "copilot/project": { text: "All: ${input:args}. First: ${input:arg1}, second: ${input:arg2}, ninth: ${input:arg9}.", unsupported: [] },
      "cursor/project": kept,
      "cursor/user": kept,
      "gemini-cli/project": argsOnly("{{args}}"),
      "gemini-cli/user": argsOnly("{{args}}"),
      "kiro-cli/project": kept,
      "kiro-cli/user": kept,
      "kiro-ide/project": kept,
      "kiro-ide/user": kept,
      "q-cli/project": kept,
      "q-cli/user": kept,
      "windsurf/project": kept,
      "windsurf/user": kept,
      "cline/project": kept,
      "cline/user": kept,
      "antigravity/project": kept,
      "antigravity/user": kept,
      "opencode/project": dollar,
      "opencode/user": dollar,
      "qwen-code/project": argsOnly("{{args}}"),
      "qwen-code/user": argsOnly("{{args}}"),
      "factory-droid/project": argsOnly("$ARGUMENTS"),
      "factory-droid/user": argsOnly("$ARGUMENTS"),
      "augment/project": kept,
      "augment/user": kept,
      "roo/project": kept,
      "roo/user": kept,
      "kilo-code/project": kept,
    });
  });

  it("leaves look-alikes alone: $10, $0, $ARGUMENTS[0], $ARGUMENTS_X, $$1 keeps its second dollar", () => {
    const r = translatePlaceholders("$10 $0 $ARGUMENTS[0] $ARGUMENTS_X $ARGUMENTSx $1.", { all: "{{args}}", positional: "<{n}|{i}>" });
    expect(r).toEqual({ text: "$10 $0 $ARGUMENTS[0] $ARGUMENTS_X $ARGUMENTSx <1|0>.", unsupported: [] });
    expect(translatePlaceholders("$$1 and $ARGUMENTS.", { positional: "%{n}" })).toEqual({ text: "$%1 and $ARGUMENTS.", unsupported: ["$ARGUMENTS"] });
  });

  it("lists each unsupported placeholder once, in order of first use", () => {
    expect(translatePlaceholders("$2 $ARGUMENTS $2 $1 $ARGUMENTS", {}).unsupported).toEqual(["$2", "$ARGUMENTS", "$1"]);
  });

  it("is the identity on text without placeholders (property)", () => {
    fc.assert(
      fc.property(
        anyText.map((s) => s.replaceAll("$", "")),
        (s) => {
          expect(translatePlaceholders(s, { all: "X", positional: "Y{n}" })).toEqual({ text: s, unsupported: [] });
        },
      ),
    );
  });
});

describe("TOML strings", () => {
  it("writes the exact text for quotes, backslashes, CRLF and control characters", () => {
    expect(tomlBasicString('Say "hi" \\ now\n\ttab\u0001\u007f')).toBe('"Say \\"hi\\" \\\\ now\\n\ttab\\u0001\\u007F"');
    expect(tomlMultilineString('a """ b\r\nends with "')).toBe('"""\na \\"\\"" b\\r\nends with \\""""');
    expect(parseToml(`p = ${tomlMultilineString('a """ b\r\nends with "')}`)).toEqual({ p: 'a """ b\r\nends with "' });
  });

  it("round-trips any text through a real TOML parser (property)", () => {
    const tricky = fc
      .array(fc.constantFrom('"', '""', '"""', "\\", "\n", "\r\n", "\r", "\t", "\u0000", "\u007f", "'''", "x", "{{args}}", "é"), { maxLength: 30 })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(fc.oneof(anyText, tricky), fc.oneof(anyText, tricky), (desc, prompt) => {
        const doc = `description = ${tomlBasicString(desc)}\nprompt = ${tomlMultilineString(prompt)}\n`;
        expect(parseToml(doc)).toEqual({ description: desc, prompt });
      }),
      { numRuns: 300 },
    );
  });
});
