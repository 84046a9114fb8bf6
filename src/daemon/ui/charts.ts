// Charts as inline SVG made on the server (no chart library, no script): horizontal bars, bars
// against a limit, stacked bars and a runs strip. Every label goes through hono/html's escaping;
// colours come from classes in the stylesheet (no style attributes, which the CSP forbids). Each
// chart is an image with a title for screen readers; the pages put the same figures in a table.
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString;

const W = 680;
const LABEL_W = 210;
const VALUE_W = 110;
const ROW_H = 22;
const BAR_W = W - LABEL_W - VALUE_W;

const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;

function short(label: string, max = 30): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

function frame(id: string, title: string, rows: number, body: Html | Html[]): Html {
  const height = Math.max(1, rows) * ROW_H + 8;
  return h`<svg class="chart" id="${id}" role="img" aria-labelledby="${id}-t" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title id="${id}-t">${title}</title>${body}</svg>`;
}

export type BarRow = { label: string; value: number; text: string; cls?: string };

/** One bar per row, scaled to the largest value. */
export function barChart(id: string, title: string, rows: readonly BarRow[]): Html {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const body = rows.map((r, i) => {
    const y = i * ROW_H + 4;
    const w = Math.max(r.value > 0 ? 1 : 0, Math.round((r.value / max) * BAR_W));
    return h`<g><title>${r.label}: ${r.text}</title><text x="0" y="${y + 15}" class="chart-label">${short(r.label)}</text><rect x="${LABEL_W}" y="${y + 3}" width="${w}" height="${ROW_H - 8}" class="bar ${r.cls ?? "bar-main"}"></rect><text x="${LABEL_W + w + 6}" y="${y + 15}" class="chart-value">${r.text}</text></g>`;
  });
  return frame(id, title, rows.length, body);
}

export type LimitRow = { label: string; share: number; text: string };

/** Bars as a share of a limit: a line marks 100 %, a bar past it is drawn in the warning colour and clipped at 150 %. */
export function limitChart(id: string, title: string, rows: readonly LimitRow[]): Html {
  const full = BAR_W / 1.5;
  const body = rows.map((r, i) => {
    const y = i * ROW_H + 4;
    const w = Math.min(BAR_W, Math.max(r.share > 0 ? 1 : 0, Math.round(r.share * full)));
    return h`<g><title>${r.label}: ${r.text}</title><text x="0" y="${y + 15}" class="chart-label">${short(r.label)}</text><rect x="${LABEL_W}" y="${y + 3}" width="${BAR_W}" height="${ROW_H - 8}" class="bar-track"></rect><rect x="${LABEL_W}" y="${y + 3}" width="${w}" height="${ROW_H - 8}" class="bar ${r.share > 1 ? "bar-over" : "bar-main"}"></rect><text x="${LABEL_W + BAR_W + 6}" y="${y + 15}" class="chart-value">${r.text}</text></g>`;
  });
  const x = LABEL_W + Math.round(full);
  const height = Math.max(1, rows.length) * ROW_H + 8;
  return frame(id, title, rows.length, [...body, h`<line x1="${x}" x2="${x}" y1="0" y2="${height}" class="limit-line"></line>`]);
}

export type StackPart = { value: number; cls: string; name: string };

/** Stacked bars: the parts of each row side by side, scaled to the largest total. */
export function stackedChart(id: string, title: string, rows: readonly { label: string; parts: StackPart[] }[]): Html {
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((n, p) => n + p.value, 0)));
  // The legend text of a row is longer than a number: the bars leave it more room.
  const barW = W - LABEL_W - 180;
  const body = rows.map((r, i) => {
    const y = i * ROW_H + 4;
    let x = LABEL_W;
    const rects = r.parts
      .filter((p) => p.value > 0)
      .map((p) => {
        const w = Math.max(1, Math.round((p.value / max) * barW));
        const rect = h`<rect x="${x}" y="${y + 3}" width="${w}" height="${ROW_H - 8}" class="bar ${p.cls}"><title>${r.label}: ${p.value} ${p.name}</title></rect>`;
        x += w;
        return rect;
      });
    const text = r.parts.map((p) => `${p.value} ${p.name}`).join(" · ");
    return h`<g><text x="0" y="${y + 15}" class="chart-label">${short(r.label)}</text>${rects}<text x="${LABEL_W + barW + 6}" y="${y + 15}" class="chart-value">${text}</text></g>`;
  });
  return frame(id, title, rows.length, body);
}

export type StripRun = { at: number; status: string; label: string; href: string };

/** The runs of a time window as one strip: a mark per run, coloured by status, each a link to the run. */
export function runsStrip(id: string, title: string, from: number, to: number, runs: readonly StripRun[]): Html {
  const height = 46;
  const span = Math.max(1, to - from);
  const marks = runs
    .filter((r) => r.at >= from && r.at <= to)
    .map((r) => {
      const x = Math.round(((r.at - from) / span) * (W - 8));
      return h`<a href="${r.href}"><rect x="${x}" y="6" width="8" height="24" class="mark status-${r.status}"><title>${r.label}</title></rect></a>`;
    });
  const ticks = [0, 6, 12, 18, 24].map((hour) => {
    const x = Math.round((hour / 24) * (W - 8));
    return h`<text x="${Math.min(x, W - 40)}" y="44" class="chart-value">${hour === 24 ? "now" : `-${24 - hour}h`}</text>`;
  });
  return h`<svg class="chart" id="${id}" role="img" aria-labelledby="${id}-t" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title id="${id}-t">${title}</title><rect x="0" y="5" width="${W}" height="26" class="bar-track"></rect>${marks}${ticks}</svg>`;
}
