// aicfg-plugin-token-budget: a workflow action (`uses: token-budget`) that counts, for each agent of
// the library, the tokens of what a tool always loads for it (instructions plus always-on knowledge;
// o200k_base counts from gpt-tokenizer, an estimate for non-OpenAI models), writes the table as a
// markdown report through ctx.fs (so it lands only where the plugin may write), and fails the step
// when an agent is over `max` (unless `fail: false`), naming the agents and by how much.
import { countTokens } from "gpt-tokenizer";
import { ActionError, defineAction, definePlugin, readLibrary, z } from "ai-configurator/plugin";

export const tokenBudgetAction = defineAction({
  name: "token-budget",
  description: "count the tokens each agent always loads, write a report, fail when one is over max",
  with: z.strictObject({
    max: z.number().int().positive().describe("the most tokens one agent may always load"),
    out: z.string().min(1).default("reports/token-budget.md").describe("where the report goes (relative to the library)"),
    agents: z.array(z.string().min(1)).optional().describe("only these agents (default: all)"),
    fail: z.boolean().default(true).describe("fail the step when an agent is over max (default true)"),
  }),
  literalFields: ["out"],
  literalReason: "the report's path is where the plugin writes: it must not come from trigger data",
  run: async (w, ctx) => {
    if (!ctx.fs) throw new ActionError("no-fs", "this aicfg gives actions no file writer (ctx.fs)", { retryable: false, hint: "upgrade aicfg" });
    const lib = readLibrary(ctx);
    const chosen = w.agents ? lib.agents.filter((a) => w.agents!.includes(a.name)) : lib.agents;
    const unknown = (w.agents ?? []).filter((n) => !lib.agents.some((a) => a.name === n));
    if (unknown.length)
      throw new ActionError("unknown-agent", `with.agents: no agent ${unknown.join(", ")} in library ${lib.name}`, {
        retryable: false,
        hint: "aicfg list shows the agents",
      });
    const rows = chosen
      .map((a) => {
        const texts = [a.instructions, ...a.knowledge.filter((k) => k.mode === "always").map((k) => lib.knowledgeText(k.absPath))];
        return { agent: a.name, tokens: texts.reduce((n, t) => n + countTokens(t), 0), files: 1 + a.knowledge.filter((k) => k.mode === "always").length };
      })
      .sort((x, y) => y.tokens - x.tokens || x.agent.localeCompare(y.agent));
    const over = rows.filter((r) => r.tokens > w.max);
    const report = [
      `# Token budget: ${lib.name}`,
      "",
      `Budget: ${w.max} tokens per agent (o200k_base; an estimate for non-OpenAI models). Run ${ctx.run.id}.`,
      "",
      "| agent | tokens | files | status |",
      "|---|---:|---:|---|",
      ...rows.map((r) => `| ${r.agent} | ${r.tokens} | ${r.files} | ${r.tokens > w.max ? `over by ${r.tokens - w.max}` : "ok"} |`),
      "",
    ].join("\n");
    const path = await ctx.fs.writeFile(w.out, report);
    ctx.log("info", `token budget: ${rows.length} agent(s), ${over.length} over ${w.max}; report ${path}`);
    if (over.length && w.fail) {
      throw new ActionError(
        "over-budget",
        `${over.map((r) => `${r.agent} (${r.tokens} tokens, ${r.tokens - w.max} over)`).join(", ")} over the budget of ${w.max}`,
        {
          retryable: false,
          hint: `shorten the instructions, or make knowledge on-demand; the report is in ${path}`,
        },
      );
    }
    return { outputs: { report: path, overBudget: over.map((r) => r.agent), agents: rows } };
  },
});

export default definePlugin({
  apiVersion: "aicfg/v1",
  name: "aicfg-plugin-token-budget",
  version: "1.0.0",
  setup(ctx) {
    ctx.actions.register(tokenBudgetAction);
  },
});
