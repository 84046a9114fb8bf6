// Plan then apply (security rule 9): compute every create/update/delete, find every drift and
// conflict before writing anything, then apply atomically and record ownership.
import { copyFileSync, fsync, fsyncSync, readFileSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Diagnostic } from "../library/diagnostics.ts";
import { hashValue, sha256 } from "../library/hash.ts";
import { isInside } from "../library/paths.ts";
import type { ExportScope } from "../library/schema.ts";
import {
  abortStaged,
  commitStaged,
  ensureDirNoSymlinks,
  fsyncDir,
  holdDirs,
  lstatSafe,
  releaseDirs,
  stageWrite,
  unlinkBeneath,
  type StagedWrite,
} from "./atomic.ts";
import { entryKey, trustedEntry, type OwnedEntry, type OwnedFileManifest } from "./manifest.ts";
import { editJsonKey, getJsonPath, getSection, getTomlTable, parseJsonText, parseTomlText, setSection, setTomlTable, type JsonLayout } from "./shared-files.ts";
import type { OutputFile } from "./types.ts";

type PlanAction = "create" | "update" | "delete" | "unchanged" | "drift" | "conflict";

export type PlanEntry = {
  path: string;
  action: PlanAction;
  /** Targets whose output this entry carries. */
  targets: string[];
  kind: OutputFile["kind"];
  agent?: string;
  /** Why drift/conflict, or which keys/section changed. */
  reason?: string;
  secret: boolean;
  /** Text before and after, for diffs (undefined for binary or absent). */
  before?: string;
  after?: string;
};

/** What a plan will do on apply, per path: the final bytes and the ownership entries to record. */
type PathWork = {
  path: string;
  root: string;
  write?: string | Uint8Array;
  remove?: boolean;
  backup: boolean;
  secret: boolean;
  owned: OwnedEntry[];
  dropped: string[];
};

export type ExportPlan = {
  entries: PlanEntry[];
  errors: Diagnostic[];
  work: PathWork[];
};

export type TargetOutput = {
  target: string;
  scope: ExportScope;
  root: string;
  files: OutputFile[];
  /** Delete previously owned files of this target (false when only some agents are exported). */
  prune: boolean;
  /** When pruning is limited to some agents. */
  agents?: Set<string>;
  /**
   * Paths this target still produces though they are not in `files`: the outputs of agents whose
   * render was cached (a target rendered per agent, Adapter.split). Never pruned, not planned.
   */
  keep?: ReadonlySet<string>;
};

export type PlanOptions = {
  force: boolean;
  now: string;
  /**
   * Keep each entry's text before and after (for diffs; default true). An export that is applied
   * shows no diff: without them a one-file edit at 10,000 files does not hold the old text of every
   * big file it rewrites, nor a decoded copy of every binary one.
   */
  texts?: boolean;
};

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function toText(c: string | Uint8Array): string | undefined {
  if (typeof c === "string") return c;
  const s = Buffer.from(c).toString("utf8");
  return Buffer.from(s, "utf8").equals(Buffer.from(c)) && !s.includes("\u0000") ? s : undefined;
}

