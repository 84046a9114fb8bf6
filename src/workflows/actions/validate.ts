// `validate`: checks the library (schemas, references, layering) and its workflows, failing the
// run when there are errors (or warnings, with `strict: true`).
import { z } from "zod";
import { formatDiagnostic, type Diagnostic } from "../../library/diagnostics.ts";
import { loadLibraryWithLayers } from "../layers.ts";
import { validateLibrary } from "../../adapters/validate.ts";
import { validateWorkflows } from "../schema.ts";
import { ActionError, defineAction } from "./types.ts";

const ValidateWith = z.strictObject({
  strict: z.boolean().optional().describe("fail on warnings too"),
  workflows: z.boolean().optional().describe("also check workflow files (default true)"),
});

export const validateAction = defineAction({
  name: "validate",
  description: "validate the library and its workflows; fails the run on errors",
  with: ValidateWith,
  run: async (input, ctx) => {
    const { lib } = await loadLibraryWithLayers({ libraryRoot: ctx.libraryRoot, stateDir: ctx.stateDir, signal: ctx.signal }); // git layers at their pins
    // The same checks as `aicfg validate`: schemas, references, targets, names, sizes.
    const diagnostics: Diagnostic[] = validateLibrary(lib);
    if (input.workflows ?? true) diagnostics.push(...validateWorkflows(lib));
    const errors = diagnostics.filter((d) => d.severity === "error");
    const warnings = diagnostics.filter((d) => d.severity === "warning");
    const outputs = {
      errors: errors.length,
      warnings: warnings.length,
      agents: lib.agents.size,
      diagnostics: diagnostics.slice(0, 50).map((d) => formatDiagnostic(d, ctx.libraryRoot)),
    };
    for (const d of diagnostics.slice(0, 50)) ctx.log(d.severity === "error" ? "error" : "warn", formatDiagnostic(d, ctx.libraryRoot));
    if (errors.length > 0 || (input.strict && warnings.length > 0)) {
      const first = errors[0] ?? warnings[0]!;
      throw new ActionError(
        "invalid-library",
        `the library has ${errors.length} error(s) and ${warnings.length} warning(s); first: ${formatDiagnostic(first, ctx.libraryRoot)}`,
        { retryable: false },
      );
    }
    return { outputs, warnings: warnings.map((w) => formatDiagnostic(w, ctx.libraryRoot)) };
  },
});
