// `aicfg` entry point: finds the command, parses its options, prints help and maps errors to
// exit codes. Everything user-facing about the CLI (help, --json, NO_COLOR, exit codes) is here.
import { parseArgs } from "node:util";
import { AicfgError } from "../../library/diagnostics.ts";
import { EXIT, type CliIO, type Command } from "./command.ts";
import { COMMANDS, loadAllCommands, type CommandEntry } from "./commands/index.ts";
import { paint } from "./format.ts";
import { VERSION } from "../version.ts";

export function defaultIO(): CliIO {
  const env = process.env;
  const tty = !!process.stderr.isTTY;
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    color: !!process.stdout.isTTY && !("NO_COLOR" in env && env.NO_COLOR !== "") && env.TERM !== "dumb" && !env.CI,
    tty: tty && !env.CI,
    cwd: process.cwd(),
    env,
  };
}

function findCommand(argv: string[]): { cmd: CommandEntry | undefined; rest: string[] } {
  // Longest match first, so "token create" wins over "token".
  for (let n = Math.min(3, argv.length); n >= 1; n--) {
    const name = argv.slice(0, n).join(" ");
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd) return { cmd, rest: argv.slice(n) };
  }
  return { cmd: undefined, rest: argv };
}

export function commandHelp(cmd: Command, io: Pick<CliIO, "color">): string {
  const lines = [`${paint(io, "bold", "aicfg " + cmd.name)} — ${cmd.summary}`, "", `Usage: ${cmd.usage}`];
  if (cmd.description) lines.push("", cmd.description);
  const opts = Object.entries(cmd.options);
  if (opts.length) {
    lines.push("", "Options:");
    const rows = opts.map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
      return [flag, o.description + (o.multiple ? " (repeatable)" : "")] as const;
    });
    const width = Math.max(...rows.map((r) => r[0].length)) + 2;
    for (const [f, d] of rows) lines.push(`  ${f.padEnd(width)}${d}`);
  }
  if (cmd.examples.length) {
    lines.push("", "Examples:");
    for (const e of cmd.examples) lines.push(`  ${e}`);
  }
  return lines.join("\n");
}

export async function mainHelp(io: Pick<CliIO, "color">): Promise<string> {
  const commands = await loadAllCommands();
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `${paint(io, "bold", "aicfg")} ${VERSION} — one definition of your AI agents, exported to every AI tool`,
    "",
    "Usage: aicfg <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'aicfg <command> --help' for the options and examples of a command.",
    "Exit codes: 0 ok, 1 failure (errors, stale exports with --check), 2 usage, 3 drift or conflicts (need --force).",
  ].join("\n");
}

export async function runCli(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    if (argv[0] === "help" && argv[1]) return runCli([...argv.slice(1), "--help"], io);
    io.out(await mainHelp(io));
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "-v" || argv[0] === "version") {
    io.out(VERSION);
    return EXIT.ok;
  }
  // Before the options are parsed: a usage error of a `--json` call is still answered in JSON.
  const beforeDashes = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  const wantsJson = beforeDashes.includes("--json");
  const { cmd: found, rest } = findCommand(argv);
  if (!found) {
    const prefix = COMMANDS.filter((c) => c.name.startsWith(argv[0]! + " "));
    const words = argv.slice(0, 2).filter((a) => !a.startsWith("-"));
    const message = words.length ? `unknown command '${words.join(" ")}'` : `'${argv[0]}' is not a command (options go after the command)`;
    const hint = prefix.length ? `Did you mean: ${prefix.map((c) => "aicfg " + c.name).join(", ")}?` : "Run 'aicfg --help' to list the commands.";
    if (wantsJson) printJsonError(io, { code: "usage", message, hint });
    else {
      io.err(paint(io, "red", `error: ${message}`));
      io.err(hint);
    }
    return EXIT.usage;
  }
  const cmd = await found.load();
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: "boolean", short: "h" } },
      allowPositionals: cmd.positionals !== false,
      strict: true,
    });
  } catch (e) {
    const hint = `Run 'aicfg ${cmd.name} --help' for the options.`;
    if (wantsJson) printJsonError(io, { code: "usage", message: (e as Error).message, hint });
    else {
      io.err(paint(io, "red", `error: ${(e as Error).message}`));
      io.err(hint);
    }
    return EXIT.usage;
  }
  const values = parsed.values as ParsedArgsValues;
  if (values.help) {
    io.out(commandHelp(cmd, io));
    return EXIT.ok;
  }
  const jsonMode = values.json === true;
  const cmdIO: CliIO = jsonMode ? { ...io, color: false, tty: false } : io;
  try {
    return await cmd.run({ values, positionals: parsed.positionals }, cmdIO);
  } catch (e) {
    if (e instanceof AicfgError) {
      if (jsonMode) printJsonError(io, e.toJSON());
      else {
        const where = e.file ? `${e.file}${e.line !== undefined ? `:${e.line}:${e.col ?? 1}` : ""}  ` : "";
        io.err(paint(io, "red", `${where}error: ${e.message}`));
        if (e.hint) io.err(`hint: ${e.hint}`);
      }
      return USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failure;
    }
    if (jsonMode)
      printJsonError(io, {
        code: "internal",
        message: (e as Error).message ?? String(e),
        hint: "this is a bug in aicfg: please report it with the command you ran",
      });
    io.err(paint(io, "red", `internal error: ${(e as Error).stack ?? String(e)}`));
    io.err("This is a bug in aicfg. Please report it with the command you ran.");
    return EXIT.internal;
  }
}

/** Errors that mean "run it differently" (a flag, or an address that is taken): exit 2, like bad usage. */
const USAGE_CODES = new Set(["usage", "address-in-use"]);

type JsonError = { code: string; message: string; hint?: string; details?: unknown };

/** The one shape of a failure in JSON mode, on stdout (where the caller's JSON parser reads). */
function printJsonError(io: CliIO, error: JsonError): void {
  io.out(JSON.stringify({ ok: false, error }, null, 2));
}

type ParsedArgsValues = Record<string, string | boolean | string[] | undefined>;
