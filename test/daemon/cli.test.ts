// The daemon's CLI commands: `run` (one-shot, exit code, --json), `runs` (history and
// occurrences), `logs`, and their help; plus the daemon config file and flag precedence.
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/daemon/cli/main.ts";
import { resolveDaemonConfig } from "../../src/daemon/config.ts";
import { openFileStore } from "../../src/daemon/store/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-cli-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib, {
    check: "name: check\ninputs: { strict: { type: boolean, default: false } }\nsteps:\n  - uses: validate\n    with: { strict: '${{ inputs.strict }}' }\n",
    broken: `name: broken\nsteps:\n  - id: boom\n    uses: shell\n    with: { command: [${JSON.stringify(nodeBin())}, "-e", "process.exit(5)"] }\n`,
  });
});
afterEach(() => dir.cleanup());

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, tty: false, cwd: dir.path, env: { USER: "tester" } },
  };
}

describe("aicfg run / runs / logs", () => {
  it("runs a workflow once, reports it, and lists it", async () => {
    const c = cli();
    expect(await runCli(["run", "check", "--library", "lib", "--state-dir", "state", "--input", "strict=true", "--json"], c.io)).toBe(0);
    const { ok, run } = JSON.parse(c.out.join("\n")) as {
      ok: boolean;
      run: { id: string; status: string; inputs: unknown; actor: string; steps: { id: string; status: string }[] };
    };
    expect([ok, run.status, run.inputs, run.actor, run.steps.map((s) => [s.id, s.status])]).toEqual([
      true,
      "success",
      { strict: true },
      "cli:tester",
      [["validate", "success"]],
    ]);

    const r = cli();
    expect(await runCli(["runs", "--state-dir", "state"], r.io)).toBe(0);
    expect(r.out.length).toBe(1);
    expect(r.out[0]!.startsWith(`${run.id}  success      lib/check  manual  `)).toBe(true);

    const l = cli();
    expect(await runCli(["logs", run.id, "--state-dir", "state"], l.io)).toBe(0);
    expect(l.out[0]).toBe("  ok   validate (validate)");
    expect(l.out[1]!.startsWith(`run ${run.id} of lib/check: success in `)).toBe(true);
    expect(l.out[2]!.endsWith(`info  run ${run.id} of lib/check started (trigger manual, attempt 1)`)).toBe(true);
  });

  it("exits 1 when the run fails (shell needs enabling in the config)", async () => {
    writeFileSync(join(dir.path, "daemon.yaml"), "libraries: [lib]\nstate_dir: state\n");
    const c = cli();
    expect(await runCli(["run", "broken", "--config", "daemon.yaml"], c.io)).toBe(1);
    expect(c.out[0]).toBe(
      "  FAIL boom (shell): the shell action is disabled in this daemon (set actions.shell.enabled: true in daemon.yaml if you trust everyone who can edit workflows)",
    );
    writeFileSync(join(dir.path, "daemon.yaml"), "libraries: [lib]\nstate_dir: state\nactions: { shell: { enabled: true } }\n");
    const d = cli();
    expect(await runCli(["run", "broken", "--config", "daemon.yaml"], d.io)).toBe(1);
    expect(d.out[0]).toBe(`  FAIL boom (shell): ${nodeBin()} exited with 5`);
    const runs = await openFileStore(state).listRuns();
    expect(runs.map((x) => x.status)).toEqual(["failure", "failure"]);
  });

  it("explains a workflow that does not exist and a missing library", async () => {
    const c = cli();
    expect(await runCli(["run", "nope", "--library", "lib", "--state-dir", "state"], c.io)).toBe(1);
    expect(c.err).toEqual(["error: no workflow named 'nope'", "hint: workflows: broken, check"]);
    const d = cli();
    expect(await runCli(["run", "check", "--state-dir", "state"], d.io)).toBe(1);
    expect(d.err).toEqual(["error: no library to serve", "hint: pass --library DIR (repeatable) or list libraries: in daemon.yaml"]);
    const e = cli();
    expect(await runCli(["logs", "no-such-run", "--state-dir", "state"], e.io)).toBe(1);
    expect(e.err[0]).toBe(`error: no run no-such-run in ${state}`);
  });

  it("has help with examples for each command", async () => {
    for (const name of ["daemon", "run", "runs", "logs", "backup verify", "restore"]) {
      const c = cli();
      expect(await runCli([...name.split(" "), "--help"], c.io)).toBe(0);
      expect(c.out[0]!.startsWith(`aicfg ${name} — `)).toBe(true);
      expect(c.out[0]).toContain("Examples:");
    }
  });

  it("lists occurrences", async () => {
    const store = openFileStore(state);
    await store.recordOccurrence({
      library: "lib",
      workflow: "w",
      trigger: "cron#0",
      scheduledAt: Date.parse("2026-06-01T10:00:00Z"),
      outcome: "missed",
      reason: "the daemon was not running (catchup: none)",
      recordedAt: 1,
    });
    const c = cli();
    expect(await runCli(["runs", "--occurrences", "--state-dir", "state"], c.io)).toBe(0);
    expect(c.out).toEqual(["2026-06-01T10:00:00.000Z  missed     lib/w cron#0  (the daemon was not running (catchup: none))"]);
  });
});

