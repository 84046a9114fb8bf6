// The daemon's sync step with `layers: update` against real git: a bare repository as the team layer's remote,
// two clones of it (two team members) pushing concurrently, and a personal library that adopted a team file.
// A scheduled run fetches, 3-way merges the adopted copy, writes aicfg.lock and re-exports, exactly as
// `aicfg library update` would; a true conflict keeps the local file and shows up in /v1, `aicfg status` and
// the merge-conflict metric; with the remote gone the daemon loads the layer from its mirror and still exports;
// a forced push upstream is reported (or fails the step), never merged.
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiDepsFromDaemon, apiLibraries } from "../../src/daemon/api-bridge.ts";
import { createApi } from "../../src/daemon/api/app.ts";
import { parseApiConfig } from "../../src/daemon/api/config.ts";
import { openTokenStore } from "../../src/daemon/auth/token-store.ts";
import { createManualClock, type ManualClock } from "../../src/daemon/clock.ts";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import { createSecretRegistry } from "../../src/daemon/telemetry/redact.ts";
import { createTelemetry, type Telemetry } from "../../src/daemon/telemetry/telemetry.ts";
import { cli } from "../cli/helpers.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { bareRemote, cloneAs, commitPush, git } from "../helpers/git-remote.ts";
import { testConfig, until } from "./harness.ts";

const T0 = Date.parse("2026-06-01T10:00:10Z");
const REVIEWER = "---\ndescription: Reviews code\nmodel: sonnet\ntags: [review]\n---\n# Role\n\nYou review code.\n\n- be kind\n";

let dir: ReturnType<typeof tempDir>;
let remote: string;
let alice: string;
let bob: string;
let lib: string;
let state: string;
let project: string;
let running: { d: DaemonHandle; clock: ManualClock; telemetry: Telemetry } | undefined;

const run = (...args: string[]) => cli([...args, "--library", lib, "--state-dir", state], { cwd: dir.path });
const lock = () => JSON.parse(readFileSync(join(lib, "aicfg.lock"), "utf8"));
const live = () => readFileSync(join(lib, "agents", "reviewer.md"), "utf8");
const exported = (agent: string) => readFileSync(join(project, ".claude", "agents", `${agent}.md`), "utf8");

const workflow = (sync: string) =>
  'name: team-update\non:\n  manual: true\n  cron: { schedule: "0 * * * *", timezone: UTC }\nsteps:\n' +
  `  - id: layers\n    uses: sync\n    with: { layers: update${sync} }\n` +
  "  - id: export\n    uses: export\n    with: { root: ../project }\n";

beforeEach(async () => {
  dir = tempDir("aicfg-layers-daemon-");
  lib = join(dir.path, "me");
  state = join(dir.path, "state");
  project = join(dir.path, "project");
  ({ remote, firstClone: alice } = bareRemote(dir.path, "team", "alice", { "aicfg.yaml": "name: team\n", "agents/reviewer.md": REVIEWER }));
  bob = cloneAs(dir.path, remote, "bob");
  writeTree(lib, { "aicfg.yaml": "name: me\ntargets: [claude-code]\n", "workflows/team-update.yaml": workflow("") });
  expect((await run("library", "add", "team", remote)).code).toBe(0);
  expect((await run("library", "adopt", "team", "agents/reviewer.md")).code).toBe(0);
});

afterEach(async () => {
  if (running) {
    const { d, clock, telemetry } = running;
    running = undefined;
    let stopped = false;
    const stopping = d.stop({ deadlineMs: 0 }).finally(() => (stopped = true));
    while (!stopped) {
      await clock.advance(1);
      await new Promise((r) => setTimeout(r, 1));
    }
    await stopping;
    await telemetry.shutdown();
  }
  dir.cleanup();
});

async function start(config: Parameters<typeof testConfig>[2] = {}) {
  const clock = createManualClock(T0);
  const d = await startDaemon({ config: testConfig(lib, state, config), clock, hotReload: true, random: () => 0.5 });
  const deps = apiDepsFromDaemon(d, await apiLibraries(d));
  const telemetry = createTelemetry({ bus: d.bus, stateDir: state, secrets: createSecretRegistry(), logSink: { write: () => {} }, env: {}, clock });
  running = { d, clock, telemetry };
  const admin = openTokenStore(state, clock).create({ role: "admin", name: "admin" }).token;
  const api = createApi(deps, parseApiConfig({}), { telemetry, tokens: openTokenStore(state, clock), env: {}, clock });
  const get = async (path: string) => {
    const res = await api.app.request(
      `http://127.0.0.1:7411${path}`,
      { headers: { authorization: `Bearer ${admin}` } },
      {
        remoteAddress: "127.0.0.1",
        localPort: 7411,
        transport: "tcp",
      },
    );
    expect(res.status, path).toBe(200);
    return res.text();
  };
  /** Waits for the runs of team-update to number `n`, all finished; returns the newest. */
  const finished = async (n: number) => {
    await until(
      async () => {
        const runs = await d.store.listRuns({});
        return runs.length === n && runs.every((r) => r.finishedAt !== undefined);
      },
      `${n} finished run(s)`,
      25_000,
    );
    return (await d.store.listRuns({}))[0]!;
  };
  return { d, clock, get, finished };
}

