// `aicfg.lock`: what each git layer of a library is pinned to (the requested ref, the commit it resolved to,
// the sha256 of every file used), and the pure comparisons around it (does the lock cover aicfg.yaml, which
// files changed between two pins). The resolved commit is the merge base of personal edits against upstream.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { sha256 } from "./hash.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { LayerPath, LayerRef, Slug, type LayerSpec } from "./schema.ts";

export const LOCK_FILE = "aicfg.lock";
const LOCK_VERSION = 1;

const Sha = z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, "must be a full commit id");
const Integrity = z.string().regex(/^sha256-[0-9a-f]{64}$/, "must be sha256- and 64 hex digits");

export const LockedLayer = z.strictObject({
  url: z.string().min(1).describe("the url as written in aicfg.yaml"),
  requestedRef: LayerRef,
  path: LayerPath.optional(),
  resolvedCommit: Sha.describe("the commit the ref pointed at when the layer was locked: the merge base of local edits"),
  fetchedAt: z.string().describe("when that commit was fetched (ISO 8601); changes only when the pin moves"),
  files: z.record(z.string(), Integrity).describe("every file of the layer used, relative to path, with its sha256"),
  adopted: z
    .array(z.string().min(1))
    .optional()
    .describe("files of the layer the library holds a personal copy of at the same path ('aicfg library adopt'): 3-way merged on every update"),
});
export type LockedLayer = z.infer<typeof LockedLayer>;

/** An in-process plugin's pin, written by `aicfg plugin add`: the host refuses to load it when a file differs. */
const LockedPlugin = z.strictObject({
  name: z.string().min(1).describe("the plugin's name, as its definePlugin says"),
  version: z.string().min(1),
  files: z.record(z.string(), Integrity).describe("every file of the plugin, relative to its folder, with its sha256"),
});
type LockedPlugin = z.infer<typeof LockedPlugin>;

export const LockFile = z.strictObject({
  lockfileVersion: z.literal(LOCK_VERSION),
  layers: z.record(Slug, LockedLayer),
  plugins: z.record(z.string(), LockedPlugin).optional().describe("pins of the plugins listed in plugins:, by the entry as written there"),
});
export type LockFile = z.infer<typeof LockFile>;

export function emptyLock(): LockFile {
  return { lockfileVersion: LOCK_VERSION, layers: {} };
}

/** The integrity string of a file's bytes, as the lock records it. */
export function fileIntegrity(data: string | Uint8Array): string {
  return `sha256-${sha256(data)}`;
}

/** Parses the text of aicfg.lock; a lock we cannot read is an error with a position, never an empty lock. */
export function parseLock(text: string, file: string): { lock: LockFile | undefined; diagnostics: Diagnostic[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Where and why, from a parser of our own: JSON.parse's message and position differ between
    // Node, Bun and Deno.
    const found: ParseError[] = [];
    parseJsonc(text, found, { disallowComments: true, allowTrailingComma: false });
    const first = found[0];
    const pos = first ? lineCol(text, first.offset) : { line: 1, col: 1 };
    return {
      lock: undefined,
      diagnostics: [
        {
          severity: "error",
          code: "lock-syntax",
          message: `${LOCK_FILE} is not valid JSON: ${first ? printParseErrorCode(first.error) : "unexpected end"}`,
          file,
          ...pos,
          hint: "aicfg writes this file: restore it from git, or delete it and run 'aicfg library update'",
        },
      ],
    };
  }
  const r = LockFile.safeParse(raw);
  if (!r.success) {
    return {
      lock: undefined,
      diagnostics: r.error.issues.map((i) => ({
        severity: "error" as const,
        code: "lock-invalid",
        message: `${LOCK_FILE}: ${i.path.map(String).join(".") || "(top level)"}: ${i.message}`,
        file,
        hint: "aicfg writes this file: restore it from git, or delete it and run 'aicfg library update'",
      })),
    };
  }
  return { lock: r.data, diagnostics: [] };
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** Stable text: layers in the order of aicfg.yaml, files sorted, so an unchanged pin is an unchanged file (and a small git diff). */
export function serializeLock(lock: LockFile, order: readonly string[] = []): string {
  const names = [
    ...order.filter((n) => n in lock.layers),
    ...Object.keys(lock.layers)
      .filter((n) => !order.includes(n))
      .sort(),
  ];
  const layers: Record<string, LockedLayer> = {};
  for (const n of names) {
    const l = lock.layers[n]!;
    const files: Record<string, string> = {};
    for (const f of Object.keys(l.files).sort()) files[f] = l.files[f]!;
    layers[n] = {
      url: l.url,
      requestedRef: l.requestedRef,
      ...(l.path !== undefined ? { path: l.path } : {}),
      resolvedCommit: l.resolvedCommit,
      fetchedAt: l.fetchedAt,
      files,
      ...(l.adopted?.length ? { adopted: [...new Set(l.adopted)].sort() } : {}),
    };
  }
  let plugins: Record<string, LockedPlugin> | undefined;
  if (lock.plugins && Object.keys(lock.plugins).length) {
    plugins = {};
    for (const k of Object.keys(lock.plugins).sort()) {
      const p = lock.plugins[k]!;
      const files: Record<string, string> = {};
      for (const f of Object.keys(p.files).sort()) files[f] = p.files[f]!;
      plugins[k] = { name: p.name, version: p.version, files };
    }
  }
  return JSON.stringify({ lockfileVersion: lock.lockfileVersion, layers, ...(plugins ? { plugins } : {}) }, null, 2) + "\n";
}

/** Why a layer's lock entry does not cover its aicfg.yaml entry (`undefined`: it does). */
export type LockGap = "not-locked" | "url-changed" | "ref-changed" | "path-changed";

export function lockGap(spec: LayerSpec, locked: LockedLayer | undefined): LockGap | undefined {
  if (!locked) return "not-locked";
  if (locked.url !== spec.url) return "url-changed";
  if (locked.requestedRef !== spec.ref) return "ref-changed";
  if ((locked.path ?? "") !== (spec.path ?? "")) return "path-changed";
  return undefined;
}

/** Lock entries with no layer in aicfg.yaml any more. */
export function staleLockEntries(specs: readonly LayerSpec[], lock: LockFile): string[] {
  const names = new Set(specs.map((s) => s.name));
  return Object.keys(lock.layers)
    .filter((n) => !names.has(n))
    .sort();
}

export type FileDiff = { added: string[]; removed: string[]; changed: string[] };

/** Which files differ between two pins of a layer (the files the 3-way merge has to look at). */
export function diffFiles(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): FileDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [f, h] of Object.entries(after)) {
    if (!(f in before)) added.push(f);
    else if (before[f] !== h) changed.push(f);
  }
  for (const f of Object.keys(before)) if (!(f in after)) removed.push(f);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** Files whose bytes on disk (`actual`) are not the ones the lock pins: a tampered or damaged checkout. */
export function integrityMismatches(locked: Readonly<Record<string, string>>, actual: Readonly<Record<string, string>>): string[] {
  const d = diffFiles(locked, actual);
  return [...d.added, ...d.removed, ...d.changed].sort();
}
