// The Claude.ai Projects adapter: exact upload bundles (files, README checklist, ZIP entries, skill
// ZIP), byte-for-byte determinism, documented limits, and detection of a web-only tool.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unzipSync } from "fflate";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { claudeProjectsAdapter } from "../../src/adapters/claude-projects/index.ts";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { getAdapter } from "../../src/adapters/registry.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import type { ResolvedAgent, ResolvedKnowledge } from "../../src/library/model.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let base: string;
beforeAll(() => {
  dir = tempDir("aicfg-claude-projects-");
  base = dir.path;
});
afterAll(() => dir.cleanup());

const render = (agents: ResolvedAgent[], scope: "project" | "user" = "project") => claudeProjectsAdapter.render(agents, renderContext(roots(base, scope)));
const bytesOf = (f: OutputFile | undefined): Uint8Array => {
  if (f?.kind !== "file") throw new Error("not a whole file");
  return typeof f.content === "string" ? new TextEncoder().encode(f.content) : f.content;
};
const textOf = (f: OutputFile | undefined): string => Buffer.from(bytesOf(f)).toString("utf8");
const unzip = (f: OutputFile | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, data] of Object.entries(unzipSync(bytesOf(f)))) out[name] = Buffer.from(data).toString("utf8");
  return out;
};
const knowledge = (root: string, path: string, mode: "always" | "on-demand" = "always"): ResolvedKnowledge => ({
  path,
  absPath: join(root, path),
  mode,
  size: 0,
  mtimeMs: 0,
  layer: "test",
});