describe("aicfg daemon on a port that is taken", () => {
  it("says so, names the holder, and exits 2 (no stack trace, no 'bug in aicfg')", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as { port: number }).port;
    try {
      const c = cli();
      expect(await runCli(["daemon", "--library", "lib", "--state-dir", "state", "--listen", `127.0.0.1:${port}`, "--log-format", "json"], c.io)).toBe(2);
      const text = c.err.join("\n");
      expect(text).toContain(`error: cannot listen on 127.0.0.1:${port}: the port is already in use`);
      if (process.platform === "linux") expect(text).toContain(`by pid ${process.pid} (`);
      expect(text).toContain(`hint: stop the program that holds it, or choose another port with --listen 127.0.0.1:PORT (or 'listen:' in daemon.yaml)`);
      expect(text).not.toMatch(/internal error|This is a bug|\n\s+at /);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });
});

describe("daemon config", () => {
  it("flags override the file; paths in the file are relative to it", () => {
    writeFileSync(
      join(dir.path, "daemon.yaml"),
      "libraries: [lib]\nstate_dir: st\nlisten: 127.0.0.1:9000\nactions: { shell: { enabled: true } }\nretention: { keep_runs: 5, max_age: 7d }\n",
    );
    const c = resolveDaemonConfig({ config: "daemon.yaml" }, dir.path, {});
    expect([c.libraries, c.stateDir, c.listen, c.shellEnabled, c.keepRuns, c.maxAgeMs]).toEqual([
      [lib],
      join(dir.path, "st"),
      { host: "127.0.0.1", port: 9000, text: "127.0.0.1:9000" },
      true,
      5,
      7 * 86_400_000,
    ]);
    const f = resolveDaemonConfig({ config: "daemon.yaml", libraries: ["other"], stateDir: "s2", listen: "[::1]:7500" }, dir.path, {});
    expect([f.libraries, f.stateDir, f.listen.host, f.listen.port]).toEqual([[join(dir.path, "other")], join(dir.path, "s2"), "::1", 7500]);
    const none = resolveDaemonConfig({ libraries: ["lib"] }, dir.path, { AICFG_STATE_DIR: "/var/lib/aicfg" });
    expect([none.stateDir, none.listen.text, none.shellEnabled, none.drainTimeoutMs]).toEqual(["/var/lib/aicfg", "127.0.0.1:7411", false, 30_000]);
  });

  it("reports config mistakes with file:line:col", () => {
    writeFileSync(join(dir.path, "daemon.yaml"), "libraries: [lib]\nactoins: {}\n");
    expect(() => resolveDaemonConfig({ config: "daemon.yaml" }, dir.path, {})).toThrow("unknown field 'actoins'");
    try {
      resolveDaemonConfig({ config: "daemon.yaml" }, dir.path, {});
    } catch (e) {
      expect([(e as { line: number }).line, (e as { col: number }).col, (e as { hint: string }).hint]).toEqual([2, 1, "did you mean 'actions'?"]);
    }
    expect(() => resolveDaemonConfig({ libraries: ["lib"], listen: "localhost" }, dir.path, {})).toThrow(
      '--listen "localhost": must be HOST:PORT, e.g. 127.0.0.1:7411 or [::1]:7411',
    );
  });
});
