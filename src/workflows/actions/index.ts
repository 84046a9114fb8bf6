// The action registry: what a workflow step can `use`. A new built-in action is one new file here and
// one line below; a plugin's action goes into the same registry through `ctx.actions.register`.
import { createRegistry, type Registry } from "../../library/registry.ts";
import type { Action } from "./types.ts";
import { backupAction } from "./backup.ts";
import { exportAction } from "./export.ts";
import { healthAction } from "./health.ts";
import { notifyAction } from "./notify.ts";
import { shellAction } from "./shell.ts";
import { syncAction } from "./sync.ts";
import { validateAction } from "./validate.ts";

// Seeded on first use: `validate` imports the workflow schema, which imports this registry, so the
// built-ins must not be read while the modules are still being evaluated.
export const actionRegistry: Registry<Action> = createRegistry<Action>(
  "action",
  (a) => a.name,
  (register) => {
    for (const a of [exportAction, validateAction, syncAction, backupAction, healthAction, notifyAction, shellAction]) register(a as unknown as Action);
  },
);

export function listActions(): readonly Action[] {
  return actionRegistry.list();
}

export function getAction(name: string): Action | undefined {
  return actionRegistry.get(name);
}