export function planExport(outputs: readonly TargetOutput[], manifest: OwnedFileManifest, opts: PlanOptions): ExportPlan {
  const entries: PlanEntry[] = [];
  const errors: Diagnostic[] = [];
  const work: PathWork[] = [];

  type Part = { out: OutputFile; target: string; scope: ExportScope; root: string };
  const byPath = new Map<string, Part[]>();
  for (const t of outputs) {
    for (const out of t.files) {
      if (!isInside(t.root, out.path) || out.path === t.root) {
        errors.push({
          severity: "error",
          code: "outside-root",
          message: `${t.target} wants to write ${out.path}, outside ${t.root}`,
          hint: "this is a bug in the adapter; please report it",
        });
        continue;
      }
      const list = byPath.get(out.path) ?? [];
      list.push({ out, target: t.target, scope: t.scope, root: t.root });
      byPath.set(out.path, list);
    }
  }

  // Previously owned parts that are no longer produced: to delete.
  const produced = new Set<string>();
  for (const [path, parts] of byPath) for (const p of parts) produced.add(entryKey(path, p.target));
  const stale = new Map<string, OwnedEntry[]>();
  for (const t of outputs) {
    if (!t.prune) continue;
    for (const [key, e] of Object.entries(manifest.entries)) {
      if (e.target !== t.target || e.root !== t.root || e.scope !== t.scope || produced.has(key) || t.keep?.has(e.path)) continue;
      // Only a recorded path inside its recorded root is ever deleted (a crafted manifest names others).
      if (!trustedEntry(e)) continue;
      if (t.agents && (!e.agent || !t.agents.has(e.agent))) continue;
      const list = stale.get(e.path) ?? [];
      list.push(e);
      stale.set(e.path, list);
    }
  }

  const allPaths = new Set([...byPath.keys(), ...stale.keys()]);
  for (const path of [...allPaths].sort()) {
    const parts = byPath.get(path) ?? [];
    const gone = stale.get(path) ?? [];
    const kinds = new Set([...parts.map((p) => p.out.kind), ...gone.map((g) => g.kind)]);
    if (kinds.size > 1) {
      errors.push({
        severity: "error",
        code: "output-clash",
        message: `${path} is written in incompatible ways by ${[...new Set(parts.map((p) => p.target))].join(", ")}`,
        hint: "export these targets separately or disable one of them",
      });
      continue;
    }
    const kind = [...kinds][0]!;
    const root = parts[0]?.root ?? gone[0]!.root;
    const scope = parts[0]?.scope ?? gone[0]!.scope;
    const st = lstatSafe(path);
    if (st?.isSymbolicLink()) {
      entries.push({
        path,
        action: "conflict",
        targets: targetsOf(parts, gone),
        kind,
        secret: false,
        reason: "is a symbolic link; aicfg never writes through links",
      });
      continue;
    }
    if (st && !st.isFile()) {
      entries.push({ path, action: "conflict", targets: targetsOf(parts, gone), kind, secret: false, reason: "exists and is not a regular file" });
      continue;
    }
    const ctx = { path, root, scope, parts, gone, st, manifest, opts, entries, errors, work };
    if (kind === "file") planWholeFile(ctx);
    else planSharedFile(ctx, kind);
  }
  return { entries, errors, work };
}

type Ctx = {
  path: string;
  root: string;
  scope: ExportScope;
  parts: { out: OutputFile; target: string; scope: ExportScope; root: string }[];
  gone: OwnedEntry[];
  st: ReturnType<typeof lstatSafe>;
  manifest: OwnedFileManifest;
  opts: PlanOptions;
  entries: PlanEntry[];
  errors: Diagnostic[];
  work: PathWork[];
};

function targetsOf(parts: Ctx["parts"], gone: OwnedEntry[]): string[] {
  return [...new Set([...parts.map((p) => p.target), ...gone.map((g) => g.target)])].sort();
}

