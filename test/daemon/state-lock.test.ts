// One scheduling daemon per state folder: the lock is taken atomically by exactly one of several
// processes starting at the same instant, and a stale lock (holder gone, pid reused by another
// process, taken before a restart, a crashed recovery) is recovered instead of blocking start-up.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireStateLock, processStartTime } from "../../src/daemon/store/state-lock.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { nodeBin } from "./harness.ts";

const MODULE = join(import.meta.dirname, "../../src/daemon/store/state-lock.ts");
// Waits for the start file, then tries the lock once, reports, holds it until the stop file exists.
const CONTENDER = `
import { existsSync } from "node:fs";
const { acquireStateLock } = await import(process.argv[1]);
const [, , dir, go, stop] = process.argv;
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 1));
try {
  const lock = acquireStateLock(dir, "daemon.lock", "i" + process.pid);
  console.log("got");
  while (!existsSync(stop)) await new Promise((r) => setTimeout(r, 5));
  lock.release();
} catch (e) {
  console.log(e.code);
}
`;

let dir: { path: string; cleanup: () => void };
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = tempDir("aicfg-lock-");
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  dir.cleanup();
});

function contender(go: string, stop: string): Promise<string> {
  const child = spawn(nodeBin(), ["--input-type=module", "-e", CONTENDER, MODULE, dir.path, go, stop], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (out.includes("\n")) {
        clearInterval(check);
        resolve(out.trim());
      }
    }, 5);
  });
}

function sleeper(): ChildProcess {
  const child = spawn(nodeBin(), ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  children.push(child);
  return child;
}

const lockFile = () => join(dir.path, "daemon.lock");
const holder = (fields: Record<string, unknown>) => writeFileSync(lockFile(), JSON.stringify({ instance: "other", since: 0, ...fields }) + "\n");

describe("the state-folder lock", () => {
  it("is taken by exactly one of six processes started at the same instant, three rounds running", async () => {
    for (let round = 0; round < 3; round++) {
      const go = join(dir.path, `go${round}`);
      const stop = join(dir.path, `stop${round}`);
      const results = Array.from({ length: 6 }, () => contender(go, stop));
      await new Promise((r) => setTimeout(r, 300)); // let all six reach the start line
      writeFileSync(go, "");
      const seen = await Promise.all(results);
      expect(seen.filter((s) => s === "got")).toHaveLength(1);
      expect(seen.filter((s) => s === "state-dir-locked")).toHaveLength(5);
      writeFileSync(stop, "");
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 100 && existsSync(lockFile()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(lockFile())).toBe(false);
    }
  });

  it("refuses while a live holder keeps it, naming its pid", () => {
    const live = sleeper();
    const start = processStartTime(live.pid!);
    holder({ pid: live.pid, startTime: start, since: Date.UTC(2030, 0, 1) });
    expect(() => acquireStateLock(dir.path, "daemon.lock", "me", { folder: "/srv/state" })).toThrow(
      `another daemon (pid ${live.pid}, since 2030-01-01T00:00:00.000Z) is using the state folder /srv/state`,
    );
    expect(JSON.parse(readFileSync(lockFile(), "utf8")).pid).toBe(live.pid);
  });

  it.runIf(existsSync("/proc/self/stat"))("recovers a lock whose pid now belongs to another process (a reused pid)", () => {
    const other = sleeper();
    holder({ pid: other.pid, startTime: "1" });
    const lock = acquireStateLock(dir.path, "daemon.lock", "me");
    expect(lock.recovered).toBe(`a stale lock was replaced: pid ${other.pid} now belongs to another process`);
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({ pid: process.pid, instance: "me", startTime: processStartTime(process.pid) });
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it.runIf(existsSync("/proc/sys/kernel/random/boot_id"))("recovers a lock taken before the machine restarted, even if its pid is alive now", () => {
    holder({ pid: process.ppid, bootId: "00000000-0000-0000-0000-000000000000" });
    expect(acquireStateLock(dir.path, "daemon.lock", "me").recovered).toBe(
      `a stale lock was replaced: it was taken before the machine restarted (pid ${process.ppid})`,
    );
  });

  it("recovers a lock whose holder is gone, and an unreadable one", () => {
    const gone = spawn(nodeBin(), ["-e", ""]);
    return new Promise<void>((resolve) =>
      gone.on("exit", () => {
        holder({ pid: gone.pid });
        const lock = acquireStateLock(dir.path, "daemon.lock", "me");
        expect(lock.recovered).toBe(`a stale lock was replaced: its process (pid ${gone.pid}) is gone`);
        lock.release();
        writeFileSync(lockFile(), "{not json");
        expect(acquireStateLock(dir.path, "daemon.lock", "me").recovered).toBe("a stale lock was replaced: it is unreadable");
        resolve();
      }),
    );
  });

  it("breaks a recovery guard left by a crashed starter only once it is old", () => {
    holder({ pid: 0x3ffffe });
    writeFileSync(lockFile() + ".recovery", "1");
    expect(() => acquireStateLock(dir.path, "daemon.lock", "me")).toThrow(/keeps changing hands/);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lockFile() + ".recovery", old, old);
    expect(acquireStateLock(dir.path, "daemon.lock", "me").recovered).toMatch(/is gone/);
    expect(existsSync(lockFile() + ".recovery")).toBe(false);
  });

  it("release leaves a lock that another instance holds alone", () => {
    const lock = acquireStateLock(dir.path, "daemon.lock", "me");
    holder({ pid: process.pid, instance: "successor" });
    lock.release();
    expect(JSON.parse(readFileSync(lockFile(), "utf8")).instance).toBe("successor");
  });
});
