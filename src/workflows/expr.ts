// The workflow expression language: a closed grammar (literals, context references, comparisons,
// boolean logic and a fixed set of functions) with a hand-written tokenizer, a recursive-descent
// parser and a tree-walking evaluator. No eval, Function or vm (security goal G01); values from
// events are only ever data, and `${{ }}` templates are evaluated on the parsed tree (G02).

export type Expr =
  | { k: "lit"; v: string | number | boolean | null }
  | { k: "ref"; path: string[] }
  | { k: "not"; e: Expr }
  | { k: "and" | "or"; l: Expr; r: Expr }
  | { k: "cmp"; op: "==" | "!=" | "<" | "<=" | ">" | ">="; l: Expr; r: Expr }
  | { k: "call"; name: FunctionName; args: Expr[] };

const FUNCTIONS = ["success", "failure", "always", "cancelled", "contains", "startsWith", "endsWith"] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const ARITY: Record<FunctionName, number> = { success: 0, failure: 0, always: 0, cancelled: 0, contains: 2, startsWith: 2, endsWith: 2 };
const STATUS_FUNCTIONS: readonly FunctionName[] = ["success", "failure", "always", "cancelled"];

/** The roots an expression may read. Everything else is a parse error. */
const ROOTS = ["steps", "trigger", "inputs", "env", "run", "workflow"] as const;
const FORBIDDEN_SEGMENTS = new Set(["constructor", "__proto__", "prototype"]);

const MAX_EXPRESSION_LENGTH = 4096;
const MAX_DEPTH = 64;

export class ExpressionError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "ExpressionError";
    this.offset = offset;
  }
}

