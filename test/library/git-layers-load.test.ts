// The one loader with git layers: folders handed in by the caller are layered like `extends:` folders (below
// them, in aicfg.yaml order, named after the layer), a declared layer that was not handed in is a positioned
// error, and a git layer cannot reach outside its checkout through its own `extends:`.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadLibrary, refreshLibrary } from "../../src/library/load.ts";
import { resolveAgent } from "../../src/library/resolve.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("aicfg-gitlayers-");
  writeTree(dir.path, {
    "trees/org/agents/reviewer.md": "---\ndescription: org reviewer\nmodel: org-model\n---\nOrg body.\n",
    "trees/team/aicfg.yaml": "name: team-library\ntargets: [claude-code]\n",
    "trees/team/agents/reviewer.md": "---\ndescription: team reviewer\n---\nTeam body.\n",
    "local/aicfg.yaml": "name: local\n",
    "local/agents/reviewer.md": "---\ndescription: local reviewer\n---\n",
    "me/aicfg.yaml":
      "name: me\nextends: [../local]\nlayers:\n  - name: org\n    url: https://git.example.com/org.git\n    ref: v3\n  - name: team\n    url: ../team\n    ref: main\n",
    "me/agents/reviewer.md": "---\ndescription: my reviewer\n---\n",
  });
});
afterEach(() => dir.cleanup());

const folders = () => [
  { name: "org", root: join(dir.path, "trees/org") },
  { name: "team", root: join(dir.path, "trees/team") },
];

describe("loadLibrary with git layers", () => {
  it("layers org, then team, then extends, then the library itself, with the layer names as provenance", () => {
    const lib = loadLibrary(join(dir.path, "me"), { layers: folders() });
    expect(lib.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(lib.layers.map((l) => l.name)).toEqual(["org", "team", "local", "me"]);
    expect(lib.manifest.targets).toEqual(["claude-code"]); // from the team layer's aicfg.yaml
    const { agent } = resolveAgent(lib, "reviewer");
    expect(agent!.description).toBe("my reviewer");
    expect(agent!.provenance).toMatchObject({ model: "org", instructions: "team", description: "me" });
    expect(lib.manifest.layers!.map((l) => l.name)).toEqual(["org", "team"]);
  });

  it("a declared layer that was not handed in is an error at its line in aicfg.yaml, and the rest still loads", () => {
    const lib = loadLibrary(join(dir.path, "me"), { layers: [folders()[0]!] });
    const d = lib.diagnostics.find((x) => x.code === "layer-not-materialised")!;
    expect(d).toMatchObject({ severity: "error", file: join(dir.path, "me", "aicfg.yaml"), line: 7 });
    expect(d.hint).toContain("aicfg sync");
    expect(lib.layers.map((l) => l.name)).toEqual(["org", "local", "me"]);
  });

  it("a git layer's own extends may not leave its checkout", () => {
    writeTree(dir.path, { "trees/team/aicfg.yaml": "name: team\nextends: [../../local]\n" });
    const lib = loadLibrary(join(dir.path, "me"), { layers: folders() });
    expect(lib.diagnostics.find((x) => x.code === "extends-outside-layer")).toMatchObject({ file: join(dir.path, "trees/team/aicfg.yaml"), line: 2 });
  });

  it("a full reload from refreshLibrary keeps the git layers", () => {
    const lib = loadLibrary(join(dir.path, "me"), { layers: folders() });
    const next = refreshLibrary(lib, [join(dir.path, "me", "aicfg.yaml")]); // a manifest change: full reload
    expect(next.layers.map((l) => l.name)).toEqual(["org", "team", "local", "me"]);
  });
});
