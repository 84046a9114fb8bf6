import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { setSection, setJsonKey, setTomlTable } from "../../src/adapters/shared-files.ts";

describe("marked sections", () => {
  it("removing a section restores the text exactly, whatever follows it", () => {
    fc.assert(
      fc.property(fc.constantFrom("", "User text\n", "# Notes\n\nKeep.\n", "no newline"), fc.constantFrom("a\n", "line 1\nline 2\n"), fc.constantFrom("b\n", "x\ny\n"), (user, a, b) => {
        const withA = setSection(user, "t-a", a);
        const withBoth = setSection(withA, "t-b", b);
        expect(setSection(withBoth, "t-a", undefined)).toBe(setSection(user, "t-b", b));
        expect(setSection(setSection(withBoth, "t-b", undefined), "t-a", undefined)).toBe(user.length && !user.endsWith("\n") ? user + "\n" : user);
      }),
    );
  });

  it("replaces a section in place without touching the text around it", () => {
    const t = setSection("top\n", "x", "one\n") + "bottom\n";
    expect(setSection(t, "x", "two\n")).toBe(t.replace("one\n", "two\n"));
  });
});

describe("JSON keys and TOML tables", () => {
  it("adding then removing a key gives back the original bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom('{\n  "a": 1\n}\n', '{\n    "x": {"y": [1, 2]},\n    // c\n    "z": true\n}\n', "{}\n", '{"compact":1}\n'), fc.constantFrom("k", "servers"), (orig, k) => {
        const added = setJsonKey(orig, [k, "srv"], { command: "x", args: ["a"] });
        expect(setJsonKey(added, [k, "srv"], undefined)).toBe(orig);
      }),
    );
  });

  it("adding then removing a TOML table gives back the original bytes", () => {
    for (const orig of ['model = "x"\n', "# c\n[a]\nb = 1\n", ""]) {
      const added = setTomlTable(orig, ["mcp_servers", "s"], { command: "x" });
      expect(setTomlTable(added, ["mcp_servers", "s"], undefined)).toBe(orig);
    }
  });
});
