// The shape of a CLI command: its help text, options (node:util parseArgs) and a run function
// returning the exit code. Output goes through `io` so tests can capture it.
import type { ParseArgsConfig } from "node:util";

export type CliIO = {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colors allowed (a terminal, no NO_COLOR, not --json). */
  color: boolean;
  /** stderr is a terminal: progress may be shown. */
  tty: boolean;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Where the daemon's log lines go (default: a buffered destination on stderr); tests capture them here. */
  log?: { write: (line: string) => void };
};

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & { description: string; valueName?: string };

export type ParsedArgs = {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

export type Command = {
  /** e.g. "export" or "token create" (sub-commands are written with a space). */
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  /** Allow positional arguments (default true). */
  positionals?: boolean;
  run: (args: ParsedArgs, io: CliIO) => Promise<number>;
};

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** Validation errors, out-of-date exports with --check, failed runs. */
  failure: 1,
  /** Bad usage: unknown command or option; the listen address is taken. */
  usage: 2,
  /** Drift or conflicts that need --force. */
  drift: 3,
  /** Could not reach the daemon / internal error. */
  internal: 70,
} as const;

export const COMMON_OPTIONS = {
  json: { type: "boolean", description: "print machine-readable JSON on stdout" },
  help: { type: "boolean", short: "h", description: "show this help" },
} satisfies Record<string, OptionSpec>;
