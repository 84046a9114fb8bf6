// The body merger of the layer merge (library/merge.ts): `git merge-file -p --diff3` on temp files,
// run without a shell through workflows/git.ts, then the insert/insert rule on its output: a
// conflict hunk whose base part is empty (both sides inserted at the same place) keeps both
// blocks, upstream first, when they share no line; every other hunk stays a conflict.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MARKER_LABELS, type MergeText, type TextMerge } from "../library/merge.ts";
import { git } from "./git.ts";
import { ActionError } from "./actions/types.ts";

export type Diff3Hunk = { ours: string[]; base: string[]; theirs: string[] };
/** diff3 output as runs of merged lines and conflict hunks. */
export type Diff3Part = { kind: "text"; lines: string[] } | { kind: "conflict"; hunk: Diff3Hunk };

/**
 * The marker length that no line of the inputs starts with (at least git's 7): a markdown setext
 * underline `=======` in a body must not be read as a marker.
 */
export function markerSize(...texts: string[]): number {
  let longest = 0;
  for (const t of texts) {
    for (const m of t.matchAll(/^(<+|=+|>+|\|+)/gm)) longest = Math.max(longest, m[1]!.length);
  }
  return Math.max(7, longest + 1);
}

/** Parses `git merge-file --diff3` output written with markers of `size` characters. */
export function parseDiff3(text: string, size: number): Diff3Part[] {
  const open = "<".repeat(size);
  const mid = "|".repeat(size);
  const sep = "=".repeat(size);
  const close = ">".repeat(size);
  const parts: Diff3Part[] = [];
  const lines = text.split("\n");
  const tail = lines.pop();
  let textRun: string[] = [];
  let hunk: Diff3Hunk | undefined;
  let section: "ours" | "base" | "theirs" = "ours";
  for (const line of lines) {
    if (!hunk && (line === open || line.startsWith(open + " "))) {
      if (textRun.length) parts.push({ kind: "text", lines: textRun });
      textRun = [];
      hunk = { ours: [], base: [], theirs: [] };
      section = "ours";
    } else if (hunk && section === "ours" && (line === mid || line.startsWith(mid + " "))) section = "base";
    else if (hunk && section !== "theirs" && line === sep) section = "theirs";
    else if (hunk && section === "theirs" && (line === close || line.startsWith(close + " "))) {
      parts.push({ kind: "conflict", hunk });
      hunk = undefined;
    } else if (hunk) hunk[section].push(line);
    else textRun.push(line);
  }
  if (hunk) throw new Error("unterminated conflict hunk in git merge-file output");
  if (tail) textRun.push(tail);
  if (textRun.length) parts.push({ kind: "text", lines: textRun });
  return parts;
}

/** Both sides inserted at one place, different blocks sharing no non-blank line: keep both. */
export function isInsertInsert(h: Diff3Hunk): boolean {
  if (h.base.length !== 0 || h.ours.length === 0 || h.theirs.length === 0) return false;
  const mine = new Set(h.ours.filter((l) => l.trim() !== ""));
  return !h.theirs.some((l) => l.trim() !== "" && mine.has(l));
}

/** Applies the insert/insert rule (or, with `union`, keeps both sides of every hunk) and renders the rest with markers. */
export function resolveDiff3(parts: Diff3Part[], size: number, union: boolean): TextMerge {
  const out: string[] = [];
  let conflicts = 0;
  for (const p of parts) {
    if (p.kind === "text") {
      out.push(...p.lines);
      continue;
    }
    const h = p.hunk;
    if (isInsertInsert(h)) out.push(...h.theirs, ...h.ours);
    else if (union) {
      const seen = new Set(h.theirs);
      out.push(...h.theirs, ...h.ours.filter((l) => l.trim() === "" || !seen.has(l)));
    } else {
      conflicts++;
      out.push(
        `${"<".repeat(size)} ${MARKER_LABELS.ours}`,
        ...h.ours,
        `${"|".repeat(size)} ${MARKER_LABELS.base}`,
        ...h.base,
        "=".repeat(size),
        ...h.theirs,
        `${">".repeat(size)} ${MARKER_LABELS.theirs}`,
      );
    }
  }
  return { text: out.length ? out.join("\n") + "\n" : "", conflicts };
}

/**
 * `git merge-file -p --diff3` of three texts, parsed. Texts are written to a private temp folder
 * (0700) that is removed afterwards; git gets only file names, never content.
 */
export async function runDiff3(base: string, ours: string, theirs: string): Promise<{ parts: Diff3Part[]; size: number }> {
  const size = markerSize(base, ours, theirs);
  const dir = mkdtempSync(join(tmpdir(), "aicfg-merge-"));
  try {
    writeFileSync(join(dir, "ours"), ours, { mode: 0o600 });
    writeFileSync(join(dir, "base"), base, { mode: 0o600 });
    writeFileSync(join(dir, "theirs"), theirs, { mode: 0o600 });
    const r = await git(
      [
        "merge-file",
        "-p",
        "--diff3",
        `--marker-size=${size}`,
        "-L",
        MARKER_LABELS.ours,
        "-L",
        MARKER_LABELS.base,
        "-L",
        MARKER_LABELS.theirs,
        "--",
        "ours",
        "base",
        "theirs",
      ],
      { cwd: dir, timeoutMs: 30_000 },
    );
    // Exit status: the number of conflicts (capped at 127), 255 (-1) on an error.
    if (r.code < 0 || r.code > 127)
      throw new ActionError("merge-failed", `git merge-file failed: ${r.stderr.trim().split("\n")[0] ?? ""}`, { retryable: false });
    return { parts: parseDiff3(r.stdout, size), size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The body merger of the layer merge: diff3, then the insert/insert rule (or union). */
export const gitMergeText: MergeText = async (base, ours, theirs, opts) => {
  const { parts, size } = await runDiff3(base, ours, theirs);
  return resolveDiff3(parts, size, opts.union);
};