describe("bundle of the realistic agent", () => {
  const README = (kb: string) =>
    [
      "# Claude.ai project: software-engineer",
      "",
      "Upload bundle written by `aicfg export` from /lib/agents/software-engineer.md. These files are rewritten on every",
      "export: edit the library, not this folder.",
      "",
      "Claude.ai projects have no API, so these steps are done by hand. Repeat them when an export changes a file here.",
      "",
      "## Steps",
      "",
      "1. Open https://claude.ai/projects and create a project (or open the one made before).",
      "2. Name: software-engineer",
      "3. Description: Implements features with tests",
      "   (people see the description; Claude does not)",
      "4. Paste the whole of instructions.md (63 characters) into the project instructions.",
      "5. Add these 2 files to the project knowledge (remove files an earlier export added that are no longer listed):",
      "   - [ ] knowledge/policies.md (35 bytes)",
      "   - [ ] knowledge/security.md (34 bytes)",
      "6. Optional: to use this agent as a skill in any chat, upload software-engineer-skill.zip (skill 'software-engineer') in",
      "   Customize > Skills (https://claude.ai/customize/skills); skills need code execution to be turned on.",
      "",
      "software-engineer.zip holds README.md, instructions.md and knowledge/ for passing the bundle on.",
      "",
      "## Size",
      "",
      "Instructions and knowledge: 132 bytes, about 33 tokens. A project keeps about 200,000 tokens",
      "in context and searches the rest (RAG, up to 10 times more).",
      "",
      "## Left out",
      "",
      "- MCP servers fetch, github: a web project cannot start MCP servers; add remote ones as connectors in claude.ai Settings > Connectors.",
      "- Tool permissions: claude.ai has no per-project tool list; turn features on or off in the chat.",
      "- Tool settings (allowed paths and commands): a web project has no file system or shell of yours.",
      "- Hooks: a web project runs no commands of yours.",
      "- Model: pick it in the chat's model menu.",
      "",
    ].join("\n") + kb;

  it("writes the exact file list and contents", () => {
    const k = join(base, "lib", "knowledge");
    const r = render([realisticAgent(k)]);
    const d = join(base, "project", "claude-projects", "software-engineer");
    expect(r.files.map((f) => f.path)).toEqual([
      join(d, "README.md"),
      join(d, "instructions.md"),
      join(d, "knowledge/policies.md"),
      join(d, "knowledge/security.md"),
      join(d, "software-engineer.zip"),
      join(d, "software-engineer-skill.zip"),
    ]);
    expect(r.files.every((f) => f.kind === "file" && f.agent === "software-engineer")).toBe(true);
    expect(textOf(r.files[0])).toBe(README(""));
    expect(textOf(r.files[1])).toBe("# Role\n\nYou are a senior software engineer. Write tests first.\n");
    expect(textOf(r.files[2])).toBe("# Policies\n\n- Review every change.\n");
    expect(textOf(r.files[3])).toBe("# Security\n\nNever commit secrets.\n");
    expect(unzip(r.files[4])).toEqual({
      "README.md": README(""),
      "instructions.md": "# Role\n\nYou are a senior software engineer. Write tests first.\n",
      "knowledge/policies.md": "# Policies\n\n- Review every change.\n",
      "knowledge/security.md": "# Security\n\nNever commit secrets.\n",
    });
    expect(Object.keys(unzipSync(bytesOf(r.files[4])))).toEqual(["README.md", "instructions.md", "knowledge/policies.md", "knowledge/security.md"]);
    expect(unzip(r.files[5])).toEqual({
      "software-engineer/SKILL.md":
        "---\nname: software-engineer\ndescription: Implements features with tests\n---\n\n# Role\n\nYou are a senior software engineer. Write tests first.\n\n" +
        "## Reference files\n\nRead these files of this skill when the task needs them:\n\n- references/policies.md\n- references/security.md\n",
      "software-engineer/references/policies.md": "# Policies\n\n- Review every change.\n",
      "software-engineer/references/security.md": "# Security\n\nNever commit secrets.\n",
    });
    expect(r.warnings.map((w) => w.message)).toEqual([
      "claude-projects: agent 'software-engineer' uses MCP servers (fetch, github), which claude-projects cannot express; it is left out of this target",
      "claude-projects: agent 'software-engineer' uses tool permissions (tools.allow / deny / trusted), which claude-projects cannot express; it is left out of this target",
      "claude-projects: agent 'software-engineer' uses tool settings (allowed paths and commands), which claude-projects cannot express; it is left out of this target",
      "claude-projects: agent 'software-engineer' uses hooks, which claude-projects cannot express; it is left out of this target",
      "claude-projects: agent 'software-engineer' uses a model choice, which claude-projects cannot express; it is left out of this target",
    ]);
    expect(r.warnings.every((w) => w.severity === "warning" && w.file === "/lib/agents/software-engineer.md")).toBe(true);
    expect(getAdapter("claude-projects")).toBe(claudeProjectsAdapter);
  });

  it("renders identical bytes every time, with a fixed ZIP timestamp", () => {
    const k = join(base, "lib", "knowledge");
    const a = render([realisticAgent(k)]);
    const b = render([realisticAgent(k)]);
    expect(a.files.map((f) => Buffer.from(bytesOf(f)).toString("base64"))).toEqual(b.files.map((f) => Buffer.from(bytesOf(f)).toString("base64")));
    for (const zip of [a.files[4], a.files[5]]) {
      const z = bytesOf(zip);
      // Local file header: signature, then DOS time 12:00:00 (0x6000) and date 1980-01-01 (0x0021).
      expect([...z.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
      expect([...z.subarray(10, 14)]).toEqual([0x00, 0x60, 0x21, 0x00]);
    }
  });
});

describe("small agents, user scope, names", () => {
  it("puts user-scope bundles in ~/aicfg-bundles/claude-projects and says when there is nothing to upload", () => {
    const r = render([minimalAgent({ name: "note_taker" })], "user");
    const d = join(base, "home", "aicfg-bundles", "claude-projects", "note_taker");
    expect(r.files.map((f) => f.path)).toEqual([join(d, "README.md"), join(d, "instructions.md"), join(d, "note_taker.zip"), join(d, "note_taker-skill.zip")]);
    const readme = textOf(r.files[0]);
    expect(readme).toContain(
      "\n4. Paste the whole of instructions.md (12 characters) into the project instructions.\n5. There are no knowledge files to upload.\n6. Optional:",
    );
    expect(readme).toContain("upload note_taker-skill.zip (skill 'note-taker') in");
    expect(readme.endsWith("in context and searches the rest (RAG, up to 10 times more).\n")).toBe(true);
    expect(unzip(r.files[3])).toEqual({ "note-taker/SKILL.md": "---\nname: note-taker\ndescription: A small helper\n---\n\nBe helpful.\n" });
    expect(r.warnings).toEqual([]);
    expect(claudeProjectsAdapter.locations(roots(base, "user"))).toEqual([join(base, "home", "aicfg-bundles", "claude-projects")]);
  });

  it("cuts a skill description to claude.ai's 200 characters with a warning", () => {
    const long = "Reviews pull requests. " + "Checks naming, tests and error handling carefully. ".repeat(5);
    const r = render([minimalAgent({ description: long })]);
    const skill = unzip(r.files[3])["helper/SKILL.md"]!;
    const description = /^description: (.*)$/m.exec(skill)![1]!;
    expect([...description].length).toBe(200);
    expect(description).toBe(long.slice(0, 199).trimEnd() + "…");
    expect(r.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "limit-exceeded",
        `claude-projects: agent 'helper': the description is longer than the 200 characters claude.ai allows for a skill; the skill's description is cut to "${description}"`,
      ],
    ]);
    expect(textOf(r.files[0])).toContain(`3. Description: ${long}\n`);
  });

  it("keeps folders in the names of same-named files, copies binary files byte-for-byte and flags unusual types", () => {
    const k = join(base, "lib-names");
    writeTree(k, { "a/notes.md": "---\ntitle: A\n---\nalpha\n", "b/notes.md": "beta\n", "data/table.xyz": "x,y\n" });
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a]);
    writeFileSync(join(k, "data", "spec.pdf"), pdf);
    const r = render([
      minimalAgent({
        knowledge: [knowledge(k, "b/notes.md"), knowledge(k, "a/notes.md", "on-demand"), knowledge(k, "data/spec.pdf"), knowledge(k, "data/table.xyz")],
      }),
    ]);
    const d = join(base, "project", "claude-projects", "helper");
    expect(r.files.map((f) => f.path.slice(d.length + 1))).toEqual([
      "README.md",
      "instructions.md",
      "knowledge/a--notes.md",
      "knowledge/b--notes.md",
      "knowledge/spec.pdf",
      "knowledge/table.xyz",
      "helper.zip",
      "helper-skill.zip",
    ]);
    expect(textOf(r.files[2])).toBe("alpha\n");
    expect(Buffer.from(bytesOf(r.files[4])).equals(pdf)).toBe(true);
    expect(Buffer.from(unzipSync(bytesOf(r.files[6]))["knowledge/spec.pdf"]!).equals(pdf)).toBe(true);
    expect(r.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "file-type",
        "claude-projects: agent 'helper': knowledge file data/table.xyz is not a type claude.ai lists for project knowledge (PDF, DOCX, CSV, TXT, HTML, ODT, RTF, EPUB, JSON, XLSX, Markdown, images); the upload may be refused",
      ],
    ]);
  });
});

