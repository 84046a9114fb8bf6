// Every `aicfg` command, in the order `aicfg --help` lists them. A new command is one new file
// in this folder and one line here.
import type { Command } from "../command.ts";
import { exportCommand } from "./export.ts";
import { validateCommand } from "./validate.ts";
import { importCommand } from "./import.ts";
import { explainCommand } from "./explain.ts";
import { listCommand } from "./list.ts";
import { newCommand } from "./new.ts";
import { initCommand } from "./init.ts";
import { targetsCommand } from "./targets.ts";
import { doctorCommand, toolsCommand } from "./doctor.ts";
import { migrateCommand } from "./migrate.ts";
import { serviceInstallCommand, serviceStatusCommand } from "./service.ts";
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from "./token.ts";
import { daemonCommand } from "./daemon.ts";
import { runCommand } from "./run.ts";
import { triggerCommand } from "./trigger.ts";
import { runsCommand } from "./runs.ts";
import { logsCommand } from "./logs.ts";
import { backupVerifyCommand, restoreCommand } from "./backup.ts";

export const COMMANDS: readonly Command[] = [
  exportCommand,
  validateCommand,
  importCommand,
  explainCommand,
  listCommand,
  newCommand,
  initCommand,
  targetsCommand,
  doctorCommand,
  toolsCommand,
  migrateCommand,
  serviceInstallCommand,
  serviceStatusCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  daemonCommand,
  runCommand,
  triggerCommand,
  runsCommand,
  logsCommand,
  backupVerifyCommand,
  restoreCommand,
];
