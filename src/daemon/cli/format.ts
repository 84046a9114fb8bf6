// Terminal formatting that respects NO_COLOR and non-terminals.
import type { CliIO } from "./command.ts";
import { formatDiagnostic, type Diagnostic } from "../../library/diagnostics.ts";

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Color = keyof typeof CODES;

export function paint(io: Pick<CliIO, "color">, color: Color, text: string): string {
  return io.color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

export function printDiagnostics(io: CliIO, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const line = formatDiagnostic(d, io.cwd);
    io.err(d.severity === "error" ? paint(io, "red", line) : paint(io, "yellow", line));
  }
}

export function json(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** A one-line progress indicator on stderr for long work; silent when not a terminal. */
export function progress(io: CliIO, enabled: boolean): { update: (text: string) => void; done: () => void } {
  if (!enabled || !io.tty) return { update: () => {}, done: () => {} };
  let last = 0;
  return {
    update: (text) => {
      const now = Date.now();
      if (now - last < 80) return;
      last = now;
      process.stderr.write(`\r\u001b[2K${text}`);
    },
    done: () => process.stderr.write("\r\u001b[2K"),
  };
}
