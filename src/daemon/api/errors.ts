// API errors: every failure leaves as `{ error: { code, message, hint, details } }` with a proper
// status, its text passed through the secret scrubber.
import { AicfgError, ConfigError, PathError } from "../../library/diagnostics.ts";
import type { SecretRegistry } from "../telemetry/redact.ts";

export class ApiError extends AicfgError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly extra: unknown;
  constructor(status: number, code: string, message: string, opts: { hint?: string; details?: unknown; headers?: Record<string, string> } = {}) {
    super(code, message, opts.hint === undefined ? {} : { hint: opts.hint });
    this.status = status;
    this.headers = opts.headers ?? {};
    this.extra = opts.details;
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  "not-found": 404,
  "invalid-input": 422,
  "invalid-request": 400,
  conflict: 409,
  unavailable: 503,
  "unsafe-name": 400,
  "unsafe-path": 400,
  "path-traversal": 400,
};

export function errorStatus(e: unknown): number {
  if (e instanceof ApiError) return e.status;
  if (e instanceof AicfgError) return STATUS_BY_CODE[e.code] ?? (e instanceof ConfigError || e instanceof PathError ? 422 : 500);
  return 500;
}

export function errorBody(e: unknown, secrets: SecretRegistry): { error: { code: string; message: string; hint?: string; details?: unknown } } {
  if (e instanceof AicfgError) {
    const j = e.toJSON();
    const out: { code: string; message: string; hint?: string; details?: unknown } = { code: j.code, message: j.message };
    if (j.hint) out.hint = j.hint;
    const details = e instanceof ApiError ? e.extra : j.details;
    if (details !== undefined) out.details = details;
    return { error: secrets.scrubValue(out) };
  }
  return { error: { code: "internal", message: "internal error", hint: "the daemon log has the details (look up the request id)" } };
}
