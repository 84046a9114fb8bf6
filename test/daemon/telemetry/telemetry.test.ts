// Logs, audit and traces on their own: the value scrubber (what pino's path redaction misses),
// the pino logger, the append-only audit log, traceparent parsing and OTLP export to a real
// collector endpoint on 127.0.0.1.
import { createServer, type IncomingMessage } from "node:http";
import { readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createEventBus } from "../../../src/daemon/events.ts";
import { openAuditLog, auditRuns } from "../../../src/daemon/telemetry/audit.ts";
import { createDaemonLogging } from "../../../src/daemon/cli/commands/daemon.ts";
import { createLogger, formatPretty } from "../../../src/daemon/telemetry/logger.ts";
import { createSecretRegistry } from "../../../src/daemon/telemetry/redact.ts";
import { createTracing, formatTraceparent, parseTraceparent, pipelineResult } from "../../../src/daemon/telemetry/tracing.ts";
import { createTelemetry } from "../../../src/daemon/telemetry/telemetry.ts";
import { generateToken } from "../../../src/daemon/auth/token-format.ts";
import { tempDir } from "../../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void } | undefined;
afterEach(() => {
  dir?.cleanup();
  dir = undefined;
});

describe("secret scrubber", () => {
  it("replaces registered values anywhere, raw or JSON-escaped, and known token shapes", () => {
    const s = createSecretRegistry();
    s.add('pa"ss\\word-42');
    s.add("abc");
    s.add(undefined);
    expect(s.size()).toBe(2);
    expect(s.scrub('cmd --password pa"ss\\word-42 failed')).toBe("cmd --password [redacted] failed");
    expect(s.scrub(JSON.stringify({ msg: 'x pa"ss\\word-42 y' }))).toBe('{"msg":"x [redacted] y"}');
    expect(s.scrub("abc is too short to be registered")).toBe("abc is too short to be registered");
    const ours = generateToken();
    expect(s.scrub(`Authorization: Bearer ${ours}`)).toBe("Authorization: Bearer [redacted]");
    expect(s.scrub(`GITHUB_TOKEN=ghp_${"A1".repeat(18)} and sk-ant-${"x".repeat(30)}`)).toBe("GITHUB_TOKEN=[redacted] and [redacted]");
    expect(s.scrubValue({ a: ['pa"ss\\word-42', 1, { b: `${ours}` }] })).toEqual({ a: ["[redacted]", 1, { b: "[redacted]" }] });
  });

  it("replaces the longer of two overlapping secrets whole", () => {
    const s = createSecretRegistry();
    s.add("secret-1");
    s.add("secret-1-extended");
    expect(s.scrub("x secret-1-extended y secret-1 z")).toBe("x [redacted] y [redacted] z");
  });
});

describe("logger", () => {
  it("redacts secret fields by path and secret values inside messages, errors and command strings", () => {
    const lines: string[] = [];
    const secrets = createSecretRegistry();
    secrets.add("hunter2-canary-value");
    const log = createLogger({ secrets, sink: { write: (l) => void lines.push(l) } });
    log.info(
      { token: "plain-field-value", headers: { authorization: "Bearer xyz", "x-other": "fine" }, server: { env: { API_KEY: "k-123456" } } },
      "with fields",
    );
    log.error(
      { err: new Error("git failed: https://u:hunter2-canary-value@host/repo"), command: "curl -u admin:hunter2-canary-value" },
      "step failed for hunter2-canary-value",
    );
    const [a, b] = lines.map((l) => JSON.parse(l));
    expect(a).toMatchObject({
      level: "info",
      msg: "with fields",
      token: "[redacted]",
      headers: { authorization: "[redacted]" },
      server: { env: { API_KEY: "[redacted]" } },
    });
    expect(b.level).toBe("error");
    expect(b.msg).toBe("step failed for [redacted]");
    expect(b.command).toBe("curl -u admin:[redacted]");
    expect(b.err.message).toBe("git failed: https://u:[redacted]@host/repo");
    expect(lines.join("")).not.toContain("hunter2-canary-value");
    expect(lines.join("")).not.toContain("plain-field-value");
  });
});

