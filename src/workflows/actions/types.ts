// The contract of a built-in workflow action (a step's `uses:`): a typed `with:` schema and a run
// function that gets the rendered inputs, a cancellation signal and the run's context, and returns
// outputs. Actions know nothing about the daemon; facts the daemon turns into events go in `facts`.
import type { z } from "zod";
import type { LiveLibrary } from "../../library/live.ts";
import type { LayerFolder } from "../../library/model.ts";
import type { Clock } from "../clock.ts";
import type { PluginFs } from "../plugins/fs.ts";

export type TriggerInfo = {
  kind: "cron" | "watch" | "git" | "webhook" | "manual" | "after" | "api" | "plugin";
  /** Changed files (absolute paths) for watch triggers. */
  paths?: string[];
  branch?: string;
  before?: string;
  after?: string;
  /** ISO time of the cron occurrence. */
  scheduled_at?: string;
  catchup?: boolean;
  /** For `after`: the workflow whose success triggered this one, and the chain so far. */
  workflow?: string;
  run_id?: string;
  chain?: string[];
  actor?: string;
  [key: string]: unknown;
};

export type StepSummary = { id: string; uses: string; status: string; error?: string };

export type ActionContext = {
  libraryRoot: string;
  libraryName: string;
  /**
   * The daemon's in-memory copy of the library, kept current by its watcher (read it with
   * `current(changedPaths)`); absent in one-shot runs, where an action loads `libraryRoot` itself.
   */
  library?: LiveLibrary;
  /** Tells the daemon that a step moved the library's git layers to these checkouts (absent in one-shot runs). */
  gitLayersMoved?: (folders: readonly LayerFolder[]) => void;
  /** The daemon's state folder (ownership manifest, run store, backups). */
  stateDir: string;
  signal: AbortSignal;
  trigger: TriggerInfo;
  run: { id: string; workflow: string; startedAt: number };
  attempt: number;
  maxAttempts: number;
  /** The wall clock (epoch ms): `clock.now`. */
  now: () => number;
  /** The daemon's clock, for every timer an action sets (timeouts, kill grace). */
  clock: Clock;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** Steps finished so far in this run (for notify). */
  steps: () => StepSummary[];
  /** Run status so far: "success" or "failure". */
  status: () => "success" | "failure" | "cancelled";
  settings: ActionSettings;
  /** The encrypted secret store (absent when the daemon has none configured). */
  secrets?: SecretAccess;
  /**
   * Writes files for a plugin's action: only inside the library and the state folder in process, only
   * inside its grant out of process (workflows/plugins/fs.ts). Relative paths are relative to the library.
   */
  fs?: PluginFs;
};

/**
 * The secret store as a step uses it. Every value it returns has been registered with the daemon's
 * scrubber first, so it cannot reach a log line, a run record or an API response.
 */
export type SecretAccess = {
  get: (name: string) => Promise<string>;
  /** Every secret, for an export that may have to write one literally; undefined without a store or key. */
  all: () => Promise<ReadonlyMap<string, string> | undefined>;
};

/** What the daemon configuration allows actions to do. */
export type ActionSettings = {
  shell: { enabled: boolean };
  /** Allow `file://` and local-path git remotes (tests, air-gapped setups). */
  git: { allowFileRemotes: boolean };
  /** Environment variables workflows may read as `env.*`, and pass to shell steps. */
  env: Record<string, string>;
  /**
   * Absolute folders exports may write into (project roots and home folders, or folders above
   * them), from the daemon config's `actions.export.roots`. Unset: the library's configured root
   * and the roots the workflow files name literally.
   */
  exportRoots?: readonly string[];
  /** Absolute folders backups may be written into (`actions.backup.dirs`); unset: the state folder or a literal `dir`. */
  backupDirs?: readonly string[];
  /** S3 destinations backups may go to (`actions.backup.s3`: `<origin>/<bucket>[/<prefix>]`); unset: any. */
  backupS3?: readonly string[];
};

type ExportFact = { target: string; written: number; deleted: number; drift: number };
type LibraryStatsFact = { files: number; bytes: number; agents: number };

export type ActionResult = {
  outputs: Record<string, unknown>;
  warnings?: string[];
  facts?: { exports?: ExportFact[]; libraryStats?: LibraryStatsFact /** Files an upstream merge left in conflict. */; mergeConflicts?: number };
};

export type Action<S extends z.ZodType = z.ZodType> = {
  name: string;
  description: string;
  with: S;
  /** Top-level `with:` fields that must be literal (no `${{ }}`), e.g. a shell step's argv or an export's root. */
  literalFields?: readonly string[];
  /** Why those fields are literal, and what to do instead: for the validation error. */
  literalReason?: string;
  literalHint?: string;
  run: (input: z.infer<S>, ctx: ActionContext) => Promise<ActionResult>;
};

/**
 * Marks an ActionError across copies of this module: an installed aicfg may run its build while a
 * plugin imports the sources (Bun's `bun` export condition), and the engine must still see the
 * plugin's error as an ActionError (its code, hint and `retryable: false`), not as a crash.
 */
const ACTION_ERROR = Symbol.for("aicfg.ActionError");

/** A failure an action reports; `retryable: false` stops the step's retries at once. */
export class ActionError extends Error {
  static override [Symbol.hasInstance](v: unknown): boolean {
    // A subclass (OutsideGrantError) keeps the ordinary prototype check.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about (a subclass or this one)
    if (this !== ActionError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[ACTION_ERROR] === true;
  }
  readonly [ACTION_ERROR] = true;
  readonly code: string;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  constructor(code: string, message: string, opts: { retryable?: boolean; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ActionError";
    this.code = code;
    this.retryable = opts.retryable ?? true;
    this.hint = opts.hint;
  }
}

export function defineAction<S extends z.ZodType>(a: Action<S>): Action<S> {
  return a;
}
