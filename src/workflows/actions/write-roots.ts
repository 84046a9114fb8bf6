// Where actions may write: a folder an export or a backup is aimed at must be one of the allowed
// roots (from the daemon config) or inside one. Compared after resolving symlinks in the part of
// the path that exists, so a link inside an allowed root cannot point the write elsewhere.
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { isInside } from "../../library/paths.ts";
import { ActionError } from "./types.ts";

/** `p` with every symlink in its longest existing prefix resolved (the rest is kept as written). */
function realPrefix(p: string): string {
  const abs = resolve(p);
  const rest: string[] = [];
  let cur = abs;
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) return abs;
    rest.unshift(basename(cur));
    cur = up;
  }
  try {
    return join(realpathSync(cur), ...rest);
  } catch {
    return abs;
  }
}

/** True when `folder` is one of `allowed` or inside one (symlinks resolved on both sides). */
function insideAllowed(folder: string, allowed: readonly string[]): boolean {
  const real = realPrefix(folder);
  return allowed.some((a) => isInside(realPrefix(a), real));
}

/**
 * Throws a non-retryable ActionError unless `folder` is allowed. `setting` names the daemon.yaml
 * key that would allow it, for the hint.
 */
export function requireAllowedFolder(folder: string, allowed: readonly string[], what: string, setting: string): void {
  if (insideAllowed(folder, allowed)) return;
  throw new ActionError("write-root-not-allowed", `${what} ${folder} is not inside an allowed folder (${allowed.join(", ") || "none"})`, {
    retryable: false,
    hint: `add the folder to ${setting} in the daemon config, or aim the step at one of the allowed folders`,
  });
}