describe("log formats", () => {
  const capture = (format: string | undefined, tty: boolean, env: Record<string, string> = {}) => {
    const lines: string[] = [];
    const io = { out: () => {}, err: () => {}, color: tty, tty, cwd: "/", env, log: { write: (l: string) => void lines.push(l) } };
    return { lines, logging: createDaemonLogging(io, { format }) };
  };

  it("is pino JSON off a terminal and with --log-format json, and readable lines on a terminal", () => {
    const json = capture(undefined, false);
    json.logging.logger.info({ url: "http://127.0.0.1:7411" }, "api listening");
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: "info", name: "aicfg", url: "http://127.0.0.1:7411", msg: "api listening" });
    const forced = capture("json", true);
    forced.logging.logger.info("x");
    expect(JSON.parse(forced.lines[0]!)).toMatchObject({ msg: "x" });

    const pretty = capture(undefined, true, { NO_COLOR: "1" });
    expect(pretty.logging.format).toBe("pretty");
    pretty.logging.log("error", "run export failed after 0.2 s", { workflow: "export", file: "agents/a b.md:4:1", attempt: 2 });
    expect(pretty.lines).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} ERROR run export failed after 0\.2 s workflow=export file="agents\/a b\.md:4:1" attempt=2\n$/),
    ]);
    // NO_COLOR (or a pipe) means no escape codes; a color terminal gets them.
    const colored = capture("pretty", true);
    colored.logging.logger.warn("careful");
    expect(colored.lines[0]).toContain("\x1b[33mWARN \x1b[0m careful");
    expect(() => capture("yaml", true)).toThrow('--log-format must be json or pretty (got "yaml")');
  });

  it("redacts secrets in both formats (the pretty sink only sees scrubbed lines)", () => {
    for (const format of ["json", "pretty"]) {
      const c = capture(format, false);
      c.logging.secrets.add("pretty-canary-0123456");
      c.logging.logger.error(
        { token: "field-canary-value", err: { message: "clone https://x:pretty-canary-0123456@host failed" } },
        "failed with pretty-canary-0123456",
      );
      const text = c.lines.join("");
      expect(text, format).toContain("[redacted]");
      expect(text, format).not.toContain("pretty-canary-0123456");
      expect(text, format).not.toContain("field-canary-value");
    }
    expect(formatPretty("not json", false)).toBe("not json\n");
  });
});

