// Options several commands share (--library, --state-dir, --target, ...) and how they resolve.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../../library/diagnostics.ts";
import { defaultStateDir } from "../../adapters/export-record.ts";
import type { CliIO, OptionSpec, ParsedArgs } from "./command.ts";

export const LIBRARY_OPTION = {
  library: { type: "string", short: "l", valueName: "dir", description: "the library folder (default: $AICFG_LIBRARY, else the current folder)" },
} satisfies Record<string, OptionSpec>;

export const STATE_OPTION = {
  "state-dir": { type: "string", valueName: "dir", description: "state folder (default: $AICFG_STATE_DIR, else $XDG_STATE_HOME/aicfg)" },
} satisfies Record<string, OptionSpec>;

export function libraryDir(args: ParsedArgs, io: CliIO): string {
  const given = (args.values.library as string | undefined) ?? io.env.AICFG_LIBRARY;
  if (given) return resolve(io.cwd, given);
  if (existsSync(resolve(io.cwd, "aicfg.yaml"))) return io.cwd;
  throw new ConfigError("usage", "no library given and the current folder has no aicfg.yaml", {
    hint: "pass --library DIR, set AICFG_LIBRARY, or run 'aicfg init' to create a library here",
  });
}

export function stateDir(args: ParsedArgs, io: CliIO): string {
  const given = args.values["state-dir"] as string | undefined;
  return given ? resolve(io.cwd, given) : defaultStateDir(io.env);
}

/** `--target a,b --target c` -> ["a","b","c"]. */
export function listOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const raw = Array.isArray(value) ? value : [value];
  const out = raw
    .flatMap((v) => String(v).split(","))
    .map((s) => s.trim())
    .filter(Boolean);
  return out.length ? out : undefined;
}
