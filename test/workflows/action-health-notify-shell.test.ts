// `health` (sizes, stale files, broken links and globs, unused knowledge, tokens vs limits),
// `notify` (HMAC-SHA256 over the exact body) and `shell` (argv only, disabled by default, event
// data only through the environment: goal G02).
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { healthAction } from "../../src/workflows/actions/health.ts";
import { notifyAction, SIGNATURE_HEADER } from "../../src/workflows/actions/notify.ts";
import { shellAction } from "../../src/workflows/actions/shell.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { nodeBin } from "../daemon/harness.ts";
import { actionContext } from "./action-context.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-actions-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
});
afterEach(() => dir.cleanup());

describe("health action", () => {
  it("reports sizes, stale files, broken links and globs, unused knowledge and tokens against limits", async () => {
    writeTree(lib, {
      "agents/big.md":
        "---\ndescription: Big\ntargets: [chatgpt]\nknowledge: [missing/**]\n---\n" +
        "x".repeat(8400) +
        "\nSee [guide](../knowledge/guide.md) and [site](https://example.com).\n",
      "knowledge/unused.md": "Nobody reads this. [dead](nowhere.md)\n",
    });
    const old = new Date(Date.parse("2025-01-01T00:00:00Z"));
    utimesSync(join(lib, "knowledge", "style.md"), old, old);
    const r = await healthAction.run({ stale_after: "180d" }, actionContext(lib, state));
    const o = r.outputs as Record<string, unknown>;
    expect([o.files, o.agents, o.knowledge_files]).toEqual([6, 3, 2]);
    expect(o.stale).toEqual(["knowledge/style.md"]);
    expect(o.unused_knowledge).toEqual(["unused.md"]);
    expect(o.broken_links).toEqual([
      { file: "agents/big.md", link: "../knowledge/guide.md" },
      { file: "knowledge/unused.md", link: "nowhere.md" },
    ]);
    expect((o.broken_globs as string[]).length).toBe(1);
    expect((o.tokens as Record<string, number>).writer).toBe(7);
    expect(o.over_limit).toEqual([{ agent: "big", target: "chatgpt", tokens: (o.tokens as Record<string, number>).big, limit: 2000 }]);
    expect(r.facts!.libraryStats).toEqual({ files: 6, bytes: o.bytes, agents: 3 });
    expect(r.warnings!.at(-1)).toBe(`agent 'big' is about ${(o.tokens as Record<string, number>).big} tokens, over the 2000-token limit of chatgpt`);
  });
});

describe("notify action", () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it("POSTs the run summary signed with HMAC-SHA256 of the exact body", async () => {
    let got: { body: string; sig: string | undefined; type: string | undefined } | undefined;
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        got = { body, sig: req.headers[SIGNATURE_HEADER] as string | undefined, type: req.headers["content-type"] };
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
    const ctx = actionContext(lib, state, {
      settings: { env: { HOOK_SECRET: "It's a Secret to Everybody" } },
      steps: () => [{ id: "pull", uses: "sync", status: "failure", error: "diverged" }],
      status: () => "failure",
    });
    const r = await notifyAction.run({ url, secret_env: "HOOK_SECRET", message: "nightly" }, ctx);
    expect(r.outputs.status).toBe(200);
    expect(JSON.parse(got!.body)).toEqual({
      library: "lib",
      workflow: "w",
      run_id: "run-1",
      status: "failure",
      trigger: "manual",
      started_at: "2026-06-01T10:00:00.000Z",
      sent_at: "2026-06-01T10:00:00.000Z",
      steps: [{ id: "pull", uses: "sync", status: "failure", error: "diverged" }],
      message: "nightly",
    });
    expect(got!.sig).toBe("sha256=" + createHmac("sha256", "It's a Secret to Everybody").update(got!.body).digest("hex"));
    expect(got!.type).toBe("application/json");
    await expect(notifyAction.run({ url, secret_env: "NOT_ALLOWED" }, ctx)).rejects.toThrow("environment variable NOT_ALLOWED is not set or not allowed");
  });
});

describe("shell action", () => {
  it("is disabled unless the daemon config enables it", async () => {
    await expect(shellAction.run({ command: [nodeBin(), "-e", "1"] }, actionContext(lib, state, { settings: { shell: { enabled: false } } }))).rejects.toThrow(
      "the shell action is disabled in this daemon",
    );
  });

  it("delivers hostile event data literally through the environment, never to a shell (G02)", async () => {
    const payloads = ['";touch PWN;#', "$(touch PWN)", "`touch PWN`", '{"x":1,"args":["evil"]}', "*alias"];
    const script =
      "process.stdout.write(JSON.stringify({argv: process.argv.slice(1), paths: process.env.AICFG_TRIGGER_PATHS, branch: process.env.AICFG_TRIGGER_BRANCH, title: process.env.TITLE}))";
    for (const p of payloads) {
      const ctx = actionContext(lib, state, { trigger: { kind: "git", branch: p, paths: [p, "b"] } });
      const r = await shellAction.run({ command: [nodeBin(), "-e", script, "fixed-arg"], env: { TITLE: p } }, ctx);
      expect(JSON.parse(String(r.outputs.stdout))).toEqual({ argv: ["fixed-arg"], paths: `${p}\nb`, branch: p, title: p });
    }
    expect(existsSync(join(lib, "PWN"))).toBe(false);
    expect(existsSync(join(process.cwd(), "PWN"))).toBe(false);
  });

  it("fails on a non-zero exit and keeps cwd inside the library", async () => {
    await expect(shellAction.run({ command: [nodeBin(), "-e", "console.error('boom'); process.exit(2)"] }, actionContext(lib, state))).rejects.toThrow(
      `${nodeBin()} exited with 2: boom`,
    );
    await expect(shellAction.run({ command: [nodeBin(), "-e", "1"], cwd: "../.." }, actionContext(lib, state))).rejects.toThrow(
      "cwd ../.. is outside the library",
    );
    await expect(shellAction.run({ command: ["definitely-not-a-program-aicfg"] }, actionContext(lib, state))).rejects.toThrow(
      "cannot run definitely-not-a-program-aicfg: program not found (give its full path, or check PATH)",
    );
  });
});
