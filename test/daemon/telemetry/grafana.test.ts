// The Grafana dashboard (deploy/grafana/aicfg.json) only queries series that /metrics really
// exposes, so renaming a metric without updating the dashboard fails here.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../harness.ts";
import { setupApi, type Harness } from "../api/helpers.ts";

const DASHBOARD = fileURLToPath(new URL("../../../deploy/grafana/aicfg.json", import.meta.url));

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

describe("deploy/grafana/aicfg.json", () => {
  it("is a dashboard whose every query names a series GET /metrics exposes", async () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dash.uid).toBe("aicfg-daemon");
    const names = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/aicfg_[a-z_]+/g) ?? [])));
    expect(names.size).toBeGreaterThanOrEqual(15);

    h = await setupApi();
    const t = h.clock.now();
    const bus = h.deps.bus;
    bus.publish({ type: "workflows.loaded", library: "team", total: 2, enabled: 2, broken: 0, at: t });
    bus.publish({ type: "library.stats", library: "team", files: 3, bytes: 300, agents: 1, at: t });
    bus.publish({ type: "schedule.next", library: "team", workflow: "sync", nextAt: t + 60_000 });
    bus.publish({ type: "occurrence", library: "team", workflow: "sync", scheduledAt: t, outcome: "started", lagMs: 5, at: t });
    bus.publish({ type: "trigger.event", kind: "git", outcome: "accepted", at: t });
    bus.publish({ type: "export.done", library: "team", target: "codex", written: 1, deleted: 0, drift: 0, at: t });
    // Real runs on the daemon: one finished, one still running.
    const id = await h.daemon.trigger("team", "sync");
    await until(() => h.daemon.hold.held() === 1, "the run to reach its step");
    await h.clock.advance(10);
    h.daemon.hold.release();
    await h.daemon.waitFor(id, ["success"]);
    const id2 = await h.daemon.trigger("team", "sync");
    await h.daemon.waitFor(id2, ["running"]);
    await h.call("GET", "/livez");
    const series = new Set(
      (await (await h.call("GET", "/metrics")).text())
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => /^[a-z_]+/.exec(l)![0]),
    );
    const missing = [...names].filter((n) => !series.has(n));
    expect(missing).toEqual([]);
  });
});
