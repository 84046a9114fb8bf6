// Every `aicfg` command, in the order `aicfg --help` lists them, loaded only when it runs (so
// `aicfg export` does not compile the daemon's, the API's or the importers' modules at start-up).
// A new command is one new file in this folder and one line here; a test checks the names match.
import type { Command } from "../command.ts";

export type CommandEntry = { name: string; load: () => Promise<Command> };

const entry = (name: string, load: () => Promise<Command>): CommandEntry => ({ name, load });

export const COMMANDS: readonly CommandEntry[] = [
  entry("export", async () => (await import("./export.ts")).exportCommand),
  entry("validate", async () => (await import("./validate.ts")).validateCommand),
  entry("import", async () => (await import("./import.ts")).importCommand),
  entry("explain", async () => (await import("./explain.ts")).explainCommand),
  entry("list", async () => (await import("./list.ts")).listCommand),
  entry("new agent", async () => (await import("./new.ts")).newCommand),
  entry("init", async () => (await import("./init.ts")).initCommand),
  entry("targets", async () => (await import("./targets.ts")).targetsCommand),
  entry("report", async () => (await import("./report.ts")).reportCommand),
  entry("doctor", async () => (await import("./doctor.ts")).doctorCommand),
  entry("tools", async () => (await import("./doctor.ts")).toolsCommand),
  entry("sync", async () => (await import("./library.ts")).syncCommand),
  entry("library add", async () => (await import("./library.ts")).libraryAddCommand),
  entry("library remove", async () => (await import("./library.ts")).libraryRemoveCommand),
  entry("library update", async () => (await import("./library.ts")).libraryUpdateCommand),
  entry("library adopt", async () => (await import("./library.ts")).libraryAdoptCommand),
  entry("library status", async () => (await import("./library.ts")).libraryStatusCommand),
  entry("library outdated", async () => (await import("./library.ts")).libraryOutdatedCommand),
  entry("migrate", async () => (await import("./migrate.ts")).migrateCommand),
  entry("service install", async () => (await import("./service.ts")).serviceInstallCommand),
  entry("service status", async () => (await import("./service.ts")).serviceStatusCommand),
  entry("token create", async () => (await import("./token.ts")).tokenCreateCommand),
  entry("token list", async () => (await import("./token.ts")).tokenListCommand),
  entry("token revoke", async () => (await import("./token.ts")).tokenRevokeCommand),
  entry("org list", async () => (await import("./tenancy.ts")).orgListCommand),
  entry("org create", async () => (await import("./tenancy.ts")).orgCreateCommand),
  entry("org quota", async () => (await import("./tenancy.ts")).orgQuotaCommand),
  entry("org delete", async () => (await import("./tenancy.ts")).orgDeleteCommand),
  entry("role list", async () => (await import("./tenancy.ts")).roleListCommand),
  entry("role create", async () => (await import("./tenancy.ts")).roleCreateCommand),
  entry("role delete", async () => (await import("./tenancy.ts")).roleDeleteCommand),
  entry("binding list", async () => (await import("./tenancy.ts")).bindingListCommand),
  entry("binding create", async () => (await import("./tenancy.ts")).bindingCreateCommand),
  entry("binding delete", async () => (await import("./tenancy.ts")).bindingDeleteCommand),
  entry("audit verify", async () => (await import("./audit.ts")).auditVerifyCommand),
  entry("audit export", async () => (await import("./audit.ts")).auditExportCommand),
  entry("secret set", async () => (await import("./secret.ts")).secretSetCommand),
  entry("secret get", async () => (await import("./secret.ts")).secretGetCommand),
  entry("secret list", async () => (await import("./secret.ts")).secretListCommand),
  entry("secret rm", async () => (await import("./secret.ts")).secretRmCommand),
  entry("secret rotate", async () => (await import("./secret.ts")).secretRotateCommand),
  entry("plugin list", async () => (await import("./plugin.ts")).pluginListCommand),
  entry("plugin add", async () => (await import("./plugin.ts")).pluginAddCommand),
  entry("plugin remove", async () => (await import("./plugin.ts")).pluginRemoveCommand),
  entry("plugin new", async () => (await import("./plugin.ts")).pluginNewCommand),
  entry("daemon", async () => (await import("./daemon.ts")).daemonCommand),
  entry("run", async () => (await import("./run.ts")).runCommand),
  entry("trigger", async () => (await import("./trigger.ts")).triggerCommand),
  entry("runs", async () => (await import("./runs.ts")).runsCommand),
  entry("logs", async () => (await import("./logs.ts")).logsCommand),
  entry("status", async () => (await import("./status.ts")).statusCommand),
  entry("resolve", async () => (await import("./resolve.ts")).resolveCommand),
  entry("backup verify", async () => (await import("./backup.ts")).backupVerifyCommand),
  entry("restore", async () => (await import("./backup.ts")).restoreCommand),
];

/** Every command, loaded (for `aicfg --help` and the generated README reference). */
export async function loadAllCommands(): Promise<Command[]> {
  return Promise.all(COMMANDS.map((c) => c.load()));
}
