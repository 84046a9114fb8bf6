// The production log destination (buffered stdout) on the current runtime: every line arrives,
// in order, scrubbed, once telemetry is shut down.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("./fixtures/log-to-stdout.ts", import.meta.url));

describe("stdout logging", () => {
  it("flushes every buffered line on shutdown, in order and scrubbed", () => {
    const args = "Deno" in globalThis ? ["run", "-A", FIXTURE] : [FIXTURE];
    const out = execFileSync(process.execPath, args, { encoding: "utf8", timeout: 20_000 });
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; i?: number });
    expect(lines.length).toBe(501);
    expect(lines.slice(0, 500).map((l) => l.i)).toEqual(Array.from({ length: 500 }, (_x, i) => i));
    expect(lines[3]!.msg).toBe("line 3 with [redacted]");
    expect(lines[500]).toMatchObject({ msg: "request", reqId: "r-1", status: 200 });
    expect(out).not.toContain("stdout-canary-0123");
  });
});
