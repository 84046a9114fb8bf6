// sd_notify against a REAL receiving AF_UNIX/SOCK_DGRAM socket bound by python3 (Node cannot bind
// one), with SO_PASSCRED so each datagram's sender PID is recorded as systemd would see it.
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  createNotifier,
  formatNotification,
  readCredential,
  sanitizeStatus,
  watchdogIntervalMs,
  watchdogLoop,
  type NotifyBackend,
} from "../../../src/daemon/runtime/sd-notify.ts";
import { encodeSockaddrUn, loadLibcDatagram } from "../../../src/daemon/runtime/sd-notify-ffi.ts";
import { startReceiver, stopReceivers } from "../../systemd/notify-receiver.ts";

let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aicfg-sdnotify-"));
});

afterAll(() => {
  stopReceivers();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const uniqueAbstract = () => `@aicfg-test-${process.pid}-${++seq}-${Date.now()}`;
const uniquePath = () => join(dir, `notify-${++seq}.sock`);

describe("not under systemd", () => {
  test("without NOTIFY_SOCKET every call is a no-op and no watchdog is armed", async () => {
    const n = createNotifier({ WATCHDOG_USEC: "30000000" });
    expect(n.enabled).toBe(false);
    expect(n.socket).toBe(undefined);
    expect(n.watchdogIntervalMs).toBe(undefined);
    expect(await n.backend()).toBe("none");
    await expect(n.ready("up")).resolves.toBe(undefined);
    await expect(n.watchdog()).resolves.toBe(undefined);
    await expect(n.status("x")).resolves.toBe(undefined);
    await expect(n.reloading()).resolves.toBe(undefined);
    await expect(n.stopping()).resolves.toBe(undefined);
    let calls = 0;
    const loop = watchdogLoop(n, () => ++calls > 0);
    expect(loop.active).toBe(false);
    loop.stop();
    expect(calls).toBe(0);
  });

  test("an empty NOTIFY_SOCKET counts as unset", () => {
    expect(createNotifier({ NOTIFY_SOCKET: "" }).enabled).toBe(false);
  });
});

describe("protocol pieces", () => {
  test("watchdog interval is half of WATCHDOG_USEC and only for the named PID", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(15000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "43" }, 42)).toBe(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 42)).toBe(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "-5" }, 42)).toBe(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1e6" }, 42)).toBe(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1000" }, 42)).toBe(1);
    expect(watchdogIntervalMs({}, 42)).toBe(undefined);
  });

  test("notifications are KEY=VALUE lines; bad keys and multi-line values are refused", () => {
    expect(
      formatNotification([
        ["READY", "1"],
        ["STATUS", "2 workflows"],
      ]),
    ).toBe("READY=1\nSTATUS=2 workflows");
    expect(() => formatNotification([["ready", "1"]])).toThrow('notification key "ready" is not an upper-case KEY');
    expect(() => formatNotification([["STATUS", "a\nREADY=1"]])).toThrow("notification value for STATUS contains a newline or NUL byte");
    expect(() => formatNotification([])).toThrow("a notification needs at least one KEY=VALUE field");
  });

  test("status text is flattened to one line and capped", () => {
    expect(sanitizeStatus("  3 workflows\nREADY=1\t next\u0000run ")).toBe("3 workflows READY=1 next run");
    const long = sanitizeStatus("x".repeat(2000));
    expect(long.length).toBe(512);
    expect(long.endsWith("…")).toBe(true);
  });

  test("socket addresses: file paths are NUL-terminated, abstract names are not", () => {
    const p = encodeSockaddrUn("/run/x");
    expect(p.length).toBe(2 + 6 + 1);
    expect(Array.from(p.addr.slice(0, 9))).toEqual([1, 0, 47, 114, 117, 110, 47, 120, 0]);
    const a = encodeSockaddrUn("@ab");
    expect(a.length).toBe(2 + 1 + 2);
    expect(Array.from(a.addr.slice(0, 5))).toEqual([1, 0, 0, 97, 98]);
    expect(() => encodeSockaddrUn("relative.sock")).toThrow("NOTIFY_SOCKET \"relative.sock\" is neither an absolute path nor an abstract '@' name");
    expect(() => encodeSockaddrUn("@")).toThrow("NOTIFY_SOCKET '@' names no abstract socket");
    expect(() => encodeSockaddrUn("/" + "a".repeat(107))).toThrow("NOTIFY_SOCKET is 109 bytes, longer than the 108 a unix socket address holds");
  });

  test("unsetEnvironment removes the variables so child processes do not inherit them", () => {
    const env: Record<string, string | undefined> = { NOTIFY_SOCKET: "@x", WATCHDOG_USEC: "4000000", WATCHDOG_PID: String(process.pid), HOME: "/h" };
    const n = createNotifier(env, { unsetEnvironment: true });
    expect(n.enabled).toBe(true);
    expect(n.socket).toBe("@x");
    expect(n.watchdogIntervalMs).toBe(2000);
    expect(env).toEqual({ HOME: "/h" });
  });

  test("LoadCredential= secrets are read from $CREDENTIALS_DIRECTORY", () => {
    const creds = join(dir, "creds");
    mkdirSync(creds);
    writeFileSync(creds + "/github-webhook-secret", "s3cr3t\n");
    // The units' SetCredential= default for a missing file: one newline, meaning "not configured".
    writeFileSync(creds + "/github-token", "\n");
    const env = { CREDENTIALS_DIRECTORY: creds };
    expect(readCredential(env, "github-webhook-secret")).toBe("s3cr3t");
    expect(readCredential(env, "absent")).toBe(undefined);
    expect(readCredential(env, "github-token")).toBe(undefined);
    expect(readCredential({}, "github-webhook-secret")).toBe(undefined);
    expect(() => readCredential(env, "../etc/passwd")).toThrow('credential name "../etc/passwd" is not a plain file name');
  });
});