type Token =
  | { t: "num"; v: number; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "id"; v: string; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "end"; at: number };

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const at = i;
    if (c === "'" || c === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionError("unterminated string", at);
        const ch = src[i]!;
        if (ch === c) {
          if (src[i + 1] === c) {
            s += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      out.push({ t: "str", v: s, at });
      continue;
    }
    if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(src[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < src.length && /[0-9.]/.test(src[j]!)) j++;
      const text = src.slice(i, j);
      if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text)) throw new ExpressionError(`invalid number '${text}'`, at);
      out.push({ t: "num", v: Number(text), at });
      i = j;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j]!)) j++;
      out.push({ t: "id", v: src.slice(i, j), at });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
      out.push({ t: "op", v: two, at });
      i += 2;
      continue;
    }
    if ("<>!().,".includes(c)) {
      out.push({ t: "op", v: c, at });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character '${c}'`, at);
  }
  out.push({ t: "end", at: src.length });
  return out;
}

/** Parses one expression (the text inside `${{ }}` or an `if:` value). Throws ExpressionError. */
export function parseExpression(src: string): Expr {
  if (src.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, 0);
  const toks = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = (): Token => toks[pos]!;
  const isOp = (v: string): boolean => {
    const t = peek();
    return t.t === "op" && t.v === v;
  };
  const expectOp = (v: string): void => {
    const t = peek();
    if (t.t !== "op" || t.v !== v) throw new ExpressionError(`expected '${v}'${describe(t)}`, t.at);
    pos++;
  };
  const enter = (at: number): void => {
    if (++depth > MAX_DEPTH) throw new ExpressionError(`expression nested deeper than ${MAX_DEPTH}`, at);
  };
  const or = (): Expr => {
    enter(peek().at);
    let l = and();
    while (isOp("||")) {
      pos++;
      l = { k: "or", l, r: and() };
    }
    depth--;
    return l;
  };
  const and = (): Expr => {
    let l = cmp();
    while (isOp("&&")) {
      pos++;
      l = { k: "and", l, r: cmp() };
    }
    return l;
  };
  const cmp = (): Expr => {
    const l = unary();
    const t = peek();
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) {
      pos++;
      const r = unary();
      const n = peek();
      if (n.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(n.v)) {
        throw new ExpressionError("chained comparisons need parentheses", n.at);
      }
      return { k: "cmp", op: t.v as "==", l, r };
    }
    return l;
  };
  const unary = (): Expr => {
    if (isOp("!")) {
      enter(peek().at);
      pos++;
      const e: Expr = { k: "not", e: unary() };
      depth--;
      return e;
    }
    return primary();
  };
  const primary = (): Expr => {
    const t = peek();
    if (t.t === "num") {
      pos++;
      return { k: "lit", v: t.v };
    }
    if (t.t === "str") {
      pos++;
      return { k: "lit", v: t.v };
    }
    if (t.t === "op" && t.v === "(") {
      pos++;
      const e = or();
      expectOp(")");
      return e;
    }
    if (t.t === "id") {
      pos++;
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (t.v === "null") return { k: "lit", v: null };
      if (isOp("(")) {
        if (!(FUNCTIONS as readonly string[]).includes(t.v)) {
          throw new ExpressionError(`unknown function '${t.v}'`, t.at);
        }
        pos++;
        const args: Expr[] = [];
        if (!isOp(")")) {
          args.push(or());
          while (isOp(",")) {
            pos++;
            args.push(or());
          }
        }
        expectOp(")");
        const name = t.v as FunctionName;
        if (args.length !== ARITY[name]) throw new ExpressionError(`${name}() takes ${ARITY[name]} argument(s), got ${args.length}`, t.at);
        return { k: "call", name, args };
      }
      if (!(ROOTS as readonly string[]).includes(t.v)) {
        throw new ExpressionError(`unknown name '${t.v}'`, t.at);
      }
      const path = [t.v];
      while (isOp(".")) {
        pos++;
        const seg = peek();
        if (seg.t === "num" && Number.isInteger(seg.v) && seg.v >= 0) {
          path.push(String(seg.v));
          pos++;
          continue;
        }
        if (seg.t !== "id") throw new ExpressionError(`expected a name after '.'${describe(seg)}`, seg.at);
        if (FORBIDDEN_SEGMENTS.has(seg.v)) throw new ExpressionError(`'${seg.v}' is not allowed in a reference`, seg.at);
        path.push(seg.v);
        pos++;
      }
      return { k: "ref", path };
    }
    throw new ExpressionError(`expected a value${describe(t)}`, t.at);
  };
  const e = or();
  const t = peek();
  if (t.t !== "end") throw new ExpressionError(`unexpected ${describe(t).slice(5) || "token"}`, t.at);
  return e;
}

function describe(t: Token): string {
  if (t.t === "end") return ", found the end";
  return `, found '${String(t.v)}'`;
}

/** Plain data an expression can see: primitives, arrays and own properties of plain objects. */
export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

type StatusView = { failed: boolean; cancelled: boolean };

export type EvalContext = {
  /** Root objects (steps, trigger, inputs, env, run, workflow). */
  data: Partial<Record<(typeof ROOTS)[number], unknown>>;
  status: StatusView;
};

export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.k) {
    case "lit":
      return e.v;
    case "ref":
      return lookup(ctx.data, e.path);
    case "not":
      return !truthy(evaluate(e.e, ctx));
    case "and": {
      const l = evaluate(e.l, ctx);
      return truthy(l) ? evaluate(e.r, ctx) : l;
    }
    case "or": {
      const l = evaluate(e.l, ctx);
      return truthy(l) ? l : evaluate(e.r, ctx);
    }
    case "cmp":
      return compare(e.op, evaluate(e.l, ctx), evaluate(e.r, ctx));
    case "call":
      return call(
        e.name,
        e.args.map((a) => evaluate(a, ctx)),
        ctx.status,
      );
  }
}

function lookup(data: EvalContext["data"], path: string[]): Value {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object" || FORBIDDEN_SEGMENTS.has(seg)) return null;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(seg)) return null;
      cur = cur[Number(seg)];
      continue;
    }
    const proto = Object.getPrototypeOf(cur);
    if (proto !== Object.prototype && proto !== null) return null;
    if (!Object.hasOwn(cur, seg)) return null;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return toValue(cur, 0);
}

/** Copies out plain data only; functions, class instances and symbols become null. */
function toValue(v: unknown, depth: number): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (depth > 32) return null;
  if (Array.isArray(v)) return v.map((x) => toValue(x, depth + 1));
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return null;
    const out: { [k: string]: Value } = Object.create(null) as { [k: string]: Value };
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_SEGMENTS.has(k)) continue;
      out[k] = toValue((v as Record<string, unknown>)[k], depth + 1);
    }
    return out;
  }
  return null;
}

export function truthy(v: Value): boolean {
  if (v === null || v === false || v === 0 || v === "") return false;
  return true;
}

function compare(op: string, l: Value, r: Value): boolean {
  switch (op) {
    case "==":
      return equal(l, r);
    case "!=":
      return !equal(l, r);
  }
  const bothNum = typeof l === "number" && typeof r === "number";
  const bothStr = typeof l === "string" && typeof r === "string";
  if (!bothNum && !bothStr) return false;
  const a = l as number | string;
  const b = r as number | string;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    default:
      return a >= b;
  }
}

function equal(l: Value, r: Value): boolean {
  if (l === null || r === null || typeof l !== "object" || typeof r !== "object") return l === r;
  return JSON.stringify(l) === JSON.stringify(r);
}

function call(name: FunctionName, args: Value[], status: StatusView): Value {
  switch (name) {
    case "success":
      return !status.failed && !status.cancelled;
    case "failure":
      return status.failed;
    case "always":
      return true;
    case "cancelled":
      return status.cancelled;
    case "contains": {
      const [h, n] = args;
      if (Array.isArray(h)) return h.some((x) => equal(x, n ?? null));
      if (typeof h === "string" && n !== null && n !== undefined && typeof n !== "object") return h.includes(String(n));
      return false;
    }
    case "startsWith":
      return typeof args[0] === "string" && typeof args[1] === "string" && args[0].startsWith(args[1]);
    case "endsWith":
      return typeof args[0] === "string" && typeof args[1] === "string" && args[0].endsWith(args[1]);
  }
}

/** True when the expression calls a status function (so `if:` needs no implicit `success() &&`). */
export function usesStatusFunction(e: Expr): boolean {
  switch (e.k) {
    case "call":
      return STATUS_FUNCTIONS.includes(e.name) || e.args.some(usesStatusFunction);
    case "not":
      return usesStatusFunction(e.e);
    case "and":
    case "or":
    case "cmp":
      return usesStatusFunction(e.l) || usesStatusFunction(e.r);
    default:
      return false;
  }
}

/** Every reference in an expression (for static checks such as "steps.x exists"). */
export function references(e: Expr, out: string[][] = []): string[][] {
  switch (e.k) {
    case "ref":
      out.push(e.path);
      break;
    case "not":
      references(e.e, out);
      break;
    case "and":
    case "or":
    case "cmp":
      references(e.l, out);
      references(e.r, out);
      break;
    case "call":
      for (const a of e.args) references(a, out);
      break;
    default:
      break;
  }
  return out;
}

// ---------- `${{ }}` templates ----------

type TemplatePart = { text: string } | { expr: Expr; src: string; offset: number };
export type Template = { parts: TemplatePart[] };

/** Splits a string into literal text and `${{ expr }}` parts, parsing each expression. */
export function parseTemplate(src: string): Template {
  const parts: TemplatePart[] = [];
  let i = 0;
  let text = "";
  while (i < src.length) {
    const open = src.indexOf("${{", i);
    if (open < 0) {
      text += src.slice(i);
      break;
    }
    text += src.slice(i, open);
    const start = open + 3;
    const end = findClose(src, start);
    if (end < 0) throw new ExpressionError("'${{' without a matching '}}'", open);
    if (text) parts.push({ text });
    text = "";
    const inner = src.slice(start, end);
    let expr: Expr;
    try {
      expr = parseExpression(inner);
    } catch (e) {
      if (e instanceof ExpressionError) throw new ExpressionError(e.message, start + e.offset);
      throw e;
    }
    parts.push({ expr, src: inner.trim(), offset: start });
    i = end + 2;
  }
  if (text) parts.push({ text });
  return { parts };
}

function findClose(src: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === quote) {
        if (src[i + 1] === quote) i++;
        else quote = undefined;
      }
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "}" && src[i + 1] === "}") return i;
  }
  return -1;
}

export function hasTemplate(src: string): boolean {
  return src.includes("${{");
}

/**
 * Renders a template. A string that is exactly one `${{ expr }}` yields the typed value (a list
 * stays a list); otherwise values are joined as text. The result is never parsed again.
 */
export function renderTemplate(t: Template, ctx: EvalContext): Value {
  if (t.parts.length === 1 && "expr" in t.parts[0]!) return evaluate(t.parts[0].expr, ctx);
  let out = "";
  for (const p of t.parts) {
    if ("text" in p) out += p.text;
    else out += toText(evaluate(p.expr, ctx));
  }
  return out;
}

function toText(v: Value): string {
  if (v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A `with:` block with its templates pre-parsed, so running a step never parses text. */
export type CompiledValue =
  | { k: "plain"; v: unknown }
  | { k: "tpl"; t: Template }
  | { k: "arr"; items: CompiledValue[] }
  | { k: "obj"; entries: [string, CompiledValue][] };

export function compileValue(v: unknown): CompiledValue {
  if (typeof v === "string") return hasTemplate(v) ? { k: "tpl", t: parseTemplate(v) } : { k: "plain", v };
  if (Array.isArray(v)) return { k: "arr", items: v.map(compileValue) };
  if (v !== null && typeof v === "object") {
    return { k: "obj", entries: Object.keys(v).map((key) => [key, compileValue((v as Record<string, unknown>)[key])]) };
  }
  return { k: "plain", v };
}

export function renderValue(c: CompiledValue, ctx: EvalContext): unknown {
  switch (c.k) {
    case "plain":
      return c.v;
    case "tpl":
      return renderTemplate(c.t, ctx);
    case "arr":
      return c.items.map((x) => renderValue(x, ctx));
    case "obj": {
      const out: Record<string, unknown> = {};
      for (const [key, val] of c.entries)
        Object.defineProperty(out, key, { value: renderValue(val, ctx), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}