function planWholeFile(c: Ctx): void {
  const { path, parts, gone, st, manifest, opts } = c;
  const targets = targetsOf(parts, gone);
  if (parts.length) {
    const first = parts[0]!.out as Extract<OutputFile, { kind: "file" }>;
    const newHash = sha256(first.content);
    for (const p of parts.slice(1)) {
      const o = p.out as Extract<OutputFile, { kind: "file" }>;
      if (o.content !== first.content && sha256(o.content) !== newHash) {
        c.errors.push({
          severity: "error",
          code: "output-clash",
          message: `${path} is written with different content by ${targets.join(" and ")}`,
          hint: "export one of these targets only, or give them different scopes",
        });
        return;
      }
    }
    const secret = parts.some((p) => (p.out as { secret?: boolean }).secret === true);
    // Targets that no longer write a file others still write (a shared index page) give up their record of it.
    const dropped = gone.map((g) => entryKey(path, g.target));
    const owned = parts.map((p) => manifest.entries[entryKey(path, p.target)]).filter((e): e is OwnedEntry => !!e);
    const agent = first.agent;
    const record = (): OwnedEntry[] =>
      parts.map((p) => ({
        path,
        target: p.target,
        kind: "file",
        root: p.root,
        scope: p.scope,
        ...(agent ? { agent } : {}),
        hash: newHash,
        writtenAt: opts.now,
      }));
    const texts = opts.texts !== false;
    const afterText = texts ? toText(first.content) : undefined;
    if (!st) {
      c.entries.push({
        path,
        action: "create",
        targets,
        kind: "file",
        secret,
        ...(agent ? { agent } : {}),
        ...(afterText !== undefined ? { after: afterText } : {}),
      });
      c.work.push({ path, root: c.root, write: first.content, backup: false, secret, owned: record(), dropped });
      return;
    }
    // Fast path: recorded hash equals the new one and the file is as we left it.
    if (owned.length === parts.length && owned.every((e) => e.hash === newHash && e.size === st.size && e.mtimeMs === st.mtimeMs)) {
      c.entries.push({ path, action: "unchanged", targets, kind: "file", secret, ...(agent ? { agent } : {}) });
      if (dropped.length) c.work.push({ path, root: c.root, backup: false, secret, owned: [], dropped });
      return;
    }
    const current = readFileSync(path);
    const curHash = sha256(current);
    const curText = texts ? toText(current) : undefined;
    if (curHash === newHash) {
      c.entries.push({ path, action: "unchanged", targets, kind: "file", secret, ...(agent ? { agent } : {}) });
      c.work.push({ path, root: c.root, backup: false, secret, owned: record(), dropped });
      return;
    }
    const ours = owned.length > 0 && owned.every((e) => e.hash === curHash);
    const base = {
      path,
      targets,
      kind: "file" as const,
      secret,
      ...(agent ? { agent } : {}),
      ...(curText !== undefined ? { before: curText } : {}),
      ...(afterText !== undefined ? { after: afterText } : {}),
    };
    if (ours) {
      c.entries.push({ ...base, action: "update" });
      c.work.push({ path, root: c.root, write: first.content, backup: false, secret, owned: record(), dropped });
      return;
    }
    const reason = owned.length ? "changed by hand since the last export" : "exists and was not written by aicfg";
    if (opts.force) {
      c.entries.push({ ...base, action: "update", reason: `${reason}; overwritten (--force), a backup is kept` });
      c.work.push({ path, root: c.root, write: first.content, backup: true, secret, owned: record(), dropped });
    } else {
      c.entries.push({ ...base, action: owned.length ? "drift" : "conflict", reason });
    }
    return;
  }
  // Only stale entries: delete the file if it is still exactly what we wrote.
  if (!st) {
    c.work.push({ path, root: c.root, backup: false, secret: false, owned: [], dropped: gone.map((g) => entryKey(path, g.target)) });
    return;
  }
  const curHash = sha256(readFileSync(path));
  const curText = opts.texts !== false ? readText(path) : undefined;
  if (gone.every((g) => g.hash === curHash)) {
    c.entries.push({ path, action: "delete", targets, kind: "file", secret: false, ...(curText !== undefined ? { before: curText } : {}) });
    c.work.push({ path, root: c.root, remove: true, backup: false, secret: false, owned: [], dropped: gone.map((g) => entryKey(path, g.target)) });
  } else if (opts.force) {
    c.entries.push({ path, action: "delete", targets, kind: "file", secret: false, reason: "changed by hand; deleted (--force), a backup is kept" });
    c.work.push({ path, root: c.root, remove: true, backup: true, secret: false, owned: [], dropped: gone.map((g) => entryKey(path, g.target)) });
  } else {
    c.entries.push({ path, action: "drift", targets, kind: "file", secret: false, reason: "no longer exported, but changed by hand since; left in place" });
  }
}

