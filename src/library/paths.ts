// The one containment function every untrusted name goes through before it becomes a path
// (security rule 8): allowlist, decode once, no traversal, result strictly inside the root.
import { isAbsolute, relative, resolve, sep } from "node:path";
import { PathError } from "./diagnostics.ts";

const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Validates one path segment taken from user or event data (an agent name, a run id, a target). */
export function safeName(name: string, what = "name"): string {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    throw new PathError("unsafe-name", `${what} ${JSON.stringify(name)} is not valid percent-encoding`, {
      hint: "use letters, digits, '.', '_' and '-' only",
    });
  }
  if (decoded !== name || !SAFE_NAME.test(name) || name === "." || name === ".." || name.startsWith("-") || name.startsWith(".")) {
    throw new PathError("unsafe-name", `${what} ${JSON.stringify(name)} is not a safe name`, {
      hint: "use 1-128 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
    });
  }
  return name;
}

/**
 * Resolves a relative, slash-separated path under `root` and proves the result stays inside it.
 * Rejects absolute paths, `..` segments, NUL bytes, backslashes and leftover percent-encoding.
 */
export function resolveInside(root: string, relPath: string, what = "path"): string {
  if (relPath.includes("\0") || relPath.includes("\\")) {
    throw new PathError("unsafe-path", `${what} ${JSON.stringify(relPath)} contains a forbidden character`);
  }
  if (isAbsolute(relPath) || /^[A-Za-z]:/.test(relPath)) {
    throw new PathError("unsafe-path", `${what} ${JSON.stringify(relPath)} must be relative`, {
      hint: "paths in a library are relative to the library folder",
    });
  }
  const segments = relPath.split("/");
  if (segments.some((s) => s === "..")) {
    throw new PathError("path-traversal", `${what} ${JSON.stringify(relPath)} leaves its folder ('..')`, {
      hint: "remove the '..' segments",
    });
  }
  const base = resolve(root);
  const full = resolve(base, relPath);
  if (!isInside(base, full)) {
    throw new PathError("path-traversal", `${what} ${JSON.stringify(relPath)} resolves outside ${base}`);
  }
  return full;
}

/** True when `child` is `parent` itself or strictly below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

export function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}
