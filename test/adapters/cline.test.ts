// The Cline adapter: exact .clinerules files (always-on and paths:-conditional), the global rules
// folder, the MCP warning with its reason, determinism and detection (binary and VS Code extension).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clineAdapter } from "../../src/adapters/cline/index.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir, writeTree } from "../helpers/fixtures.ts";
import { fakeInstall, messages, show } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-cline-");
});
afterEach(() => t.cleanup());

const WARN = (feature: string): string => `cline: agent 'software-engineer' uses ${feature}, which cline cannot express; it is left out of this target`;

describe("cline render", () => {
  it("project scope: one always-on rule per agent and per always-on knowledge file", () => {
    const r = roots(t.path);
    const res = clineAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([
      { kind: "file", path: ".clinerules/helper.md", agent: "helper", content: "Be helpful.\n" },
      { kind: "file", path: ".clinerules/knowledge-common-policies.md", agent: "software-engineer", content: "# Policies\n\n- Review every change.\n" },
      {
        kind: "file",
        path: ".clinerules/software-engineer.md",
        agent: "software-engineer",
        content: "# Role\n\nYou are a senior software engineer. Write tests first.\n",
      },
    ]);
    expect(messages(res.warnings)).toEqual([
      WARN("a model"),
      WARN("tools.allow"),
      WARN("tools.deny"),
      WARN("tools.trusted"),
      WARN("toolSettings"),
      WARN("hooks (sessionStart, beforeTool)"),
      WARN("MCP servers (fetch, github)"),
      WARN("on-demand knowledge domains/security.md"),
    ]);
    expect(res.warnings[6]!.hint).toBe(
      "Cline keeps MCP servers in cline_mcp_settings.json inside the editor's global storage (globalStorage/saoudrizwan.claude-dev/settings/), whose location differs per editor and OS and is not verified, so aicfg does not write it; add the servers in Cline's MCP panel",
    );
    expect(clineAdapter.capabilities["mcp-stdio"]).toBe("no");
  });

  it("knowledge with applyTo gets paths: frontmatter; user scope writes ~/Documents/Cline/Rules", () => {
    const r = roots(t.path, "user");
    const kdir = join(t.path, "k");
    writeTree(kdir, { "ui.md": "---\napplyTo: src/components/**\n---\nUse the design system.\n" });
    const agent = minimalAgent({ knowledge: [{ path: "ui.md", absPath: join(kdir, "ui.md"), mode: "on-demand", size: 1, mtimeMs: 0, layer: "test" }] });
    const res = clineAdapter.render([agent], renderContext(r));
    expect(show(res.files, r.homeDir)).toEqual([
      { kind: "file", path: "Documents/Cline/Rules/helper.md", agent: "helper", content: "Be helpful.\n" },
      {
        kind: "file",
        path: "Documents/Cline/Rules/knowledge-ui.md",
        agent: "helper",
        content: "---\npaths:\n  - src/components/**\n---\n\nUse the design system.\n",
      },
    ]);
    expect(res.warnings).toEqual([]);
  });

  it("is deterministic", () => {
    const r = roots(t.path);
    const a = realisticAgent(join(t.path, "k"));
    expect(clineAdapter.render([minimalAgent(), a], renderContext(r))).toEqual(clineAdapter.render([a, minimalAgent()], renderContext(r)));
  });
});

describe("cline detect", () => {
  it("finds the VS Code extension folder saoudrizwan.claude-dev-<version>", async () => {
    const env = fakeInstall(t.path, { homeDirs: [".vscode/extensions/saoudrizwan.claude-dev-3.31.0", ".vscode/extensions/ms-python.python-2026.1.0"] });
    const d = await clineAdapter.detect(env);
    expect(d.installed).toBe(true);
    expect(d.binary).toBeUndefined();
    expect(d.configPaths).toEqual([
      { path: join(t.path, "home/Documents/Cline"), exists: false },
      { path: join(t.path, "home/.cline"), exists: false },
      { path: join(t.path, "project/.clinerules"), exists: false },
      { path: join(t.path, "home/.vscode/extensions/saoudrizwan.claude-dev-3.31.0"), exists: true },
    ]);
    expect(d.notes).toEqual(["VS Code extension saoudrizwan.claude-dev 3.31.0 is installed"]);
  });

  it("finds the cline CLI on PATH", async () => {
    const env = fakeInstall(t.path, { binaries: { cline: "cline v1.0.4" } });
    mkdirSync(join(t.path, "home/Documents/Cline"), { recursive: true });
    const d = await clineAdapter.detect(env);
    expect(d.binary).toEqual({ name: "cline", path: join(t.path, "bin/cline"), version: "1.0.4" });
    expect(d.configPaths[0]).toEqual({ path: join(t.path, "home/Documents/Cline"), exists: true });
  });

  it("reports nothing installed", async () => {
    const d = await clineAdapter.detect(fakeInstall(t.path));
    expect(d.installed).toBe(false);
    expect(d.notes).toEqual([]);
    expect(d.nextSteps).toEqual(["install the Cline extension from the VS Code marketplace (saoudrizwan.claude-dev) or the cline CLI"]);
  });
});
