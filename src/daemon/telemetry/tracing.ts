// Traces (workflow-semantics §4.2): one span per run and one per step, named and attributed after
// the OpenTelemetry CI/CD conventions (workflow = pipeline, step = task), built from the event bus;
// W3C `traceparent` of incoming requests and webhooks becomes the parent. Spans are exported with
// OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span, type SpanContext, type Tracer } from "@opentelemetry/api";
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  ATTR_CICD_PIPELINE_ACTION_NAME,
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_TYPE,
} from "@opentelemetry/semantic-conventions/incubating";
import type { EventBus, RunResult } from "../events.ts";
import { VERSION } from "../version.ts";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a W3C `traceparent` header (trace-context level 1); undefined when absent or invalid. */
export function parseTraceparent(header: string | undefined | null): SpanContext | undefined {
  if (!header) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & TraceFlags.SAMPLED}`;
}

/** The CI/CD convention's result values for our run results. */
export function pipelineResult(r: RunResult): string {
  switch (r) {
    case "success":
      return "success";
    case "failure":
      return "failure";
    case "cancelled":
      return "cancellation";
    case "timed_out":
      return "timeout";
    case "skipped":
      return "skip";
    case "interrupted":
      return "error";
  }
}

export type Tracing = {
  tracer: Tracer;
  /** Remembers the parent of a run started on behalf of a request or webhook, for its run span. */
  setRunParent: (runId: string, parent: SpanContext) => void;
  /** The span context of a run in progress (for its logs). */
  runSpanContext: (runId: string) => SpanContext | undefined;
  contextWithParent: (parent: SpanContext | undefined) => Context;
  forceFlush: () => Promise<void>;
  shutdown: () => Promise<void>;
};

const MAX_OPEN = 10_000;

export function createTracing(opts: { bus?: EventBus; exporter?: SpanExporter; env?: Record<string, string | undefined> } = {}): Tracing {
  const env = opts.env ?? process.env;
  const processors: SpanProcessor[] = [];
  if (opts.exporter) processors.push(new SimpleSpanProcessor(opts.exporter));
  else if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "aicfg", "service.version": VERSION }),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer("aicfg", VERSION);
  const parents = new Map<string, SpanContext>();
  const runs = new Map<string, Span>();

  const contextWithParent = (parent: SpanContext | undefined): Context => (parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT);
  const bounded = <V>(m: Map<string, V>, onEvict?: (v: V) => void): void => {
    while (m.size > MAX_OPEN) {
      const first = m.entries().next().value;
      if (!first) break;
      m.delete(first[0]);
      onEvict?.(first[1]);
    }
  };

  const unsubscribe = opts.bus?.subscribe((e) => {
    if (e.type === "run.started") {
      const parent = parents.get(e.runId) ?? parseTraceparent(e.traceparent);
      parents.delete(e.runId);
      const span = tracer.startSpan(
        `RUN ${e.workflow}`,
        {
          kind: SpanKind.SERVER,
          startTime: e.at,
          attributes: {
            [ATTR_CICD_PIPELINE_NAME]: e.workflow,
            [ATTR_CICD_PIPELINE_RUN_ID]: e.runId,
            [ATTR_CICD_PIPELINE_ACTION_NAME]: "RUN",
            "aicfg.library": e.library,
            "aicfg.trigger": e.trigger,
            "aicfg.attempt": e.attempt,
          },
        },
        contextWithParent(parent),
      );
      runs.get(e.runId)?.end();
      runs.set(e.runId, span);
      bounded(runs, (s) => s.end());
    } else if (e.type === "step.finished") {
      const run = runs.get(e.runId);
      const span = tracer.startSpan(
        `${e.action} ${e.stepId}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: e.at - e.durationMs,
          attributes: {
            [ATTR_CICD_PIPELINE_NAME]: e.workflow,
            [ATTR_CICD_PIPELINE_RUN_ID]: e.runId,
            [ATTR_CICD_PIPELINE_TASK_NAME]: e.stepId,
            [ATTR_CICD_PIPELINE_TASK_RUN_ID]: `${e.runId}/${e.stepId}`,
            [ATTR_CICD_PIPELINE_TASK_TYPE]: e.action,
            [ATTR_CICD_PIPELINE_TASK_RUN_RESULT]: pipelineResult(e.result),
          },
        },
        run ? trace.setSpan(ROOT_CONTEXT, run) : ROOT_CONTEXT,
      );
      if (e.result === "failure" || e.result === "timed_out" || e.result === "interrupted") span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(e.at);
    } else if (e.type === "run.finished") {
      const span = runs.get(e.runId);
      if (!span) return;
      runs.delete(e.runId);
      span.setAttribute(ATTR_CICD_PIPELINE_RESULT, pipelineResult(e.result));
      if (e.result === "failure" || e.result === "timed_out" || e.result === "interrupted") span.setStatus({ code: SpanStatusCode.ERROR, message: e.result });
      span.end(e.at);
    }
  });

  return {
    tracer,
    setRunParent: (runId, parent) => {
      parents.set(runId, parent);
      bounded(parents);
    },
    runSpanContext: (runId) => runs.get(runId)?.spanContext(),
    contextWithParent,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      unsubscribe?.();
      for (const s of runs.values()) s.end();
      runs.clear();
      await provider.shutdown();
    },
  };
}
