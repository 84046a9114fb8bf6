// Human durations used across workflow files and the daemon config ("300ms", "10m", "1h30m", "7d").
import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+)(ms|s|m|h|d)/g;
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;

/** Milliseconds in a duration string; throws RangeError on bad input. */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) throw new RangeError(`invalid duration '${text}' (expected e.g. 300ms, 30s, 10m, 24h, 7d)`);
  let total = 0;
  for (const m of text.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
}

export const Duration = z
  .string()
  .regex(WHOLE, "must be a duration such as 300ms, 30s, 10m, 24h or 7d")
  .describe("a duration: a number followed by ms, s, m, h or d (parts may be combined: 1h30m)");
