// The daemon's metrics (workflow-semantics §4): OpenTelemetry SDK instruments fed by the DaemonEvent
// bus, pulled on each GET /metrics and serialised as Prometheus text with the `aicfg_` prefix.
// Labels are bounded: library, workflow (config-defined), trigger/result/outcome enums, route
// patterns; never run ids, paths or users.
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { Attributes } from "@opentelemetry/api";
import type { DaemonEvent, EventBus } from "../events.ts";
import { VERSION, runtimeName } from "../version.ts";
import { systemClock } from "../clock.ts";

const METRICS_PREFIX = "aicfg";
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LAG_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A reader that exports nothing by itself: /metrics pulls from it on request. */
class PullMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export type Metrics = {
  /** Prometheus text exposition of every instrument. */
  render: () => Promise<string>;
  recordHttp: (method: string, route: string, status: number, seconds: number) => void;
  /** Feeds one daemon event into the instruments (the bus subscription calls this). */
  observe: (e: DaemonEvent) => void;
  shutdown: () => Promise<void>;
};

function runtimeVersion(): string {
  const g = globalThis as { Bun?: { version?: string }; Deno?: { version?: { deno?: string } } };
  return g.Bun?.version ?? g.Deno?.version?.deno ?? process.versions.node ?? "unknown";
}

