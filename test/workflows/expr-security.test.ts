// Security goal G01: the expression evaluator cannot reach JS runtime objects. Replays payload
// shapes from n8n, SandboxJS and Jenkins advisories, fuzzes random input with fast-check, and
// greps the sources for eval-like calls.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate, ExpressionError, parseExpression, parseTemplate, renderTemplate, type EvalContext, type Value } from "../../src/workflows/expr.ts";

const ctx: EvalContext = {
  data: { steps: {}, trigger: { kind: "manual", title: "x" }, inputs: { a: "1" }, env: {} },
  status: { failed: false, cancelled: false },
};

// Shapes of published sandbox escapes (n8n CVE-2025-68613 and bypasses, SandboxJS CVE-2026-25587,
// Jenkins CVE-2022-43401..4): constructor chains, template literals, arrows, spreads, computed keys, classes.
const CORPUS = [
  "this.constructor.constructor('return process')()",
  "trigger.constructor.constructor('return process')().mainModule.require('child_process').execSync('touch PWN')",
  "({}).constructor.constructor('return this')()",
  "trigger['constructor']['constructor']('return process')()",
  "`${process.exit()}`",
  "(() => process)()",
  "function(){return globalThis}()",
  "[...'abc']",
  "{['__proto__']: {polluted: 1}}",
  "class A extends Object {}",
  "Object.getPrototypeOf(trigger)",
  "trigger.__proto__.polluted",
  "inputs.constructor.prototype.polluted",
  "require('fs')",
  "import('fs')",
  "globalThis.process",
  "process.mainModule",
  "new Function('return 1')()",
  "eval('1+1')",
  "steps.a.outputs.toString.call(1)",
  "trigger.title.constructor",
  "Reflect.ownKeys(trigger)",
  "trigger?.title",
  "trigger.title; process.exit(1)",
  "1; touch PWN",
  "$(touch PWN)",
  "a = 1",
  "delete trigger.title",
  "trigger.title += 'x'",
  "\\u0063onstructor",
];

function safeOutcome(src: string): "rejected" | Value {
  try {
    return evaluate(parseExpression(src), ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return "rejected";
  }
}

function noFunctionInside(v: Value): boolean {
  if (v === null || typeof v !== "object") return typeof v !== "function";
  return Object.values(v).every((x) => noFunctionInside(x as Value));
}

describe("expression security (G01)", () => {
  it("rejects every payload of the corpus", () => {
    for (const src of CORPUS) expect(safeOutcome(src), src).toBe("rejected");
    expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  });

  it("rejects the corpus inside ${{ }} templates too", () => {
    for (const src of CORPUS) {
      let threw = false;
      try {
        renderTemplate(parseTemplate("${{ " + src + " }}"), ctx);
      } catch (e) {
        threw = e instanceof ExpressionError;
      }
      expect(threw, src).toBe(true);
    }
  });

  it("random text either fails with an ExpressionError or yields plain data (10k cases)", () => {
    const alphabet = fc.constantFrom(
      ..."abcdefghijklmnopqrstuvwxyz_.()[]{}'\"`$!=<>&|+-*/\\ 0123456789,;:?".split(""),
      "constructor",
      "__proto__",
      "prototype",
      "steps",
      "trigger",
      "inputs",
      "env",
      "success()",
      "contains(",
      "&&",
      "==",
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join("")),
        (src) => {
          const out = safeOutcome(src);
          if (out !== "rejected") expect(noFunctionInside(out)).toBe(true);
        },
      ),
      { numRuns: 10_000, seed: 424242 },
    );
    expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  });

  it("grammar-shaped random expressions evaluate without touching the runtime", () => {
    const ref = fc.constantFrom("steps.a.outputs.x", "trigger.title", "inputs.a", "env.HOME", "trigger.constructor", "inputs.__proto__");
    const lit = fc.oneof(
      fc.integer().map(String),
      fc.string({ maxLength: 5 }).map((s) => `'${s.replace(/'/g, "''")}'`),
      fc.constantFrom("true", "false", "null"),
    );
    const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        ref,
        lit,
        fc.tuple(tie("e"), fc.constantFrom("==", "!=", "<", ">=", "&&", "||"), tie("e")).map(([a, op, b]) => `(${a} ${op} ${b})`),
        tie("e").map((a) => `!${a}`),
        fc.tuple(tie("e"), tie("e")).map(([a, b]) => `contains(${a}, ${b})`),
      ),
    })).e;
    fc.assert(
      fc.property(expr, (src) => {
        const out = safeOutcome(src);
        if (out !== "rejected") expect(noFunctionInside(out)).toBe(true);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("no eval, new Function or vm in the sources", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const n of readdirSync(dir)) {
        const p = join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) {
          const text = readFileSync(p, "utf8");
          if (/\beval\(|new Function\b|\bvm\.run|from "node:vm"/.test(text)) offenders.push(p);
        }
      }
    };
    walk(join(import.meta.dirname, "../../src/workflows"));
    walk(join(import.meta.dirname, "../../src/daemon"));
    expect(offenders).toEqual([]);
  });
});
