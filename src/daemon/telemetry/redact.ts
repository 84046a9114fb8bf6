// The value-based secret scrubber (security rule 7, G18): pino's path redaction misses a secret
// inside an error message or a command string, so every log line, audit line, run log and API
// error body also passes through `scrub`, which replaces registered secret values and known token
// shapes wherever they appear (raw or JSON-escaped).
import { TOKEN_PATTERN } from "../auth/token-format.ts";

export const REDACTED = "[redacted]";

/** Token shapes that are secrets wherever they appear (ours, GitHub, OpenAI/Anthropic-style keys, Slack), as one pass. */
const KNOWN_SHAPES = new RegExp(
  [
    TOKEN_PATTERN.source,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,255}\b`,
    String.raw`\bgithub_pat_[A-Za-z0-9_]{22,255}\b`,
    String.raw`\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b`,
    String.raw`\bxox[abpr]-[A-Za-z0-9-]{10,}\b`,
  ].join("|"),
  "g",
);

/** Secret values shorter than this are not registered: replacing "a" everywhere would destroy logs. */
const MIN_SECRET_LENGTH = 6;

export type SecretRegistry = {
  /** Registers a secret value (and its JSON-escaped form) for scrubbing. Short values are ignored. */
  add: (value: string | undefined) => void;
  scrub: (text: string) => string;
  /** Deep copy of a JSON-like value with every string scrubbed. */
  scrubValue: <T>(value: T) => T;
  size: () => number;
};

export function createSecretRegistry(): SecretRegistry {
  const values = new Set<string>();
  let sorted: string[] = [];
  const scrub = (text: string): string => {
    let out = text;
    for (const v of sorted) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out.replace(KNOWN_SHAPES, REDACTED);
  };
  const scrubValue = <T>(value: T): T => {
    if (typeof value === "string") return scrub(value) as T;
    if (Array.isArray(value)) return value.map(scrubValue) as T;
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v);
      return out as T;
    }
    return value;
  };
  return {
    add: (value) => {
      if (!value || value.length < MIN_SECRET_LENGTH) return;
      values.add(value);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) values.add(escaped);
      // Longest first, so a secret that contains another is replaced whole.
      sorted = [...values].sort((a, b) => b.length - a.length);
    },
    scrub,
    scrubValue,
    size: () => values.size,
  };
}