export function createMetrics(bus?: EventBus, now: () => number = systemClock.now): Metrics {
  const reader = new PullMetricReader();
  const provider = new MeterProvider({ readers: [reader], resource: resourceFromAttributes({ "service.name": "aicfg", "service.version": VERSION }) });
  const meter = provider.getMeter("aicfg", VERSION);
  const serializer = new PrometheusSerializer(METRICS_PREFIX, false, undefined, true, true);
  const startTime = now() / 1000;

  // State behind the gauges, keyed by the serialised label set.
  const workflows = new Map<string, { total: number; enabled: number; broken: number }>();
  const nextRun = new Map<string, { attrs: Attributes; value: number }>();
  const lastSuccess = new Map<string, { attrs: Attributes; value: number }>();
  const library = new Map<string, { files: number; bytes: number; agents: number }>();
  const active = new Map<string, { library: string; workflow: string }>();
  const known = new Map<string, Attributes>();
  const remember = (library: string, workflow: string) => known.set(`${library}\u0000${workflow}`, { library, workflow });

  meter
    .createObservableGauge("build_info", { description: "Build information: always 1, with the version and runtime as labels" })
    .addCallback((r) => r.observe(1, { version: VERSION, runtime: runtimeName(), runtime_version: runtimeVersion() }));
  meter
    .createObservableGauge("process_start_time_seconds", { description: "Start time of the process since the Unix epoch", unit: "seconds" })
    .addCallback((r) => r.observe(startTime));
  meter.createObservableGauge("workflows", { description: "Workflow definitions by state (enabled, disabled, broken)" }).addCallback((r) => {
    for (const [lib, w] of workflows) {
      r.observe(w.enabled, { library: lib, state: "enabled" });
      r.observe(Math.max(0, w.total - w.enabled - w.broken), { library: lib, state: "disabled" });
      r.observe(w.broken, { library: lib, state: "broken" });
    }
  });
  meter.createObservableGauge("runs_active", { description: "Runs started and not yet finished" }).addCallback((r) => {
    // Every workflow seen running or scheduled reports a value, 0 when idle: a gauge that vanished
    // between runs left the dashboard's queries without a series most of the time.
    const counts = new Map<string, { attrs: Attributes; n: number }>();
    for (const [key, attrs] of known) counts.set(key, { attrs, n: 0 });
    for (const a of active.values()) {
      const key = `${a.library}\u0000${a.workflow}`;
      const c = counts.get(key) ?? { attrs: { library: a.library, workflow: a.workflow }, n: 0 };
      c.n++;
      counts.set(key, c);
    }
    for (const c of counts.values()) r.observe(c.n, c.attrs);
  });
  meter
    .createObservableGauge("schedule_next_timestamp_seconds", { description: "When the workflow's schedule fires next, since the Unix epoch", unit: "seconds" })
    .addCallback((r) => {
      for (const v of nextRun.values()) r.observe(v.value, v.attrs);
    });
  meter
    .createObservableGauge("workflow_last_success_timestamp_seconds", {
      description: "When a run of the workflow last succeeded, since the Unix epoch",
      unit: "seconds",
    })
    .addCallback((r) => {
      for (const v of lastSuccess.values()) r.observe(v.value, v.attrs);
    });
  meter.createObservableGauge("library_files", { description: "Files in the library (all layers)" }).addCallback((r) => {
    for (const [lib, s] of library) r.observe(s.files, { library: lib });
  });
  meter.createObservableGauge("library_bytes", { description: "Bytes of the library's files (all layers)", unit: "bytes" }).addCallback((r) => {
    for (const [lib, s] of library) r.observe(s.bytes, { library: lib });
  });
  meter.createObservableGauge("library_agents", { description: "Agents defined in the library" }).addCallback((r) => {
    for (const [lib, s] of library) r.observe(s.agents, { library: lib });
  });

  // Cluster mode only: no series until the first measurement (a file-store daemon has no database clock).
  let skewSeconds: number | undefined;
  meter
    .createObservableGauge("clock_skew_seconds", {
      description: "This process's clock minus the database clock (cluster mode); schedules follow the database clock",
      unit: "seconds",
    })
    .addCallback((r) => {
      if (skewSeconds !== undefined) r.observe(skewSeconds);
    });
  const takeovers = meter.createCounter("run_takeovers", { description: "Runs this replica took over after their owner's lease ran out (cluster mode)" });
  const takeoverSeconds = meter.createHistogram("run_takeover_seconds", {
    description: "Time from the previous owner's last heartbeat to the takeover (cluster mode)",
    unit: "seconds",
    advice: { explicitBucketBoundaries: [0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120] },
  });
  const runsRefused = meter.createCounter("runs_refused", {
    description: "Runs refused (recorded skipped) because their org was over a quota, by org, workflow, trigger kind and quota",
  });
  const runsStarted = meter.createCounter("runs_started", { description: "Runs started, by workflow and trigger kind" });
  const runsFinished = meter.createCounter("runs_finished", { description: "Runs finished, by workflow and result" });
  const runDuration = meter.createHistogram("run_duration_seconds", {
    description: "Run duration",
    unit: "seconds",
    advice: { explicitBucketBoundaries: RUN_BUCKETS },
  });
  const stepDuration = meter.createHistogram("step_duration_seconds", {
    description: "Step duration, by workflow, action and result",
    unit: "seconds",
    advice: { explicitBucketBoundaries: STEP_BUCKETS },
  });
  const occurrences = meter.createCounter("schedule_occurrences", { description: "Schedule occurrences by outcome (started, skipped, missed, caught_up)" });
  const lag = meter.createHistogram("schedule_lag_seconds", {
    description: "Actual start minus scheduled time",
    unit: "seconds",
    advice: { explicitBucketBoundaries: LAG_BUCKETS },
  });
  const triggerEvents = meter.createCounter("trigger_events", { description: "Trigger events by kind and outcome" });
  const exportWritten = meter.createCounter("export_files_written", { description: "Files written by exports, by library and target" });
  const exportDeleted = meter.createCounter("export_files_deleted", { description: "Files deleted by exports, by library and target" });
  const exportDrift = meter.createCounter("export_drift_found", { description: "Exported files found changed by hand (drift), by library and target" });
  const mergeConflicts = meter.createCounter("merge_conflicts", {
    description: "Files an upstream merge left in conflict (local version kept, <file>.conflict.md written), by library",
  });
  const httpDuration = meter.createHistogram("http_request_duration_seconds", {
    description: "HTTP request duration by method, route pattern and status",
    unit: "seconds",
    advice: { explicitBucketBoundaries: HTTP_BUCKETS },
  });

  const observe = (e: DaemonEvent): void => {
    switch (e.type) {
      case "run.started":
        runsStarted.add(1, { library: e.library, workflow: e.workflow, trigger: e.trigger });
        active.set(e.runId, { library: e.library, workflow: e.workflow });
        remember(e.library, e.workflow);
        break;
      case "run.finished": {
        const attrs = { library: e.library, workflow: e.workflow, result: e.result };
        runsFinished.add(1, attrs);
        runDuration.record(e.durationMs / 1000, attrs);
        active.delete(e.runId);
        if (e.result === "success")
          lastSuccess.set(`${e.library}\u0000${e.workflow}`, { attrs: { library: e.library, workflow: e.workflow }, value: e.at / 1000 });
        break;
      }
      case "run.refused":
        runsRefused.add(1, { org: e.org, library: e.library, workflow: e.workflow, trigger: e.trigger, quota: e.quota });
        break;
      case "step.finished":
        stepDuration.record(e.durationMs / 1000, { workflow: e.workflow, action: e.action, result: e.result });
        break;
      case "occurrence":
        occurrences.add(1, { library: e.library, workflow: e.workflow, outcome: e.outcome });
        if (e.lagMs !== undefined) lag.record(Math.max(0, e.lagMs) / 1000, { library: e.library, workflow: e.workflow });
        break;
      case "schedule.next": {
        const key = `${e.library}\u0000${e.workflow}`;
        remember(e.library, e.workflow);
        if (e.nextAt === undefined) nextRun.delete(key);
        else nextRun.set(key, { attrs: { library: e.library, workflow: e.workflow }, value: e.nextAt / 1000 });
        break;
      }
      case "trigger.event":
        triggerEvents.add(1, { kind: e.kind, outcome: e.outcome });
        break;
      case "export.done": {
        const attrs = { library: e.library, target: e.target };
        exportWritten.add(e.written, attrs);
        exportDeleted.add(e.deleted, attrs);
        exportDrift.add(e.drift, attrs);
        break;
      }
      case "library.stats":
        library.set(e.library, { files: e.files, bytes: e.bytes, agents: e.agents });
        break;
      case "workflows.loaded":
        workflows.set(e.library, { total: e.total, enabled: e.enabled, broken: e.broken });
        break;
      case "merge.conflict":
        mergeConflicts.add(e.count, { library: e.library });
        break;
      case "cluster.clock":
        skewSeconds = e.skewMs / 1000;
        break;
      case "run.takeover":
        takeovers.add(1, { library: e.library, workflow: e.workflow });
        takeoverSeconds.record(e.takeoverMs / 1000, { library: e.library, workflow: e.workflow });
        break;
    }
  };
  const unsubscribe = bus?.subscribe(observe);

  return {
    render: async () => {
      const { resourceMetrics } = await reader.collect();
      return serializer.serialize(resourceMetrics);
    },
    recordHttp: (method, route, status, seconds) => httpDuration.record(seconds, { method, route, status: String(status) }),
    observe,
    shutdown: async () => {
      unsubscribe?.();
      await provider.shutdown();
    },
  };
}
