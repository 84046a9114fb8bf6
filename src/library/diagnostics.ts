// Diagnostics and typed errors: every problem a user can cause is reported with file, position,
// what was expected and a hint, so the CLI can print it for humans and the API as JSON.

type Severity = "error" | "warning";

export type Diagnostic = {
  severity: Severity;
  /** Stable machine code, e.g. `unknown-field`, `yaml-syntax`, `knowledge-no-match`. */
  code: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
  hint?: string;
};

export function formatDiagnostic(d: Diagnostic, cwd?: string): string {
  let where = d.file ?? "";
  if (where && cwd && where.startsWith(cwd + "/")) where = where.slice(cwd.length + 1);
  if (where && d.line !== undefined) where += `:${d.line}:${d.col ?? 1}`;
  const prefix = d.severity === "error" ? "error" : "warning";
  const head = where ? `${where}  ` : "";
  return `${head}${prefix}: ${d.message}${d.hint ? `  (${d.hint})` : ""}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Base of the small set of typed errors the whole code base throws. */
export class AicfgError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly hint: string | undefined;
  readonly diagnostics: Diagnostic[];
  constructor(
    code: string,
    message: string,
    opts: { file?: string; line?: number; col?: number; hint?: string; diagnostics?: Diagnostic[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = opts.file;
    this.line = opts.line;
    this.col = opts.col;
    this.hint = opts.hint;
    this.diagnostics = opts.diagnostics ?? [];
  }
  toDiagnostic(): Diagnostic {
    const d: Diagnostic = { severity: "error", code: this.code, message: this.message };
    if (this.file !== undefined) d.file = this.file;
    if (this.line !== undefined) d.line = this.line;
    if (this.col !== undefined) d.col = this.col;
    if (this.hint !== undefined) d.hint = this.hint;
    return d;
  }
  toJSON(): { code: string; message: string; hint?: string; details?: unknown } {
    const out: { code: string; message: string; hint?: string; details?: unknown } = { code: this.code, message: this.message };
    if (this.hint) out.hint = this.hint;
    const details: Record<string, unknown> = {};
    if (this.file) details.file = this.file;
    if (this.line !== undefined) details.line = this.line;
    if (this.col !== undefined) details.col = this.col;
    if (this.diagnostics.length) details.diagnostics = this.diagnostics;
    if (Object.keys(details).length) out.details = details;
    return out;
  }
}

/** The user's input (library, workflow, daemon config, CLI flags) is wrong. */
export class ConfigError extends AicfgError {}
/** An export could not be planned or applied. */
export class ExportError extends AicfgError {}
/** A path or name escaped its allowed root or is unsafe. */
export class PathError extends AicfgError {}
/** Importing native tool files failed. */
export class ImportError extends AicfgError {}
