import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadLibrary } from "../../src/library/load.ts";
import { resolveAll } from "../../src/library/resolve.ts";
import { formatDiagnostic, type Diagnostic } from "../../src/library/diagnostics.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

function check(files: Record<string, string>): Diagnostic[] {
  writeTree(dir.path, { "aicfg.yaml": "name: t\n", ...files });
  const lib = loadLibrary(dir.path);
  return [...lib.diagnostics, ...resolveAll(lib).diagnostics];
}

describe("precise errors for bad input", () => {
  it("reports broken YAML frontmatter with file, line and column", () => {
    const ds = check({ "agents/a.md": "---\ndescription: ok\nmodel: [unclosed\n---\nbody\n" });
    const d = ds.find((x) => x.code === "yaml-syntax")!;
    expect(d.file).toBe(join(dir.path, "agents/a.md"));
    expect(d.line).toBeGreaterThanOrEqual(3);
    expect(d.severity).toBe("error");
  });

  it("reports an unknown field at its exact position with a did-you-mean hint", () => {
    const ds = check({ "agents/a.md": "---\ndescription: ok\ndescriptoin: typo\n---\nbody\n" });
    const d = ds.find((x) => x.code === "unknown-field")!;
    expect(d.message).toBe("unknown field 'descriptoin'");
    expect([d.line, d.col]).toEqual([3, 1]);
    expect(d.hint).toBe("did you mean 'description'?");
    expect(formatDiagnostic(d, dir.path)).toBe("agents/a.md:3:1  error: unknown field 'descriptoin'  (did you mean 'description'?)");
  });

  it("reports a missing required field", () => {
    const ds = check({ "agents/a.md": "---\nmodel: x\n---\nbody\n" });
    expect(ds.map((d) => d.message)).toContain("missing required field 'description'");
  });

  it("rejects a traversal name in the frontmatter", () => {
    const ds = check({ "agents/a.md": "---\nname: ../evil\ndescription: x\n---\nbody\n" });
    const d = ds.find((x) => x.message.startsWith("name:"))!;
    expect(d.severity).toBe("error");
    expect([d.line, d.col]).toEqual([2, 7]);
    expect(d.message).toContain("lowercase slug");
  });

  it("rejects knowledge patterns that leave knowledge/", () => {
    const ds = check({ "agents/a.md": "---\ndescription: x\nknowledge: [../../etc/passwd]\n---\nbody\n" });
    const d = ds.find((x) => x.code === "path-traversal")!;
    expect(d.message).toBe("knowledge pattern '../../etc/passwd' must stay inside knowledge/");
    expect(d.line).toBe(3);
  });

  it("reports missing knowledge files as errors and empty globs as warnings", () => {
    const ds = check({
      "agents/a.md": "---\ndescription: x\nknowledge:\n  - nope.md\n  - none/**\n---\nbody\n",
      "knowledge/real.md": "# real\n",
    });
    const missing = ds.find((x) => x.code === "knowledge-missing")!;
    expect(missing.severity).toBe("error");
    expect(missing.line).toBe(4);
    const glob = ds.find((x) => x.code === "knowledge-no-match")!;
    expect(glob.severity).toBe("warning");
    expect(glob.line).toBe(5);
  });

  it("reports unknown MCP names with the known ones as a hint", () => {
    const ds = check({
      "agents/a.md": "---\ndescription: x\nmcp: [fetch, gitbub]\n---\nbody\n",
      "mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    });
    const d = ds.find((x) => x.code === "unknown-mcp")!;
    expect(d.message).toBe("agent 'a' refers to MCP server 'gitbub', which is not in the registry");
    expect(d.hint).toBe("known servers: fetch");
  });

  it("validates MCP server files with positions", () => {
    const ds = check({ "mcp/bad.yaml": "type: http\ncommand: x\n" });
    expect(ds.some((d) => d.file?.endsWith("mcp/bad.yaml") && d.message.includes("needs a url"))).toBe(true);
  });

  it("reports oversized knowledge files", () => {
    const ds = check({ "aicfg.yaml": "name: t\nlimits:\n  maxFileBytes: 10\n", "knowledge/big.md": "x".repeat(11) });
    expect(ds.find((d) => d.code === "file-too-large")?.file).toBe(join(dir.path, "knowledge/big.md"));
  });

  it("reports duplicate agent names in one layer", () => {
    const ds = check({
      "agents/a.md": "---\ndescription: x\n---\nbody\n",
      "agents/b.md": "---\nname: a\ndescription: y\n---\nbody\n",
    });
    expect(ds.find((d) => d.code === "duplicate-name")?.message).toContain("agent 'a' is defined twice");
  });

  it("rejects YAML aliases (billion laughs) and duplicate keys", () => {
    const ds = check({
      "agents/a.md": "---\ndescription: &a x\ntags: [*a, *a]\n---\nbody\n",
      "agents/b.md": "---\ndescription: x\ndescription: y\n---\nbody\n",
    });
    expect(ds.some((d) => d.code === "yaml-alias" && d.file?.endsWith("a.md"))).toBe(true);
    expect(ds.some((d) => d.code === "yaml-syntax" && d.file?.endsWith("b.md") && d.hint === "each key may appear once in a mapping")).toBe(true);
  });

  it("keeps loading the other agents when one is broken", () => {
    writeTree(dir.path, {
      "aicfg.yaml": "name: t\n",
      "agents/good.md": "---\ndescription: fine\n---\nbody\n",
      "agents/bad.md": "---\ndescription: [\n---\nbody\n",
    });
    const lib = loadLibrary(dir.path);
    expect([...lib.agents.keys()]).toEqual(["good"]);
  });

  it("says what to do when the folder is not a library", () => {
    expect(() => loadLibrary(join(dir.path, "missing"))).toThrow(/does not exist/);
    expect(() => loadLibrary(dir.path)).toThrow(/has no aicfg.yaml/);
  });
});

describe("wrong types are not reported as missing", () => {
  it("says what was expected for a present value of the wrong type", () => {
    const d2 = tempDir();
    try {
      writeTree(d2.path, { "aicfg.yaml": "name: t\n", "agents/a.md": "---\ndescription: x\ntags: engineering\n---\nbody\n" });
      const lib = loadLibrary(d2.path);
      const d = lib.diagnostics.find((x) => x.file?.endsWith("a.md"))!;
      expect(d.message).toBe("tags: Invalid input: expected array, received string");
      expect([d.line, d.col]).toEqual([3, 7]);
      expect(d.hint).toBe("expected array");
    } finally {
      d2.cleanup();
    }
  });
});
