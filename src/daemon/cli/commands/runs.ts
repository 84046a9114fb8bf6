// `aicfg runs`: the run history (and, with --occurrences, every planned cron occurrence with its
// outcome: started, skipped, missed, caught_up), read from the state folder.
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION } from "../options.ts";
import { CONFIG_STORE_OPTION, openReadStore } from "../store-option.ts";

export const runsCommand: Command = {
  name: "runs",
  summary: "list workflow runs (newest first), or cron occurrences with their outcomes",
  usage: "aicfg runs [--workflow W] [--library L] [--limit N] [--occurrences] [--state-dir DIR | --config daemon.yaml] [--json]",
  options: {
    workflow: { type: "string", short: "w", valueName: "name", description: "only this workflow" },
    library: { type: "string", valueName: "name", description: "only this library (its name in aicfg.yaml)" },
    limit: { type: "string", short: "n", valueName: "n", description: "at most this many (default 20)" },
    occurrences: { type: "boolean", description: "list planned cron occurrences and what happened to each" },
    ...STATE_OPTION,
    ...CONFIG_STORE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: [
    "aicfg runs",
    "aicfg runs --config /etc/aicfg/daemon.yaml --limit 50",
    "aicfg runs --workflow export-on-change --json",
    "aicfg runs --occurrences --workflow nightly-backup",
  ],
  run: async (args, io) => {
    const { store } = await openReadStore(args, io);
    const limit = Math.max(1, Number(args.values.limit ?? 20) || 20);
    const q = {
      ...(args.values.workflow ? { workflow: String(args.values.workflow) } : {}),
      ...(args.values.library ? { library: String(args.values.library) } : {}),
      limit,
    };
    if (args.values.occurrences) {
      const occ = await store.listOccurrences(q);
      if (args.values.json) io.out(JSON.stringify({ occurrences: occ }, null, 2));
      else if (occ.length === 0) io.out("no occurrences recorded");
      else
        for (const o of occ) {
          const color = o.outcome === "missed" ? "red" : o.outcome === "skipped" ? "yellow" : "green";
          io.out(
            `${new Date(o.scheduledAt).toISOString()}  ${paint(io, color, o.outcome.padEnd(9))}  ${o.library}/${o.workflow} ${o.trigger}${o.runId ? `  ${o.runId}` : ""}${o.lagMs !== undefined ? `  lag ${o.lagMs} ms` : ""}${o.reason ? `  (${o.reason})` : ""}`,
          );
        }
      return EXIT.ok;
    }
    const runs = await store.listRuns(q);
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            runs: runs.map(({ steps, ...r }) => ({
              ...r,
              steps: steps.map((s) => ({ id: s.id, uses: s.uses, status: s.status, attempts: s.attempts, ...(s.error ? { error: s.error } : {}) })),
            })),
          },
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    if (runs.length === 0) {
      io.out("no runs recorded");
      return EXIT.ok;
    }
    for (const r of runs) {
      const color = r.status === "success" ? "green" : r.status === "running" || r.status === "queued" || r.status === "skipped" ? "yellow" : "red";
      const took = r.finishedAt && r.startedAt ? `${r.finishedAt - r.startedAt} ms` : "";
      io.out(
        `${r.id}  ${paint(io, color, r.status.padEnd(11))}  ${r.library}/${r.workflow}  ${r.trigger.kind}  ${new Date(r.createdAt).toISOString()}  ${took}${r.reason ? `  (${r.reason})` : ""}`,
      );
    }
    return EXIT.ok;
  },
};
