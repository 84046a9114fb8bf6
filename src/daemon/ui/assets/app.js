// The dashboard's only script (served from 'self', no inline script under the CSP): run-now without
// a page load, and live updates over Server-Sent Events. Every text from the server is set with
// textContent, never parsed as HTML. Pages read fine without it: forms post and pages reload.
"use strict";
(() => {
  const live = document.getElementById("live");
  const say = (text) => {
    if (live) live.textContent = text;
  };
  const setStatus = (el, status) => {
    el.textContent = status;
    el.className = `status status-${status}`;
  };
  const updateRun = (run) => {
    for (const el of document.querySelectorAll(`[data-run-id="${CSS.escape(run.id)}"] [data-field="status"], [data-run-status="${CSS.escape(run.id)}"]`))
      setStatus(el, run.status);
    const steps = document.getElementById("steps");
    if (steps && steps.dataset.runId === run.id && Array.isArray(run.steps)) {
      const body = steps.querySelector("tbody");
      body.textContent = "";
      for (const s of run.steps) {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = s.id;
        const action = document.createElement("td");
        action.textContent = s.action;
        const st = document.createElement("td");
        const badge = document.createElement("span");
        setStatus(badge, s.status);
        st.append(badge);
        const ms = document.createElement("td");
        ms.textContent = s.durationMs === undefined ? "" : `${s.durationMs} ms`;
        const err = document.createElement("td");
        err.textContent = s.error || "";
        tr.append(th, action, st, ms, err);
        body.append(tr);
      }
    }
    const outcome = document.getElementById("outcome");
    if (outcome && outcome.dataset.runId === run.id) outcome.textContent = run.error || run.status;
    if (run.status !== "queued" && run.status !== "running") say(`Run ${run.id} finished: ${run.status}`);
    else say(`Run ${run.id} is ${run.status}`);
  };
  const appendLog = (line) => {
    const log = document.getElementById("log");
    if (!log) return;
    const li = document.createElement("li");
    li.dataset.seq = String(line.seq);
    li.textContent = `${line.at}  ${line.step ? `[${line.step}] ` : ""}${line.message}`;
    log.append(li);
  };

  const listen = (url, closeWhen) => {
    const es = new EventSource(url);
    es.addEventListener("run", (e) => {
      const run = JSON.parse(e.data);
      updateRun(run);
      if (closeWhen?.(run)) es.close();
    });
    es.addEventListener("log", (e) => appendLog(JSON.parse(e.data)));
    es.addEventListener("end", () => es.close());
    return es;
  };
  const stream = document.body.dataset.stream;
  if (stream && "EventSource" in window) listen(stream);
  /** A run this page just queued: its own stream sends its state on connect, so no transition is missed. */
  const follow = (runId) => {
    if ("EventSource" in window)
      listen(`/ui/events?run=${encodeURIComponent(runId)}`, (run) => run.id === runId && run.status !== "queued" && run.status !== "running");
  };

  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
  for (const form of document.querySelectorAll("form[data-run-now]")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = form.querySelector("button");
      if (button) button.disabled = true;
      try {
        const res = await fetch(form.action, {
          method: "POST",
          headers: { accept: "application/json", "x-csrf-token": csrf },
          body: new URLSearchParams(new FormData(form)),
          credentials: "same-origin",
        });
        const body = await res.json().catch(() => ({}));
        if (res.status !== 202) {
          say(body?.error?.message ?? `refused (${res.status})`);
          return;
        }
        const tbody = document.querySelector("#runs tbody");
        if (tbody) {
          const tr = document.createElement("tr");
          tr.dataset.runId = body.runId;
          const td = document.createElement("td");
          const a = document.createElement("a");
          a.href = body.url;
          a.textContent = body.runId;
          td.append(a);
          const st = document.createElement("td");
          const badge = document.createElement("span");
          badge.dataset.field = "status";
          setStatus(badge, "queued");
          st.append(badge);
          const trig = document.createElement("td");
          trig.textContent = "api";
          tr.append(td, st, trig);
          tbody.prepend(tr);
        }
        say(`Run ${body.runId} queued`);
        follow(body.runId);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }
})();
