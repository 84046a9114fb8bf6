// The context-budget check as `aicfg export` runs it after a render (src/adapters/budget.ts), for
// adapter tests that render directly.
import { budgetWarning, measureBudget } from "../../src/adapters/budget.ts";
import type { Diagnostic } from "../../src/library/diagnostics.ts";
import type { Adapter, RenderResult } from "../../src/adapters/types.ts";

/** The render's own warnings plus the budget warning export adds when always-loaded text is over budget. */
export function warningsWithBudget(adapter: Adapter, r: RenderResult): Diagnostic[] {
  const over = budgetWarning(adapter.id, measureBudget(adapter.budget, r.files));
  return over ? [...r.warnings, over] : r.warnings;
}