describe("the daemon's sync step with layers: update", () => {
  it("a scheduled update merges two members' concurrent pushes into my adopted copy, moves the lock and re-exports", async () => {
    writeTree(lib, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: opus") });
    const h = await start();
    // The daemon loads the git layer from its checkout: the API sees the team's agents.
    expect(JSON.parse(await h.get("/v1/libraries/me/health")).layers).toEqual(["team", "me"]);

    commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("- be kind", "- be kind\n- be brief") }, "alice: body");
    const head = commitPush(
      bob,
      {
        "agents/tester.md": "---\ndescription: Writes tests\n---\nTest it.\n",
        "agents/reviewer.md": REVIEWER.replace("tags: [review]", "tags: [review, security]").replace("- be kind", "- be kind\n- be brief"),
      },
      "bob: tester",
    );
    await h.clock.advance(Date.parse("2026-06-01T11:00:00Z") - T0);
    const r = await h.finished(1);
    expect(r.trigger.kind).toBe("cron");
    expect(r.status, JSON.stringify(r.steps)).toBe("success");
    const step = r.steps.find((s) => s.id === "layers")!;
    expect(step.outputs).toMatchObject({ updated: ["team"], conflicts: 0, lock_written: true, changed: true, rewritten: [] });
    expect((step.outputs as { layers: { merges: unknown[] }[] }).layers[0]!.merges).toEqual([
      { path: "agents/reviewer.md", result: "merged", decidedBy: "merged" },
    ]);
    const merged = REVIEWER.replace("model: sonnet", "model: opus")
      .replace("tags: [review]", "tags: [review, security]")
      .replace("- be kind", "- be kind\n- be brief");
    expect(live()).toBe(merged);
    expect(lock().layers.team).toMatchObject({ resolvedCommit: head, adopted: ["agents/reviewer.md"], fetchedAt: "2026-06-01T11:00:00.000Z" });
    // Re-exported from the new pin and the merged copy: the new team agent and the merged reviewer.
    expect(exported("tester")).toContain("Test it.");
    expect(exported("reviewer")).toContain("- be brief");
    expect(exported("reviewer")).toContain("opus");
    const agents = JSON.parse(await h.get("/v1/libraries/me/agents"));
    expect(JSON.stringify(agents)).toContain("tester");
    // The CLI agrees that nothing is left to do.
    expect((await run("sync", "--frozen")).code).toBe(0);
    expect((await run("library", "update", "--json")).json().reports[0].status).toBe("up-to-date");
  });

  it("a true conflict keeps the local file, writes the .conflict.md, is listed by /v1 and aicfg status, and counted by the metric", async () => {
    const mine = REVIEWER.replace("model: sonnet", "model: opus");
    writeTree(lib, { "agents/reviewer.md": mine });
    const h = await start();
    const head = commitPush(bob, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: haiku") }, "bob: model");
    await h.d.triggerRun("me", "team-update", { kind: "manual", actor: "test" });
    const r = await h.finished(1);
    expect(r.status, JSON.stringify(r.steps)).toBe("success");
    expect(r.steps.find((s) => s.id === "layers")!.outputs).toMatchObject({ conflicts: 1, updated: ["team"] });
    expect(live()).toBe(mine);
    expect(readFileSync(join(lib, "agents", "reviewer.md.conflict.md"), "utf8")).toContain(
      "<<<<<<< local\nmodel: opus\n||||||| base\nmodel: sonnet\n=======\nmodel: haiku\n>>>>>>> upstream\n",
    );
    expect(exported("reviewer")).toContain("opus");
    expect(exported("reviewer")).not.toContain("<<<<<<<");
    expect(lock().layers.team.resolvedCommit).toBe(head);

    const conflicts = JSON.parse(await h.get("/v1/libraries/me/conflicts"));
    expect(conflicts.items).toMatchObject([{ path: "agents/reviewer.md", fields: ["model"], upstream: { layer: "team", commit: head } }]);
    const st = await run("status", "--json");
    expect(st.json().conflicts.map((c: { path: string }) => c.path)).toEqual(["agents/reviewer.md"]);
    expect(await h.get("/metrics")).toMatch(/aicfg_merge_conflicts_total\{org="default",library="me"\} 1\b/);

    // `aicfg resolve --theirs` closes it; the next scheduled run has nothing to merge.
    const res = await cli(["resolve", join(lib, "agents", "reviewer.md"), "--theirs", "--state-dir", state]);
    expect(res.code, res.err).toBe(0);
    expect(live()).toBe(REVIEWER.replace("model: sonnet", "model: haiku"));
    await h.clock.advance(Date.parse("2026-06-01T11:00:00Z") - T0);
    const again = await h.finished(2);
    expect(again.status).toBe("success");
    expect(again.steps.find((s) => s.id === "layers")!.outputs).toMatchObject({ conflicts: 0, updated: [], changed: false });
    expect(JSON.parse(await h.get("/v1/libraries/me/conflicts")).items).toEqual([]);
  });

  it("offline: with the remote gone and the checkouts wiped, the daemon loads the layer from its mirror, the step warns and the export still runs", async () => {
    const pinned = lock().layers.team.resolvedCommit;
    renameSync(remote, `${remote}.gone`);
    rmSync(join(state, "layers", "trees"), { recursive: true, force: true });
    const h = await start();
    expect(JSON.parse(await h.get("/v1/libraries/me/health")).layers).toEqual(["team", "me"]);
    await h.d.triggerRun("me", "team-update", { kind: "manual", actor: "test" });
    const r = await h.finished(1);
    expect(r.status, JSON.stringify(r.steps)).toBe("success");
    const step = r.steps.find((s) => s.id === "layers")!;
    expect(step.outputs).toMatchObject({ offline: true, updated: [], conflicts: 0 });
    expect(JSON.stringify(step.warnings)).toContain("offline");
    expect(lock().layers.team.resolvedCommit).toBe(pinned);
    expect(exported("reviewer")).toContain("Reviews code");
  });

  it("a forced push upstream is reported and the old pin kept; with on_rewrite: fail the step fails", async () => {
    commitPush(alice, { "agents/reviewer.md": REVIEWER.replace("- be kind", "- be kind\n- v2") }, "v2");
    expect((await run("library", "update")).code).toBe(0);
    const locked = lock().layers.team.resolvedCommit;
    git(alice, "reset", "-q", "--hard", "HEAD~1");
    writeTree(alice, { "agents/reviewer.md": REVIEWER.replace("- be kind", "- be kind\n- rewritten") });
    git(alice, "commit", "-q", "-am", "rewritten");
    git(alice, "push", "-q", "--force", "origin", "HEAD:main");
    const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
    const h = await start();
    await h.d.triggerRun("me", "team-update", { kind: "manual", actor: "test" });
    const r = await h.finished(1);
    expect(r.status).toBe("success");
    const step = r.steps.find((s) => s.id === "layers")!;
    expect(step.outputs).toMatchObject({ rewritten: ["team"], updated: [] });
    expect(JSON.stringify(step.warnings)).toContain("history of main was rewritten upstream");
    expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockText);
    expect(live()).toContain("- v2");
    expect(live()).not.toContain("rewritten");

    writeTree(lib, { "workflows/team-update.yaml": workflow(", on_rewrite: fail") });
    await h.d.reload();
    // The runs are listed newest first by creation time: on a clock that never moved the two runs
    // would tie and the order would be left to their random id suffix.
    await h.clock.advance(1000);
    await h.d.triggerRun("me", "team-update", { kind: "manual", actor: "test" });
    const f = await h.finished(2);
    expect(f.status).toBe("failure");
    expect(f.steps.find((s) => s.id === "layers")!.error).toContain("upstream history of layer(s) team was rewritten");
    expect(f.steps.some((s) => s.id === "export" && s.status === "success")).toBe(false);
    expect(lock().layers.team.resolvedCommit).toBe(locked);
    expect(existsSync(join(lib, "agents", "reviewer.md.conflict.md"))).toBe(false);
  });

  it("a local-path layer is not fetched by a daemon whose config keeps file remotes off", async () => {
    const h = await start({ allowFileRemotes: false });
    commitPush(bob, { "agents/reviewer.md": REVIEWER.replace("model: sonnet", "model: haiku") }, "bob: model");
    const lockText = readFileSync(join(lib, "aicfg.lock"), "utf8");
    await h.d.triggerRun("me", "team-update", { kind: "manual", actor: "test" });
    const r = await h.finished(1);
    expect(r.status).toBe("failure");
    expect(r.steps.find((s) => s.id === "layers")!.error).toContain(`layer(s) team (${remote}): local paths and file:// URLs are off in this daemon`);
    expect(r.steps.find((s) => s.id === "layers")!.error).toContain("allow_file_remotes");
    expect(readFileSync(join(lib, "aicfg.lock"), "utf8")).toBe(lockText);
  });
});
