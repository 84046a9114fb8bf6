// What the HTTP API needs from the daemon core, and nothing more. The daemon adapts its
// DaemonHandle to this interface (api-bridge.ts), and the API tests run against that bridge. Shapes are
// inferred from the zod schemas in schemas.ts (the same ones /v1/openapi.json is generated from).
//
// Errors: a method signals a user-facing problem by throwing an AicfgError whose code maps to an
// HTTP status (errors.ts): `not-found` 404, `invalid-input` 422, `conflict` 409, `unavailable` 503.
// Any other exception is a 500 whose message is scrubbed of secrets.
import type { Library } from "../../library/model.ts";
import type { EventBus, TriggerKind } from "../events.ts";
import type { LogLine, Occurrence, OccurrenceQuery, RunDetail, RunPage, RunQuery, WorkflowDetail, WorkflowSummary } from "./schemas.ts";

export type { LogLine, Occurrence, RunDetail, WorkflowDetail, WorkflowSummary };

export type LibraryInfo = {
  /** The library's name from its aicfg.yaml (what tokens are scoped to). */
  name: string;
  root: string;
  /** The org it belongs to (absent: the default org). */
  org?: string;
  /** The GitHub repository (`owner/name`) and branch whose pushes feed this library's git trigger. */
  git?: { repository: string; branch: string };
};

/** One check of the daemon's readiness. `ok: false` fails /readyz. */
export type ExportStep = { workflow: string; step: string; with: Record<string, unknown> };

type StatusCheck = { ok: boolean; message?: string };

export type DaemonStatus = {
  /** The run store answers (and its migrations ran). */
  store: StatusCheck;
  /** Configuration and workflows loaded; `invalidWorkflows` > 0 is a warning, not a failure. */
  config: StatusCheck & { invalidWorkflows: number };
  /** The scheduler loop: when it last ticked (epoch ms; undefined before the first tick) and how often it should. */
  scheduler: { lastTickAt: number | undefined; intervalMs: number };
  /** File watchers running. */
  watchers: StatusCheck & { watchedPaths?: number };
  /** Plugins loaded and left out; a plugin left out is a warning (the daemon runs without it). */
  plugins?: { loaded: string[]; failed: { name: string; error: string; hint?: string }[]; refusedWrites: number };
};

type TriggerOptions = {
  inputs: Record<string, string | number | boolean>;
  trigger: TriggerKind;
  /** Who asked: `token:<id>`, `github:<delivery>`, ... (recorded with the run). */
  actor: string;
  /** W3C traceparent of the request that caused the run, when there was one. */
  traceparent?: string;
};

type GitPush = {
  library: string;
  branch: string;
  /** The commit the branch now points at. */
  after: string;
  deliveryId: string;
  actor: string;
  /** A redelivery processed again: the commit fires even though the trigger knows it. */
  redelivery?: boolean;
  traceparent?: string;
};

/** What to do with a webhook delivery, decided (and claimed durably) before anything runs. */
type DeliveryClaim =
  /** Process it: run `retryRunIds` again (a redelivery after a failure), or, when empty, feed the push to the git triggers. */
  | { process: true; attempt: number; retryRunIds: string[] }
  /** A redelivery of one that is still going, succeeded, or was already processed again. */
  | { process: false; reason: string };

export type ApiDeps = {
  /** The daemon's event bus: metrics, traces and the audit log subscribe to it. */
  bus: EventBus;
  /** The state folder: tokens, the audit log and the export ownership manifest live here. */
  stateDir: string;
  libraries: () => LibraryInfo[];
  /** The library as the daemon has it (its git layers at their pins); absent: the API loads the folder itself. */
  loadLibrary?: (name: string) => Library | undefined;
  listWorkflows: (library?: string) => Promise<WorkflowSummary[]>;
  /** The `export` steps of the library's enabled workflows, their `with` as written: where the daemon's exports write (the dashboard's matrix compares with it). */
  exportSteps?: (library: string) => ExportStep[];
  getWorkflow: (library: string, workflow: string) => Promise<WorkflowDetail | undefined>;
  /** Returns false when there is no such workflow. */
  setWorkflowEnabled: (library: string, workflow: string, enabled: boolean, actor: string) => Promise<boolean>;
  /** Validates the inputs (AicfgError `invalid-input`), durably queues a run and returns its id. */
  triggerRun: (library: string, workflow: string, opts: TriggerOptions) => Promise<string>;
  /** Runs newest first, filtered, one page at a time; `cursor` is opaque (from the previous page). */
  listRuns: (query: RunQuery) => Promise<RunPage>;
  getRun: (id: string) => Promise<RunDetail | undefined>;
  /** Log lines with seq > after, oldest first; undefined when there is no such run. */
  getRunLogs: (id: string, opts: { after: number; limit: number }) => Promise<LogLine[] | undefined>;
  /** Returns false when the run is already finished (AicfgError `not-found` when there is no such run). */
  cancelRun: (id: string, actor: string) => Promise<boolean>;
  /** Queues a new run of the same workflow with the same inputs; returns its id. */
  rerun: (id: string, actor: string) => Promise<string>;
  listOccurrences: (query: OccurrenceQuery) => Promise<Occurrence[]>;
  /** Claims a webhook delivery (or a redelivery to process again) durably, before the 202. */
  recordDelivery: (deliveryId: string) => Promise<DeliveryClaim>;
  /** Records the runs an attempt of a delivery queued. */
  deliveryQueued: (deliveryId: string, attempt: number, runIds: string[]) => Promise<void>;
  /** Forgets an attempt whose runs could not be queued, so GitHub's redelivery is processed. */
  forgetDelivery: (deliveryId: string, attempt: number) => Promise<void>;
  /** Feeds a push to the library's git trigger; resolves with the ids of the runs durably queued. */
  notifyGitPush: (push: GitPush) => Promise<string[]>;
  status: () => Promise<DaemonStatus>;
};
