// One bundle of the daemon's observability: the secret registry and scrubbing logger, metrics and
// traces fed by the event bus, and the audit log. The daemon creates it once and hands it to the API.
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { systemClock, type Clock } from "../clock.ts";
import type { EventBus } from "../events.ts";
import { auditRuns, openAuditLog, type AuditLog } from "./audit.ts";
import { pino } from "pino";
import { createLogger, type LogSink, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createSecretRegistry, type SecretRegistry } from "./redact.ts";
import { createTracing, type Tracing } from "./tracing.ts";

export type Telemetry = {
  secrets: SecretRegistry;
  logger: Logger;
  /** The HTTP access log: same sink and scrubber, no path redaction (its fields are fixed and not secret). */
  accessLogger: Logger;
  metrics: Metrics;
  tracing: Tracing;
  audit: AuditLog;
  /** A logger for one run: every line carries the run id and, while its span is open, the trace id. */
  forRun: (runId: string) => Logger;
  shutdown: () => Promise<void>;
};

export type TelemetryOptions = {
  bus: EventBus;
  stateDir: string;
  secrets?: SecretRegistry;
  logSink?: LogSink;
  logLevel?: string;
  spanExporter?: SpanExporter;
  env?: Record<string, string | undefined>;
  /** The daemon's clock: metric start time and audit timestamps. */
  clock?: Clock;
};

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const secrets = opts.secrets ?? createSecretRegistry();
  // One buffered stdout destination shared by both loggers (so lines keep their order): lines are
  // written in batches of 4 KiB or every 200 ms, whichever comes first, instead of one syscall per
  // line (the access log would otherwise halve the request rate); flushed on shutdown.
  const stdout = opts.logSink ? undefined : pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const flusher = stdout ? setInterval(() => stdout.flush(), 200) : undefined;
  (flusher as { unref?: () => void } | undefined)?.unref?.();
  const common = { secrets, sink: opts.logSink ?? stdout!, ...(opts.logLevel ? { level: opts.logLevel } : {}) };
  const logger = createLogger(common);
  const accessLogger = createLogger({ ...common, fixedFields: true });
  const clock = opts.clock ?? systemClock;
  const metrics = createMetrics(opts.bus, clock.now);
  const tracing = createTracing({ bus: opts.bus, ...(opts.spanExporter ? { exporter: opts.spanExporter } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const audit = openAuditLog(opts.stateDir, secrets, () => new Date(clock.now()));
  const stopAudit = auditRuns(opts.bus, audit);
  return {
    secrets,
    logger,
    accessLogger,
    metrics,
    tracing,
    audit,
    forRun: (runId) => {
      const sc = tracing.runSpanContext(runId);
      return logger.child(sc ? { runId, traceId: sc.traceId, spanId: sc.spanId } : { runId });
    },
    shutdown: async () => {
      stopAudit();
      await tracing.shutdown();
      await metrics.shutdown();
      audit.close();
      if (flusher) clearInterval(flusher);
      if (stdout) await new Promise<void>((resolve) => stdout.flush(() => resolve()));
    },
  };
}
