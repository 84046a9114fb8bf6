// The daemon refuses to start, with the reason and the fix, when its credentials are unsafe: a
// webhook secret shorter than 16 characters from any source, and token files other users can read
// (G19). Each case drives the real `aicfg daemon` and checks that no stack trace is printed.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureLocalAdminToken, openTokenStore } from "../../src/daemon/auth/token-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { writeLibrary } from "./lib-fixture.ts";
import { nodeBin } from "./harness.ts";

const BIN = join(import.meta.dirname, "../../bin/aicfg.js");

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-refuse-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
});
afterEach(() => dir.cleanup());

/** Runs `aicfg daemon` as a user would (human output, not --json) until it exits. */
async function start(env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(nodeBin(), [BIN, "daemon", "--library", lib, "--state-dir", state, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  clearTimeout(timer);
  expect(out).not.toMatch(/^\s+at /m);
  return { code, stderr: out };
}

describe("a short webhook secret", () => {
  it("from AICFG_GITHUB_WEBHOOK_SECRET: refused at start", async () => {
    const r = await start({ AICFG_GITHUB_WEBHOOK_SECRET: "x" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: the GitHub webhook secret from AICFG_GITHUB_WEBHOOK_SECRET (or the systemd credential github-webhook-secret) has 1 character(s); at least 16 are required\n",
    );
    expect(r.stderr).toContain("hint: generate one with 'openssl rand -hex 32'");
  }, 40_000);

  it("from the systemd credential github-webhook-secret: refused at start", async () => {
    const creds = join(dir.path, "creds");
    mkdirSync(creds);
    writeFileSync(join(creds, "github-webhook-secret"), "short-secret\n", { mode: 0o600 });
    const r = await start({ CREDENTIALS_DIRECTORY: creds, AICFG_GITHUB_WEBHOOK_SECRET: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has 12 character(s); at least 16 are required");
  }, 40_000);
});

describe.runIf(process.platform !== "win32")("token files other users can read", () => {
  it.each([
    ["tokens.json", "644"],
    ["local-admin.token", "640"],
    ["tokens.json", "602"],
  ])(
    "%s with mode 0%s: refused at start with the chmod 600 hint",
    async (name, octal) => {
      const mode = parseInt(octal, 8);
      await ensureLocalAdminToken(state, openTokenStore(state));
      const file = join(state, name);
      chmodSync(file, mode);
      const r = await start();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: ${file} has mode 0${mode.toString(8)}: users other than its owner can access it\n`);
      expect(r.stderr).toContain(`hint: token files must be private: chmod 600 ${file}\n`);
    },
    40_000,
  );

  it("a 0644 token file is refused by the store itself, before any token is trusted", () => {
    const store = openTokenStore(state);
    const { token } = store.create({ role: "admin" });
    chmodSync(join(state, "tokens.json"), 0o644);
    expect(() => openTokenStore(state).verify(token)).toThrow("has mode 0644: users other than its owner can access it");
  });
});
