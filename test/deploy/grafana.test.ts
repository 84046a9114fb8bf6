// Every query of the Grafana dashboard (deploy/grafana/aicfg.json) names only metrics a real daemon
// exposes: the daemon runs as `aicfg daemon` in a child process on a temp library with a cron
// workflow (every 2 s) and an export on change, and /metrics is scraped over loopback once runs
// have finished, when nothing is running (the state a dashboard sees most of the time).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
type Panel = { title: string; targets?: Array<{ expr: string }>; panels?: Panel[] };
const dashboard = JSON.parse(readFileSync(join(repo, "deploy", "grafana", "aicfg.json"), "utf8")) as { panels: Panel[] };

function queries(panels: Panel[]): Array<{ panel: string; expr: string }> {
  return panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })), ...queries(p.panels ?? [])]);
}

/** The metric names a PromQL expression reads (identifiers with our prefix; functions and labels are not). */
const metricNames = (expr: string) => [...new Set(expr.match(/\baicfg_[a-zA-Z0-9_:]+/g) ?? [])];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Sample names and values of a Prometheus text exposition. */
function samples(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), Number(m[3])]);
  }
  return out;
}

describe("deploy/grafana/aicfg.json against a live daemon", () => {
  let tmp: { path: string; cleanup: () => void };
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let stderr = "";
  let base: string;
  let scraped: Map<string, number[]> | undefined;
  let text = "";

  beforeAll(async () => {
    tmp = tempDir("aicfg-grafana-");
    const lib = join(tmp.path, "library");
    writeTree(lib, {
      "aicfg.yaml": "name: team\ntargets: [claude-code]\nexport:\n  scope: project\n",
      "agents/reviewer.md": "---\ndescription: Reviews pull requests\n---\nReview carefully.\n",
      "workflows/tick.yaml": 'name: tick\non:\n  cron:\n    schedule: "*/2 * * * * *"\nconcurrency: { overlap: skip }\nsteps:\n  - uses: validate\n',
      "workflows/export-on-change.yaml":
        'name: export-on-change\non:\n  watch:\n    paths: ["agents/**"]\n    debounce: 100ms\nsteps:\n  - uses: export\n    with:\n      root: ' +
        JSON.stringify(join(tmp.path, "out")) +
        "\n",
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(tmp.path, "home"), NO_COLOR: "1" };
    child = spawn(
      nodeBin(),
      [join(repo, "bin", "aicfg.js"), "daemon", "--library", lib, "--state-dir", join(tmp.path, "state"), "--listen", `127.0.0.1:${port}`],
      {
        cwd: tmp.path,
        env,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    child.stderr!.on("data", (d) => (stderr += String(d)));
    exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    // Scrape until the cron workflow has finished a run and an export (started by editing an agent
    // once the API serves) has reported, at a moment no run is active.
    const deadline = Date.now() + 60_000;
    const wanted = [...new Set(queries(dashboard.panels).flatMap((q) => metricNames(q.expr)))];
    let edited = false;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${stderr}`);
      const r = await fetch(`${base}/metrics`).catch(() => undefined);
      if (r?.ok && !edited) {
        edited = true;
        writeFileSync(join(lib, "agents", "reviewer.md"), "---\ndescription: Reviews pull requests\n---\nReview carefully, then approve.\n");
      }
      if (r?.ok) {
        text = await r.text();
        const now = samples(text);
        scraped = now;
        const active = (now.get("aicfg_runs_active") ?? []).reduce((a, b) => a + b, 0);
        // Done when every name the dashboard reads is there; what is still missing at the deadline
        // is what the test below reports.
        if (wanted.every((n) => now.has(n)) && active === 0) break;
      }
      if (Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 150));
    }
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    tmp?.cleanup();
  });

  it("has queries, each reading at least one aicfg metric", () => {
    const all = queries(dashboard.panels);
    expect(all.length).toBeGreaterThanOrEqual(15);
    for (const q of all) expect(metricNames(q.expr).length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
  });

  it("every metric of every panel's query is in the live /metrics, with runs finished and none active", () => {
    expect(scraped, `no scrape answered:\n${stderr}`).toBeDefined();
    const missing = queries(dashboard.panels).flatMap((q) =>
      metricNames(q.expr)
        .filter((n) => !scraped!.has(n))
        .map((n) => `${q.panel}: ${n}`),
    );
    expect(missing, `daemon stderr:\n${stderr}`).toEqual([]);
    // Idle is a value, not an absence: the gauge reads 0 for the workflows it has seen.
    expect(text).toMatch(/^aicfg_runs_active\{org="default",library="team",workflow="tick"\} 0$/m);
    // The library's size: aicfg.yaml, one agent and two workflow files.
    expect(text).toMatch(/^aicfg_library_files\{org="default",library="team"\} 4$/m);
    expect(text).toMatch(/^aicfg_library_agents\{org="default",library="team"\} 1$/m);
  });
});
