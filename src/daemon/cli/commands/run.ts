// `aicfg run <workflow>`: one run of a workflow in the foreground (for CI and scripts), through the
// same engine, store and actions as the daemon; exit code 0 only when the run succeeded.
import { ConfigError } from "../../../library/diagnostics.ts";
import { startDaemon } from "../../daemon.ts";
import type { RunRecord } from "../../store/types.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { configFromArgs, createDaemonLogging, DAEMON_OPTIONS } from "./daemon.ts";

export function parseInputs(values: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of (Array.isArray(values) ? values : values === undefined ? [] : [values]).map(String)) {
    const i = raw.indexOf("=");
    if (i <= 0) throw new ConfigError("usage", `--input ${JSON.stringify(raw)} must be NAME=VALUE`);
    out[raw.slice(0, i)] = raw.slice(i + 1);
  }
  return out;
}

export function printRun(io: CliIO, run: RunRecord): void {
  const color = run.status === "success" ? "green" : run.status === "skipped" ? "yellow" : "red";
  for (const s of run.steps) {
    const mark = s.status === "success" ? "ok  " : s.status === "skipped" ? "skip" : "FAIL";
    io.out(`  ${mark} ${s.id} (${s.uses})${s.attempts > 1 ? ` after ${s.attempts} attempts` : ""}${s.error ? `: ${s.error}` : ""}`);
    for (const w of s.warnings.slice(0, 5)) io.out(`       warning: ${w}`);
  }
  const took = run.finishedAt && run.startedAt ? ` in ${run.finishedAt - run.startedAt} ms` : "";
  io.out(paint(io, color, `run ${run.id} of ${run.library}/${run.workflow}: ${run.status}${took}${run.reason ? ` (${run.reason})` : ""}`));
}

export const runCommand: Command = {
  name: "run",
  summary: "run a workflow once in the foreground (CI): same engine as the daemon, exit code, --json summary",
  usage: "aicfg run <workflow> [--library DIR] [--input NAME=VALUE]... [--state-dir DIR] [--json]",
  description: "With several libraries, name the workflow as <library>/<workflow>. Exit code 0 when the run succeeded, 1 otherwise.",
  options: {
    ...DAEMON_OPTIONS,
    input: { type: "string", multiple: true, valueName: "name=value", description: "a workflow input" },
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg run export-on-change --library examples/library",
    "aicfg run nightly-backup --json",
    "aicfg run team/sync --config daemon.yaml --input push=true",
  ],
  run: async (args, io) => {
    const target = args.positionals[0];
    if (!target || args.positionals.length > 1) throw new ConfigError("usage", "name one workflow: aicfg run <workflow>");
    const config = configFromArgs(args, io);
    // A one-shot run prints its own summary; only the daemon's warnings and errors go to stderr.
    const { log } = createDaemonLogging(io, { level: "warn", viaIo: true });
    const d = await startDaemon({ config, schedule: false, log: args.values.json ? () => {} : log });
    try {
      let library: string;
      let workflow: string;
      if (target.includes("/")) [library, workflow] = target.split("/", 2) as [string, string];
      else {
        const matches = d.listWorkflows().filter((w) => w.name === target);
        if (matches.length === 0) {
          throw new ConfigError("workflow-not-found", `no workflow named '${target}'`, {
            hint: `workflows: ${
              d
                .listWorkflows()
                .map((w) => w.name)
                .join(", ") || "(none)"
            }`,
          });
        }
        if (matches.length > 1)
          throw new ConfigError("usage", `'${target}' exists in several libraries`, {
            hint: `use ${matches.map((m) => `${m.library}/${m.name}`).join(" or ")}`,
          });
        library = matches[0]!.library;
        workflow = target;
      }
      const runId = await d.triggerRun(library, workflow, { inputs: parseInputs(args.values.input), actor: `cli:${io.env.USER ?? "user"}` });
      const run = await d.waitForRun(runId);
      if (args.values.json) io.out(JSON.stringify({ ok: run.status === "success", run }, null, 2));
      else printRun(io, run);
      return run.status === "success" ? EXIT.ok : EXIT.failure;
    } finally {
      await d.stop({ deadlineMs: 0 });
    }
  },
};
