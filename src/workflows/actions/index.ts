// The built-in actions a workflow step can `use`. A new action is one new file here and one line below.
import type { Action } from "./types.ts";
import { backupAction } from "./backup.ts";
import { exportAction } from "./export.ts";
import { healthAction } from "./health.ts";
import { notifyAction } from "./notify.ts";
import { shellAction } from "./shell.ts";
import { syncAction } from "./sync.ts";
import { validateAction } from "./validate.ts";

// Built on first use: `validate` imports the workflow schema, which imports this registry, so the
// list must not be read while the modules are still being evaluated.
let actions: readonly Action[] | undefined;

export function listActions(): readonly Action[] {
  actions ??= [exportAction, validateAction, syncAction, backupAction, healthAction, notifyAction, shellAction] as unknown as Action[];
  return actions;
}

export function getAction(name: string): Action | undefined {
  return listActions().find((a) => a.name === name);
}
