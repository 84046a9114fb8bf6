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
  usage: "aicfg import <tool|phase2> [DIR] [--from DIR] [--into LIBRARY] [--force] [--strict] [--json]",
  description:
    "Inline MCP servers and the tool's MCP files go to the library's mcp/ registry, referenced files to knowledge/.\n" +
    "Existing library files are never replaced unless --force.\n" +
    "Ends with a summary: agents imported, and files skipped grouped by why. Exit code 1 when a file was skipped\n" +
    "for an error (the rest is still imported); with --strict any warning fails the import and nothing is written.\n" +
    "'aicfg import phase2 DIR' imports a library of the earlier Python version (roles/, common/, mcp-servers/).",
  options: {
    from: { type: "string", valueName: "dir", description: "where the tool's files are (default: this folder and your home)" },
    into: { type: "string", valueName: "dir", description: "the library to write into (default: the current folder)" },
    targets: { type: "string", valueName: "ids", description: "phase2 only: default targets of the new library (default q-cli,kiro-cli,claude-code)" },
    force: { type: "boolean", description: "replace library files that already exist" },
    strict: { type: "boolean", description: "fail on any warning, and write nothing then" },
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
      report = importNative({
        tool,
        ...(from ? { from } : {}),
        into,
        force: args.values.force === true,
        strict: args.values.strict === true,
        cwd: io.cwd,
        ...(io.env.HOME ? { home: io.env.HOME } : {}),
      });
    }
    // A file skipped for an error fails the import (the rest is written); --strict fails on any warning.
    const errors = report.warnings.some((w) => w.severity === "error") || (report.skipped ?? []).some((s) => s.error);
    const failed = errors || report.refused === true || (args.values.strict === true && report.warnings.length > 0);
    const summary = summaryLine(report);
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            ok: !failed,
            agents: report.agents,
            mcp: report.mcp,
            skipped: report.skipped ?? [],
            files: report.written,
            warnings: report.warnings,
            summary,
            ...(report.refused ? { refused: true } : {}),
          },
          null,
          2,
        ),
      );
      return failed ? EXIT.failure : EXIT.ok;
    }
    for (const w of report.written) {
      if (w.action === "skipped") continue;
      io.out(`  ${paint(io, "green", w.action.padEnd(8))} ${relative(io.cwd, w.path) || w.path}`);
    }
    const kept = report.written.filter((w) => w.action === "skipped").length;
    printDiagnostics(io, report.warnings);
    if (report.refused) {
      io.err(`--strict: ${report.warnings.length} warning(s), so nothing was written.`);
      io.out(summary);
      return EXIT.failure;
    }
    io.out(`${summary}${kept ? ` ${kept} existing file(s) kept (use --force to replace).` : ""}`);
    if (report.agents.length) io.out("Next: aicfg validate --library " + (relative(io.cwd, into) || "."));
    return failed ? EXIT.failure : EXIT.ok;
  },
};

/** `Imported 9 agent(s) and 2 MCP server(s); skipped 3: 1 duplicate name; errors: 2 invalid frontmatter.` */
export function summaryLine(report: ImportReport): string {
  const skipped = report.skipped ?? [];
  const head = `Imported ${report.agents.length} agent(s) and ${report.mcp.length} MCP server(s)`;
  if (!report.skipped) return `${head}.`;
  const group = (list: typeof skipped): string => {
    const counts = new Map<string, number>();
    for (const s of list) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
    return [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, n]) => `${n} ${reason}`)
      .join(", ");
  };
  const plain = skipped.filter((s) => !s.error);
  const errors = skipped.filter((s) => s.error);
  const parts = [plain.length ? group(plain) : "", errors.length ? `errors: ${group(errors)}` : ""].filter(Boolean);
  return `${head}; skipped ${skipped.length}${parts.length ? `: ${parts.join("; ")}` : ""}.`;
}
