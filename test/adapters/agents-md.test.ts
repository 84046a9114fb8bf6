// The AGENTS.md adapter: the exact section, warnings, the 32 KiB budget, and coexistence with the
// codex target's own section in the same file through the real plan/apply writer.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentsMdAdapter } from "../../src/adapters/agents-md/index.ts";
import { emptyManifest } from "../../src/adapters/manifest.ts";
import { applyPlan, planExport } from "../../src/adapters/plan.ts";
import { sectionMarkers } from "../../src/adapters/shared-files.ts";
import { minimalAgent, realisticAgent, renderContext, roots, tempDir } from "../helpers/fixtures.ts";
import { warningsWithBudget } from "../helpers/budget.ts";
import { fakeInstall, messages, show } from "../fixtures/generic/helpers.ts";

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir("aicfg-agentsmd-");
});
afterEach(() => t.cleanup());

const SECTION =
  "## Agent: helper\n\nA small helper\n\nBe helpful.\n\n## Agent: software-engineer\n\nImplements features with tests\n\n### Role\n\nYou are a senior software engineer. Write tests first.\n\n## Knowledge: common/policies.md\n\n### Policies\n\n- Review every change.\n";
const WARN = (feature: string): string => `agents-md: agent 'software-engineer' uses ${feature}, which agents-md cannot express; it is left out of this target`;

describe("agents-md render", () => {
  it("one section with every agent and the always-on knowledge", () => {
    const r = roots(t.path);
    const res = agentsMdAdapter.render([realisticAgent(join(t.path, "k")), minimalAgent()], renderContext(r));
    expect(show(res.files, r.projectRoot)).toEqual([{ kind: "md-section", path: "AGENTS.md", content: SECTION }]);
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
  });

  it("demotes headings of the instructions but not inside code fences", () => {
    const r = roots(t.path);
    const res = agentsMdAdapter.render([minimalAgent({ instructions: "# Steps\n\n```sh\n# a shell comment\n```\n\n###### Deep\n" })], renderContext(r));
    expect(show(res.files, r.projectRoot)[0]!.kind === "md-section" && (res.files[0] as { content: string }).content).toBe(
      "## Agent: helper\n\nA small helper\n\n### Steps\n\n```sh\n# a shell comment\n```\n\n###### Deep\n",
    );
  });

  it("warns above the 32 KiB budget Codex reads", () => {
    const r = roots(t.path);
    const res = agentsMdAdapter.render([minimalAgent({ instructions: "é".repeat(17000) + "\n" })], renderContext(r));
    expect(res.warnings).toEqual([]);
    expect(warningsWithBudget(agentsMdAdapter, res).map((w) => [w.code, w.message])).toEqual([
      [
        "limit-exceeded",
        "agents-md: always-loaded context is 34,035 bytes (17,035 characters, ~17,010 tokens), over its budget of 32,768 bytes (Codex, the strictest reader: project_doc_max_bytes, 32 KiB (developers.openai.com/codex/guides/agents-md))",
      ],
    ]);
  });

  it("is deterministic; no agents means no file", () => {
    const r = roots(t.path);
    const a = realisticAgent(join(t.path, "k"));
    expect(agentsMdAdapter.render([minimalAgent(), a], renderContext(r))).toEqual(agentsMdAdapter.render([a, minimalAgent()], renderContext(r)));
    expect(agentsMdAdapter.render([], renderContext(r))).toEqual({ files: [], warnings: [] });
  });
});

describe("agents-md next to the codex section", () => {
  it("keeps the user's text and the codex block byte-for-byte while its own block changes", () => {
    const r = roots(t.path);
    const path = join(r.projectRoot, "AGENTS.md");
    const mine = sectionMarkers("agents-md");
    const codex = sectionMarkers("codex");
    const manifest = emptyManifest();
    const now = "2026-11-24T06:00:00.000Z";
    const codexOut = {
      target: "codex",
      scope: "project" as const,
      root: r.projectRoot,
      files: [{ kind: "md-section" as const, path, content: "Codex says hi.\n" }],
      prune: true,
    };
    const export1 = (agents: ReturnType<typeof minimalAgent>[]) => {
      const res = agentsMdAdapter.render(agents, renderContext(r));
      const plan = planExport([{ target: "agents-md", scope: "project", root: r.projectRoot, files: res.files, prune: true }, codexOut], manifest, {
        force: false,
        now,
      });
      expect(plan.errors).toEqual([]);
      const applied = applyPlan(plan, manifest, join(t.path, "state"), now);
      expect(applied.failed).toEqual([]);
      return readFileSync(path, "utf8");
    };
    const first = export1([minimalAgent()]);
    expect(first).toBe(`${mine.begin}\n## Agent: helper\n\nA small helper\n\nBe helpful.\n${mine.end}\n\n${codex.begin}\nCodex says hi.\n${codex.end}\n`);
    // The user writes their own text above and between the blocks.
    const edited = `# Team notes\n\nUse pnpm.\n\n${first}`;
    writeFileSync(path, edited);
    const second = export1([minimalAgent({ description: "A smaller helper" })]);
    expect(second).toBe(
      `# Team notes\n\nUse pnpm.\n\n${mine.begin}\n## Agent: helper\n\nA smaller helper\n\nBe helpful.\n${mine.end}\n\n${codex.begin}\nCodex says hi.\n${codex.end}\n`,
    );
    // Removing every agent removes only our block.
    const third = export1([]);
    expect(third.startsWith("# Team notes\n\nUse pnpm.\n\n")).toBe(true);
    expect(third.endsWith(`${codex.begin}\nCodex says hi.\n${codex.end}\n`)).toBe(true);
    expect(third).not.toContain("aicfg:begin agents-md");
    expect(third).not.toContain("helper");
  });
});

describe("agents-md detect", () => {
  it("needs no install; counts as in use when the project has an AGENTS.md", async () => {
    const env = fakeInstall(t.path);
    const d = await agentsMdAdapter.detect(env);
    expect(d.installed).toBe(false);
    expect(d.configPaths).toEqual([{ path: join(t.path, "project/AGENTS.md"), exists: false }]);
    expect(d.nextSteps).toEqual([]);
    expect(d.notes).toHaveLength(1);
    writeFileSync(join(t.path, "project/AGENTS.md"), "# hi\n");
    const found = await agentsMdAdapter.detect(env);
    expect(found.installed).toBe(true);
    expect(found.configPaths).toEqual([{ path: join(t.path, "project/AGENTS.md"), exists: true }]);
  });
});
