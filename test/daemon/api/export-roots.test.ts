// Issue 10 item 8, as an attacker with an editor token would try it, over real HTTP on loopback
// against a real daemon and its API extension: trigger inputs cannot aim an export (which writes
// MCP command configs) at a folder of the caller's choosing, and a literal root outside the daemon
// config's actions.export.roots fails the run. Nothing is written outside the allowed root.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { apiExtension } from "../../../src/daemon/api-bridge.ts";
import { openTokenStore } from "../../../src/daemon/auth/token-store.ts";
import type { CliIO } from "../../../src/daemon/cli/command.ts";
import { createDaemonLogging } from "../../../src/daemon/cli/commands/daemon.ts";
import { API_URL_FILE } from "../../../src/daemon/config.ts";
import { startDaemon, type DaemonHandle } from "../../../src/daemon/daemon.ts";
import { tempDir, writeTree } from "../../helpers/fixtures.ts";
import { testConfig } from "../harness.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

const exportStep = (withLines: string[]) =>
  ["steps:", "  - uses: export", "    with:", "      targets: [claude-code]", ...withLines.map((l) => `      ${l}`), ""].join("\n");

it("an editor cannot redirect an export's root or scope through inputs, and a literal root outside the allowlist fails", async () => {
  const dir = tempDir("aicfg-aim-");
  const lib = join(dir.path, "lib");
  const state = join(dir.path, "state");
  const project = join(dir.path, "project");
  const evil = join(dir.path, "evil");
  const inputs = "inputs:\n  root: { type: string }\n  scope: { type: string }\n";
  writeTree(lib, {
    "aicfg.yaml": "name: lib\ntargets: [claude-code]\nexport:\n  scope: project\n  root: ../project\n",
    "agents/helper.md": "---\ndescription: Helps\nmcp: [tool]\n---\nBe helpful.\n",
    "mcp/tool.yaml": "command: npx\nargs: [some-mcp-server]\n",
    // What the attack needs: a workflow that takes its folder from the trigger. It no longer loads.
    "workflows/aim.yaml": `name: aim\n${inputs}${exportStep(['root: "${{ inputs.root }}"', 'scope: "${{ inputs.scope }}"'])}`,
    "workflows/pinned.yaml": `name: pinned\n${inputs}${exportStep(["root: ../project"])}`,
    "workflows/stray.yaml": `name: stray\n${exportStep(["root: ../stray"])}`,
  });
  const editor = openTokenStore(state).create({ role: "editor", name: "ci-bot" }).token;
  const logs: string[] = [];
  const io: CliIO = { out: () => {}, err: (t) => logs.push(t), color: false, tty: false, cwd: dir.path, env: {} };
  const logging = createDaemonLogging(io, { viaIo: true, format: "json" });
  const config = testConfig(lib, state, { listen: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" }, exportRoots: [project] });
  const handle: DaemonHandle = await startDaemon({ config, log: logging.log, hotReload: false });
  const stopApi = await apiExtension(handle, io, logging, Promise.resolve());
  cleanup = async () => {
    if (stopApi) await stopApi();
    await handle.stop({ deadlineMs: 0 });
    dir.cleanup();
  };
  const url = readFileSync(join(state, API_URL_FILE), "utf8").trim();
  const trigger = (wf: string, body: unknown) =>
    fetch(`${url}/v1/workflows/lib/${wf}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${editor}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  // 1. The redirecting workflow is refused at load (the daemon logs where), so there is nothing to trigger.
  expect(logs.join("\n")).toMatch(/aim\.yaml:\d+:\d+.*with\.root: export does not allow \$\{\{ \}\} here/);
  const aimed = await trigger("aim", { inputs: { root: evil, scope: "user" } });
  expect(aimed.status).toBe(404);
  expect(((await aimed.json()) as { error: { code: string } }).error.code).toBe("not-found");

  // 2. Inputs of a workflow with a literal root change nothing about where it writes.
  const pinned = await trigger("pinned", { inputs: { root: evil, scope: "user" } });
  expect(pinned.status).toBe(202);
  const ok = await handle.waitForRun(((await pinned.json()) as { runId: string }).runId);
  expect(ok.status).toBe("success");
  expect(existsSync(join(project, ".claude", "agents", "helper.md"))).toBe(true);
  expect(readFileSync(join(project, ".mcp.json"), "utf8")).toContain("some-mcp-server");

  // 3. A literal root outside actions.export.roots fails the run with a clear error.
  const stray = await trigger("stray", {});
  expect(stray.status).toBe(202);
  const failed = await handle.waitForRun(((await stray.json()) as { runId: string }).runId);
  expect(failed.status).toBe("failure");
  expect(failed.steps[0]!.error).toContain(`the export root (project scope) ${join(dir.path, "stray")} is not inside an allowed folder (${project})`);

  expect(existsSync(evil)).toBe(false);
  expect(existsSync(join(dir.path, "stray"))).toBe(false);
});