describe("run logger", () => {
  it("tags a run's lines with its run id and the trace id of its open span", async () => {
    dir = tempDir();
    const bus = createEventBus();
    const lines: string[] = [];
    const t = createTelemetry({ bus, stateDir: dir.path, logSink: { write: (l) => void lines.push(l) }, env: {} });
    bus.publish({ type: "run.started", runId: "run-9", workflow: "sync", library: "team", trigger: "manual", at: Date.now(), attempt: 1 });
    t.forRun("run-9").info("cloning");
    bus.publish({
      type: "run.finished",
      runId: "run-9",
      workflow: "sync",
      library: "team",
      trigger: "manual",
      result: "success",
      durationMs: 5,
      at: Date.now(),
    });
    t.forRun("run-9").info("after the span closed");
    await t.shutdown();
    const [a, b] = lines.map((l) => JSON.parse(l));
    expect(a).toMatchObject({
      msg: "cloning",
      runId: "run-9",
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(b).toMatchObject({ msg: "after the span closed", runId: "run-9" });
    expect(b.traceId).toBeUndefined();
  });
});

describe("audit log", () => {
  it("appends one scrubbed JSON line per entry to a 0600 file, and records runs from the bus", () => {
    dir = tempDir();
    const secrets = createSecretRegistry();
    secrets.add("audit-secret-value");
    const t = new Date("2026-11-24T10:00:00.000Z");
    const audit = openAuditLog(dir.path, secrets, () => t);
    const bus = createEventBus();
    const stop = auditRuns(bus, audit);
    audit.record({
      actor: "token:tok_000000000001(ops)",
      action: "token.create",
      target: "tok_000000000002",
      outcome: "ok",
      details: { note: "audit-secret-value" },
    });
    bus.publish({ type: "run.started", runId: "r1", workflow: "sync", library: "team", trigger: "cron", at: 1, attempt: 2 });
    bus.publish({ type: "run.finished", runId: "r1", workflow: "sync", library: "team", trigger: "cron", result: "timed_out", durationMs: 5000, at: 2 });
    stop();
    audit.close();
    const again = openAuditLog(dir.path, secrets, () => t);
    again.record({ actor: "x", action: "y", target: "z", outcome: "ok" });
    again.close();
    expect(statSync(audit.file).mode & 0o777).toBe(0o600);
    expect(
      readFileSync(audit.file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        ts: "2026-11-24T10:00:00.000Z",
        actor: "token:tok_000000000001(ops)",
        action: "token.create",
        target: "tok_000000000002",
        outcome: "ok",
        details: { note: "[redacted]" },
      },
      { ts: "2026-11-24T10:00:00.000Z", actor: "system:cron", action: "run.started", target: "team/sync", outcome: "ok", runId: "r1", details: { attempt: 2 } },
      {
        ts: "2026-11-24T10:00:00.000Z",
        actor: "system:cron",
        action: "run.finished",
        target: "team/sync",
        outcome: "timed_out",
        runId: "r1",
        details: { durationMs: 5000 },
      },
      { ts: "2026-11-24T10:00:00.000Z", actor: "x", action: "y", target: "z", outcome: "ok" },
    ]);
  });
});

describe("trace context", () => {
  it("parses valid W3C traceparent headers and rejects invalid ones", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true,
    });
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")).toMatchObject({ traceFlags: 0 });
    for (const bad of [
      undefined,
      "",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-xyz",
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
    expect(formatTraceparent({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 })).toBe(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    expect(["success", "failure", "cancelled", "timed_out", "skipped", "interrupted"].map((r) => pipelineResult(r as never))).toEqual([
      "success",
      "failure",
      "cancellation",
      "timeout",
      "skip",
      "error",
    ]);
  });

  it("exports run and step spans with OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set", async () => {
    const received: { path: string; type: string; body: string }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const parts: Buffer[] = [];
      req.on("data", (d: Buffer) => parts.push(d));
      req.on("end", () => {
        received.push({ path: req.url ?? "", type: String(req.headers["content-type"]), body: Buffer.concat(parts).toString("latin1") });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", () => r()));
    const port = (collector.address() as AddressInfo).port;
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    // The OTLP exporter reads its endpoint from the process environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    try {
      const bus = createEventBus();
      const tracing = createTracing({ bus, env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
      bus.publish({ type: "run.started", runId: "run-77", workflow: "nightly-sync", library: "team", trigger: "cron", at: Date.now() - 1000, attempt: 1 });
      bus.publish({
        type: "step.finished",
        runId: "run-77",
        workflow: "nightly-sync",
        stepId: "pull",
        action: "git",
        result: "success",
        durationMs: 300,
        at: Date.now() - 500,
      });
      bus.publish({
        type: "run.finished",
        runId: "run-77",
        workflow: "nightly-sync",
        library: "team",
        trigger: "cron",
        result: "success",
        durationMs: 1000,
        at: Date.now(),
      });
      await tracing.forceFlush();
      await tracing.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
      await new Promise<void>((r) => collector.close(() => r()));
    }
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received[0]!.path).toBe("/v1/traces");
    const all = received.map((r) => r.body).join("");
    for (const s of ["RUN nightly-sync", "git pull", "cicd.pipeline.name", "run-77", "cicd.pipeline.task.name"]) expect(all).toContain(s);
  });
});
