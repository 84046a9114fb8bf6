// `aicfg report`: the dashboard's library analytics (agents x targets, sizes, staleness, always-loaded
// context per agent per tool against each tool's budget) as Markdown for a PR comment or as a
// standalone HTML page for a CI artifact. A dry run: nothing is exported.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { atomicWrite } from "../../../adapters/atomic.ts";
import { libraryAnalytics } from "../../../adapters/analytics.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { analyticsHtml, analyticsMarkdown } from "../../ui/analytics-view.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { loadCliLibrary } from "../library-load.ts";
import { LIBRARY_OPTION, STATE_OPTION, libraryDir, listOption, stateDir } from "../options.ts";

export const reportCommand: Command = {
  name: "report",
  summary: "report the library's analytics (export matrix, sizes, context budgets) as Markdown or HTML",
  usage: "aicfg report [--format md|html] [--out FILE] [--target ID]... [--library DIR] [--json]",
  description:
    "Renders what the dashboard's matrix and health pages show, from a dry-run export (nothing is written but --out). Markdown suits a pull-request comment, HTML a CI artifact.",
  options: {
    ...LIBRARY_OPTION,
    format: { type: "string", valueName: "md|html", description: "md (default) or html" },
    out: { type: "string", short: "o", valueName: "file", description: "write the report to this file instead of stdout" },
    target: { type: "string", multiple: true, valueName: "id", description: "only these targets (default: the targets the agents name)" },
    scope: { type: "string", valueName: "project|user", description: "the export scope to compare with (default: the library's)" },
    root: { type: "string", valueName: "dir", description: "the project root (or home folder) the exports live in" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: [
    "aicfg report",
    "aicfg report --format html --out artifacts/library-report.html",
    "aicfg report --target claude-code --target codex > report.md",
    "aicfg report --json | jq '.budgets[] | select(.share > 1)'",
  ],
  run: async (args, io) => {
    const format = (args.values.format as string | undefined) ?? "md";
    if (format !== "md" && format !== "html")
      throw new ConfigError("usage", `--format ${JSON.stringify(format)} is not md or html`, { hint: "use --format md (Markdown) or --format html" });
    const scope = args.values.scope as string | undefined;
    if (scope !== undefined && scope !== "project" && scope !== "user")
      throw new ConfigError("usage", `--scope ${JSON.stringify(scope)} is not project or user`, { hint: "use --scope project or --scope user" });
    const lib = await loadCliLibrary(args, io, libraryDir(args, io));
    const targets = listOption(args.values.target);
    const a = libraryAnalytics({
      library: lib,
      stateDir: stateDir(args, io),
      ...(targets ? { targets } : {}),
      ...(scope ? { scope } : {}),
      ...(args.values.root ? { root: resolve(io.cwd, args.values.root as string) } : {}),
    });
    const text = args.values.json ? JSON.stringify(a, null, 2) + "\n" : format === "html" ? analyticsHtml(a) : analyticsMarkdown(a);
    const out = args.values.out as string | undefined;
    if (out) {
      const file = resolve(io.cwd, out);
      mkdirSync(dirname(file), { recursive: true });
      atomicWrite(file, text, 0o644);
      io.err(`report written to ${file}`);
    } else io.out(text.replace(/\n$/, ""));
    for (const e of a.errors) io.err(`error: ${e.message}`);
    return a.errors.length ? EXIT.failure : EXIT.ok;
  },
};
