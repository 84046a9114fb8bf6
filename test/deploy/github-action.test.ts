// The composite GitHub Action, the example workflow and the pre-commit hooks: valid YAML with the
// keys GitHub and pre-commit require, third-party actions pinned by full SHA, no `${{ }}` inside a
// script, and the action's script run for real with bash to prove how inputs become argv.
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { tempDir } from "../helpers/fixtures.ts";

const root = new URL("../../", import.meta.url).pathname;
const text = (p: string) => readFileSync(join(root, p), "utf8");

function load<T>(p: string): T {
  const doc = parseDocument(text(p), { uniqueKeys: true });
  expect(
    doc.errors.map((e) => e.message),
    p,
  ).toEqual([]);
  return doc.toJS() as T;
}

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  "working-directory"?: string;
};
type Action = {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required: boolean; default: string }>;
  runs: { using: string; steps: Step[] };
};
type Workflow = {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { "runs-on": string; "timeout-minutes": number; steps: Step[] }>;
};

const action = load<Action>("action.yml");
const example = load<Workflow>("deploy/github-action/example-workflow.yml");

/** `uses:` lines must be owner/repo@<40 hex> # <version comment>. */
function unpinned(file: string, content: string = text(file)): string[] {
  return content
    .split("\n")
    .filter((l) => /^\s*(-\s+)?uses:/.test(l))
    .filter((l) => !/uses:\s+[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$/.test(l.trimEnd()));
}

describe("action.yml", () => {
  test("is a composite action with the documented inputs", () => {
    expect(action.name).toBe("AI Configurator");
    expect(action.description.length).toBeGreaterThan(10);
    expect(action.runs.using).toBe("composite");
    expect(Object.entries(action.inputs).map(([k, v]) => [k, v.required, v.default])).toEqual([
      ["command", false, "export-check"],
      ["library", false, "."],
      ["targets", false, ""],
      ["workflow", false, ""],
      ["node-version", false, "24"],
    ]);
    for (const [k, v] of Object.entries(action.inputs)) expect(v.description.length, k).toBeGreaterThan(10);
    // Composite run steps must name their shell.
    for (const s of action.runs.steps) if (s.run !== undefined) expect(s.shell, s.name).toBe("bash");
  });

  test("third-party actions are pinned by full commit SHA with the version in a comment", () => {
    expect(unpinned("action.yml")).toEqual([]);
    const tagged = "      - uses: actions/checkout@v4\n      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020\n";
    expect(unpinned("inline", tagged)).toEqual([
      "      - uses: actions/checkout@v4",
      "      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020",
    ]);
    expect(action.runs.steps.filter((s) => s.uses).map((s) => s.uses)).toEqual(["actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020"]);
  });

  test("no expression is spliced into a script: inputs arrive as environment variables", () => {
    for (const s of action.runs.steps) if (s.run !== undefined) expect(s.run, s.name).not.toContain("${{");
    const runStep = action.runs.steps.find((s) => s.name === "Run aicfg")!;
    expect(runStep.env).toEqual({
      AICFG_ACTION_PATH: "${{ github.action_path }}",
      AICFG_COMMAND: "${{ inputs.command }}",
      AICFG_INPUT_LIBRARY: "${{ inputs.library }}",
      AICFG_INPUT_TARGETS: "${{ inputs.targets }}",
      AICFG_INPUT_WORKFLOW: "${{ inputs.workflow }}",
      AICFG_STATE_DIR: "${{ runner.temp }}/aicfg-state",
      NO_COLOR: "1",
    });
  });
});

describe("the action's script, run with bash", () => {
  let tmp: { path: string; cleanup: () => void };
  beforeEach(() => {
    tmp = tempDir("aicfg-action-");
    // A stand-in for bin/aicfg.js that prints the argv it received, one JSON array.
    mkdirSync(join(tmp.path, "bin"));
    writeFileSync(join(tmp.path, "bin/aicfg.js"), "console.log(JSON.stringify(process.argv.slice(2)));\n");
  });
  afterEach(() => tmp.cleanup());

  const script = action.runs.steps.find((s) => s.name === "Run aicfg")!.run!;

  function runScript(inputs: { command: string; library?: string; targets?: string; workflow?: string }) {
    const file = join(tmp.path, "step.sh");
    writeFileSync(file, script);
    chmodSync(file, 0o755);
    const env = {
      PATH: `${join(root, "node_modules/.bin")}:/usr/bin:/bin`,
      AICFG_ACTION_PATH: tmp.path,
      AICFG_COMMAND: inputs.command,
      AICFG_INPUT_LIBRARY: inputs.library ?? ".",
      AICFG_INPUT_TARGETS: inputs.targets ?? "",
      AICFG_INPUT_WORKFLOW: inputs.workflow ?? "",
    };
    return new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile("bash", [file], { env, cwd: tmp.path, timeout: 20_000 }, (err, stdout) => {
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout: String(stdout) });
      });
    });
  }

  test("export-check builds `export --check` and passes targets as one argument", async () => {
    expect(await runScript({ command: "export-check", library: "ai-library" })).toEqual({ code: 0, stdout: '["export","--check","--library","ai-library"]\n' });
    const hostile = "claude-code,cursor; touch pwned $(id)";
    expect(await runScript({ command: "export-check", targets: hostile })).toEqual({
      code: 0,
      stdout: JSON.stringify(["export", "--check", "--library", ".", "--target", hostile]) + "\n",
    });
  });

  test("run puts the workflow after `--`, so a name cannot become an option", async () => {
    expect(await runScript({ command: "run", library: "lib", workflow: "--help" })).toEqual({ code: 0, stdout: '["run","--library","lib","--","--help"]\n' });
  });

  test("bad input fails with a GitHub error annotation and exit 2", async () => {
    expect(await runScript({ command: "run" })).toEqual({ code: 2, stdout: "::error title=aicfg::the 'workflow' input is required when 'command' is 'run'\n" });
    expect(await runScript({ command: "deploy" })).toEqual({ code: 2, stdout: "::error title=aicfg::the 'command' input must be 'export-check' or 'run'\n" });
  });
});

