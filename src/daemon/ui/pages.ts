// The dashboard's pages as hono/html templates: every interpolation is escaped, markup made here
// (charts, fragments) is passed as already-escaped values. No inline script or style: the one
// stylesheet and script come from /ui/assets. Reading works without JavaScript.
import { html } from "hono/html";
import type { Html } from "./charts.ts";
import type { LogLine, Occurrence, RunDetail, WorkflowDetail, WorkflowSummary } from "../api/deps.ts";
import type { Principal } from "../auth/principal.ts";
import { principalLabel } from "./session.ts";

const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;
export const n = (x: number): string => x.toLocaleString("en-US");

const ASSET_VERSION = "1";

export type Layout = {
  title: string;
  /** Which nav entry is the current page. */
  current?: "overview" | "libraries" | "workflows";
  principal?: Principal;
  csrf?: string;
  /** The SSE URL the script listens to. */
  stream?: string;
  libraries?: string[];
};

export function page(l: Layout, body: Html): Html {
  const nav = l.principal
    ? h`<nav aria-label="Main"><ul><li><a href="/ui"${l.current === "overview" ? h` aria-current="page"` : ""}>Overview</a></li>${(l.libraries ?? []).map(
        (lib) => h`<li><a href="/ui/libraries/${lib}/matrix">${lib}: matrix</a></li><li><a href="/ui/libraries/${lib}/health">${lib}: health</a></li>`,
      )}</ul></nav>
<div class="who"><span>${principalLabel(l.principal)}</span>
<form method="post" action="/ui/logout" class="inline"><input type="hidden" name="_csrf" value="${l.csrf ?? ""}"><button type="submit" class="secondary">Sign out</button></form></div>`
    : "";
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${l.title} · aicfg</title>
<link rel="stylesheet" href="/ui/assets/app.css?v=${ASSET_VERSION}"><link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
${l.csrf ? h`<meta name="csrf-token" content="${l.csrf}">` : ""}
<script src="/ui/assets/app.js?v=${ASSET_VERSION}" defer></script></head>
<body${l.stream ? h` data-stream="${l.stream}"` : ""}><a class="skip" href="#main">Skip to content</a>
<header><a href="/ui"><strong>aicfg</strong></a>${nav}</header>
<main id="main" tabindex="-1"><div id="live" class="muted" role="status" aria-live="polite"></div>${body}</main></body></html>`;
}

function statusBadge(status: string, runId?: string): Html {
  return runId
    ? h`<span class="status status-${status}" data-run-status="${runId}">${status}</span>`
    : h`<span class="status status-${status}">${status}</span>`;
}

export function loginPage(opts: { pre: string; next: string; error?: string }): Html {
  return page(
    { title: "Sign in" },
    h`<h1>Sign in</h1>
${opts.error ? h`<p class="error" role="alert">${opts.error}</p>` : ""}
<form method="post" action="/ui/login">
<input type="hidden" name="_csrf" value="${opts.pre}"><input type="hidden" name="next" value="${opts.next}">
<label for="credential">API token or OIDC token</label>
<input id="credential" name="credential" type="password" autocomplete="off" required aria-describedby="credential-help" autofocus>
<p id="credential-help" class="muted">Paste a token made with <code>aicfg token create --role viewer</code> (or editor, admin), or an access token (JWT) of your organization's identity provider. It is exchanged for a session cookie and kept neither in the browser nor by the daemon.</p>
<button type="submit">Sign in</button></form>`,
  );
}

export function errorPage(l: Layout, status: number, message: string, hint?: string): Html {
  return page(
    l,
    h`<h1>${status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Error"}</h1><p class="error" role="alert">${message}</p>${hint ? h`<p>${hint}</p>` : ""}<p><a href="/ui">Back to the overview</a></p>`,
  );
}

export function runsTable(runs: readonly Omit<RunDetail, "inputs" | "steps" | "error">[], caption: string, fmt: (iso: string | undefined) => string): Html {
  return h`<table id="runs"><caption>${caption}</caption><thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Workflow</th><th scope="col">Created</th><th scope="col">Duration</th></tr></thead>
<tbody>${runs.map(
    (r) =>
      h`<tr data-run-id="${r.id}"><td><a href="/ui/runs/${r.id}">${r.id}</a></td><td><span class="status status-${r.status}" data-field="status">${r.status}</span></td><td>${r.trigger}</td><td><a href="/ui/workflows/${r.library}/${r.workflow}">${r.library}/${r.workflow}</a></td><td>${fmt(r.createdAt)}</td><td>${r.durationMs === undefined ? "" : `${n(r.durationMs)} ms`}</td></tr>`,
  )}</tbody></table>`;
}

export function workflowList(items: readonly WorkflowSummary[], caption: string, fmt: (iso: string | undefined) => string): Html {
  return h`<table><caption>${caption}</caption><thead><tr><th scope="col">Workflow</th><th scope="col">State</th><th scope="col">Triggers</th><th scope="col">Next run</th><th scope="col">Description</th></tr></thead>
<tbody>${items.map(
    (w) =>
      h`<tr><th scope="row"><a href="/ui/workflows/${w.library}/${w.name}">${w.library}/${w.name}</a></th><td>${w.state}</td><td>${w.triggers.join(", ")}</td><td>${w.nextRunAt ? fmt(w.nextRunAt) : "—"}</td><td>${w.description}</td></tr>`,
  )}</tbody></table>`;
}

