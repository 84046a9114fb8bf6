// The README's path for a new user, end to end: `aicfg init` a personal library, run the daemon the
// way the user unit does, and see the agents exported into the (temporary) home's tool folders at
// start-up and again after an edit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../helpers/fixtures.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const cmd = (...args: string[]): string[] =>
  (globalThis as { Deno?: unknown }).Deno ? ["run", "-A", join(repo, "bin/aicfg.js"), ...args] : [join(repo, "bin/aicfg.js"), ...args];

let dir: { path: string; cleanup: () => void };
let home: string;
let child: ChildProcess | undefined;
let stderr = "";

async function waitFor(what: string, fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  dir = tempDir("aicfg-newuser-");
  home = join(dir.path, "home");
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child!.once("exit", r));
  }
  dir.cleanup();
});

describe("a new user's first library", () => {
  it("init, then the daemon keeps the user's tool folders exported", async () => {
    const env = { ...process.env, HOME: home, XDG_STATE_HOME: join(dir.path, "state"), NO_COLOR: "1" };
    const lib = join(home, "ai-library");
    const init = spawnSync(process.execPath, cmd("init", lib), { encoding: "utf8", env });
    expect(init.status, init.stderr).toBe(0);
    child = spawn(process.execPath, cmd("daemon", "--library", lib, "--listen", "127.0.0.1:0"), { env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const agent = join(home, ".claude", "agents", "assistant.md");
    await waitFor("the start-up export into ~/.claude", () => existsSync(agent) && existsSync(join(home, ".kiro", "agents", "assistant.json")));
    expect(readFileSync(agent, "utf8")).toContain("description: A helpful assistant that follows the team's policies");
    const source = join(lib, "agents", "assistant.md");
    writeFileSync(source, readFileSync(source, "utf8").replace("A helpful assistant", "A precise assistant"));
    await waitFor("the edit to be exported", () => readFileSync(agent, "utf8").includes("A precise assistant"));
    expect(existsSync(join(dir.path, "state", "aicfg", "exports.json"))).toBe(true);
  });
});
