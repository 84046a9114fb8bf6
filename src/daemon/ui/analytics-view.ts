// The library analytics (src/adapters/analytics.ts) as HTML sections (the dashboard's matrix and
// health pages, `aicfg report --format html`) and as Markdown (`aicfg report --format md`, for PR
// comments). Every library string is escaped: hono/html for HTML, mdText for Markdown.
import { assetText } from "./assets.ts";
import { html, raw } from "hono/html";
import type { BudgetCell, LibraryAnalytics, MatrixCell } from "../../adapters/analytics.ts";
import { barChart, limitChart, stackedChart, type Html } from "./charts.ts";

const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;
const n = (x: number): string => x.toLocaleString("en-US");
/** How an agent's knowledge reaches a tool, in words (fallback.ts decisions). */
function contextText(c: BudgetCell): string {
  const d = c.context;
  if (!d) return "—";
  const files = `${n(d.files)} file${d.files === 1 ? "" : "s"}`;
  if (d.strategy === "inline") return `inline (${files})`;
  if (d.strategy === "index") return `index of ${files}${d.levels === 2 ? ", 2 levels" : ""}`;
  return `${d.strategy === "on-demand-rules" ? "on-demand rules" : "knowledge folder"} (${files})`;
}
const pct = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;

const CELL_LABEL: Record<MatrixCell["status"], string> = { fresh: "fresh", stale: "stale", drift: "drift", none: "nothing exported" };

function cellText(c: MatrixCell): string {
  const parts = [CELL_LABEL[c.status]];
  if (c.unsupported.length) parts.push(`${c.unsupported.length} unsupported`);
  return parts.join(", ");
}

/** Which folder each cell was compared with (the dashboard: the roots the library's export workflows write to). */
export type MatrixRoots = { folders: string[]; rootOf: (agent: string, target: string) => number | undefined };

/** The agents x targets table; `diffHref` links each cell to its diff (the dashboard), absent in a static report. */
export function matrixSection(a: LibraryAnalytics, diffHref?: (agent: string, target: string) => string, roots?: MatrixRoots): Html {
  const byKey = new Map(a.matrix.map((c) => [`${c.agent}\u0000${c.target}`, c]));
  const totals = { fresh: 0, stale: 0, drift: 0, none: 0 };
  for (const c of a.matrix) totals[c.status]++;
  const unsupported = a.matrix.filter((c) => c.unsupported.length);
  return h`<section aria-labelledby="matrix-h"><h2 id="matrix-h">Agents × targets</h2>
<p>${n(totals.fresh)} fresh, ${n(totals.stale)} stale, ${n(totals.drift)} drift; ${n(unsupported.length)} with unsupported features. Scope ${a.scope}.</p>
<div class="scroll"><table class="matrix"><caption>Export state of each agent in each target</caption>
<thead><tr><th scope="col">Agent</th>${a.targets.map((t) => h`<th scope="col">${t.id}</th>`)}</tr></thead>
<tbody>${a.agents.map(
    (ag) =>
      h`<tr><th scope="row">${ag.displayName}</th>${a.targets.map((t) => {
        const c = byKey.get(`${ag.name}\u0000${t.id}`);
        if (!c) return h`<td class="cell-na">not a target</td>`;
        const r = roots?.rootOf(ag.name, t.id);
        const tag = r !== undefined && roots!.folders.length > 1 ? ` · R${r + 1}` : "";
        const label = cellText(c) + tag;
        const title = [r !== undefined ? `compared with ${roots!.folders[r]}` : "", c.unsupported.length ? `unsupported: ${c.unsupported.join("; ")}` : ""]
          .filter(Boolean)
          .join("; ");
        return diffHref
          ? h`<td class="cell cell-${c.status}"><a href="${diffHref(ag.name, t.id)}" title="${title}">${label}</a></td>`
          : h`<td class="cell cell-${c.status}" title="${title}">${label}</td>`;
      })}</tr>`,
  )}</tbody></table></div>
${
  unsupported.length
    ? h`<h3>Unsupported features</h3><ul class="plain">${unsupported.map((c) => h`<li><strong>${c.agent}</strong> in ${c.target}: ${c.unsupported.join("; ")}</li>`)}</ul>`
    : ""
}</section>`;
}

