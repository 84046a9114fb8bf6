// The ownership manifest: every file (or key, table, section of a shared file) we wrote, with the
// hash of what we wrote. We only update or delete what it lists and what is unchanged since.
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { ConfigError, type Diagnostic } from "../library/diagnostics.ts";
import { atomicWrite, ensureDirNoSymlinks } from "./atomic.ts";

export const OwnedEntry = z.object({
  path: z.string(),
  target: z.string(),
  kind: z.enum(["file", "json-keys", "toml-tables", "md-section"]),
  root: z.string(),
  scope: z.enum(["project", "user"]),
  agent: z.string().optional(),
  /** file: hash of the content; md-section: hash of the block; keys/tables: hash of all owned values. */
  hash: z.string(),
  /** json-keys / toml-tables: JSON-encoded key path -> hash of its value. */
  keys: z.record(z.string(), z.string()).optional(),
  /** json-keys: one-line objects we laid out over lines to insert into, as they were (given back once ours are gone). */
  layouts: z.array(z.object({ path: z.array(z.string()), chain: z.array(z.string()), text: z.string(), indent: z.string() })).optional(),
  /** Size and mtime of the whole file right after our write, for a read-free "unchanged" check. */
  size: z.number().optional(),
  mtimeMs: z.number().optional(),
  writtenAt: z.string(),
});
export type OwnedEntry = z.infer<typeof OwnedEntry>;

export const OwnedFileManifest = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), OwnedEntry),
  /** Per target+scope+root: a fingerprint of the inputs of the last successful export. */
  cache: z.record(
    z.string(),
    z.object({
      fingerprint: z.string(),
      paths: z.array(z.string()),
      /** Library files the render read (path, size, mtime): content changes there invalidate the cache. */
      reads: z.array(z.tuple([z.string(), z.number(), z.number()])).default([]),
      /** The target's always-loaded figures at that export (budget.ts), reported again when nothing changed. */
      budget: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
export type OwnedFileManifest = z.infer<typeof OwnedFileManifest>;

export const MANIFEST_NAME = "exports.json";

export function entryKey(path: string, target: string): string {
  return `${path}\u0000${target}`;
}

export function emptyManifest(): OwnedFileManifest {
  return { version: 1, entries: {}, cache: {} };
}

export function loadManifest(stateDir: string): OwnedFileManifest {
  const file = join(stateDir, MANIFEST_NAME);
  if (!existsSync(file)) return emptyManifest();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError("manifest-corrupt", `the ownership manifest ${file} is not valid JSON: ${(e as Error).message}`, {
      file,
      hint: "restore it from a backup (aicfg restore) or move it away; without it aicfg treats every exported file as foreign and touches none",
    });
  }
  const parsed = OwnedFileManifest.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError("manifest-corrupt", `the ownership manifest ${file} has an unexpected shape`, {
      file,
      hint: "restore it from a backup or move it away (files are then treated as foreign and left alone)",
    });
  }
  return parsed.data;
}

export function saveManifest(stateDir: string, manifest: OwnedFileManifest): void {
  ensureDirNoSymlinks(stateDir, stateDir, 0o700);
  atomicWrite(join(stateDir, MANIFEST_NAME), JSON.stringify(manifest, null, 1) + "\n", 0o600);
}

// ---------- the committed project manifest ----------
// The per-user manifest above lives in the state folder, so a fresh clone or a CI runner has none.
// For project-scope exports the project also keeps `.aicfg/exports.json`: what each output is
// (target, kind, agent) and the hash of what aicfg wrote, with paths relative to the project root,
// sorted, and nothing that changes between runs (no timestamps, no absolute paths), so it can be
// committed beside the exports. An output it lists with a matching hash is ours without any state.

export const PROJECT_MANIFEST = join(".aicfg", "exports.json");

const ProjectEntry = z.strictObject({
  kind: OwnedEntry.shape.kind,
  agent: z.string().optional(),
  hash: z.string(),
  keys: z.record(z.string(), z.string()).optional(),
});
export const ProjectManifest = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  /** Output path relative to the project root (POSIX) -> target -> what aicfg wrote there. */
  files: z.record(z.string(), z.record(z.string(), ProjectEntry)),
});
export type ProjectManifest = z.infer<typeof ProjectManifest>;

