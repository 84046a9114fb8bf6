// The gptme adapter passes the same conformance suite as the built-in adapters (from the test kit),
// and its output is what gptme reads: gptme.toml with `files` and `prompt` (docs/config.rst).
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { describeAdapterConformance, minimalAgent, realisticAgent, renderContext, tempDir } from "ai-configurator/testing";
import { gptmeAdapter } from "../index.ts";

describeAdapterConformance(gptmeAdapter);

describe("gptme output", () => {
  it("lists each agent file and the always-on knowledge in gptme.toml's files, and reports what gptme cannot take", () => {
    const dir = tempDir("gptme-");
    try {
      const roots = { scope: "project" as const, projectRoot: join(dir.path, "p"), homeDir: join(dir.path, "h") };
      const real = realisticAgent(join(dir.path, "p", "knowledge"));
      const r = gptmeAdapter.render([real, minimalAgent()], renderContext(roots));
      const toml = r.files.find((f) => f.path.endsWith("gptme.toml"));
      expect(toml?.kind).toBe("file");
      const parsed = parseToml(String((toml as { content: string }).content)) as { files: string[]; prompt: string };
      expect(parsed.files).toEqual([".gptme/agents/helper.md", ".gptme/agents/software-engineer.md", "knowledge/common/policies.md"]);
      expect(parsed.prompt).toContain("helper, software-engineer");
      const se = r.files.find((f) => f.path.endsWith("software-engineer.md")) as { content: string };
      expect(se.content).toContain("You are a senior software engineer");
      expect(se.content).toMatch(/### knowledge\/domains\/\n\n- security\.md: Security/);
      expect(r.warnings.map((w) => w.message).join("\n")).toMatch(/MCP servers .* not exported/);
    } finally {
      dir.cleanup();
    }
  });
});
