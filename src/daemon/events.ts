// The daemon's internal event stream: the engine, scheduler and triggers publish these; telemetry
// (metrics, traces, audit log) and the API subscribe. Keeping this one typed contract lets each side
// change without the other.

export type RunResult = "success" | "failure" | "cancelled" | "timed_out" | "interrupted" | "skipped";
export type OccurrenceOutcome = "started" | "skipped" | "missed" | "caught_up";
export type TriggerKind = "cron" | "watch" | "git" | "webhook" | "manual" | "after" | "api" | "plugin";

export type DaemonEvent =
  | {
      type: "run.started";
      runId: string;
      workflow: string;
      library: string;
      trigger: TriggerKind;
      at: number;
      attempt: number /** W3C traceparent of what caused the run. */;
      traceparent?: string;
    }
  | { type: "run.finished"; runId: string; workflow: string; library: string; trigger: TriggerKind; result: RunResult; durationMs: number; at: number }
  /** A line was appended to a run's log (durably: readers see it); the dashboard's live log reads on from its last line. */
  | { type: "run.log"; runId: string; library: string; at: number }
  | { type: "step.finished"; runId: string; workflow: string; stepId: string; action: string; result: RunResult; durationMs: number; at: number }
  | { type: "occurrence"; workflow: string; library: string; scheduledAt: number; outcome: OccurrenceOutcome; lagMs?: number; at: number }
  | { type: "schedule.next"; workflow: string; library: string; nextAt: number | undefined }
  | { type: "trigger.event"; kind: TriggerKind; workflow?: string; outcome: "accepted" | "ignored" | "debounced" | "rejected" | "duplicate"; at: number }
  | { type: "export.done"; library: string; target: string; written: number; deleted: number; drift: number; at: number }
  | { type: "library.stats"; library: string; files: number; bytes: number; agents: number; at: number }
  | { type: "workflows.loaded"; library: string; total: number; enabled: number; broken: number; at: number }
  /** Files an upstream merge left in conflict (the local version kept, `<file>.conflict.md` written). */
  | { type: "merge.conflict"; library: string; count: number; at: number }
  /** A run the store refused (written `skipped`, the reason in its record) because its org was over its runs-per-hour quota. */
  | { type: "run.refused"; runId: string; org: string; workflow: string; library: string; trigger: TriggerKind; quota: "runs"; at: number }
  /** Cluster mode: this process's clock minus the database clock, measured on each heartbeat. */
  | { type: "cluster.clock"; skewMs: number; at: number }
  /** Cluster mode: this replica took over a run whose owner stopped heartbeating; how long after that owner's last heartbeat. */
  | { type: "run.takeover"; runId: string; workflow: string; library: string; takeoverMs: number; at: number };

type EventListener = (e: DaemonEvent) => void;

/** A minimal synchronous event bus; a listener that throws is isolated and never breaks the publisher. */
export type EventBus = { publish: (e: DaemonEvent) => void; subscribe: (l: EventListener) => () => void };

export function createEventBus(onListenerError: (err: unknown) => void = () => {}): EventBus {
  const listeners = new Set<EventListener>();
  return {
    publish: (e) => {
      for (const l of listeners) {
        try {
          l(e);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
