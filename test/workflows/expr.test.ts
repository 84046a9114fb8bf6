import { describe, expect, it } from "vitest";
import {
  compileValue,
  evaluate,
  ExpressionError,
  parseExpression,
  parseTemplate,
  renderTemplate,
  renderValue,
  usesStatusFunction,
  type EvalContext,
} from "../../src/workflows/expr.ts";

const ctx = (over: Partial<EvalContext["data"]> = {}, status = { failed: false, cancelled: false }): EvalContext => ({
  data: {
    steps: { pull: { outputs: { changed: true, count: 3, files: ["a.md", "b.md"] }, outcome: "success" } },
    trigger: { kind: "watch", paths: ["/lib/agents/a.md"], branch: "main" },
    inputs: { target: "claude-code", n: 2 },
    env: { REGION: "eu" },
    ...over,
  },
  status,
});
const ev = (src: string, c = ctx()) => evaluate(parseExpression(src), c);

describe("expression evaluation", () => {
  it("reads references, literals and compares", () => {
    expect(ev("steps.pull.outputs.changed")).toBe(true);
    expect(ev("steps.pull.outputs.count > 2")).toBe(true);
    expect(ev("steps.pull.outputs.count <= 2")).toBe(false);
    expect(ev("inputs.target == 'claude-code'")).toBe(true);
    expect(ev('inputs.target != "codex"')).toBe(true);
    expect(ev("env.REGION")).toBe("eu");
    expect(ev("env.MISSING")).toBe(null);
    expect(ev("trigger.kind == 'watch' && !failure()")).toBe(true);
    expect(ev("(1 < 2) || false")).toBe(true);
    expect(ev("'it''s'")).toBe("it's");
    expect(ev("-1.5 < 0")).toBe(true);
    expect(ev("null == steps.nope.outputs.x")).toBe(true);
    expect(ev("steps.pull.outputs.files.1")).toBe("b.md");
  });

  it("has the status and string functions", () => {
    const failed = ctx({}, { failed: true, cancelled: false });
    expect(ev("success()", failed)).toBe(false);
    expect(ev("failure()", failed)).toBe(true);
    expect(ev("always()", failed)).toBe(true);
    expect(ev("cancelled()", ctx({}, { failed: false, cancelled: true }))).toBe(true);
    expect(ev("contains(steps.pull.outputs.files, 'a.md')")).toBe(true);
    expect(ev("contains(trigger.branch, 'ai')")).toBe(true);
    expect(ev("startsWith(trigger.branch, 'ma')")).toBe(true);
    expect(ev("endsWith(trigger.branch, 'x')")).toBe(false);
  });

  it("knows whether an if: uses a status function", () => {
    expect(usesStatusFunction(parseExpression("failure() && inputs.n == 2"))).toBe(true);
    expect(usesStatusFunction(parseExpression("inputs.n == 2"))).toBe(false);
  });

  it("rejects what is outside the grammar with a position", () => {
    const cases: [string, string, number][] = [
      ["process.env", "unknown name 'process'", 0],
      ["steps.x.constructor", "'constructor' is not allowed in a reference", 8],
      ["inputs.__proto__", "'__proto__' is not allowed in a reference", 7],
      ["trigger.prototype.x", "'prototype' is not allowed in a reference", 8],
      ["eval('1')", "unknown function 'eval'", 0],
      ["1 < 2 < 3", "chained comparisons need parentheses", 6],
      ["'open", "unterminated string", 0],
      ["a + b", "unexpected character '+'", 2],
      ["a == b", "unknown name 'a'", 0],
      ["inputs.n +", "unexpected character '+'", 9],
      ["success(1)", "success() takes 0 argument(s), got 1", 0],
      ["(true", "expected ')', found the end", 5],
      ["inputs[0]", "unexpected character '['", 6],
      ["`x`", "unexpected character '`'", 0],
    ];
    for (const [src, message, offset] of cases) {
      let err: unknown;
      try {
        parseExpression(src);
      } catch (e) {
        err = e;
      }
      expect(err, src).toBeInstanceOf(ExpressionError);
      expect((err as ExpressionError).message, src).toBe(message);
      expect((err as ExpressionError).offset, src).toBe(offset);
    }
  });

  it("never returns functions or class instances from the context", () => {
    const c = ctx({ trigger: { fn: () => 1, date: new Date(0), nested: { ok: 1 } } as never });
    expect(ev("trigger.fn", c)).toBe(null);
    expect(ev("trigger.date", c)).toBe(null);
    expect(ev("trigger.nested.ok", c)).toBe(1);
    expect(ev("trigger.toString", c)).toBe(null);
    expect(ev("trigger.hasOwnProperty", c)).toBe(null);
  });
});

describe("${{ }} templates", () => {
  it("keeps a lone expression typed and joins mixed text", () => {
    expect(renderTemplate(parseTemplate("${{ steps.pull.outputs.files }}"), ctx())).toEqual(["a.md", "b.md"]);
    expect(renderTemplate(parseTemplate("n=${{ inputs.n }} on ${{ trigger.branch }}!"), ctx())).toBe("n=2 on main!");
    expect(renderTemplate(parseTemplate("${{ '}}' }}"), ctx())).toBe("}}");
  });

  it("renders a with: block on the parsed tree and never re-parses rendered text", () => {
    const evil = "${{ env.SECRET }}";
    const c = ctx({ trigger: { kind: "watch", title: evil }, env: { SECRET: "s3cret" } });
    const compiled = compileValue({ msg: "title: ${{ trigger.title }}", list: ["${{ trigger.title }}", 1], plain: "$(touch PWN)" });
    expect(renderValue(compiled, c)).toEqual({ msg: "title: ${{ env.SECRET }}", list: ["${{ env.SECRET }}", 1], plain: "$(touch PWN)" });
  });

  it("reports unclosed templates", () => {
    expect(() => parseTemplate("a ${{ inputs.n")).toThrow("'${{' without a matching '}}'");
  });
});
