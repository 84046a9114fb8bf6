// Context budgets, one mechanism for every target: each adapter declares what the text its tool
// always loads may hold (a documented character/byte limit, or else the context window in tokens);
// every export measures the rendered always-loaded outputs (characters and estimated tokens) and
// warns (`limit-exceeded`, an error with --strict) when the largest session is over budget.
//
// What counts as always loaded is marked by the renderer on the output (`alwaysLoaded`): instruction
// files, always-apply rules and, for tools where a session runs as one chosen agent (Q/Kiro agents,
// Copilot custom agents, GPTs, Claude projects), that agent's prompt. On-demand agents (subagents the
// model delegates to), on-demand and glob-scoped rules, skills and files only referenced by path are not.
import { createRequire } from "node:module";
import type { Diagnostic } from "../library/diagnostics.ts";
import type { OutputFile } from "./types.ts";

export type ContextBudget = {
  max: number;
  unit: "chars" | "bytes" | "tokens";
  /**
   * What one budget covers: `file` each always-loaded file alone; `agent` one session as an agent
   * (its own always-loaded files plus the shared ones); `total` everything always loaded together.
   */
  per: "file" | "agent" | "total";
  /** The model family that reads it: token figures are OpenAI o200k counts, an estimate for the others. */
  model: "openai" | "anthropic" | "google" | "various";
  /** Where the figure comes from (a documentation page, or `[?]` when assumed). */
  source: string;
};

export type BudgetFigures = {
  /** The largest session (or file) always loaded, in characters (code points). */
  chars: number;
  bytes: number;
  tokens: number;
  /** How `tokens` was obtained: an o200k_base count, labelled an estimate when the tool's model is not OpenAI's. */
  tokenizer: string;
  /** The figure compared with the budget, in its unit. */
  used: number;
  budget: ContextBudget;
  over: boolean;
  /** Which file (per file) or agent (per agent) is the largest; absent when nothing is always loaded. */
  largest?: string;
  /** Number of always-loaded outputs, and their characters together (what a per-file budget does not bound). */
  files: number;
  totalChars: number;
};

/** Text above this size is not tokenized: counted as characters / 4 (it is far over any budget anyway). */
const TOKENIZE_MAX_CHARS = 4_000_000;

type Tokenizer = { countTokens: (text: string) => number };
let tokenizer: Tokenizer | undefined;
// Loaded on first use: the o200k ranks cost ~250 ms to load, which a no-op export must not pay.
// Targets that share a file (AGENTS.md, CLAUDE.md) measure the same text: each text is counted once.
const counted = new Map<string, number>();
const COUNTED_MAX = 256;
function tokens(text: string): { n: number; exact: boolean } {
  if (text.length > TOKENIZE_MAX_CHARS) return { n: Math.ceil(text.length / 4), exact: false };
  let n = counted.get(text);
  if (n === undefined) {
    tokenizer ??= createRequire(import.meta.url)("gpt-tokenizer") as Tokenizer;
    n = tokenizer.countTokens(text);
    if (counted.size >= COUNTED_MAX) counted.clear();
    counted.set(text, n);
  }
  return { n, exact: true };
}

const MODEL_LABEL: Record<ContextBudget["model"], string> = {
  openai: "o200k_base count",
  anthropic: "o200k_base estimate for Claude models",
  google: "o200k_base estimate for Gemini models",
  various: "o200k_base estimate (the tool runs models of several vendors)",
};

function textOf(f: OutputFile): string | undefined {
  if (f.kind === "md-section") return f.content;
  if (f.kind === "file") return typeof f.content === "string" ? f.content : new TextDecoder().decode(f.content);
  return undefined;
}

const encoder = new TextEncoder();

