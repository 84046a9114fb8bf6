// `aicfg logs <run-id>`: one run's steps and its log lines, read from the state folder.
import { ConfigError } from "../../../library/diagnostics.ts";
import { safeName } from "../../../library/paths.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { STATE_OPTION } from "../options.ts";
import { CONFIG_STORE_OPTION, openReadStore } from "../store-option.ts";
import { printRun } from "./run.ts";

export const logsCommand: Command = {
  name: "logs",
  summary: "show a run's steps and log lines",
  usage: "aicfg logs <run-id> [--state-dir DIR | --config daemon.yaml] [--json]",
  options: { ...STATE_OPTION, ...CONFIG_STORE_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg logs 20261124T052200123Z-1a2b3c4d", "aicfg logs cron-0a1b2c3d4e-20261124T060000Z --json"],
  run: async (args, io) => {
    const id = args.positionals[0];
    if (!id || args.positionals.length > 1) throw new ConfigError("usage", "name one run: aicfg logs <run-id>", { hint: "list runs with 'aicfg runs'" });
    safeName(id, "run id");
    const { store, where } = await openReadStore(args, io);
    const run = await store.getRun(id);
    if (!run)
      throw new ConfigError("run-not-found", `no run ${id} in ${where}`, {
        hint: "list runs with 'aicfg runs' (and pass the daemon's --state-dir, or --config for its store)",
      });
    const lines = await store.readLog(id);
    if (args.values.json) {
      io.out(JSON.stringify({ run, log: lines }, null, 2));
      return EXIT.ok;
    }
    printRun(io, run);
    for (const l of lines) io.out(`${new Date(l.at).toISOString()} ${l.level.padEnd(5)} ${l.step ? `[${l.step}] ` : ""}${l.message}`);
    return EXIT.ok;
  },
};
