// `aicfg import`: bring existing agents (Q CLI, Kiro CLI, Claude Code, ... or a Phase-2 library) into a library.
import { relative } from "node:path";
import { importNative, importableTools } from "../../../adapters/import/native.ts";
import { importPhase2, type ImportReport } from "../../../adapters/import/phase2.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint, printDiagnostics } from "../format.ts";
import { listOption } from "../options.ts";

export const importCommand: Command = {
  name: "import",
  summary: "turn existing agents of an AI tool (or a Phase-2 library) into library agents",
  usage: "aicfg import <tool|phase2> [DIR] [--from DIR] [--into LIBRARY] [--force] [--json]",
  description:
    "Inline MCP servers go to the library's mcp/ registry, referenced files to knowledge/.\n" +
    "Existing library files are never replaced unless --force.\n" +
    "'aicfg import phase2 DIR' imports a library of the earlier Python version (roles/, common/, mcp-servers/).",
  options: {
    from: { type: "string", valueName: "dir", description: "where the tool's files are (default: this folder and your home)" },
    into: { type: "string", valueName: "dir", description: "the library to write into (default: the current folder)" },
    targets: { type: "string", valueName: "ids", description: "phase2 only: default targets of the new library (default q-cli,kiro-cli,claude-code)" },
    force: { type: "boolean", description: "replace library files that already exist" },
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg import q-cli --into ./my-library",
    "aicfg import claude-code --from ~/code/app --into ./my-library",
    "aicfg import phase2 ~/.config/ai-configurator/library/base --into ./my-library",
  ],
  run: async (args, io) => {
    const tool = args.positionals[0];
    if (!tool) throw new ConfigError("usage", "which tool? e.g. 'aicfg import q-cli'", { hint: `importable: ${importableTools().join(", ")}, phase2` });
    const into = (args.values.into as string | undefined) ?? io.cwd;
    const from = (args.values.from as string | undefined) ?? args.positionals[1];
    let report: ImportReport;
    if (tool === "phase2") {
      if (!from) throw new ConfigError("usage", "'aicfg import phase2' needs the Phase-2 library folder", { hint: "aicfg import phase2 DIR --into LIBRARY" });
      report = importPhase2(from.startsWith("/") ? from : `${io.cwd}/${from}`, into.startsWith("/") ? into : `${io.cwd}/${into}`, {
        force: args.values.force === true,
        ...(listOption(args.values.targets) ? { targets: listOption(args.values.targets)! } : {}),
      });
    } else {
      report = importNative({ tool, ...(from ? { from } : {}), into, force: args.values.force === true, cwd: io.cwd });
    }
    if (args.values.json) {
      io.out(JSON.stringify({ ok: true, agents: report.agents, mcp: report.mcp, files: report.written, warnings: report.warnings }, null, 2));
      return EXIT.ok;
    }
    for (const w of report.written) {
      if (w.action === "skipped") continue;
      io.out(`  ${paint(io, "green", w.action.padEnd(8))} ${relative(io.cwd, w.path) || w.path}`);
    }
    const skipped = report.written.filter((w) => w.action === "skipped").length;
    printDiagnostics(io, report.warnings);
    io.out(`Imported ${report.agents.length} agent(s) and ${report.mcp.length} MCP server(s)${skipped ? `; ${skipped} existing file(s) kept (use --force to replace)` : ""}.`);
    io.out("Next: aicfg validate --library " + (relative(io.cwd, into) || "."));
    return EXIT.ok;
  },
};
