// The ownership manifest: every file (or key, table, section of a shared file) we wrote, with the
// hash of what we wrote. We only update or delete what it lists and what is unchanged since.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../library/diagnostics.ts";
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
