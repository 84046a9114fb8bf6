// frontmatterFields reads `key: <JSON>` frontmatter without the YAML parser: whatever it reads that
// way must be exactly what the YAML parser reads, and everything else must go to the parser.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parse } from "yaml";
import { frontmatterFields } from "../../src/library/yaml-source.ts";

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,12}$/).filter((k) => k !== "__proto__");
const value = fc.oneof(
  fc.string(),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.array(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)), { maxLength: 3 }),
);

describe("frontmatterFields", () => {
  it("reads JSON-valued lines as the YAML parser does", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 }), (rec) => {
        const fm = Object.entries(rec)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join("\n");
        expect(frontmatterFields(fm)).toEqual(parse(fm));
      }),
      { numRuns: 300 },
    );
  });

  it("reads flow lists of plain words (tags) as the YAML parser does", () => {
    const word = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,10}$/), fc.constantFrom("true", "False", "NULL", "null", "yes", "no", "on", "off", "y"));
    const space = fc.constantFrom("", " ", "  ", "\t");
    fc.assert(
      fc.property(fc.dictionary(key, fc.tuple(fc.array(word, { maxLength: 5 }), space, space), { minKeys: 1, maxKeys: 4 }), (rec) => {
        const fm = Object.entries(rec)
          .map(([k, [words, a, b]]) => `${k}: [${a}${words.join(`${b},${a}`)}${b}]`)
          .join("\n");
        expect(frontmatterFields(fm), fm).toEqual(parse(fm));
      }),
      { numRuns: 300 },
    );
  });

  it("leaves everything else to the YAML parser", () => {
    const cases = [
      'title: plain words\ndescription: "quoted"',
      'applyTo:\n  - "src/**"\n  - "test/**"',
      'description: "a" # a comment',
      "description: 'single quoted'",
      'a: "first"\na: "again"',
      '# comment\ntags: ["x"]',
      'description: "line one\n  line two"',
      "anchor: &a [1]\nref: *a",
      "tags: [a, true]",
      "tags: [a, 1]",
      "tags: [a, b] # c",
      "tags: [a, [b]]",
      "tags: [a,, b]",
    ];
    for (const fm of cases) {
      let expected: unknown;
      try {
        expected = parse(fm);
      } catch {
        expected = undefined;
      }
      expect(frontmatterFields(fm), fm).toEqual(expected && typeof expected === "object" && !Array.isArray(expected) ? expected : undefined);
    }
    // A key that would set the prototype is never assigned by the fast path.
    expect(Object.getPrototypeOf(frontmatterFields('__proto__: ["x"]') ?? {})).toBe(Object.prototype);
  });
});
