// token-budget through the test kit: runAction on a real library folder, and a real daemon (with its
// HTTP API) that loads the plugin from aicfg.yaml, in process (pinned) and out of process (granted
// only the reports folder), and fails the run when an agent is over the budget.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runAction, startTestDaemon, type TestDaemon } from "ai-configurator/testing";
import { tokenBudgetAction } from "../index.ts";

const PLUGIN = fileURLToPath(new URL("..", import.meta.url));
const long = `${"Review every change for correctness, security and readability. ".repeat(40)}\n`;
const FILES = {
  "agents/reviewer.md": `---\ndescription: Reviews changes\nknowledge: [policies.md]\n---\n${long}`,
  "agents/helper.md": "---\ndescription: Helps\n---\nBe brief.\n",
  "knowledge/policies.md": "# Policies\n\nNever commit secrets.\n",
};

describe("runAction(token-budget)", () => {
  it("writes the report, sorted by tokens, and passes when every agent is within the budget", async () => {
    const r = await runAction(tokenBudgetAction, { with: { max: 100_000 }, files: FILES });
    try {
      const rows = r.outputs.agents as { agent: string; tokens: number; files: number }[];
      expect(rows.map((x) => x.agent)).toEqual(["reviewer", "helper"]);
      expect(rows[0]!.files).toBe(2);
      expect(rows[0]!.tokens).toBeGreaterThan(400);
      expect(rows[1]!.tokens).toBeLessThan(10);
      expect(r.outputs.overBudget).toEqual([]);
      const report = readFileSync(join(r.libraryRoot, "reports/token-budget.md"), "utf8");
      expect(report).toContain(`| reviewer | ${rows[0]!.tokens} | 2 | ok |`);
    } finally {
      r.cleanup();
    }
  });

  it("fails with the agents over the budget and by how much, after writing the report", async () => {
    await expect(runAction(tokenBudgetAction, { with: { max: 50, out: "out/budget.md" }, files: FILES })).rejects.toMatchObject({
      code: "over-budget",
      retryable: false,
      message: expect.stringMatching(/^reviewer \(\d+ tokens, \d+ over\) over the budget of 50$/),
    });
    const ok = await runAction(tokenBudgetAction, { with: { max: 50, fail: false, out: "out/budget.md" }, files: FILES });
    try {
      expect(ok.outputs.overBudget).toEqual(["reviewer"]);
      expect(readFileSync(join(ok.libraryRoot, "out/budget.md"), "utf8")).toMatch(/\| reviewer \| \d+ \| 2 \| over by \d+ \|/);
    } finally {
      ok.cleanup();
    }
  });

  it("checks its inputs with its schema and refuses to write outside the library", async () => {
    await expect(runAction(tokenBudgetAction, { with: { max: -1 }, files: FILES })).rejects.toThrow(/max/);
    await expect(runAction(tokenBudgetAction, { with: { max: 10, out: "../escape.md", fail: false }, files: FILES })).rejects.toMatchObject({
      code: "outside-grant",
    });
  });
});

describe("token-budget in a daemon", () => {
  let d: TestDaemon | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });
  const workflow = (max: number) =>
    `name: budget\non:\n  manual: true\nsteps:\n  - id: count\n    uses: token-budget\n    with:\n      max: ${max}\n      out: reports/budget.md\n`;

  it("loads the pinned plugin in process: the run fails over the budget, /readyz lists the plugin", async () => {
    d = await startTestDaemon({ files: { ...FILES, "workflows/budget.yaml": workflow(50) }, plugins: [PLUGIN] });
    const runId = await d.daemon.triggerRun("test", "budget");
    const run = await d.daemon.waitForRun(runId);
    expect(run.status).toBe("failure");
    expect(run.steps[0]!.error).toMatch(/reviewer \(\d+ tokens, \d+ over\) over the budget of 50/);
    expect(existsSync(join(d.libraryRoot, "reports/budget.md"))).toBe(true);
    const ready = (await (await d.request("/readyz")).json()) as { checks: Record<string, { status: string; observedValue: number }[]> };
    expect(ready.checks["plugins:load"]![0]).toMatchObject({ status: "pass", observedValue: 1 });
  });

  it("runs it out of process with only the reports folder granted", async () => {
    d = await startTestDaemon({
      files: { ...FILES, "workflows/budget.yaml": workflow(100_000) },
      plugins: [{ use: PLUGIN, isolation: "process", grant: { write: ["./reports"] } }],
    });
    const runId = await d.daemon.triggerRun("test", "budget");
    const run = await d.daemon.waitForRun(runId);
    expect(run.steps[0]!.error).toBeUndefined();
    expect(run.status).toBe("success");
    expect(run.steps[0]!.outputs.report).toBe(join(d.libraryRoot, "reports/budget.md"));
    expect(readFileSync(join(d.libraryRoot, "reports/budget.md"), "utf8")).toContain("| reviewer |");
  });
});