/** Sizes, staleness and always-loaded context per agent per tool against each tool's budget. */
export function healthSection(a: LibraryAnalytics): Html {
  const agentRows = a.agents.map((ag) => {
    const total = ag.instructionsChars + ag.alwaysBytes + ag.onDemandBytes;
    return { label: ag.displayName, value: total, text: `${n(total)} B` };
  });
  const knowledgeRows = a.knowledge.slice(0, 25).map((k) => ({ label: k.path, value: k.bytes, text: `${n(k.bytes)} B` }));
  const staleRows = a.agents.map((ag) => ({
    label: ag.displayName,
    parts: [
      { value: ag.states.fresh, cls: "bar-fresh", name: "fresh" },
      { value: ag.states.stale, cls: "bar-stale", name: "stale" },
      { value: ag.states.drift, cls: "bar-drift", name: "drift" },
    ],
  }));
  const budgetCharts = a.targets.map((t, i) => {
    const b = t.budget;
    const cells = a.budgets.filter((c) => c.target === t.id);
    const rows = cells.map((c) => ({
      label: c.agent,
      share: c.share,
      text: `${n(c.figures.tokens)} tok · ${pct(c.share)}${c.context && c.context.strategy !== "inline" ? ` · ${c.context.strategy}` : ""}`,
    }));
    const over = cells.filter((c) => c.figures.over).length;
    return h`<figure><figcaption><strong>${t.displayName}</strong> (${t.id}): budget ${n(b.max)} ${b.unit}${b.per === "total" ? " for everything always loaded" : ` per ${b.per}`}; tokens: ${cells[0]?.figures.tokenizer ?? "o200k_base"}${over ? h` — <strong class="warn">${over} over budget</strong>` : ""}</figcaption>
${limitChart(`budget-${i}`, `${t.id}: always-loaded context per agent as a share of the budget`, rows)}</figure>`;
  });
  return h`<section aria-labelledby="sizes-h"><h2 id="sizes-h">Sizes</h2>
<figure><figcaption>Agent size: instructions plus knowledge (bytes)</figcaption>${barChart("agent-sizes", "Agent sizes in bytes", agentRows)}</figure>
<figure><figcaption>Largest knowledge files (bytes)${a.knowledge.length > 25 ? `, 25 of ${n(a.knowledge.length)}` : ""}</figcaption>${barChart("knowledge-sizes", "Knowledge file sizes in bytes", knowledgeRows)}</figure>
<details><summary>Agent figures as a table</summary><table><caption>Per agent</caption><thead><tr><th scope="col">Agent</th><th scope="col">Description</th><th scope="col">Instructions (chars)</th><th scope="col">Knowledge files</th><th scope="col">Always (B)</th><th scope="col">On demand (B)</th></tr></thead>
<tbody>${a.agents.map((ag) => h`<tr><th scope="row">${ag.displayName}</th><td>${ag.description}</td><td>${n(ag.instructionsChars)}</td><td>${n(ag.knowledgeFiles)}</td><td>${n(ag.alwaysBytes)}</td><td>${n(ag.onDemandBytes)}</td></tr>`)}</tbody></table></details>
</section>
<section aria-labelledby="stale-h"><h2 id="stale-h">Staleness</h2>
<figure><figcaption>Targets per agent: <span class="key key-fresh">fresh</span> <span class="key key-stale">stale</span> <span class="key key-drift">drift</span></figcaption>${stackedChart("staleness", "Targets per agent that are fresh, stale or drifted", staleRows)}</figure>
</section>
<section aria-labelledby="budget-h"><h2 id="budget-h">Always-loaded context per agent per tool</h2>
<p>What a session of each agent always loads in each tool (instruction files, always-apply rules, the agent's prompt), against the tool's budget; the line marks 100 %.</p>
${budgetCharts}
<details><summary>Budget figures as a table</summary><table><caption>Always-loaded context per agent and target</caption><thead><tr><th scope="col">Target</th><th scope="col">Agent</th><th scope="col">Chars</th><th scope="col">Tokens</th><th scope="col">Used</th><th scope="col">Budget</th><th scope="col">Share</th><th scope="col">Knowledge</th></tr></thead>
<tbody>${a.budgets.map(
    (c) =>
      h`<tr${c.figures.over ? h` class="over"` : ""}><td>${c.target}</td><th scope="row">${c.agent}</th><td>${n(c.figures.chars)}</td><td>${n(c.figures.tokens)}</td><td>${n(c.figures.used)} ${c.figures.budget.unit}</td><td>${n(c.figures.budget.max)} ${c.figures.budget.unit} per ${c.figures.budget.per}</td><td>${pct(c.share)}</td><td>${contextText(c)}</td></tr>`,
  )}</tbody></table></details>
</section>`;
}

