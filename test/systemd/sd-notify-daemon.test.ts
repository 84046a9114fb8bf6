// The daemon's systemd integration end to end against a real daemon (manual clock, temp library)
// and a real notification socket: READY with the status line, WATCHDOG pings, STATUS after runs,
// RELOADING + MONOTONIC_USEC then READY around a reload, STOPPING on drain, and nothing at all
// without NOTIFY_SOCKET.
import { afterAll, afterEach, expect, test } from "vitest";
import type { CliIO } from "../../src/daemon/cli/command.ts";
import { daemonStatusLine, startSdNotify } from "../../src/daemon/runtime/sd-notify-daemon.ts";
import { createNotifier } from "../../src/daemon/runtime/sd-notify.ts";
import { startHarness, type Harness } from "../daemon/harness.ts";
import { startReceiver, stopReceivers } from "./notify-receiver.ts";

const HOURLY = 'name: hourly\non:\n  cron:\n    schedule: "0 * * * *"\nsteps:\n  - uses: validate\n';
const MANUAL = "name: check\nsteps:\n  - uses: validate\n";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});
afterAll(() => stopReceivers());

function ioWith(env: Record<string, string | undefined>): CliIO & { errors: string[] } {
  const errors: string[] = [];
  return { out: () => {}, err: (t) => errors.push(t), color: false, tty: false, cwd: "/", env, errors };
}

test("the status line names the workflows, the runs and the next scheduled run", async () => {
  h = await startHarness({ hourly: HOURLY, check: MANUAL });
  // T0 is 2026-06-01T10:00:10Z on the harness clock.
  expect(daemonStatusLine(h.d, "Ready")).toBe("Ready: 2 of 2 workflows enabled; 0 running, 0 queued; next run hourly at 2026-06-01T11:00:00Z");
});

test("READY, WATCHDOG, STATUS, RELOADING + MONOTONIC_USEC, READY and STOPPING reach systemd's socket", async () => {
  h = await startHarness({ hourly: HOURLY, check: MANUAL });
  const rx = await startReceiver(`@aicfg-daemon-test-${process.pid}-${Date.now()}`);
  const env: Record<string, string | undefined> = { NOTIFY_SOCKET: rx.address, WATCHDOG_USEC: "20000", WATCHDOG_PID: String(process.pid) };
  const io = ioWith(env);
  const stop = await startSdNotify(h.d, io, { statusDelayMs: 0 });
  expect(stop).toBeTypeOf("function");
  // The variables are gone from the environment children inherit.
  expect(env).toEqual({});

  /** Waits until a datagram matching `match` arrives; returns every datagram text so far. */
  const until = async (match: (text: string) => boolean) => {
    for (let n = 1; ; n++) {
      const texts = (await rx.waitFor(n)).map((d) => d.text);
      if (texts.some(match)) return texts;
    }
  };
  const first = await until((t) => t.startsWith("READY=1"));
  expect(first.filter((t) => t !== "WATCHDOG=1")).toEqual([
    "READY=1\nSTATUS=Ready: 2 of 2 workflows enabled; 0 running, 0 queued; next run hourly at 2026-06-01T11:00:00Z",
  ]);
  // The scheduler is healthy, so the watchdog pings (every 10 ms here).
  await until((t) => t === "WATCHDOG=1");

  const runId = await h.d.triggerRun("lib", "check");
  await h.d.waitForRun(runId);
  await h.d.idle();
  await until((t) => /^STATUS=Running: 2 of 2 workflows enabled; [01] running, 0 queued; next run hourly at 2026-06-01T11:00:00Z$/.test(t));

  await h.d.reload();
  const reloaded = await until((t) => t.startsWith("READY=1\nSTATUS=Reloaded"));
  const reloading = reloaded.findIndex((t) => t.startsWith("RELOADING=1"));
  expect(reloaded[reloading]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=Reloading configuration and workflows$/);
  const readyAgain = reloaded.findIndex((t) => t.startsWith("READY=1\nSTATUS=Reloaded"));
  expect(reloading).toBeGreaterThan(0);
  expect(readyAgain).toBeGreaterThan(reloading);
  expect(reloaded[readyAgain]).toBe("READY=1\nSTATUS=Reloaded: 2 of 2 workflows enabled; 0 running, 0 queued; next run hourly at 2026-06-01T11:00:00Z");

  await stop!();
  const all = await until((t) => t.startsWith("STOPPING=1"));
  expect(all.filter((t) => t !== "WATCHDOG=1").at(-1)).toBe("STOPPING=1\nSTATUS=Draining 0 running and 0 queued runs");
  // Every datagram came from this process, as NotifyAccess=main requires.
  expect(new Set(rx.received.map((d) => d.pid))).toEqual(new Set([process.pid]));
  expect(io.errors).toEqual([]);
  rx.close();
});

test("without NOTIFY_SOCKET nothing is started and reload is left alone", async () => {
  h = await startHarness({ check: MANUAL });
  const reload = h.d.reload;
  const stop = await startSdNotify(h.d, ioWith({}));
  expect(stop).toBe(undefined);
  expect(h.d.reload).toBe(reload);
});

test("a notify failure is logged as a warning and never breaks the daemon", async () => {
  h = await startHarness({ check: MANUAL });
  const io = ioWith({});
  const notifier = createNotifier({ NOTIFY_SOCKET: "/nonexistent/aicfg-notify.sock" }, { backend: "ffi" });
  const stop = await startSdNotify(h.d, io, { notifier });
  await h.d.reload();
  await stop!();
  expect(io.errors.map((e) => (JSON.parse(e) as { level: string; msg: string }).msg)).toEqual([
    "sd_notify READY failed: sendto() to the notify socket /nonexistent/aicfg-notify.sock failed: ENOENT",
    "sd_notify RELOADING failed: sendto() to the notify socket /nonexistent/aicfg-notify.sock failed: ENOENT",
    "sd_notify READY failed: sendto() to the notify socket /nonexistent/aicfg-notify.sock failed: ENOENT",
    "sd_notify STOPPING failed: sendto() to the notify socket /nonexistent/aicfg-notify.sock failed: ENOENT",
  ]);
});
