// In-memory fixed-window limiters (security-rules §4, G14): repeated authentication failures per
// presented credential and per client address (see api/app.ts), and a request budget per token.
// Time is a dependency.
import { systemClock } from "../clock.ts";

export type Limiter = {
  /** Counts one hit for `key`; returns seconds to wait when the key is over its budget, else 0. */
  hit: (key: string) => number;
  /** Seconds to wait when the key is already over budget, else 0 (does not count a hit). */
  blocked: (key: string) => number;
  /** Number of keys tracked (bounded by `maxKeys`). */
  size: () => number;
};

export type LimiterOptions = {
  limit: number;
  windowMs: number;
  now?: () => number;
  /** Oldest windows are evicted beyond this many keys, so a flood of addresses cannot exhaust memory. */
  maxKeys?: number;
};

export function createLimiter(opts: LimiterOptions): Limiter {
  const now = opts.now ?? systemClock.now;
  const maxKeys = opts.maxKeys ?? 10_000;
  const windows = new Map<string, { start: number; count: number }>();

  const current = (key: string): { start: number; count: number } | undefined => {
    const w = windows.get(key);
    if (w && now() - w.start >= opts.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  const wait = (w: { start: number }): number => Math.max(1, Math.ceil((w.start + opts.windowMs - now()) / 1000));

  return {
    hit: (key) => {
      let w = current(key);
      if (!w) {
        if (windows.size >= maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
        w = { start: now(), count: 0 };
        windows.set(key, w);
      }
      w.count++;
      return w.count > opts.limit ? wait(w) : 0;
    },
    blocked: (key) => {
      const w = current(key);
      return w && w.count >= opts.limit ? wait(w) : 0;
    },
    size: () => windows.size,
  };
}