const PROJECT_COMMENT = "Written by aicfg export: the files it exported here and their hashes. Commit it with them; 'aicfg export --check' uses it.";

/**
 * Reads `.aicfg/exports.json` of a project root as ownership entries (absolute paths).
 * A file that is not ours is an error diagnostic, and it is never overwritten.
 */
export function loadProjectManifest(projectRoot: string): { entries: OwnedEntry[]; error?: Diagnostic } {
  const file = join(projectRoot, PROJECT_MANIFEST);
  if (!existsSync(file)) return { entries: [] };
  let parsed: ProjectManifest;
  try {
    const r = ProjectManifest.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; "));
    parsed = r.data;
  } catch (e) {
    return {
      entries: [],
      error: {
        severity: "error",
        code: "project-manifest-invalid",
        message: `${PROJECT_MANIFEST} is not an aicfg export manifest (${(e as Error).message}); left untouched`,
        file,
        hint: "restore it from git, or delete it and export again (committed exports then count as foreign once)",
      },
    };
  }
  const entries: OwnedEntry[] = [];
  for (const [rel, byTarget] of Object.entries(parsed.files)) {
    const abs = resolve(projectRoot, rel);
    // Never trust a committed path that leaves the project.
    if (isAbsolute(rel) || !abs.startsWith(projectRoot + sep)) continue;
    for (const [target, e] of Object.entries(byTarget)) {
      entries.push({
        path: abs,
        target,
        kind: e.kind,
        root: projectRoot,
        scope: "project",
        ...(e.agent ? { agent: e.agent } : {}),
        hash: e.hash,
        ...(e.keys ? { keys: e.keys } : {}),
        writtenAt: "",
      });
    }
  }
  return { entries };
}

/**
 * Adds the committed entries to the per-user manifest: an entry the user's state lacks, or records
 * with another hash (a teammate's export came in with `git pull`), is taken from the project.
 */
export function mergeProjectManifest(manifest: OwnedFileManifest, committed: readonly OwnedEntry[]): void {
  for (const e of committed) {
    const key = entryKey(e.path, e.target);
    const mine = manifest.entries[key];
    if (mine && mine.hash === e.hash && JSON.stringify(mine.keys ?? null) === JSON.stringify(e.keys ?? null)) continue;
    // Without size and mtime the planner reads the file and compares hashes (no read-free shortcut).
    manifest.entries[key] = { ...e, writtenAt: mine?.writtenAt ?? e.writtenAt };
  }
}

/** The deterministic text of `.aicfg/exports.json` for a project root; undefined when it owns nothing. */
export function projectManifestText(manifest: OwnedFileManifest, projectRoot: string): string | undefined {
  const files: ProjectManifest["files"] = {};
  for (const e of Object.values(manifest.entries)) {
    if (e.scope !== "project" || e.root !== projectRoot) continue;
    const rel = relative(projectRoot, e.path).split(sep).join("/");
    (files[rel] ??= {})[e.target] = { kind: e.kind, ...(e.agent ? { agent: e.agent } : {}), hash: e.hash, ...(e.keys ? { keys: sortKeys(e.keys) } : {}) };
  }
  const paths = Object.keys(files).sort();
  if (paths.length === 0) return undefined;
  const sorted = Object.fromEntries(
    paths.map((p) => [
      p,
      Object.fromEntries(
        Object.keys(files[p]!)
          .sort()
          .map((t) => [t, files[p]![t]!]),
      ),
    ]),
  );
  return JSON.stringify({ $comment: PROJECT_COMMENT, version: 1, files: sorted }, null, 2) + "\n";
}

/** Writes `.aicfg/exports.json` atomically when its content changed; removes it when nothing is owned. */
export function saveProjectManifest(manifest: OwnedFileManifest, projectRoot: string): void {
  const file = join(projectRoot, PROJECT_MANIFEST);
  const text = projectManifestText(manifest, projectRoot);
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (text === current) return;
  if (text === undefined) {
    unlinkSync(file);
    return;
  }
  ensureDirNoSymlinks(projectRoot, dirname(file));
  atomicWrite(file, text, 0o644);
}

function sortKeys(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]!]),
  );
}
