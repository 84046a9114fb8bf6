// Readiness comes only after every daemon extension started (issue 10, reviewer's finding; goal
// G25). The real `aicfg daemon` runs as a child process with NOTIFY_SOCKET on a real AF_UNIX
// datagram socket: when the HTTP API refuses to start (a weak webhook secret, a 0644 token file)
// the daemon exits 1 with no "ready" log line, no --json ready line and no READY=1; when it starts,
// READY=1 arrives after the API's listener accepts connections.
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openTokenStore } from "../../src/daemon/auth/token-store.ts";
import { daemonExtensions } from "../../src/daemon/cli/commands/daemon.ts";
import { runCli } from "../../src/daemon/cli/main.ts";
import { ConfigError } from "../../src/library/diagnostics.ts";
import { API_URL_FILE } from "../../src/daemon/config.ts";
import { createNotifier } from "../../src/daemon/runtime/sd-notify.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { spawnDaemon, type DaemonProcess } from "../daemon/process-helpers.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { startReceiver, stopReceivers, type Receiver } from "./notify-receiver.ts";

let dir: ReturnType<typeof tempDir> | undefined;
let proc: DaemonProcess | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
  proc = undefined;
  dir?.cleanup();
  dir = undefined;
});
afterAll(() => stopReceivers());

function setup(): { lib: string; state: string } {
  dir = tempDir("aicfg-ready-");
  const lib = join(dir.path, "lib");
  writeLibrary(lib, { check: "name: check\nsteps:\n  - uses: validate\n" });
  return { lib, state: join(dir.path, "state") };
}

let n = 0;
async function receiver(): Promise<Receiver> {
  return startReceiver(`@aicfg-ready-${process.pid}-${Date.now()}-${n++}`);
}

/**
 * Every datagram the socket got before `marker`: the test sends the marker itself once the daemon
 * has exited, so anything the daemon sent is already queued ahead of it.
 */
async function datagramsBefore(rx: Receiver): Promise<string[]> {
  const marker = `STATUS=marker-${n++}`;
  await createNotifier({ NOTIFY_SOCKET: rx.address }).status(marker.slice("STATUS=".length));
  for (let count = 1; ; count++) {
    const texts = (await rx.waitFor(count)).map((d) => d.text);
    const at = texts.indexOf(marker);
    if (at >= 0) return texts.slice(0, at);
  }
}

const args = (lib: string, state: string) => ["--library", lib, "--state-dir", state, "--listen", "127.0.0.1:0", "--log-format", "json"];

describe("the daemon is not ready when the API cannot start", () => {
  const cases: { name: string; env: Record<string, string>; prepare?: (state: string) => void; code: string }[] = [
    { name: "a 1-character webhook secret", env: { AICFG_GITHUB_WEBHOOK_SECRET: "x" }, code: "weak-webhook-secret" },
    {
      name: "a token file readable by others (0644)",
      env: {},
      prepare: (state) => {
        openTokenStore(state).create({ role: "viewer", name: "dash" });
        chmodSync(join(state, "tokens.json"), 0o644);
      },
      code: "insecure-file",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 1, no ready line, no --json ready, no READY=1`, async () => {
      const { lib, state } = setup();
      c.prepare?.(state);
      const rx = await receiver();
      proc = spawnDaemon(args(lib, state), { NOTIFY_SOCKET: rx.address, ...c.env });
      proc.ready.catch(() => {});
      const { code } = await proc.exited;
      expect(code).toBe(1);
      // With --json the refusal is the one JSON document on stdout; no ready line precedes it.
      expect((JSON.parse(proc.stdout()) as { ok: boolean; error: { code: string } }).error).toMatchObject({ code: c.code });
      expect(proc.stdout()).not.toContain('"ready":');
      expect(proc.stderr()).not.toMatch(/daemon ready/);
      const got = await datagramsBefore(rx);
      expect(got.filter((t) => t.startsWith("READY=1"))).toEqual([]);
      expect(existsSync(join(state, API_URL_FILE))).toBe(false);
      rx.close();
    });
  }
});

it("when the API starts, READY=1 comes once the listener accepts connections", async () => {
  const { lib, state } = setup();
  const rx = await receiver();
  proc = spawnDaemon(args(lib, state), { NOTIFY_SOCKET: rx.address, AICFG_GITHUB_WEBHOOK_SECRET: "0123456789abcdef0123456789abcdef" });
  let listening: boolean | undefined;
  // Checked the moment READY=1 arrives: the API's address is published and its port accepts a connection.
  const ready = (async () => {
    for (let count = 1; ; count++) {
      const got = await rx.waitFor(count);
      if (!got.some((d) => d.text.startsWith("READY=1"))) continue;
      const url = new URL(readFileSync(join(state, API_URL_FILE), "utf8").trim());
      listening = await new Promise<boolean>((resolve) => {
        const s = connect(Number(url.port), url.hostname, () => {
          s.end();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      return got.map((d) => d.text);
    }
  })();
  const line = await proc.ready;
  expect(line.ready).toBe(true);
  const texts = await ready;
  expect(listening).toBe(true);
  expect(texts.find((t) => t.startsWith("READY=1"))).toMatch(/^READY=1\nSTATUS=Ready: 1 of 1 workflows enabled/);
  for (let i = 0; i < 500 && !proc.stderr().includes('"msg":"aicfg daemon ready"'); i++) await new Promise((r) => setTimeout(r, 10));
  expect(proc.stderr()).toContain('"msg":"aicfg daemon ready"');
  // process.kill, not child.kill: under Deno the latter reports the signal instead of the exit code.
  process.kill(proc.child.pid!, "SIGTERM");
  expect((await proc.exited).code).toBe(0);
  rx.close();
});

it("readiness waits for every extension, whatever their order: one failing after sd_notify means no READY=1, and the API is stopped again", async () => {
  const { lib, state } = setup();
  const rx = await receiver();
  const failing = async () => async () => {
    throw new ConfigError("extension-failed", "a later extension refused to start");
  };
  daemonExtensions.push(failing);
  const out: string[] = [];
  const lines: string[] = [];
  let code: number;
  try {
    code = await runCli(["daemon", "--json", ...args(lib, state)], {
      out: (t) => out.push(t),
      err: (t) => lines.push(t),
      log: { write: (l: string) => void lines.push(l) },
      color: false,
      tty: false,
      cwd: dir!.path,
      env: { NOTIFY_SOCKET: rx.address, HOME: dir!.path },
    });
  } finally {
    daemonExtensions.splice(daemonExtensions.indexOf(failing), 1);
  }
  expect(code).toBe(1);
  expect(out.join("\n")).toContain("extension-failed");
  expect(out.join("\n")).not.toContain('"ready":');
  expect(lines.join("\n")).not.toMatch(/daemon ready/);
  expect((await datagramsBefore(rx)).filter((t) => t.startsWith("READY=1"))).toEqual([]);
  // The API had started; it was stopped again (its address file is gone, the port is closed).
  expect(existsSync(join(state, API_URL_FILE))).toBe(false);
  rx.close();
});
