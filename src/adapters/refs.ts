// How an exported file names another file (a library knowledge file, or another exported file), so
// exports stay valid when the tree they live in is moved or cloned elsewhere. The one place this
// rule lives: an adapter only says what its tool resolves a relative reference against.
import { dirname, isAbsolute, parse, relative, resolve } from "node:path";
import { isInside, toPosix } from "../library/paths.ts";
import type { Roots } from "./types.ts";

/**
 * What the tool resolves a relative reference against:
 * - `{ file }`: the folder of the file that holds the reference (Claude Code `@` imports in CLAUDE.md,
 *   memory.md: "relative paths resolve relative to the file containing the import");
 * - `"cwd"`: the folder the tool runs in, which is the project root in project scope (Q / Kiro CLI
 *   `file://` resources: chat/context.rs joins a relative path onto the current folder; a file list a
 *   model opens with its Read tool).
 */
export type RefBase = { file: string } | "cwd";

/**
 * The reference to write for `target`. In project scope it is relative (posix `/`, possibly with
 * `..`) whenever the target and the project share a folder of their own (see sharesTree): both
 * then move together. Otherwise, and always in user scope (a user-wide agent runs from any folder,
 * so its working folder says nothing), it is `~/...` under the home folder, else the absolute path.
 */
export function portableRef(target: string, roots: Roots, base: RefBase): string {
  if (roots.scope === "project" && sharesTree(roots.projectRoot, target, roots.homeDir)) {
    const from = base === "cwd" ? roots.projectRoot : dirname(base.file);
    const rel = relative(from, target);
    if (rel !== "" && !isAbsolute(rel)) return toPosix(rel);
  }
  if (isInside(roots.homeDir, target) && target !== roots.homeDir) return `~/${toPosix(relative(roots.homeDir, target))}`;
  return toPosix(target);
}

/**
 * True when the deepest folder holding both paths is below the home folder or beside it, not the
 * home folder itself, one of its parents or a filesystem root. A relative path that climbs to `/`
 * (or across Windows drives) breaks as soon as either side moves; one that climbs to the home
 * folder is no sturdier than `~/`, which also survives moving the project within the home folder.
 */
export function sharesTree(a: string, b: string, homeDir: string): boolean {
  const rel = relative(a, b);
  if (isAbsolute(rel)) return false;
  const up = rel.split(/[\\/]/).filter((s) => s === "..").length;
  let common = resolve(a);
  for (let i = 0; i < up; i++) common = dirname(common);
  return common !== parse(common).root && !isInside(common, resolve(homeDir));
}
