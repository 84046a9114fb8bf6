// Library inputs an attacker (or a careless commit) can shape: top-level folders that are symbolic
// links out of the library, and names Windows cannot create as files (CON, nul.md, COM1, 'name.').
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/library/diagnostics.ts";
import { loadLibrary, refreshLibrary } from "../../src/library/load.ts";
import { validateWorkflows } from "../../src/workflows/schema.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let outside: string;
beforeEach(() => {
  dir = tempDir("aicfg-harden-");
  lib = join(dir.path, "lib");
  outside = join(dir.path, "outside");
  writeTree(lib, { "aicfg.yaml": "name: t\n", "agents/ok.md": "---\ndescription: ok\n---\nbody\n" });
  writeTree(outside, {
    "secret.md": "the private key\n",
    "stolen.md": "---\ndescription: from outside\n---\nbody\n",
    "evil.yaml": "command: sh\nargs: [-c, id]\n",
    "wf.yaml": "name: wf\non: { manual: true }\nsteps:\n  - uses: validate\n",
    "s1/SKILL.md": "---\nname: s1\ndescription: x\n---\nbody\n",
  });
});
afterEach(() => dir.cleanup());

describe("symbolic links out of the library", () => {
  it("does not follow knowledge/, agents/, mcp/, skills/ or workflows/ when they lead outside", () => {
    for (const name of ["knowledge", "mcp", "skills", "workflows"]) symlinkSync(outside, join(lib, name));
    mkdirSync(join(lib, "layer2"));
    writeTree(join(lib, "layer2"), { "aicfg.yaml": "name: l2\n" });
    symlinkSync(outside, join(lib, "layer2", "agents"));
    writeTree(lib, { "aicfg.yaml": "name: t\nextends: [layer2]\n" });
    const l = loadLibrary(lib);
    expect([...l.knowledge.keys()]).toEqual([]);
    expect([...l.mcp.keys()]).toEqual([]);
    expect([...l.skills.keys()]).toEqual([]);
    expect([...l.agents.keys()]).toEqual(["ok"]);
    expect(l.workflowDirs).toEqual([]);
    const errors = l.diagnostics.filter((d) => d.code === "symlink-outside").map((d) => formatDiagnostic(d, lib));
    expect(errors.sort()).toEqual(
      [
        `knowledge  error: knowledge/ is a symbolic link to ${outside}, outside the library ${lib}: not followed`,
        `layer2/agents  error: agents/ is a symbolic link to ${outside}, outside the library ${join(lib, "layer2")}: not followed`,
        `mcp  error: mcp/ is a symbolic link to ${outside}, outside the library ${lib}: not followed`,
        `skills  error: skills/ is a symbolic link to ${outside}, outside the library ${lib}: not followed`,
        `workflows  error: workflows/ is a symbolic link to ${outside}, outside the library ${lib}: not followed`,
      ].map((s) => `${s}  (copy the files into the library (or add the other folder as a layer with 'extends'))`),
    );
  });

  it("a watch event under a linked folder reloads fully and still refuses it", () => {
    const l = loadLibrary(lib);
    symlinkSync(outside, join(lib, "knowledge"));
    const next = refreshLibrary(l, [join(lib, "knowledge", "secret.md")]);
    expect([...next.knowledge.keys()]).toEqual([]);
    expect(next.diagnostics.some((d) => d.code === "symlink-outside")).toBe(true);
  });

  it("follows a link that stays inside the library", () => {
    writeTree(lib, { "docs/kb/guide.md": "# guide\n" });
    symlinkSync("docs/kb", join(lib, "knowledge"));
    const l = loadLibrary(lib);
    expect([...l.knowledge.keys()]).toEqual(["guide.md"]);
    expect(l.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});

describe("Windows reserved names", () => {
  it("refuses them as agent, MCP server, knowledge and workflow names with file:line:col", () => {
    writeTree(lib, {
      "agents/con.md": "---\ndescription: x\n---\nbody\n",
      "agents/named.md": "---\ndescription: x\nname: nul\n---\nbody\n",
      "agents/lpt9.md": "---\ndescription: x\nname: fine-name\n---\nbody\n",
      "agents/uses.md": "---\ndescription: x\nmcp:\n  - name: Com1.json\n    command: x\n---\nbody\n",
      "mcp/AUX.yaml": "command: x\n",
      "mcp/trailing..yaml": "command: x\n",
      "mcp/console.yaml": "command: x\n",
      "knowledge/docs/Prn.txt.md": "x\n",
      "knowledge/docs/prn-notes.md": "x\n",
      "workflows/a.yaml": "name: com3\non: { manual: true }\nsteps:\n  - uses: validate\n",
    });
    const l = loadLibrary(lib);
    const shown = [...l.diagnostics, ...validateWorkflows(l)].filter((d) => d.severity === "error").map((d) => formatDiagnostic(d, lib));
    const device = "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension)";
    expect(shown.sort()).toEqual(
      [
        `agents/con.md:1:1  error: agent file name 'con' is not a valid agent name: it ${device}  (rename the file to a lowercase slug such as code-reviewer.md, or set name: in the frontmatter)`,
        `agents/named.md:3:7  error: name: ${device}`,
        `agents/uses.md:4:11  error: mcp.0.name: ${device}`,
        `knowledge/docs/Prn.txt.md  error: knowledge name 'Prn.txt.md' ${device}  (rename it: tools on Windows cannot create this file)`,
        `mcp/AUX.yaml  error: MCP server file name 'AUX' is not a valid server name: it ${device}  (use letters, digits, '.', '_' or '-')`,
        `mcp/trailing..yaml  error: MCP server file name 'trailing.' is not a valid server name: it must not end in '.' (Windows drops a trailing dot from file names)  (use letters, digits, '.', '_' or '-')`,
        `workflows/a.yaml:1:7  error: name: ${device}`,
      ].sort(),
    );
    expect([...l.agents.keys()].sort()).toEqual(["fine-name", "ok"]);
    expect([...l.mcp.keys()]).toEqual(["console"]);
    expect([...l.knowledge.keys()]).toEqual(["docs/prn-notes.md"]);
  });
});