export function workflowBody(
  wf: WorkflowDetail,
  occurrences: readonly Occurrence[],
  runs: Html,
  action: { allowed: boolean; why?: string; csrf: string },
  fmt: (iso: string | undefined) => string,
): Html {
  const inputs = Object.entries(wf.inputs);
  return h`<h1>Workflow ${wf.library}/${wf.name}</h1>
<p>${wf.description}</p>
<dl class="facts"><dt>State</dt><dd>${wf.state}</dd><dt>Triggers</dt><dd>${wf.triggers.join(", ") || "none"}</dd><dt>File</dt><dd><code>${wf.file}</code></dd><dt>Runs commands</dt><dd>${wf.runsCommands ? "yes (running it also needs the run-commands action, an admin's)" : "no"}</dd></dl>
${wf.diagnostics.length ? h`<div class="error" role="alert"><p>This workflow has errors:</p><ul>${wf.diagnostics.map((d) => h`<li>${d.code}: ${d.message}${d.line ? ` (line ${d.line})` : ""}</li>`)}</ul></div>` : ""}
<h2>Run now</h2>
${
  action.allowed
    ? h`<form method="post" action="/ui/workflows/${wf.library}/${wf.name}/run" data-run-now><input type="hidden" name="_csrf" value="${action.csrf}">
${inputs.map(([k, spec]) => h`<label for="in-${k}">${k}${spec.required ? " (required)" : ""}</label><input type="text" id="in-${k}" name="input.${k}" value="${typeof spec.default === "object" ? "" : String(spec.default ?? "")}"${spec.description ? h` aria-describedby="in-${k}-d"` : ""}>${spec.description ? h`<p class="muted" id="in-${k}-d">${spec.description}</p>` : ""}`)}
<p><button type="submit">Run now</button></p></form>`
    : h`<p class="notice">${action.why ?? "You can read this workflow but not run it."}</p>`
}
<h2>Schedule</h2>
${wf.nextOccurrences.length ? h`<ul class="plain">${wf.nextOccurrences.map((t) => h`<li>${fmt(t)}</li>`)}</ul>` : h`<p class="muted">No scheduled occurrences.</p>`}
<h2>Occurrences</h2>
<table><caption>Every occurrence, planned, started, skipped, missed and caught up, newest first</caption><thead><tr><th scope="col">Scheduled</th><th scope="col">Outcome</th><th scope="col">Run</th><th scope="col">Reason</th></tr></thead>
<tbody>${occurrences.length ? "" : h`<tr><td colspan="4" class="muted">None yet.</td></tr>`}${occurrences.map(
    (o) =>
      h`<tr><td>${fmt(o.scheduledAt)}</td><td><span class="status status-${o.kind}">${o.kind}</span></td><td>${o.runId ? h`<a href="/ui/runs/${o.runId}">${o.runId}</a>` : "—"}</td><td>${o.reason ?? ""}</td></tr>`,
  )}</tbody></table>
<h2>Recent runs</h2>${runs}`;
}

export function runBody(run: RunDetail, logs: readonly LogLine[], cancel: { allowed: boolean; csrf: string }, fmt: (iso: string | undefined) => string): Html {
  const active = run.status === "queued" || run.status === "running";
  return h`<h1>Run ${run.id}</h1>
<dl class="facts"><dt>Workflow</dt><dd><a href="/ui/workflows/${run.library}/${run.workflow}">${run.library}/${run.workflow}</a></dd>
<dt>Status</dt><dd>${statusBadge(run.status, run.id)}</dd><dt>Trigger</dt><dd>${run.trigger} by ${run.actor}</dd><dt>Attempt</dt><dd>${run.attempt}</dd>
<dt>Created</dt><dd>${fmt(run.createdAt)}</dd><dt>Started</dt><dd>${fmt(run.startedAt)}</dd><dt>Finished</dt><dd>${fmt(run.finishedAt)}</dd>
<dt>Outcome</dt><dd id="outcome" data-run-id="${run.id}">${run.error ?? run.status}</dd></dl>
${active && cancel.allowed ? h`<form method="post" action="/ui/runs/${run.id}/cancel"><input type="hidden" name="_csrf" value="${cancel.csrf}"><button type="submit" class="secondary">Cancel run</button></form>` : ""}
<h2>Steps</h2>
<table id="steps" data-run-id="${run.id}"><caption>Steps in order</caption><thead><tr><th scope="col">Step</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
<tbody>${run.steps.map((s) => h`<tr><th scope="row">${s.id}</th><td>${s.action}</td><td>${statusBadge(s.status)}</td><td>${s.durationMs === undefined ? "" : `${n(s.durationMs)} ms`}</td><td>${s.error ?? ""}</td></tr>`)}</tbody></table>
<h2>Log</h2>
<ol class="log logbox" id="log" aria-label="Run log" data-after="${logs.length ? logs[logs.length - 1]!.seq : 0}">${logs.map((l) => h`<li data-seq="${l.seq}">${l.at}  ${l.step ? `[${l.step}] ` : ""}${l.message}</li>`)}</ol>`;
}

export function diffBody(
  library: string,
  agent: string,
  target: string,
  entries: readonly { path: string; action: string; reason?: string; patch?: string; hidden?: string }[],
  where?: Html,
): Html {
  const lineClass = (l: string) => (l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : l.startsWith("@@") ? "hunk" : "");
  return h`<h1>${agent} in ${target}</h1><p><a href="/ui/libraries/${library}/matrix">Back to the matrix</a></p>${where ?? ""}
${entries.length ? "" : h`<p class="muted">This agent has no files in this target.</p>`}
${entries.map(
  (e) => h`<section><h2><code>${e.path}</code> <span class="status">${e.action}</span></h2>${e.reason ? h`<p class="muted">${e.reason}</p>` : ""}
${e.hidden ? h`<p class="notice">${e.hidden}</p>` : e.patch ? h`<pre class="diff">${e.patch.split("\n").map((l) => h`<span class="${lineClass(l)}">${l}</span>\n`)}</pre>` : h`<p class="muted">No changes.</p>`}</section>`,
)}`;
}
