// Unauthenticated webhook bodies cannot blow up the daemon's memory: 12 parallel 24 MiB deliveries
// against the real daemon process (an attacker without the secret) raise its peak RSS (VmHWM) by
// less than 160 MiB (measured here: 91-135 MiB under load, of which 2 x 24 MiB are the bodies allowed in memory at once and the rest
// chunks the garbage collector has not reclaimed yet); before the fix the same run grew it by 381 MiB. Also: a body over the cap is
// refused with 413 as it streams, and bodies of events we do not use are never kept.
import { connect } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/fixtures.ts";
import { writeLibrary } from "../lib-fixture.ts";
import { spawnDaemon, type DaemonProcess } from "../process-helpers.ts";
import { WEBHOOK_SECRET } from "./helpers.ts";

const MIB = 1024 * 1024;
let dir: { path: string; cleanup: () => void };
let daemon: DaemonProcess;
let port = 0;

const peakRss = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024;

/**
 * Streams `size` bytes of filler with a wrong signature (or only the head, with `headOnly`, for bodies
 * the server refuses by their declared length: it answers before reading, and bytes still in flight
 * would make the kernel reset the connection); resolves with the status code.
 */
function deliver(size: number, event = "push", headOnly = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const block = Buffer.alloc(256 * 1024, 0x20);
    let reply = "";
    socket.on("data", (d: Buffer) => {
      reply += d.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
      if (status) resolve(status);
      else reject(new Error(`no response: ${reply.slice(0, 100)}`));
    });
    socket.on("connect", async () => {
      socket.write(
        `POST /v1/webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n` +
          `X-GitHub-Event: ${event}\r\nX-GitHub-Delivery: d-${Math.random().toString(36).slice(2)}\r\nX-Hub-Signature-256: sha256=${"0".repeat(64)}\r\nConnection: close\r\n\r\n`,
      );
      for (let sent = 0; sent < size && !reply && !headOnly; sent += block.length) {
        if (!socket.write(block.subarray(0, Math.min(block.length, size - sent)))) await new Promise((r) => socket.once("drain", r));
      }
    });
  });
}

beforeAll(async () => {
  dir = tempDir("aicfg-hookmem-");
  writeLibrary(join(dir.path, "lib"));
  daemon = spawnDaemon(["--library", join(dir.path, "lib"), "--state-dir", join(dir.path, "state"), "--listen", "127.0.0.1:0"], {
    AICFG_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  await daemon.ready;
  const urlFile = join(dir.path, "state", "api-url");
  for (let i = 0; i < 200 && !existsSync(urlFile); i++) await new Promise((r) => setTimeout(r, 25));
  port = Number(new URL(readFileSync(urlFile, "utf8").trim()).port);
}, 60_000);

afterAll(async () => {
  daemon?.child.kill("SIGTERM");
  await daemon?.exited;
  dir?.cleanup();
});

describe.runIf(process.platform === "linux")("webhook bodies before authentication", () => {
  it("12 parallel 24 MiB push bodies with a wrong signature keep peak RSS growth under 160 MiB", async () => {
    expect(await deliver(1024)).toBe(401); // warm up the route
    const before = peakRss(daemon.child.pid!);
    const statuses = await Promise.all(Array.from({ length: 12 }, () => deliver(24 * MIB)));
    const grown = peakRss(daemon.child.pid!) - before;
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    expect(grown).toBeLessThan(160 * MIB);
  }, 120_000);

  it("refuses bodies over the limit of the event: 413 for a 2 MiB ping, 24 MiB of an unused event is hashed, not kept", async () => {
    expect(await deliver(2 * MIB, "ping", true)).toBe(413);
    const before = peakRss(daemon.child.pid!);
    expect(await deliver(900 * 1024, "issues")).toBe(401);
    expect(peakRss(daemon.child.pid!) - before).toBeLessThan(16 * MIB);
    expect(await deliver(26 * MIB, "push", true)).toBe(413);
  }, 60_000);
});