/** Markdown text that cannot open a tag, a link or a table cell. */
function mdText(s: string): string {
  return s.replace(/[\\`*_{}[\]<>()#+!|~&]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, " ");
}

export function analyticsMarkdown(a: LibraryAnalytics): string {
  const out: string[] = [];
  out.push(
    `# Library report: ${mdText(a.library)}`,
    "",
    `Scope ${a.scope}; ${a.agents.length} agent(s), ${a.knowledge.length} knowledge file(s), ${a.targets.length} target(s).`,
    "",
  );
  out.push("## Agents × targets", "", `| Agent | ${a.targets.map((t) => mdText(t.id)).join(" | ")} |`, `|---|${a.targets.map(() => "---").join("|")}|`);
  const byKey = new Map(a.matrix.map((c) => [`${c.agent}\u0000${c.target}`, c]));
  for (const ag of a.agents) {
    const cells = a.targets.map((t) => {
      const c = byKey.get(`${ag.name}\u0000${t.id}`);
      return c ? cellText(c) : "—";
    });
    out.push(`| ${mdText(ag.displayName)} | ${cells.join(" | ")} |`);
  }
  const unsupported = a.matrix.filter((c) => c.unsupported.length);
  if (unsupported.length) {
    out.push("", "### Unsupported features", "");
    for (const c of unsupported) out.push(`- ${mdText(c.agent)} in ${mdText(c.target)}: ${c.unsupported.map(mdText).join("; ")}`);
  }
  out.push(
    "",
    "## Agent sizes",
    "",
    "| Agent | Instructions (chars) | Knowledge files | Always (B) | On demand (B) | Fresh | Stale | Drift |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const ag of a.agents)
    out.push(
      `| ${mdText(ag.displayName)} | ${n(ag.instructionsChars)} | ${n(ag.knowledgeFiles)} | ${n(ag.alwaysBytes)} | ${n(ag.onDemandBytes)} | ${ag.states.fresh} | ${ag.states.stale} | ${ag.states.drift} |`,
    );
  out.push(
    "",
    "## Always-loaded context per agent per tool",
    "",
    "| Target | Agent | Tokens | Used | Budget | Share | Knowledge |",
    "|---|---|---:|---:|---:|---:|---|",
  );
  for (const c of a.budgets)
    out.push(
      `| ${mdText(c.target)} | ${mdText(c.agent)} | ${n(c.figures.tokens)} | ${n(c.figures.used)} ${c.figures.budget.unit} | ${n(c.figures.budget.max)} ${c.figures.budget.unit} per ${c.figures.budget.per} | ${c.figures.over ? "**" : ""}${pct(c.share)}${c.figures.over ? "**" : ""} | ${contextText(c)} |`,
    );
  out.push("", "## Largest knowledge files", "", "| File | Bytes | Used by |", "|---|---:|---:|");
  for (const k of a.knowledge.slice(0, 25)) out.push(`| ${mdText(k.path)} | ${n(k.bytes)} | ${k.usedBy} |`);
  if (a.errors.length) {
    out.push("", "## Errors", "");
    for (const e of a.errors) out.push(`- ${mdText(e.code)}: ${mdText(e.message)}`);
  }
  return out.join("\n") + "\n";
}

/**
 * A standalone HTML report (a CI artifact): the dashboard's stylesheet inline, no script, and a CSP
 * of its own that allows nothing else, so even an unescaped string could not run.
 */
export function analyticsHtml(a: LibraryAnalytics): string {
  const css = assetText("app.css");
  return String(h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Library report: ${a.library}</title><style>${raw(css)}</style></head>
<body><main id="main"><h1>Library report: ${a.library}</h1>
<p>${n(a.agents.length)} agents, ${n(a.knowledge.length)} knowledge files, ${n(a.targets.length)} targets; ${n(a.errors.length)} errors, ${n(a.warnings.length)} warnings.</p>
${matrixSection(a)}${healthSection(a)}</main></body></html>
`);
}
