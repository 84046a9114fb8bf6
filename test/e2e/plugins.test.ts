// End to end on Node, Bun and Deno: the real CLI, run by each runtime, pins two sample plugins with
// `aicfg plugin add` (gptme in process, token-budget out of process with only reports/ granted),
// exports to the plugin's gptme target, and runs a workflow whose step is the isolated plugin's
// action (the child process runs on the same runtime, under its permission flags where it has them).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../src/testing/index.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO, "bin", "aicfg.js");
const bin = (name: string) => join(REPO, "node_modules", ".bin", name);
const RUNTIMES: Record<string, string[]> = { node: [bin("node")], bun: [bin("bun")], deno: [bin("deno"), "run", "-A", "--conditions=aicfg-source"] };
const dir = tempDir("aicfg-e2e-plugins-");
afterAll(() => dir.cleanup());

describe.each(Object.keys(RUNTIMES))("sample plugins on %s", (runtime) => {
  it("plugin add, export to the plugin's target, run the isolated plugin's action", () => {
    const base = join(dir.path, runtime);
    const lib = join(base, "lib");
    mkdirSync(join(lib, "agents"), { recursive: true });
    mkdirSync(join(lib, "workflows"), { recursive: true });
    mkdirSync(join(lib, "node_modules"), { recursive: true });
    symlinkSync(REPO, join(lib, "node_modules", "ai-configurator"));
    writeFileSync(join(lib, "aicfg.yaml"), "name: demo\nexport:\n  root: ../project\n");
    writeFileSync(join(lib, "agents", "helper.md"), "---\ndescription: Helps\n---\nBe brief.\n");
    writeFileSync(
      join(lib, "workflows", "budget.yaml"),
      "name: budget\nsteps:\n  - id: count\n    uses: token-budget\n    with:\n      max: 1000\n      out: reports/budget.md\n",
    );
    const [cmd, ...pre] = RUNTIMES[runtime]!;
    const aicfg = (...args: string[]) => {
      const r = spawnSync(cmd!, [...pre, BIN, ...args], {
        cwd: lib,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, NO_COLOR: "1", AICFG_STATE_DIR: join(base, "state") },
      });
      // A process ended by a signal has no code: the signal and stderr go in the failure message.
      return { code: r.status, out: r.stdout, err: r.stderr, why: `signal ${r.signal ?? "none"}; stderr: ${r.stderr}` };
    };
    const gptme = join(REPO, "examples", "plugins", "aicfg-plugin-gptme");
    const budget = join(REPO, "examples", "plugins", "aicfg-plugin-token-budget");
    const add1 = aicfg("plugin", "add", gptme);
    expect(add1.err).toBe("");
    expect(add1.out).toContain("added aicfg-plugin-gptme 1.0.0");
    const add2 = aicfg("plugin", "add", budget, "--isolation", "process", "--grant-write", "reports");
    expect(add2.out).toContain("runs out of process, may write: reports");

    const exp = aicfg("export", "--target", "gptme");
    expect(exp.code, exp.why).toBe(0);
    expect(readFileSync(join(base, "project", "gptme.toml"), "utf8")).toContain('files = [ ".gptme/agents/helper.md" ]');
    expect(readFileSync(join(base, "project", ".gptme", "agents", "helper.md"), "utf8")).toContain("Be brief.");

    const run = aicfg("run", "budget", "--library", ".");
    expect(run.code, run.out + run.why).toBe(0);
    expect(run.out).toContain("ok   count (token-budget)");
    expect(readFileSync(join(lib, "reports", "budget.md"), "utf8")).toContain("| helper |");

    const list = aicfg("plugin", "list", "--json");
    expect(list.code, list.why).toBe(0);
    expect(JSON.parse(list.out).loaded.map((p: { name: string }) => p.name)).toEqual(["aicfg-plugin-gptme", "aicfg-plugin-token-budget"]);
    expect(existsSync(join(lib, "aicfg.lock"))).toBe(true);
  });
});
