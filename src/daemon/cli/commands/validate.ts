// `aicfg validate`: every problem in the library in one pass, as file:line:col  message  (hint).
import { hasErrors } from "../../../library/diagnostics.ts";
import { registerLibraryCheck, validateLibrary } from "../../../adapters/validate.ts";
import { validateWorkflows } from "../../../workflows/schema.ts";

// Workflow files are part of a library: `aicfg validate` and `aicfg doctor` check them too.
registerLibraryCheck((lib) => validateWorkflows(lib));
import { EXIT, COMMON_OPTIONS, type Command } from "../command.ts";
import { paint, printDiagnostics } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, libraryDir } from "../options.ts";
import { loadLibraryPlugins } from "../library-plugins.ts";
import { loadCliLibrary } from "../library-load.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "check a library: schemas, references, globs, names, sizes, workflows",
  usage: "aicfg validate [--library DIR] [--json]",
  description: "Exit code 1 when there are errors, 0 when there are only warnings (or nothing).",
  options: { ...LIBRARY_OPTION, ...STATE_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg validate", "aicfg validate --library ~/team-library --json"],
  run: async (args, io) => {
    const root = libraryDir(args, io);
    const plugins = await loadLibraryPlugins(root, io, args.values.json === true);
    let lib: Awaited<ReturnType<typeof loadCliLibrary>>;
    let diagnostics: ReturnType<typeof validateLibrary>;
    try {
      lib = await loadCliLibrary(args, io, root);
      diagnostics = validateLibrary(lib);
    } finally {
      await plugins.stop();
    }
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    if (args.values.json) {
      io.out(JSON.stringify({ ok: errors === 0, library: lib.root, errors, warnings, diagnostics }, null, 2));
      return errors ? EXIT.failure : EXIT.ok;
    }
    printDiagnostics(io, diagnostics);
    const summary = `${lib.agents.size} agent(s), ${lib.knowledge.size} knowledge file(s), ${lib.mcp.size} MCP server(s) in ${lib.layers.length} layer(s): ${errors} error(s), ${warnings} warning(s)`;
    io.out(hasErrors(diagnostics) ? paint(io, "red", summary) : paint(io, "green", summary));
    return errors ? EXIT.failure : EXIT.ok;
  },
};