/** Characters as people (and the tools' limits) count them: code points, an emoji is one. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff) n--;
  }
  return n;
}

/** Measures the always-loaded outputs of one target's render against its budget. */
export function measureBudget(budget: ContextBudget, files: readonly OutputFile[]): BudgetFigures {
  const loaded = files.filter((f) => (f.kind === "file" || f.kind === "md-section") && f.alwaysLoaded === true);
  // `extra`: bytes of files loaded along (imports, resources), not read here: counted as bytes = chars, tokens = bytes / 4.
  const units: { name?: string; text: string; extra: number }[] = [];
  const extraOf = (f: OutputFile): number => ((f.kind === "file" || f.kind === "md-section") && f.loadsBytes) || 0;
  const sum = (fs: readonly OutputFile[]): number => fs.reduce((n, f) => n + extraOf(f), 0);
  if (budget.per === "file") {
    for (const f of loaded) units.push({ name: f.path, text: textOf(f)!, extra: extraOf(f) });
  } else if (budget.per === "total") {
    units.push({ text: loaded.map((f) => textOf(f)!).join("\n"), extra: sum(loaded) });
  } else {
    const sharedFiles = loaded.filter((f) => !f.agent);
    const shared = sharedFiles.map((f) => textOf(f)!);
    const byAgent = new Map<string, OutputFile[]>();
    for (const f of loaded) if (f.agent) byAgent.set(f.agent, [...(byAgent.get(f.agent) ?? []), f]);
    if (byAgent.size === 0) units.push({ text: shared.join("\n"), extra: sum(sharedFiles) });
    for (const [name, own] of [...byAgent].sort(([a], [b]) => a.localeCompare(b))) {
      units.push({ name, text: [...shared, ...own.map((f) => textOf(f)!)].join("\n"), extra: sum(sharedFiles) + sum(own) });
    }
  }
  // The largest by characters is measured exactly; for a token budget it is also the largest by tokens
  // closely enough, and tokenizing only one text keeps a 10,000-file export fast.
  let largest = units[0];
  for (const u of units) if (largest && u.text.length + u.extra > largest.text.length + largest.extra) largest = u;
  const text = largest?.text ?? "";
  const extra = largest?.extra ?? 0;
  const t0 = tokens(text);
  const t = { n: t0.n + Math.ceil(extra / 4), exact: t0.exact && extra === 0 };
  const bytes = encoder.encode(text).length + extra;
  const chars = codePoints(text) + extra;
  const used = budget.unit === "chars" ? chars : budget.unit === "bytes" ? bytes : t.n;
  return {
    chars,
    bytes,
    tokens: t.n,
    tokenizer: t.exact
      ? MODEL_LABEL[budget.model]
      : extra && t0.exact
        ? `${MODEL_LABEL[budget.model]}, files it loads along at bytes / 4`
        : "characters / 4 (too large to tokenize)",
    used,
    budget,
    over: used > budget.max,
    ...(largest?.name ? { largest: largest.name } : {}),
    files: loaded.length,
    totalChars: loaded.reduce((n, f) => n + textOf(f)!.length + extraOf(f), 0),
  };
}

/** The warning for a target over its budget (`--strict` turns `limit-exceeded` into an error). */
export function budgetWarning(target: string, f: BudgetFigures): Diagnostic | undefined {
  if (!f.over) return undefined;
  const b = f.budget;
  const where = f.largest ? (b.per === "file" ? ` in ${f.largest}` : ` for agent '${f.largest}'`) : "";
  return {
    severity: "warning",
    code: "limit-exceeded",
    message: `${target}: always-loaded context${where} is ${grouped(f.used)} ${b.unit} (${grouped(f.chars)} characters, ~${grouped(f.tokens)} tokens), over its budget of ${grouped(b.max)} ${b.unit}${b.per === "total" ? "" : ` per ${b.per}`} (${b.source})`,
    hint: "move knowledge to on-demand (knowledge: [{ path: ..., mode: on-demand }]) so the tool reads it only when relevant, or split the agent",
  };
}

/**
 * 1234567 -> "1,234,567", as toLocaleString("en-US") writes it: without Intl, whose first use costs
 * a no-op export (which prints these figures) more than all its other work but the stat calls.
 */
function grouped(n: number): string {
  const [int, frac] = String(n).split(".");
  return int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac ? "." + frac : "");
}

/** One line for the export summary, e.g. `12,345 chars, ~3,210 tokens always loaded (budget 30,000 chars per file)`. */
export function formatBudget(f: BudgetFigures): string {
  const b = f.budget;
  return `${grouped(f.chars)} chars, ~${grouped(f.tokens)} tokens always loaded (${f.over ? "OVER " : ""}budget ${grouped(b.max)} ${b.unit}${b.per === "total" ? "" : ` per ${b.per}`})`;
}

// Shared declarations of context windows, for targets without a documented character limit.
export const CLAUDE_WINDOW: ContextBudget = {
  max: 200_000,
  unit: "tokens",
  per: "total",
  model: "anthropic",
  source: "Claude Sonnet 4 context window, 200K tokens (docs.claude.com/en/docs/about-claude/models/overview)",
};

/** Tools that let the user pick any vendor's model: the smallest window of the current coding models. */
export const VARIOUS_WINDOW: ContextBudget = {
  max: 128_000,
  unit: "tokens",
  per: "total",
  model: "various",
  source: "no documented limit; 128K tokens, the smallest context window of the coding models these tools offer [?]",
};
