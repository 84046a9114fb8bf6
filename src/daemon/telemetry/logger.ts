// The daemon's structured logger: pino JSON lines with a level label, redaction of known secret
// fields by path, and the value scrubber applied to the final line (so a secret inside an error
// message or a command string is removed too). On a terminal the same lines, already scrubbed,
// are rewritten for people by a small formatter sink (`time LEVEL message key=value`).
import { pino, type Logger } from "pino";
import { ConfigError } from "../../library/diagnostics.ts";
import type { SecretRegistry } from "./redact.ts";
import { REDACTED } from "./redact.ts";

export type { Logger };

/** Field paths that hold secrets wherever they occur in a log object. */
const REDACT_PATHS = [
  "token",
  "secret",
  "password",
  "authorization",
  "headers.authorization",
  "headers.cookie",
  'headers["x-hub-signature-256"]',
  "req.headers.authorization",
  "*.token",
  "*.secret",
  "*.password",
  "*.env.*",
  "*.headers.*",
];

export type LogSink = { write: (line: string) => void };

const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_COLORS: Record<string, string> = { trace: "90", debug: "90", info: "32", warn: "33", error: "31", fatal: "35" };
const HIDDEN = new Set(["time", "level", "msg", "name"]);

function fieldText(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as a human-readable line: `12:00:01.234 INFO  message key=value …` (local time). */
export function formatPretty(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : line + "\n";
  }
  const t = typeof o.time === "string" ? new Date(o.time) : new Date();
  const time =
    [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":") + "." + String(t.getMilliseconds()).padStart(3, "0");
  const level = String(o.level ?? "info");
  const label = level.toUpperCase().padEnd(5);
  const fields = Object.entries(o)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return `${paint("2", time)} ${paint(LEVEL_COLORS[level] ?? "0", label)} ${String(o.msg ?? "")}${fields.length ? " " + paint("2", fields.join(" ")) : ""}\n`;
}

/** A sink that writes each (already scrubbed) JSON line to `out` in the human-readable form. */
export function prettySink(out: LogSink, opts: { color: boolean }): LogSink {
  return {
    write: (chunk) => {
      for (const line of chunk.split("\n")) if (line) out.write(formatPretty(line, opts.color));
    },
  };
}

/** JSON unless the log goes to a terminal; an explicit `--log-format` wins. */
export function chooseLogFormat(explicit: string | undefined, isTTY: boolean): LogFormat {
  if (explicit === undefined) return isTTY ? "pretty" : "json";
  if ((LOG_FORMATS as readonly string[]).includes(explicit)) return explicit as LogFormat;
  throw new ConfigError("usage", `--log-format must be json or pretty (got ${JSON.stringify(explicit)})`, {
    hint: "json for journald and log collectors, pretty for a terminal",
  });
}

/**
 * `fixedFields` is for the HTTP access log: its lines have a fixed set of fields, so path
 * redaction is skipped, and instead of scrubbing every whole line the caller scrubs the few
 * client-controlled values (request id, path, actor) before logging — the line's other fields are
 * numbers and names from fixed sets. That halves the cost of a /livez request on Bun.
 */
export function createLogger(opts: { secrets: SecretRegistry; level?: string; sink?: LogSink; name?: string; fixedFields?: boolean }): Logger {
  const options = {
    name: opts.name ?? "aicfg",
    level: opts.level ?? "info",
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(opts.fixedFields ? {} : { redact: { paths: REDACT_PATHS, censor: REDACTED }, hooks: { streamWrite: (line: string) => opts.secrets.scrub(line) } }),
  };
  return opts.sink ? pino(options, opts.sink) : pino(options);
}
