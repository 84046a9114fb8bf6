// Health semantics (liveness checks nothing; readiness fails on store, config, scheduler tick or
// watchers; warns on invalid workflows and a missing webhook secret) and the Prometheus metrics
// after real events on the bus.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DaemonStatus } from "../../../src/daemon/api/deps.ts";
import { until } from "../harness.ts";
import { json, setupApi, type Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

describe("/livez", () => {
  it("answers pass as application/health+json without asking the daemon anything", async () => {
    h = await setupApi();
    h.deps.status = async () => {
      throw new Error("store down");
    };
    const res = await h.call("GET", "/livez");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/health+json");
    expect(await res.json()).toEqual({ status: "pass", version: "0.1.0", serviceId: "aicfg", description: "aicfg daemon livez" });
    const verbose = await h.call("GET", "/livez?verbose");
    expect(await verbose.text()).toBe("[+]ping ok\nlivez check passed\n");
  });
});

describe("/readyz and /healthz", () => {
  it("passes with every check when the daemon is healthy", async () => {
    h = await setupApi();
    const res = await h.call("GET", "/readyz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/health+json");
    const time = new Date(h.clock.now()).toISOString();
    expect(await res.json()).toEqual({
      status: "pass",
      version: "0.1.0",
      serviceId: "aicfg",
      description: "aicfg daemon readyz",
      checks: {
        "store:connection": [{ componentType: "datastore", status: "pass", time }],
        "config:workflows": [{ componentType: "component", status: "pass", time, observedValue: 0, observedUnit: "invalid workflows" }],
        // The daemon ticked when it started (no time has passed) and watches no files (no watch trigger, no hot reload).
        "scheduler:tick": [{ componentType: "component", status: "pass", time, observedValue: 0, observedUnit: "s" }],
        "watcher:files": [{ componentType: "component", status: "pass", time, observedValue: 0, observedUnit: "paths" }],
        "webhooks:secret": [{ componentType: "component", status: "pass", time }],
      },
    });
    const alias = await h.call("GET", "/healthz?verbose");
    expect(await alias.text()).toBe(
      "[+]store:connection ok\n[+]config:workflows ok\n[+]scheduler:tick ok\n[+]watcher:files ok\n[+]webhooks:secret ok\nreadyz check passed\n",
    );
  });

  it("warns (200) on invalid workflows and fails (503) on a broken store, a stuck scheduler or dead watchers", async () => {
    h = await setupApi();
    // Two workflow files break on disk: the daemon keeps their last good versions and reports them.
    writeFileSync(join(h.daemon.libs.team, "workflows", "sync.yaml"), "name: sync\nsteps: [\n");
    writeFileSync(join(h.daemon.libs.other, "workflows", "export.yaml"), "on: nope\n");
    await h.daemon.handle.reload();
    let res = await h.call("GET", "/readyz");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("warn");

    // Faults the file store never reports (a database store does): wrap the bridge's real answer.
    const real = h.deps.status;
    const withFault = (fault: Partial<DaemonStatus>) => {
      h.deps.status = async () => ({ ...(await real()), ...fault });
    };
    withFault({ store: { ok: false, message: "cannot open runs.db: EACCES" } });
    res = await h.call("GET", "/readyz?verbose");
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(
      "[-]store:connection failed: cannot open runs.db: EACCES\n[+]config:workflows warn: 2 workflow file(s) do not load; the last good versions run\n[+]scheduler:tick ok\n[+]watcher:files ok\n[+]webhooks:secret ok\nreadyz check failed\n",
    );

    h.deps.status = real;
    // The wall clock moves 120 s while no timer fires (a stuck event loop, or a suspend).
    h.clock.jump(120_000);
    res = await h.call("GET", "/healthz");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: Record<string, { status: string; output?: string }[]> }).checks["scheduler:tick"]![0]).toMatchObject({
      status: "fail",
      output: "last tick 120s ago",
      observedValue: 120,
    });

    withFault({ scheduler: { lastTickAt: undefined, intervalMs: 30_000 } });
    res = await h.call("GET", "/readyz?verbose");
    expect(await res.text()).toContain("[-]scheduler:tick failed: the scheduler has not ticked yet\n");

    withFault({ scheduler: { lastTickAt: h.clock.now(), intervalMs: 30_000 }, watchers: { ok: false, message: "EMFILE: too many open files" } });
    res = await h.call("GET", "/readyz?verbose");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("[-]watcher:files failed: EMFILE: too many open files\n");
  });

  it("an unset webhook secret that no workflow needs is no readiness concern; /v1/status reports it", async () => {
    h = await setupApi({ env: {} });
    // The team library follows acme/agents on GitHub; its sync workflow starts without a git trigger.
    const syncFile = join(h.daemon.libs.team, "workflows", "sync.yaml");
    const withGit = readFileSync(syncFile, "utf8");
    writeFileSync(syncFile, withGit.replace("  git: { branches: [main] }\n", ""));
    await h.daemon.handle.reload();
    const res = await h.call("GET", "/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, unknown> };
    expect(body.status).toBe("pass");
    expect(Object.keys(body.checks)).not.toContain("webhooks:secret");
    let status = await json(await h.call("GET", "/v1/status", { token: h.tokens.viewer }));
    expect(status).toMatchObject({ status: "pass", version: "0.1.0", checks: body.checks });
    expect(status.features.githubWebhooks).toEqual({
      secretConfigured: false,
      usedBy: [],
      note: "not configured and not used: no enabled workflow has a git trigger fed by GitHub pushes",
    });
    // A git trigger in a library checked out from GitHub makes the secret matter: warn, naming the workflow.
    writeFileSync(syncFile, withGit);
    await h.daemon.handle.reload();
    expect(await (await h.call("GET", "/readyz?verbose")).text()).toContain(
      "[+]webhooks:secret warn: no GitHub webhook secret configured: every delivery is refused (git trigger of team/sync)\n",
    );
    status = await json(await h.call("GET", "/v1/status", { token: h.tokens.viewer }));
    expect(status.status).toBe("warn");
    expect(status.features.githubWebhooks).toMatchObject({
      usedBy: ["team/sync"],
      note: "not configured: pushes for team/sync are refused (their git triggers still poll)",
    });
    // Disabled, it is not used.
    expect((await h.call("POST", "/v1/workflows/team/sync/disable", { token: h.tokens.editor })).status).toBe(200);
    expect(((await (await h.call("GET", "/readyz")).json()) as { status: string }).status).toBe("pass");
  });

  it("fails when the daemon cannot report its status, without leaking the error's secrets", async () => {
    h = await setupApi();
    h.api.telemetry.secrets.add("s3cr3t-password-value");
    h.deps.status = async () => {
      throw new Error("connect failed for postgres://app:s3cr3t-password-value@db/runs");
    };
    const res = await h.call("GET", "/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain("s3cr3t-password-value");
    expect(JSON.parse(text).checks["daemon:status"][0].output).toBe("status failed: connect failed for postgres://app:[redacted]@db/runs");
    expect(h.logs.join("")).not.toContain("s3cr3t-password-value");
  });
});

