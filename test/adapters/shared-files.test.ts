import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { loadManifest, saveManifest } from "../../src/adapters/manifest.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import { tempDir } from "../helpers/fixtures.ts";
import {
  detectJsonStyle,
  editJsonKey,
  parseJsonText,
  parseTomlText,
  setSection,
  setJsonKey,
  setTomlTable,
  type JsonLayout,
} from "../../src/adapters/shared-files.ts";

const GOLDEN = join(import.meta.dirname, "../fixtures/shared-files");
const golden = (style: string, name: string): string => readFileSync(join(GOLDEN, style, name), "utf8");

describe("marked sections", () => {
  it("removing a section restores the text exactly, whatever follows it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("", "User text\n", "# Notes\n\nKeep.\n", "no newline"),
        fc.constantFrom("a\n", "line 1\nline 2\n"),
        fc.constantFrom("b\n", "x\ny\n"),
        (user, a, b) => {
          const withA = setSection(user, "t-a", a);
          const withBoth = setSection(withA, "t-b", b);
          expect(setSection(withBoth, "t-a", undefined)).toBe(setSection(user, "t-b", b));
          expect(setSection(setSection(withBoth, "t-b", undefined), "t-a", undefined)).toBe(user.length && !user.endsWith("\n") ? user + "\n" : user);
        },
      ),
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
      fc.property(
        fc.constantFrom('{\n  "a": 1\n}\n', '{\n    "x": {"y": [1, 2]},\n    // c\n    "z": true\n}\n', "{}\n", '{"compact":1}\n'),
        fc.constantFrom("k", "servers"),
        (orig, k) => {
          // A one-line object is laid out over lines to take our entry; the layout note gives it back.
          const added = editJsonKey(orig, [k, "srv"], { command: "x", args: ["a"] });
          expect(setJsonKey(added.text, [k, "srv"], undefined, added.expanded ? [added.expanded] : [])).toBe(orig);
        },
      ),
    );
  });

  it("adding then removing a TOML table gives back the original bytes", () => {
    for (const orig of ['model = "x"\n', "# c\n[a]\nb = 1\n", ""]) {
      const added = setTomlTable(orig, ["mcp_servers", "s"], { command: "x" });
      expect(setTomlTable(added, ["mcp_servers", "s"], undefined)).toBe(orig);
    }
  });
});

// Three servers in a row: insert two, update one, remove the other; then removing the last gives the
// user's bytes back. Each step is compared byte for byte with a golden a person would have written.
const S1 = { type: "stdio", command: "uvx", args: ["mcp-server-fetch"], env: { KEY: "${env:FETCH_KEY}" } };
const S2 = { type: "http", url: "https://example.com/mcp", headers: { Authorization: "Bearer ${input:token}" } };
const S1_V2 = { type: "stdio", command: "uvx", args: ["mcp-server-fetch", "--read-only"] };

describe("merged JSON reads as hand-written (goldens)", () => {
  for (const [style, key] of [
    ["json-2-space", "servers"],
    ["json-4-space-one-line-crlf", "mcpServers"],
    ["json-tabs", "servers"],
  ] as const) {
    it(`${style}: insert, update and remove match the goldens byte for byte, and the last removal restores the original`, () => {
      const before = golden(style, "before.json");
      const layouts: JsonLayout[] = [];
      const set = (text: string, name: string, value: unknown): string => {
        const r = editJsonKey(text, [key, name], value, value === undefined ? layouts : []);
        if (r.expanded) layouts.push(r.expanded);
        return r.text;
      };
      const inserted = set(set(before, "fetch", S1), "remote", S2);
      expect(inserted).toBe(golden(style, "after-insert.json"));
      const updated = set(inserted, "fetch", S1_V2);
      expect(updated).toBe(golden(style, "after-update.json"));
      const removed = set(updated, "remote", undefined);
      expect(removed).toBe(golden(style, "after-remove.json"));
      expect(set(removed, "fetch", undefined)).toBe(before);
      for (const text of [inserted, updated, removed]) expect(parseJsonText(text).ok).toBe(true);
    });
  }

  it("detects the indent unit by nesting depth, not by the first indented line", () => {
    expect(detectJsonStyle('{"servers": {\n        "a": 1\n    }}').indent).toBe("    ");
    expect(detectJsonStyle('{\n\t"a": {\n\t\t"b": 1\n\t}\n}').indent).toBe("\t");
    expect(detectJsonStyle('{"a": 1}').indent).toBe("  ");
    expect(detectJsonStyle('{\r\n  "a": 1\r\n}').eol).toBe("\r\n");
  });

  it("formats a file it creates with 2 spaces and a final newline", () => {
    expect(setJsonKey("", ["servers", "fetch"], { command: "uvx", args: ["a"] })).toBe(
      '{\n  "servers": {\n    "fetch": {\n      "command": "uvx",\n      "args": ["a"]\n    }\n  }\n}\n',
    );
  });

  it("lays out a wholly one-line file along the path only, keeping the user's members as written", () => {
    const r = editJsonKey('{"servers": {"mine": {"command": "x"}}, "other": [1, 2]}', ["servers", "s"], { command: "y" });
    expect(r.text).toBe('{\n  "servers": {\n    "mine": {"command": "x"},\n    "s": {\n      "command": "y"\n    }\n  },\n  "other": [1, 2]\n}');
    expect(setJsonKey(r.text, ["servers", "s"], undefined, [r.expanded!])).toBe('{"servers": {"mine": {"command": "x"}}, "other": [1, 2]}');
  });

  it("keeps a one-line layout the user changed afterwards instead of collapsing over it", () => {
    const r = editJsonKey('{"servers": {"mine": {"command": "x"}}}\n', ["servers", "s"], { command: "y" });
    const edited = r.text.replace('"mine": {"command": "x"}', '"mine": {"command": "z"}');
    const removed = setJsonKey(edited, ["servers", "s"], undefined, [r.expanded!]);
    expect(removed).toBe('{\n  "servers": {\n    "mine": {"command": "z"}\n  }\n}\n');
  });

  it("keeps an object holding only the user's comment when our last entry in it goes", () => {
    const orig = '{\n  "servers": {\n    // add servers here\n  }\n}\n';
    const added = setJsonKey(orig, ["servers", "s"], { command: "y" });
    expect(added).toBe('{\n  "servers": {\n    // add servers here\n    "s": {\n      "command": "y"\n    }\n  }\n}\n');
    expect(setJsonKey(added, ["servers", "s"], undefined)).toBe(orig);
  });

  it("reports a file that does not parse with line and column", () => {
    expect(parseJsonText('{\n  "a": 1\n  "b": 2\n}')).toMatchObject({ ok: false, line: 3, column: 3, message: "comma expected" });
    expect(parseTomlText("a = 1\n[b\nc = 2\n")).toMatchObject({ ok: false, line: 2 });
  });
});