function planSharedFile(c: Ctx, kind: "json-keys" | "toml-tables" | "md-section"): void {
  const { path, parts, gone, st, manifest, opts } = c;
  const targets = targetsOf(parts, gone);
  const original = st ? (readText(path) ?? "") : "";
  let text = original;
  let parsed: Record<string, unknown> | undefined;
  const reparse = (): boolean => {
    if (kind === "md-section") return true;
    const r = kind === "json-keys" ? parseJsonText(text) : parseTomlText(text);
    if (!r.ok) {
      const where = r.line !== undefined ? `${path}:${r.line}:${r.column}` : path;
      const reason = `${where}: not valid ${kind === "json-keys" ? "JSON" : "TOML"} (${r.message}); left untouched, fix it and export again`;
      c.entries.push({ path, action: "conflict", targets, kind, secret: false, reason });
      return false;
    }
    parsed = r.value as Record<string, unknown>;
    return true;
  };
  if (!reparse()) return;
  const secret = parts.some((p) => (p.out as { secret?: boolean }).secret === true);
  const style =
    parts.map((p) => (p.out as { comment?: "html" | "hash" }).comment).find((c) => c) ??
    (/\.(md|mdc|markdown)$/i.test(path) ? "html" : /(^|\/)\.[^/]*ignore$/.test(path) ? "hash" : "html");
  const owned: OwnedEntry[] = [];
  const problems: string[] = [];
  let backup = false;
  let driftCount = 0;

  const currentOf = (key: string[]): unknown =>
    kind === "json-keys" ? getJsonPath(parsed, key) : kind === "toml-tables" ? getTomlTable(parsed!, key) : getSection(text, key[0]!, style);
  // One-line objects we expanded to insert into (see editJsonKey): every owner of the file keeps the
  // list, so whichever removes the last of ours gives the user's one-line form back.
  const layouts: JsonLayout[] = [
    ...new Map(
      Object.values(manifest.entries)
        .flatMap((e) => (e.path === path ? (e.layouts ?? []) : []))
        .map((l) => [JSON.stringify(l), l]),
    ).values(),
  ];
  const setOf = (key: string[], value: unknown): void => {
    if (kind === "json-keys") {
      const r = editJsonKey(text, key, value, value === undefined ? layouts : []);
      text = r.text;
      if (r.expanded && !layouts.some((l) => JSON.stringify(l) === JSON.stringify(r.expanded))) layouts.push(r.expanded);
    } else if (kind === "toml-tables") text = setTomlTable(text, key, value as Record<string, unknown> | undefined);
    else text = setSection(text, key[0]!, value as string | undefined, style);
    reparse();
  };
  const hashOf = (v: unknown): string => (kind === "md-section" ? sha256(String(v)) : hashValue(v));

  const handle = (target: string, rootOf: string, scopeOf: ExportScope, agent: string | undefined, wanted: { key: string[]; value: unknown }[]): void => {
    const prev = manifest.entries[entryKey(path, target)];
    const keys: Record<string, string> = {};
    const wantedKeys = new Set<string>();
    for (const { key, value } of wanted) {
      const k = JSON.stringify(key);
      wantedKeys.add(k);
      const cur = currentOf(key);
      const newHash = hashOf(value);
      const prevHash = prev?.keys?.[k];
      if (cur === undefined || hashOf(cur) === newHash) {
        if (cur === undefined) setOf(key, value);
        keys[k] = newHash;
        continue;
      }
      const curHash = hashOf(cur);
      if (prevHash && curHash === prevHash) {
        setOf(key, value);
        keys[k] = newHash;
        continue;
      }
      const what = kind === "md-section" ? "the aicfg section" : `'${key.join(".")}'`;
      const reason = prevHash ? `${what} was changed by hand since the last export` : `${what} already exists and was not written by aicfg`;
      if (opts.force) {
        backup = true;
        setOf(key, value);
        keys[k] = newHash;
        problems.push(`${reason}; overwritten (--force)`);
      } else {
        driftCount++;
        problems.push(reason);
        c.entries.push({ path, action: prevHash ? "drift" : "conflict", targets: [target], kind, secret: false, reason });
        if (prevHash) keys[k] = prevHash;
      }
    }
    // Keys we owned before but no longer produce.
    for (const [k, prevHash] of Object.entries(prev?.keys ?? {})) {
      if (wantedKeys.has(k)) continue;
      const key = JSON.parse(k) as string[];
      const cur = currentOf(key);
      if (cur === undefined) continue;
      if (hashOf(cur) === prevHash || opts.force) {
        if (hashOf(cur) !== prevHash) backup = true;
        setOf(key, undefined);
      } else {
        driftCount++;
        const reason = `'${key.join(".")}' is no longer exported but was changed by hand; left in place`;
        problems.push(reason);
        c.entries.push({ path, action: "drift", targets: [target], kind, secret: false, reason });
      }
    }
    if (wanted.length) {
      owned.push({
        path,
        target,
        kind,
        root: rootOf,
        scope: scopeOf,
        ...(agent ? { agent } : {}),
        hash: hashValue(keys),
        keys,
        ...(layouts.length ? { layouts } : {}),
        writtenAt: opts.now,
      });
    }
  };

  for (const p of parts) {
    const out = p.out;
    const wanted =
      out.kind === "json-keys"
        ? out.entries.map((e) => ({ key: e.key, value: e.value }))
        : out.kind === "toml-tables"
          ? out.tables.map((t) => ({ key: t.path, value: t.value }))
          : out.kind === "md-section"
            ? [{ key: [p.target], value: out.content.endsWith("\n") ? out.content : out.content + "\n" }]
            : [];
    handle(p.target, p.root, p.scope, out.agent, wanted);
  }
  for (const g of gone) {
    if (parts.some((p) => p.target === g.target)) continue;
    handle(g.target, g.root, g.scope, g.agent, []);
  }
  const dropped = gone.filter((g) => !owned.some((o) => o.target === g.target)).map((g) => entryKey(path, g.target));
  const agent = parts[0]?.out.agent;
  const onlyOurs = kind !== "md-section" && parsed !== undefined && Object.keys(parsed).length === 0;
  if (text === original) {
    if (driftCount === 0) c.entries.push({ path, action: "unchanged", targets, kind, secret, ...(agent ? { agent } : {}) });
    c.work.push({ path, root: c.root, backup: false, secret, owned, dropped });
    return;
  }
  const remove = !!st && owned.length === 0 && (onlyOurs || text.trim() === "");
  const action: PlanAction = !st ? "create" : remove ? "delete" : "update";
  c.entries.push({
    path,
    action,
    targets,
    kind,
    secret,
    ...(agent ? { agent } : {}),
    ...(problems.length ? { reason: problems.join("; ") } : {}),
    ...(st && opts.texts !== false ? { before: original } : {}),
    ...(remove || opts.texts === false ? {} : { after: text }),
  });
  c.work.push({ path, root: c.root, ...(remove ? { remove: true } : { write: text }), backup, secret, owned, dropped });
}