describe("/metrics", () => {
  it("exposes the metric set with values after runs, occurrences, triggers and exports", async () => {
    h = await setupApi();
    const bus = h.deps.bus;
    const t = h.clock.now();
    const ok = await h.call("POST", "/v1/workflows/team/sync/runs", { token: h.tokens.editor, json: { inputs: {} } });
    const { runId } = (await ok.json()) as { runId: string };
    // Real runs: one succeeds after 1.5 s, one fails after 40 s (its notify receiver answers 500), one is still running.
    const step = async (id: string, ms: number, status: number, result: "success" | "failure") => {
      await until(() => h.daemon.hold.held() === 1, `run ${id} to reach its step`);
      await h.clock.advance(ms);
      h.daemon.hold.release(status);
      await h.daemon.waitFor(id, [result]);
    };
    await step(runId, 1500, 200, "success");
    const id2 = await h.daemon.trigger("team", "sync");
    await step(id2, 40_000, 500, "failure");
    const id3 = await h.daemon.trigger("team", "sync");
    await h.daemon.waitFor(id3, ["running"]);
    // Facts other parts of the daemon publish (loads, library stats, schedules, occurrences, exports), after the runs so none is overwritten.
    bus.publish({ type: "workflows.loaded", library: "team", total: 5, enabled: 3, broken: 1, at: t });
    bus.publish({ type: "library.stats", library: "team", files: 42, bytes: 123456, agents: 7, at: t });
    bus.publish({ type: "schedule.next", library: "team", workflow: "sync", nextAt: Date.parse("2026-11-24T11:00:00.000Z") });
    bus.publish({ type: "occurrence", library: "team", workflow: "sync", scheduledAt: t, outcome: "started", lagMs: 250, at: t });
    bus.publish({ type: "occurrence", library: "team", workflow: "sync", scheduledAt: t, outcome: "missed", at: t });
    bus.publish({ type: "occurrence", library: "team", workflow: "sync", scheduledAt: t, outcome: "caught_up", lagMs: 90_000, at: t });
    bus.publish({ type: "trigger.event", kind: "watch", workflow: "sync", outcome: "debounced", at: t });
    bus.publish({ type: "export.done", library: "team", target: "claude-code", written: 4, deleted: 1, drift: 2, at: t });

    const res = await h.call("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const lines = text.split("\n");
    const has = (line: string) => expect(lines, line).toContain(line);
    has(
      `aicfg_build_info{version="0.1.0",runtime="${"Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node"}",runtime_version="${(globalThis as { Bun?: { version: string } }).Bun?.version ?? (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ?? process.versions.node}"} 1`,
    );
    has('aicfg_workflows{org="default",library="team",state="enabled"} 3');
    has('aicfg_workflows{org="default",library="team",state="disabled"} 1');
    has('aicfg_workflows{org="default",library="team",state="broken"} 1');
    has('aicfg_runs_started_total{org="default",library="team",workflow="sync",trigger="api"} 1');
    has('aicfg_runs_started_total{org="default",library="team",workflow="sync",trigger="manual"} 2');
    has('aicfg_runs_finished_total{org="default",library="team",workflow="sync",result="success"} 1');
    has('aicfg_runs_finished_total{org="default",library="team",workflow="sync",result="failure"} 1');
    has('aicfg_runs_active{org="default",library="team",workflow="sync"} 1');
    has('aicfg_run_duration_seconds_count{org="default",library="team",workflow="sync",result="failure"} 1');
    has('aicfg_run_duration_seconds_sum{org="default",library="team",workflow="sync",result="failure"} 40');
    has('aicfg_run_duration_seconds_bucket{org="default",library="team",workflow="sync",result="failure",le="30"} 0');
    has('aicfg_run_duration_seconds_bucket{org="default",library="team",workflow="sync",result="failure",le="60"} 1');
    has('aicfg_run_duration_seconds_bucket{org="default",library="team",workflow="sync",result="success",le="2.5"} 1');
    has('aicfg_step_duration_seconds_count{workflow="sync",action="notify",result="success"} 1');
    has('aicfg_schedule_occurrences_total{org="default",library="team",workflow="sync",outcome="started"} 1');
    has('aicfg_schedule_occurrences_total{org="default",library="team",workflow="sync",outcome="missed"} 1');
    has('aicfg_schedule_occurrences_total{org="default",library="team",workflow="sync",outcome="caught_up"} 1');
    has('aicfg_schedule_lag_seconds_count{org="default",library="team",workflow="sync"} 2');
    has('aicfg_schedule_lag_seconds_bucket{org="default",library="team",workflow="sync",le="0.5"} 1');
    has('aicfg_schedule_lag_seconds_bucket{org="default",library="team",workflow="sync",le="60"} 1');
    has('aicfg_schedule_lag_seconds_bucket{org="default",library="team",workflow="sync",le="300"} 2');
    has('aicfg_schedule_next_timestamp_seconds{org="default",library="team",workflow="sync"} 1795518000');
    has(`aicfg_workflow_last_success_timestamp_seconds{org="default",library="team",workflow="sync"} ${(t + 1500) / 1000}`);
    has('aicfg_trigger_events_total{kind="watch",outcome="debounced"} 1');
    has('aicfg_export_files_written_total{org="default",library="team",target="claude-code"} 4');
    has('aicfg_export_files_deleted_total{org="default",library="team",target="claude-code"} 1');
    has('aicfg_export_drift_found_total{org="default",library="team",target="claude-code"} 2');
    has('aicfg_library_files{org="default",library="team"} 42');
    has('aicfg_library_bytes{org="default",library="team"} 123456');
    has('aicfg_library_agents{org="default",library="team"} 7');
    has('aicfg_http_request_duration_seconds_count{method="POST",route="/v1/workflows/:library/:workflow/runs",status="202"} 1');
    has("# TYPE aicfg_run_duration_seconds histogram");
    has("# TYPE aicfg_runs_started_total counter");
    // Histograms, never summaries; every family carries the prefix; no run id ever becomes a label.
    expect(text).not.toContain(" summary");
    for (const l of lines.filter((x) => x && !x.startsWith("#"))) expect(l.startsWith("aicfg_"), l).toBe(true);
    expect(text).not.toContain(runId);
  });

  it("counts webhook deliveries by outcome and the next-run gauge disappears when a schedule has no next run", async () => {
    h = await setupApi();
    h.deps.bus.publish({ type: "schedule.next", library: "team", workflow: "sync", nextAt: 1_800_000_000_000 });
    h.deps.bus.publish({ type: "schedule.next", library: "team", workflow: "sync", nextAt: undefined });
    await h.call("POST", "/v1/webhooks/github", {
      body: "{}",
      headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "x", "x-hub-signature-256": "sha256=" + "0".repeat(64) },
    });
    const text = await (await h.call("GET", "/metrics")).text();
    expect(text).not.toContain('aicfg_schedule_next_timestamp_seconds{org="default",library="team",workflow="sync"}');
    // other/export still has its yearly schedule (2027-07-01).
    expect(text.split("\n")).toContain('aicfg_schedule_next_timestamp_seconds{org="default",library="other",workflow="export"} 1814400000');
    expect(text.split("\n")).toContain('aicfg_trigger_events_total{kind="webhook",outcome="rejected"} 1');
    expect(text.split("\n")).toContain('aicfg_http_request_duration_seconds_count{method="POST",route="/v1/webhooks/github",status="401"} 1');
  });

  it("labels unmatched requests with a fixed route so label values stay bounded", async () => {
    h = await setupApi();
    for (let i = 0; i < 5; i++) await h.call("GET", `/random-${i}`);
    const text = await (await h.call("GET", "/metrics")).text();
    expect(text.split("\n")).toContain('aicfg_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 5');
    expect(text).not.toContain("random-");
  });
});