describe("limits", () => {
  it("leaves out a file over 30 MB, and warns when the knowledge outgrows the context and then RAG", () => {
    const k = join(base, "lib-big");
    writeTree(k, { "ok.md": "fine\n" });
    writeFileSync(join(k, "huge.txt"), Buffer.alloc(30_000_001, 0x61));
    writeFileSync(join(k, "medium.md"), Buffer.alloc(900_000, 0x62));
    writeFileSync(join(k, "large.md"), Buffer.alloc(8_000_000, 0x63));

    const huge = render([minimalAgent({ knowledge: [knowledge(k, "huge.txt"), knowledge(k, "ok.md")] })]);
    expect(huge.files.map((f) => f.path.split("/").slice(-2).join("/"))).toEqual([
      "helper/README.md",
      "helper/instructions.md",
      "knowledge/ok.md",
      "helper/helper.zip",
      "helper/helper-skill.zip",
    ]);
    expect(huge.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "limit-exceeded",
        "claude-projects: agent 'helper': knowledge file huge.txt is 30000001 bytes, over the 30000000-byte (30 MB) limit per project file; it is left out of the bundle",
      ],
    ]);
    expect(Object.keys(unzipSync(bytesOf(huge.files[3])))).toEqual(["README.md", "instructions.md", "knowledge/ok.md"]);

    const medium = render([minimalAgent({ knowledge: [knowledge(k, "medium.md")] })]);
    expect(medium.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "context-budget",
        "claude-projects: agent 'helper': instructions and knowledge are 900012 bytes, over the about 800000 bytes (200k tokens) of Claude's context; claude.ai will search the knowledge (RAG) instead of reading all of it",
      ],
    ]);

    const large = render([minimalAgent({ knowledge: [knowledge(k, "large.md")] })]);
    expect(large.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "limit-exceeded",
        "claude-projects: agent 'helper': instructions and knowledge are 8000012 bytes, over the 8000000 bytes (about 2 million tokens) a project holds even with RAG",
      ],
    ]);
    expect(large.warnings[0]!.hint).toBe("split the knowledge across several agents or projects");
  });
});