test("this runtime can reach libc through its built-in FFI", async () => {
  const libc = await loadLibcDatagram();
  expect(libc?.runtime).toBe((globalThis as { Deno?: unknown }).Deno ? "deno" : process.versions.bun ? "bun" : "node");
});

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

describe("backend choice in a real child process of each runtime", () => {
  const bin = (name: string) => new URL(`../../../node_modules/.bin/${name}`, import.meta.url).pathname;
  const child = new URL("../../systemd/fixtures/notify-child.ts", import.meta.url).pathname;
  const cases: Array<[string, string, string[], "ffi" | "systemd-notify"]> = [
    ["Node", "node", [child], "ffi"],
    ["Node with --no-experimental-ffi", "node", ["--no-experimental-ffi", child], "systemd-notify"],
    ["Bun", "bun", [child], "ffi"],
    ["Deno with --allow-all", "deno", ["run", "--allow-all", child], "ffi"],
    ["Deno without --allow-ffi", "deno", ["run", "--allow-read", "--allow-env", "--allow-run", child], "systemd-notify"],
  ];
  test.each(cases)("%s sends READY=1 through %s", async (_name, runtime, args, expected) => {
    const rx = await startReceiver(uniqueAbstract());
    const env = { NOTIFY_SOCKET: rx.address, PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" };
    const out = await new Promise<string>((resolve, reject) =>
      execFile(bin(runtime), args, { env, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(String(stdout)),
      ),
    );
    const report = JSON.parse(out.trim().split("\n").at(-1)!) as { backend: string; hasBuiltinFfi: boolean; pid: number };
    expect([report.backend, report.hasBuiltinFfi]).toEqual([expected, expected === "ffi"]);
    const [ready] = await rx.waitFor(1);
    rx.close();
    expect(ready!.text).toBe("READY=1\nSTATUS=from child");
    // ffi sends as the daemon itself; systemd-notify can claim the daemon's PID only as root.
    expect(ready!.pid === report.pid).toBe(expected === "ffi" || isRoot);
  });
});

describe.each([
  ["ffi", "file path"],
  ["ffi", "abstract"],
  ["systemd-notify", "file path"],
  ["systemd-notify", "abstract"],
] as Array<[NotifyBackend, string]>)("backend %s, %s socket", (backend, kind) => {
  test("READY, STATUS, WATCHDOG, RELOADING + MONOTONIC_USEC and STOPPING arrive exactly", async () => {
    const rx = await startReceiver(kind === "abstract" ? uniqueAbstract() : uniquePath());
    const n = createNotifier({ NOTIFY_SOCKET: rx.address, WATCHDOG_USEC: "20000000", PATH: process.env.PATH }, { backend });
    expect(await n.backend()).toBe(backend);
    expect(n.watchdogIntervalMs).toBe(10000);
    await n.ready("Ready: 3 workflows, next run 09:00");
    await n.status("Running export (1 of 3)");
    await n.watchdog();
    await n.reloading("Reloading configuration");
    await n.ready();
    await n.stopping("Draining 1 run");
    const got = await rx.waitFor(6);
    rx.close();
    const reload = got[3]!;
    const mono = /^RELOADING=1\nMONOTONIC_USEC=(\d+)\nSTATUS=Reloading configuration$/.exec(reload.text);
    expect(got.map((d) => d.text)).toEqual([
      "READY=1\nSTATUS=Ready: 3 workflows, next run 09:00",
      "STATUS=Running export (1 of 3)",
      "WATCHDOG=1",
      reload.text,
      "READY=1",
      "STOPPING=1\nSTATUS=Draining 1 run",
    ]);
    expect(mono).not.toBe(null);
    // MONOTONIC_USEC must be on CLOCK_MONOTONIC: after the receiver was bound, before it received it.
    const usec = Number(mono![1]);
    expect(usec).toBeGreaterThanOrEqual(rx.boundAt);
    expect(usec).toBeLessThanOrEqual(reload.mono);
    // systemd attributes a datagram to the PID in its credentials. The ffi backend sends as us
    // (NotifyAccess=main works); systemd-notify claims its parent's PID only with root privileges.
    const expectedPid = backend === "ffi" || isRoot;
    for (const d of got) expect(d.pid === process.pid).toBe(expectedPid);
  });
});

test("a missing socket is a clear error, not a crash", async () => {
  const address = join(dir, "nobody-listens.sock");
  const n = createNotifier({ NOTIFY_SOCKET: address }, { backend: "ffi" });
  await expect(n.ready()).rejects.toThrow(`sendto() to the notify socket ${address} failed: ENOENT`);
});

test("systemd-notify missing from PATH is a clear error", async () => {
  const n = createNotifier({ NOTIFY_SOCKET: "@whatever" }, { backend: "systemd-notify", systemdNotify: join(dir, "no-such-systemd-notify") });
  await expect(n.watchdog()).rejects.toThrow(`cannot notify systemd: '${join(dir, "no-such-systemd-notify")}' was not found`);
});

test("watchdogLoop pings only while the scheduler is healthy, then stops", async () => {
  const rx = await startReceiver(uniqueAbstract());
  // 2 ms interval: the loop runs quickly, but the assertions only count events, never time them.
  const n = createNotifier({ NOTIFY_SOCKET: rx.address, WATCHDOG_USEC: "4000" }, { backend: "ffi" });
  const answers = [true, false, true, true, false, false, true];
  let calls = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  const loop = watchdogLoop(n, () => {
    const healthy = answers[calls++]!;
    if (calls === answers.length) finish();
    return healthy;
  });
  expect(loop.active).toBe(true);
  await done;
  loop.stop();
  // Datagrams on one socket arrive in order: once the sentinel is in, every ping before it is too.
  const expectedPings = answers.filter(Boolean).length;
  await n.status("sentinel");
  const got = await rx.waitFor(expectedPings + 1);
  rx.close();
  expect(calls).toBe(answers.length);
  expect(got.map((d) => d.text)).toEqual([...Array.from({ length: expectedPings }, () => "WATCHDOG=1"), "STATUS=sentinel"]);
});

test("watchdogLoop survives an isHealthy that throws and reports it", async () => {
  const n = createNotifier({ NOTIFY_SOCKET: uniqueAbstract(), WATCHDOG_USEC: "4000" }, { backend: "ffi" });
  const errors: unknown[] = [];
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  const loop = watchdogLoop(
    n,
    () => {
      throw new Error("scheduler state unreadable");
    },
    (e) => {
      errors.push(e);
      if (errors.length === 2) finish();
    },
  );
  await done;
  loop.stop();
  expect(errors.map((e) => (e as Error).message)).toEqual(["scheduler state unreadable", "scheduler state unreadable"]);
});