describe("example workflow", () => {
  test("has a read-only token, triggers, and jobs with runners, timeouts and steps", () => {
    expect(example.permissions).toEqual({ contents: "read" });
    expect(Object.keys(example.on)).toEqual(["pull_request", "push", "schedule"]);
    expect(Object.keys(example.on)).not.toContain("pull_request_target");
    for (const [name, job] of Object.entries(example.jobs)) {
      expect(job["runs-on"], name).toBe("ubuntu-latest");
      expect(job["timeout-minutes"], name).toBeGreaterThan(0);
      expect(job.steps.length, name).toBeGreaterThan(0);
    }
  });

  test("every action is pinned by SHA, checkout keeps no credentials, and each job uses the action with valid inputs", () => {
    expect(unpinned("deploy/github-action/example-workflow.yml")).toEqual([]);
    for (const job of Object.values(example.jobs)) {
      expect(job.steps[0]).toEqual({ uses: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", with: { "persist-credentials": false } });
      const ours = job.steps.find((s) => s.uses?.includes("/ai-configurator@"))!;
      for (const key of Object.keys(ours.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
      expect(["export-check", "run"]).toContain(ours.with!.command);
      if (ours.with!.command === "run") expect(ours.with!.workflow).toBe("health");
    }
  });
});

describe(".pre-commit-hooks.yaml", () => {
  type Hook = { id: string; name: string; entry: string; language: string; pass_filenames: boolean; files: string; description: string };
  const hooks = load<Hook[]>(".pre-commit-hooks.yaml");
  const pkg = JSON.parse(text("package.json")) as { bin: Record<string, string> };

  test("each hook runs an aicfg command on the whole library, installed as a node package", () => {
    expect(hooks.map((h) => [h.id, h.entry, h.language, h.pass_filenames])).toEqual([
      ["aicfg-validate", "aicfg validate", "node", false],
      ["aicfg-export-check", "aicfg export --check", "node", false],
    ]);
    expect(pkg.bin.aicfg).toBe("bin/aicfg.js");
    for (const h of hooks) {
      expect(h.name.length).toBeGreaterThan(0);
      expect(h.description.length).toBeGreaterThan(10);
      expect(() => new RegExp(h.files)).not.toThrow();
    }
    expect(new RegExp(hooks[1]!.files).test("agents/reviewer.md")).toBe(true);
    expect(new RegExp(hooks[1]!.files).test("src/app.ts")).toBe(false);
  });
});
