// Time is a dependency: the scheduler, engine, triggers, API and actions read the wall clock and set
// timers only through a Clock, so tests can drive DST changes, clock jumps, sleep/wake and catch-up
// without waiting. `systemClock` is the real one; `createManualClock` is the deterministic one.
// It lives in workflows/ (the lowest layer with timers: the shell and notify actions); daemon/clock.ts
// re-exports it, so imports keep pointing down.

export type Clock = {
  /** Wall-clock milliseconds since the epoch. */
  now: () => number;
  /** Calls `fn` after `ms` of elapsed (monotonic) time; returns a function that cancels it. */
  setTimer: (ms: number, fn: () => void) => () => void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on the clock, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * An AbortSignal that aborts after `ms` on the clock with a "TimeoutError" DOMException, like
 * AbortSignal.timeout (which reads only the real timers); `cancel` clears the timer once it is not needed.
 */
export function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; cancel: () => void } {
  const ctrl = new AbortController();
  const cancel = clock.setTimer(ms, () => ctrl.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")));
  return { signal: ctrl.signal, cancel };
}

export type ManualClock = Clock & {
  /** Lets `ms` pass: the wall clock and timers move together; due timers fire in order. */
  advance: (ms: number) => Promise<void>;
  /** Moves only the wall clock (an NTP step or a suspend the monotonic timers did not see). */
  jump: (ms: number) => void;
  /** Sets the wall clock to an absolute time without firing timers. */
  set: (wallMs: number) => void;
  pendingTimers: () => number;
};

/** Lets pending promise callbacks and I/O callbacks run. */
async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export function createManualClock(startWallMs: number): ManualClock {
  let wall = startWallMs;
  let mono = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  return {
    now: () => wall,
    setTimer: (ms, fn) => {
      const id = ++seq;
      timers.set(id, { at: mono + Math.max(0, ms), fn, seq: id });
      return () => {
        timers.delete(id);
      };
    },
    advance: async (ms) => {
      const end = mono + ms;
      await flush();
      for (;;) {
        let next: [number, { at: number; fn: () => void; seq: number }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= end && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
        if (!next) break;
        timers.delete(next[0]);
        wall += next[1].at - mono;
        mono = next[1].at;
        next[1].fn();
        await flush();
      }
      wall += end - mono;
      mono = end;
      await flush();
    },
    jump: (ms) => {
      wall += ms;
    },
    set: (wallMs) => {
      wall = wallMs;
    },
    pendingTimers: () => timers.size,
  };
}