export type ApplyResult = { written: string[]; deleted: string[]; failed: Diagnostic[]; backups: string[] };

/** Files staged per batch: their temps are open until fsync'ed, so this bounds the open descriptors. */
const BATCH = 256;

/** What the apply steps ask their driver to make durable: temps (by descriptor) or folders (by path). */
type SyncRequest = { files: number[] } | { dirs: string[] };

/**
 * The apply, as steps that yield what must be fsync'ed before they go on: per batch, every temp is
 * written, then (yield) all are fsync'ed, then each is renamed over its file; at the end (yield) each
 * folder is fsync'ed once. A file is renamed only once its temp is durable, so a crash leaves every file
 * with its complete old or complete new content. The sync and the async driver differ only in how they
 * fsync: one after the other, or all at once through the libuv pool.
 */
function* applySteps(
  plan: ExportPlan,
  manifest: OwnedFileManifest,
  stateDir: string,
  now: string,
  result: ApplyResult,
): Generator<SyncRequest, void, (Error | undefined)[]> {
  const stamp = now.replace(/[:.]/g, "-");
  const dirsToSync = new Set<string>();
  const held = holdDirs();
  const fail = (w: PathWork, e: unknown): void => {
    const err = e as NodeJS.ErrnoException & { hint?: string };
    result.failed.push({
      severity: "error",
      code: err.code && /^E[A-Z]+$/.test(err.code) ? `io-${err.code.toLowerCase()}` : (err.code ?? "write-failed"),
      message: `could not write ${w.path}: ${err.message}`,
      file: w.path,
      hint:
        err.hint ??
        (err.code === "ENOSPC"
          ? "free some disk space and export again"
          : err.code === "EACCES"
            ? "check the folder's permissions"
            : "nothing was changed for this file"),
    });
  };
  const record = (w: PathWork): void => {
    for (const k of w.dropped) delete manifest.entries[k];
    if (!w.owned.length) return;
    const st = statSync(w.path);
    const touched = w.write !== undefined || w.remove === true;
    for (const e of w.owned) {
      const key = entryKey(w.path, e.target);
      const prev = manifest.entries[key];
      // An unchanged part keeps its entry (and writtenAt), so a no-op export rewrites nothing.
      if (!touched && prev && prev.hash === e.hash && prev.size === st.size && prev.mtimeMs === st.mtimeMs) continue;
      manifest.entries[key] = { ...e, size: st.size, mtimeMs: st.mtimeMs };
    }
  };
  try {
    for (let start = 0; start < plan.work.length; start += BATCH) {
      const staged: { w: PathWork; s: StagedWrite }[] = [];
      try {
        for (const w of plan.work.slice(start, start + BATCH)) {
          try {
            if (w.backup && lstatSafe(w.path)?.isFile()) {
              const dest = join(stateDir, "backups", stamp, w.path.replace(/^[/\\]+/, "").replace(/[:\\]/g, "_"));
              ensureDirNoSymlinks(stateDir, dirname(dest), 0o700);
              copyFileSync(w.path, dest);
              result.backups.push(dest);
            }
            if (w.remove) {
              unlinkBeneath(w.root, w.path);
              dirsToSync.add(dirname(w.path));
              result.deleted.push(w.path);
              record(w);
            } else if (w.write !== undefined) {
              const existing = lstatSafe(w.path);
              const mode = w.secret ? 0o600 : existing ? Number(existing.mode) & 0o777 : 0o644;
              staged.push({ w, s: stageWrite(w.path, w.write, mode, { root: w.root, held }) });
            } else record(w);
          } catch (e) {
            fail(w, e);
          }
        }
        if (!staged.length) continue;
        const errors = yield { files: staged.map((x) => x.s.fd!) };
        for (const [i, { w, s }] of staged.entries()) {
          try {
            if (errors[i]) throw errors[i];
            commitStaged(s);
            dirsToSync.add(dirname(w.path));
            result.written.push(w.path);
            record(w);
          } catch (e) {
            abortStaged(s);
            fail(w, e);
          }
        }
        staged.length = 0;
      } finally {
        // A batch cut short (an exception outside the per-file handling) leaves no temp behind.
        for (const { s } of staged) if (s.fd !== undefined) abortStaged(s);
      }
    }
  } finally {
    releaseDirs(held);
  }
  // One fsync per folder makes the renames durable (instead of one per file).
  if (dirsToSync.size) yield { dirs: [...dirsToSync] };
}