const T1 = { command: "uvx", args: ["mcp-server-fetch"], env: { KEY: "v" } };
const T2 = { url: "https://example.com/mcp", bearer_token_env_var: "TOKEN" };
const T1_V2 = { command: "uvx", args: ["mcp-server-fetch", "--read-only"], tool_timeout_sec: 120 };

describe("merged TOML reads as hand-written (goldens)", () => {
  for (const style of ["toml-default", "toml-indented-crlf", "toml-tight"]) {
    it(`${style}: [mcp_servers.*] insert, update and remove match the goldens byte for byte`, () => {
      const before = golden(style, "before.toml");
      const set = (text: string, name: string, value: Record<string, unknown> | undefined): string => setTomlTable(text, ["mcp_servers", name], value);
      const inserted = set(set(before, "fetch", T1), "remote", T2);
      expect(inserted).toBe(golden(style, "after-insert.toml"));
      const updated = set(inserted, "fetch", T1_V2);
      expect(updated).toBe(golden(style, "after-update.toml"));
      const removed = set(updated, "remote", undefined);
      expect(removed).toBe(golden(style, "after-remove.toml"));
      expect(set(removed, "fetch", undefined)).toBe(before);
      for (const text of [inserted, updated, removed]) expect(parseTomlText(text).ok).toBe(true);
    });
  }
});

describe("shared JSON through the planner and the manifest", () => {
  const exportServers = (root: string, state: string, servers: Record<string, unknown>, second: number) => {
    const manifest = loadManifest(state);
    const file: OutputFile = {
      kind: "json-keys",
      path: join(root, ".vscode/mcp.json"),
      entries: Object.entries(servers).map(([k, v]) => ({ key: ["servers", k], value: v })),
    };
    const now = new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
    const plan = planExport([{ target: "copilot", scope: "project", root, files: [file], prune: true }], manifest, { force: false, now });
    expect(applyPlan(plan, manifest, state, now).failed).toEqual([]);
    saveManifest(state, manifest);
    return plan;
  };

  it("gives the user's one-line object back once the last of our servers is gone, across exports", () => {
    const dir = tempDir();
    try {
      const root = join(dir.path, "project");
      const state = join(dir.path, "state");
      mkdirSync(join(root, ".vscode"), { recursive: true });
      const user = '{\r\n    "servers": {"mine": {"command": "my-mcp"}}\r\n}\r\n';
      writeFileSync(join(root, ".vscode/mcp.json"), user);
      exportServers(root, state, { fetch: { command: "uvx" }, remote: { url: "https://example.com/mcp" } }, 0);
      const read = (): string => readFileSync(join(root, ".vscode/mcp.json"), "utf8");
      expect(read()).toBe(
        '{\r\n    "servers": {\r\n        "mine": {"command": "my-mcp"},\r\n        "fetch": {\r\n            "command": "uvx"\r\n        },\r\n' +
          '        "remote": {\r\n            "url": "https://example.com/mcp"\r\n        }\r\n    }\r\n}\r\n',
      );
      exportServers(root, state, { fetch: { command: "uvx" } }, 1);
      expect(read()).toBe(
        '{\r\n    "servers": {\r\n        "mine": {"command": "my-mcp"},\r\n        "fetch": {\r\n            "command": "uvx"\r\n        }\r\n    }\r\n}\r\n',
      );
      exportServers(root, state, {}, 2);
      expect(read()).toBe(user);
    } finally {
      dir.cleanup();
    }
  });

  it("reports a shared JSON file that does not parse as file:line:col and leaves it untouched", () => {
    const dir = tempDir();
    try {
      const root = join(dir.path, "project");
      mkdirSync(join(root, ".vscode"), { recursive: true });
      const broken = '{\n  "servers": {\n    "mine": {"command": "x"}\n    "other": {}\n  }\n}\n';
      writeFileSync(join(root, ".vscode/mcp.json"), broken);
      const plan = exportServers(root, join(dir.path, "state"), { fetch: { command: "uvx" } }, 0);
      expect(plan.entries.map((e) => [e.action, e.reason])).toEqual([
        ["conflict", `${join(root, ".vscode/mcp.json")}:4:5: not valid JSON (comma expected); left untouched, fix it and export again`],
      ]);
      expect(readFileSync(join(root, ".vscode/mcp.json"), "utf8")).toBe(broken);
    } finally {
      dir.cleanup();
    }
  });
});