describe("many knowledge files", () => {
  it("past 20 files the text knowledge is merged into 20 parts in path order (binary files stay), and the ZIPs hold the parts", () => {
    const k = join(base, "lib-many");
    const tree: Record<string, string> = {};
    for (let i = 0; i < 41; i++) tree[`docs/k${String(i).padStart(2, "0")}.md`] = `---\ndescription: doc ${i}\n---\n# K${i}\n\nBody ${i}.\n\n`;
    writeTree(k, tree);
    writeFileSync(join(k, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const agent = minimalAgent({ knowledge: [...Object.keys(tree), "logo.png"].map((p) => knowledge(k, p, "on-demand")) });
    const r = render([agent]);
    const names = r.files.map((f) => f.path.split("/").slice(-2).join("/"));
    // 41 text files, 3 per part: 14 parts, then the image as it is.
    const parts = Array.from({ length: 14 }, (_, i) => `knowledge/knowledge-part-${String(i + 1).padStart(2, "0")}.md`);
    expect(names).toEqual(["helper/README.md", "helper/instructions.md", ...parts, "knowledge/logo.png", "helper/helper.zip", "helper/helper-skill.zip"]);
    expect(textOf(r.files[2])).toBe(
      "# knowledge/docs/k00.md\n\n# K0\n\nBody 0.\n\n# knowledge/docs/k01.md\n\n# K1\n\nBody 1.\n\n# knowledge/docs/k02.md\n\n# K2\n\nBody 2.\n",
    );
    const all = r.files.slice(2, 16).map(textOf).join("\n");
    for (let i = 0; i < 41; i++) expect(all).toContain(`# knowledge/docs/k${String(i).padStart(2, "0")}.md\n\n# K${i}\n\nBody ${i}.\n`);
    expect(textOf(r.files[0])).toContain("5. Add these 15 files to the project knowledge");
    expect(textOf(r.files[0])).toContain("(the 41 library files are merged into 14 parts, each file under a `# knowledge/<path>` heading)");
    const zipped = unzip(r.files[17]);
    expect(Object.keys(zipped).sort()).toEqual(["README.md", "instructions.md", ...parts, "knowledge/logo.png"].sort());
    expect(zipped["knowledge/knowledge-part-01.md"]).toBe(textOf(r.files[2]));
    const skill = unzip(r.files[18]);
    expect(Object.keys(skill).filter((n) => n.includes("/references/")).length).toBe(15);
    expect(skill["helper/SKILL.md"]).toContain("(merged parts: search them, each library file is under a `# knowledge/<path>` heading)");
  });
});

describe("detect", () => {
  it("reports a web tool with its bundle folders and never a binary", async () => {
    const home = join(base, "d-home");
    const project = join(base, "d-project");
    writeTree(project, { "claude-projects/a/README.md": "x\n" });
    const d = await claudeProjectsAdapter.detect(realDetectEnv({ homeDir: home, projectRoot: project, env: { PATH: "" } }));
    expect(d).toEqual({
      installed: false,
      generation: "web: claude.ai",
      configPaths: [
        { path: join(project, "claude-projects"), exists: true },
        { path: join(home, "aicfg-bundles", "claude-projects"), exists: false },
      ],
      exportPaths: { project: [join(project, "claude-projects")], user: [join(home, "aicfg-bundles", "claude-projects")] },
      notes: ["web: claude.ai (nothing to install); Claude.ai projects have no API, so aicfg writes upload bundles"],
      nextSteps: [
        `after 'aicfg export --target claude-projects', open https://claude.ai/projects and follow README.md in each folder under ${join(project, "claude-projects")} (project scope) or ${join(home, "aicfg-bundles", "claude-projects")} (user scope)`,
      ],
    });
    expect(claudeProjectsAdapter.parse).toBeUndefined();
  });
});
