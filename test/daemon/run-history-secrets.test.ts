// Run history never keeps a secret in plain text (G18): a run whose step prints an allowlisted
// secret env value, and whose inputs carry a GitHub token, leaves neither in any file of the state
// folder, while the API-facing records still say what happened.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REDACTED } from "../../src/daemon/telemetry/redact.ts";
import { nodeBin, startHarness, type Harness } from "./harness.ts";

const CANARY = "canary-" + "7f3a9c1e5b2d8f40";
const GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  delete process.env.AICFG_SEC1_CANARY;
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("secrets in run history", () => {
  it("are scrubbed from run records (inputs, outputs, errors) and run logs before they are written", async () => {
    process.env.AICFG_SEC1_CANARY = CANARY;
    const print = "console.log('token=' + process.env.S); console.error('again ' + process.env.S); process.exit(3)";
    const wf = [
      "name: leak",
      "on: { manual: true }",
      "inputs: { note: { type: string } }",
      "steps:",
      "  - id: echo",
      "    uses: shell",
      "    with:",
      `      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(print.replace("process.exit(3)", ""))}]`,
      '      env: { S: "${{ env.AICFG_SEC1_CANARY }}" }',
      "  - id: fail",
      "    uses: shell",
      "    with:",
      `      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(print)}]`,
      '      env: { S: "${{ env.AICFG_SEC1_CANARY }}" }',
      "",
    ].join("\n");
    h = await startHarness({ leak: wf }, { config: { envAllowlist: ["AICFG_SEC1_CANARY"] } });
    const id = await h.d.triggerRun("lib", "leak", { inputs: { note: `deploy with ${GH_TOKEN}` } });
    await h.d.waitForRun(id);
    const run = (await h.d.store.getRun(id))!; // what the API and `aicfg runs` show
    expect(run.status).toBe("failure");
    expect(run.inputs).toEqual({ note: `deploy with ${REDACTED}` });
    expect(run.steps[0]!.outputs!.stdout).toBe(`token=${REDACTED}\n`);
    expect(run.steps[1]!.error).not.toContain(CANARY);
    const log = await h.d.store.readLog(id);
    expect(log.some((l) => l.message.includes(`token=`))).toBe(true);

    const leaks = filesUnder(h.state).filter((f) => {
      const text = readFileSync(f, "utf8");
      return text.includes(CANARY) || text.includes(GH_TOKEN);
    });
    expect(leaks).toEqual([]);
  });
});
