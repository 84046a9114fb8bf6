// Which run store the read-only commands (`aicfg runs`, `aicfg logs`) read: the state folder's
// files by default, or, with `--config daemon.yaml`, the store that config names, so the run
// history of replicas on PostgreSQL is readable from any machine that has the config.
import { readPgUrl, resolveDaemonConfig } from "../config.ts";
import { openFileStore } from "../store/file-store.ts";
import { openPgStore } from "../store/pg/pg-store.ts";
import type { RunStore } from "../store/types.ts";
import type { CliIO, OptionSpec, ParsedArgs } from "./command.ts";
import { stateDir } from "./options.ts";

export const CONFIG_STORE_OPTION = {
  config: { type: "string", short: "c", valueName: "file", description: "read the run store this daemon.yaml names (its state_dir, or its PostgreSQL store)" },
} satisfies Record<string, OptionSpec>;

/** The store to read, and where it is (for messages; never the database URL). */
export async function openReadStore(args: ParsedArgs, io: CliIO): Promise<{ store: RunStore; where: string }> {
  if (typeof args.values.config !== "string") {
    const dir = stateDir(args, io);
    return { store: openFileStore(dir), where: dir };
  }
  const config = resolveDaemonConfig({ config: args.values.config }, io.cwd, io.env);
  if (config.store?.kind === "postgres") {
    const store = await openPgStore({ url: readPgUrl(config.store.urlFrom, io.env), instance: `cli-${process.pid}`, retries: 1 });
    return { store, where: `the PostgreSQL store of ${config.file}` };
  }
  const dir = typeof args.values["state-dir"] === "string" ? stateDir(args, io) : config.stateDir;
  return { store: openFileStore(dir), where: dir };
}
