// The shell and notify actions set their timers on the run's clock (ctx.clock), not on the process's
// timers: with a manual clock a 5-minute timeout fires the moment the test lets 5 minutes pass.
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { notifyAction } from "../../src/workflows/actions/notify.ts";
import { shellAction } from "../../src/workflows/actions/shell.ts";
import { createManualClock, type ManualClock } from "../../src/workflows/clock.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { nodeBin } from "../daemon/harness.ts";
import { actionContext } from "./action-context.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let clock: ManualClock;
beforeEach(() => {
  dir = tempDir("aicfg-action-clock-");
  lib = join(dir.path, "lib");
  writeLibrary(lib);
  clock = createManualClock(Date.parse("2026-06-01T10:00:00Z"));
});
afterEach(() => dir.cleanup());

/** Settles `p` into a value we can look at without an unhandled rejection. */
function settle<T>(p: Promise<T>): { state: () => "pending" | "resolved" | "rejected"; error: () => unknown } {
  let state: "pending" | "resolved" | "rejected" = "pending";
  let error: unknown;
  p.then(
    () => (state = "resolved"),
    (e: unknown) => {
      state = "rejected";
      error = e;
    },
  );
  return { state: () => state, error: () => error };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe("action timers run on the injected clock", () => {
  it("shell: the timeout fires when the clock reaches it, not before", async () => {
    const ctx = actionContext(lib, dir.path, { clock, now: clock.now });
    const run = settle(shellAction.run({ command: [nodeBin(), "-e", "setTimeout(() => {}, 60_000)"], timeout: "5m" }, ctx));
    await clock.advance(299_000);
    expect(run.state()).toBe("pending");
    await clock.advance(1_000);
    // SIGTERM went out at 5 minutes of clock time; node exits on it.
    await until(() => run.state() !== "pending", "the shell step to stop");
    expect(run.state()).toBe("rejected");
    expect((run.error() as { code: string }).code).toBe("timeout");
    expect(clock.pendingTimers()).toBe(0);
  });

  it("notify: the request timeout fires on the clock and is cleared after an answer", async () => {
    const hang: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    const port = (hang.address() as { port: number }).port;
    try {
      const ctx = actionContext(lib, dir.path, { clock, now: clock.now });
      const run = settle(notifyAction.run({ url: `http://127.0.0.1:${port}/hook`, timeout: "10s" }, ctx));
      await clock.advance(9_000);
      expect(run.state()).toBe("pending");
      await clock.advance(1_000);
      await until(() => run.state() !== "pending", "the notify step to give up");
      expect((run.error() as { code: string }).code).toBe("notify-unreachable");
      expect(clock.pendingTimers()).toBe(0);
    } finally {
      hang.closeAllConnections?.();
      await new Promise<void>((r) => hang.close(() => r()));
    }
  });
});
