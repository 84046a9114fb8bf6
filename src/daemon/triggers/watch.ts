// File-watch trigger (chokidar): globs relative to the library, an event filter, write-finish
// detection (awaitWriteFinish) and a trailing debounce, so an editor's burst of saves becomes one
// run that receives every changed path. Polling can replace native events (network file systems).
import { existsSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import picomatch from "picomatch";
import { toPosix } from "../../library/paths.ts";
import { parseDuration } from "../../workflows/duration.ts";
import type { WatchOn } from "../../workflows/schema.ts";
import type { z } from "zod";
import type { Clock } from "../clock.ts";

const DEFAULT_DEBOUNCE = "300ms";
/** Write-finish detection: a file counts as written once its size is stable this long. */
const WRITE_FINISH_MS = 50;
const ALWAYS_IGNORED = /(^|[/\\])(\.git|node_modules|\.aicfg-state)([/\\]|$)/;

type FileEvent = { kind: "add" | "change" | "unlink"; path: string };

export type FileWatcher = {
  ready: Promise<void>;
  close: () => Promise<void>;
  alive: () => boolean /** Watch more folders too. */;
  add: (dirs: string[]) => void;
};

export type FileWatcherOptions = {
  poll?: boolean;
  onEvent: (e: FileEvent) => void;
  /** Folders added or removed (a folder's files may come and go without one event each). */
  onDir?: (e: { kind: "addDir" | "unlinkDir"; path: string }) => void;
  onError: (e: unknown) => void;
  writeFinishMs?: number;
  /** Paths not to watch at all (besides .git, node_modules and state folders). */
  ignore?: (path: string) => boolean;
};

/** A chokidar watcher over folders, reporting file add/change/unlink with absolute paths. */
export function createFileWatcher(dirs: string[], opts: FileWatcherOptions): FileWatcher {
  let alive = true;
  const w: FSWatcher = watch(dirs, {
    ignoreInitial: true,
    persistent: true,
    ignored: (p: string) => ALWAYS_IGNORED.test(p) || (opts.ignore?.(resolve(p)) ?? false),
    awaitWriteFinish: { stabilityThreshold: opts.writeFinishMs ?? WRITE_FINISH_MS, pollInterval: 10 },
    ...(opts.poll ? { backend: "polling" as const, pollingInterval: 500 } : {}),
  });
  const ready = new Promise<void>((r) => w.once("ready", () => r()));
  for (const kind of ["add", "change", "unlink"] as const) w.on(kind, (p: string) => opts.onEvent({ kind, path: resolve(p) }));
  if (opts.onDir) for (const kind of ["addDir", "unlinkDir"] as const) w.on(kind, (p: string) => opts.onDir!({ kind, path: resolve(p) }));
  w.on("error", (e) => {
    opts.onError(e);
  });
  return {
    ready,
    close: async () => {
      alive = false;
      await w.close();
    },
    alive: () => alive && !w.closed,
    add: (more) => {
      w.add(more);
    },
  };
}

export type WatchTriggerOptions = {
  root: string;
  spec: z.infer<typeof WatchOn>;
  clock: Clock;
  /** Called once per debounced burst with the changed absolute paths, sorted. */
  fire: (paths: string[]) => void;
  onError: (e: unknown) => void;
  onIgnored?: (e: FileEvent) => void;
  /** A matching event joined a burst that will already start a run. */
  onDebounced?: (e: FileEvent) => void;
};

export type WatchTriggerHandle = FileWatcher & { pending: () => number };

export function startWatchTrigger(o: WatchTriggerOptions): WatchTriggerHandle {
  const root = resolve(o.root);
  const matches = picomatch(o.spec.paths, { dot: false, ...(o.spec.ignore ? { ignore: o.spec.ignore } : {}) });
  const events = new Set(o.spec.events ?? ["add", "change", "unlink"]);
  const debounceMs = parseDuration(o.spec.debounce ?? DEFAULT_DEBOUNCE);
  // A steady stream of events must not postpone the run forever.
  const maxWaitMs = Math.max(debounceMs * 10, 5000);
  const bases = new Set<string>();
  for (const g of o.spec.paths) {
    const base = picomatch.scan(g).base;
    const abs = resolve(root, base || ".");
    bases.add(existsSync(abs) && (abs === root || abs.startsWith(root + sep)) ? abs : root);
  }
  const changed = new Set<string>();
  let cancelDebounce: (() => void) | undefined;
  let firstAt = 0;
  const flush = () => {
    cancelDebounce = undefined;
    if (changed.size === 0) return;
    const paths = [...changed].sort();
    changed.clear();
    o.fire(paths);
  };
  const watcher = createFileWatcher([...bases], {
    ...(o.spec.poll ? { poll: true } : {}),
    onError: o.onError,
    onEvent: (e) => {
      const rel = toPosix(relative(root, e.path));
      if (rel.startsWith("..") || !events.has(e.kind) || !matches(rel)) {
        o.onIgnored?.(e);
        return;
      }
      const now = o.clock.now();
      if (changed.size === 0) firstAt = now;
      else o.onDebounced?.(e);
      changed.add(e.path);
      cancelDebounce?.();
      const wait = Math.min(debounceMs, Math.max(0, firstAt + maxWaitMs - now));
      cancelDebounce = o.clock.setTimer(wait, flush);
    },
  });
  return {
    ...watcher,
    close: async () => {
      cancelDebounce?.();
      await watcher.close();
    },
    pending: () => changed.size,
  };
}
