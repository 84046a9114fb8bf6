import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadLibrary } from "../../src/library/load.ts";
import { resolveAgent } from "../../src/library/resolve.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
  writeTree(dir.path, {
    "org/aicfg.yaml": "name: org\ntargets: [claude-code]\ndefaults:\n  knowledge: [policies.md]\n",
    "org/knowledge/policies.md": "org policies\n",
    "org/knowledge/shared.md": "org version\n",
    "org/agents/reviewer.md": "---\ndescription: Org reviewer\nmodel: claude-sonnet-4\ntags: [org]\n---\nOrg instructions.\n",
    "org/mcp/fetch.yaml": "command: uvx\nargs: [mcp-server-fetch]\n",
    "team/aicfg.yaml": "name: team\nextends: [../org]\n",
    "team/knowledge/shared.md": "team version\n",
    "team/agents/reviewer.md": "---\ndescription: Team reviewer\nmcp: [fetch]\n---\n",
    "me/aicfg.yaml": "name: me\nextends: [../team]\n",
    "me/agents/reviewer.md": "---\ndescription: My reviewer\nmodel: claude-opus-4\n---\nMy instructions.\n",
  });
});
afterEach(() => dir.cleanup());

describe("layering org -> team -> personal", () => {
  it("orders layers and overrides field by field with provenance", () => {
    const lib = loadLibrary(join(dir.path, "me"));
    expect(lib.layers.map((l) => l.name)).toEqual(["org", "team", "me"]);
    const { agent, diagnostics } = resolveAgent(lib, "reviewer");
    expect(diagnostics).toEqual([]);
    expect(agent!.description).toBe("My reviewer");
    expect(agent!.model).toBe("claude-opus-4");
    expect(agent!.tags).toEqual(["org"]);
    expect(Object.keys(agent!.mcpServers)).toEqual(["fetch"]);
    expect(agent!.instructions).toBe("My instructions.\n");
    expect(agent!.provenance).toMatchObject({ description: "me", model: "me", tags: "org", mcp: "team", instructions: "me", targets: "manifest" });
    expect(agent!.targets).toEqual(["claude-code"]);
  });

  it("later layers win by knowledge path and defaults are inherited", () => {
    const lib = loadLibrary(join(dir.path, "me"));
    expect(lib.knowledge.get("shared.md")!.layer).toBe("team");
    const { agent } = resolveAgent(lib, "reviewer");
    expect(agent!.knowledge.map((k) => k.path)).toEqual(["policies.md"]);
  });

  it("warns about overrides across layers and detects cycles", () => {
    const lib = loadLibrary(join(dir.path, "me"));
    expect(lib.diagnostics.filter((d) => d.code === "layer-override")).toHaveLength(2);
    writeTree(dir.path, { "org/aicfg.yaml": "name: org\nextends: [../me]\n" });
    const cyc = loadLibrary(join(dir.path, "me"));
    expect(cyc.diagnostics.some((d) => d.code === "extends-cycle")).toBe(true);
  });

  it("reports a missing extended library at its line", () => {
    writeTree(dir.path, { "solo/aicfg.yaml": "name: solo\nextends:\n  - ../nowhere\n" });
    const lib = loadLibrary(join(dir.path, "solo"));
    const d = lib.diagnostics.find((x) => x.code === "extends-missing")!;
    expect([d.line, d.col]).toEqual([3, 5]);
  });
});