/** Applies a plan: per-path failures (ENOSPC, EACCES, a swapped-in symlink) never stop the others. */
export function applyPlan(plan: ExportPlan, manifest: OwnedFileManifest, stateDir: string, now: string): ApplyResult {
  const result: ApplyResult = { written: [], deleted: [], failed: [], backups: [] };
  const steps = applySteps(plan, manifest, stateDir, now, result);
  let next = steps.next();
  while (!next.done) {
    const req = next.value;
    if ("dirs" in req) {
      for (const d of req.dirs) fsyncDir(d);
      next = steps.next([]);
    } else {
      next = steps.next(
        req.files.map((fd) => {
          try {
            fsyncSync(fd);
            return undefined;
          } catch (e) {
            return e as Error;
          }
        }),
      );
    }
  }
  return result;
}

/** applyPlan with the fsyncs of each batch (and of the folders) run in parallel on the libuv pool. */
export async function applyPlanAsync(plan: ExportPlan, manifest: OwnedFileManifest, stateDir: string, now: string): Promise<ApplyResult> {
  const result: ApplyResult = { written: [], deleted: [], failed: [], backups: [] };
  const steps = applySteps(plan, manifest, stateDir, now, result);
  let next = steps.next();
  while (!next.done) {
    const req = next.value;
    if ("dirs" in req) {
      await Promise.all(req.dirs.map(fsyncDirAsync));
      next = steps.next([]);
    } else {
      next = steps.next(await Promise.all(req.files.map((fd) => new Promise<Error | undefined>((done) => fsync(fd, (e) => done(e ?? undefined))))));
    }
  }
  return result;
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}
