// The daemon's structured logger: pino JSON lines with a level label, redaction of known secret
// fields by path, and the value scrubber applied to the final line (so a secret inside an error
// message or a command string is removed too).
import { pino, type Logger } from "pino";
import type { SecretRegistry } from "./redact.ts";
import { REDACTED } from "./redact.ts";

export type { Logger };

/** Field paths that hold secrets wherever they occur in a log object. */
export const REDACT_PATHS = [
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
