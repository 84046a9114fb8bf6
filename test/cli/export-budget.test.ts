// Context budgets on export: every target's always-loaded figures in the summary and in --json (also
// when nothing changed), a warning over budget, and --strict failing without writing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

let dir: { path: string; cleanup: () => void };
let base: string[];
const library = (instructions: string) =>
  writeTree(join(dir.path, "lib"), {
    "aicfg.yaml": "name: budgets\ntargets: [agents-md, chatgpt]\n",
    "agents/helper.md": `---\ndescription: A small helper\n---\n${instructions}`,
  });
beforeEach(() => {
  expect.hasAssertions();
  dir = tempDir();
  base = ["--library", join(dir.path, "lib"), "--root", join(dir.path, "out"), "--state-dir", join(dir.path, "state")];
});
afterEach(() => dir.cleanup());

type Target = {
  target: string;
  cached: boolean;
  budget: { chars: number; tokens: number; tokenizer: string; over: boolean; budget: { max: number; unit: string } };
};

describe("aicfg export: context budgets", () => {
  it("reports characters and estimated tokens per target, in --json and in the summary, also when cached", async () => {
    library("Be helpful and brief.\n");
    const first = await cli(["export", ...base, "--json"]);
    expect(first.code).toBe(0);
    const targets = first.json().targets as Target[];
    const gpt = targets.find((t) => t.target === "chatgpt")!;
    expect(gpt.budget).toMatchObject({ over: false, budget: { max: 8000, unit: "chars" }, tokenizer: "o200k_base count" });
    expect(gpt.budget.chars).toBeGreaterThan(20);
    expect(gpt.budget.tokens).toBeGreaterThan(3);
    const md = targets.find((t) => t.target === "agents-md")!;
    expect(md.budget.tokenizer).toContain("estimate");
    const again = (await cli(["export", ...base, "--json"])).json().targets as Target[];
    expect(again.find((t) => t.target === "chatgpt")).toMatchObject({ cached: true, budget: { chars: gpt.budget.chars, tokens: gpt.budget.tokens } });
    const human = await cli(["export", ...base]);
    expect(human.out).toMatch(/chatgpt .*\n\s+[\d,]+ chars, ~[\d,]+ tokens always loaded \(budget 8,000 chars per agent\); tokens: o200k_base count/);
  });

  it("warns over budget with the on-demand hint; --strict fails and writes nothing", async () => {
    library("word ".repeat(2000) + "\n");
    const strict = await cli(["export", ...base, "--strict", "--json"]);
    expect(strict.code).not.toBe(0);
    const errors = strict.json().errors as { code: string; message: string; hint: string }[];
    expect(errors.map((e) => e.code)).toEqual(["limit-exceeded"]);
    expect(errors[0]!.message).toContain("chatgpt: always-loaded context for agent 'helper' is 10,00");
    expect(errors[0]!.hint).toContain("move knowledge to on-demand");
    expect(existsSync(join(dir.path, "out"))).toBe(false);
    const loose = await cli(["export", ...base, "--json"]);
    expect(loose.code).toBe(0);
    expect((loose.json().warnings as { code: string }[]).filter((w) => w.code === "limit-exceeded")).toHaveLength(1);
    const cached = await cli(["export", ...base, "--strict", "--json"]);
    expect((cached.json().errors as { code: string }[]).map((e) => e.code)).toEqual(["limit-exceeded"]);
  });
});
