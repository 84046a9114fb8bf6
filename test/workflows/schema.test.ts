import { join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadLibrary } from "../../src/library/load.ts";
import { formatDiagnostic } from "../../src/library/diagnostics.ts";
import { compileWorkflowText, loadWorkflows, validateWorkflows, workflowJsonSchema } from "../../src/workflows/schema.ts";
import { parseDuration } from "../../src/workflows/duration.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";

const ISSUE_EXAMPLE = `# yaml-language-server: $schema=../schemas/workflow.json
name: export-on-change
on:
  watch: { paths: ["agents/**", "knowledge/**"], debounce: 300ms }
  cron: { schedule: "0 */6 * * *", timezone: Europe/Berlin, catchup: { policy: latest, window: 24h } }
  git: { branches: [main] }
  after: [sync-team-library]
concurrency: { group: library, overlap: skip }
timeout: 10m
steps:
  - id: pull
    uses: sync
    with: { remote: origin, strategy: rebase, on_conflict: keep-local }
  - uses: export
    with: { targets: all }
    retry: { attempts: 3, backoff: exponential }
  - uses: notify
    if: failure()
    with: { url: "https://hooks.example.com/x" }
`;

const messages = (text: string) => compileWorkflowText(text, "/lib/workflows/w.yaml", "lib").diagnostics.map((d) => formatDiagnostic(d));

describe("workflow schema", () => {
  it("accepts the example from the issue and compiles it", () => {
    const { workflow, diagnostics } = compileWorkflowText(ISSUE_EXAMPLE, "/lib/workflows/export-on-change.yaml", "lib");
    expect(diagnostics).toEqual([]);
    expect(workflow!.name).toBe("export-on-change");
    expect(workflow!.timeoutMs).toBe(600_000);
    expect(workflow!.concurrency).toEqual({ group: "library", overlap: "skip" });
    expect(workflow!.steps.map((s) => s.id)).toEqual(["pull", "export", "notify"]);
    expect(workflow!.steps[1]!.retry).toEqual({ attempts: 3, backoff: "exponential", delayMs: 1000, maxDelayMs: 300_000, jitter: true });
    expect(workflow!.steps[2]!.ifSource).toBe("failure()");
    expect(workflow!.crons).toEqual([{ schedule: "0 */6 * * *", timezone: "Europe/Berlin", catchup: { policy: "latest", window: "24h" } }]);
  });

  it("parses durations", () => {
    expect(parseDuration("300ms")).toBe(300);
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(() => parseDuration("10 minutes")).toThrow("invalid duration '10 minutes' (expected e.g. 300ms, 30s, 10m, 24h, 7d)");
  });

  it("reports schema errors at file:line:col with hints", () => {
    expect(messages("name: w\nsteps:\n  - uses: export\n    retyr: { attempts: 2 }\n")).toEqual([
      "/lib/workflows/w.yaml:4:5  error: unknown field 'retyr' in steps.0  (did you mean 'retry'?)",
    ]);
    expect(messages("name: w\nconcurrency: { overlap: queue }\nsteps:\n  - uses: export\n")).toEqual([
      '/lib/workflows/w.yaml:2:25  error: concurrency.overlap: Invalid option: expected one of "skip"|"buffer_one"|"buffer_all"|"cancel_other"|"allow_all"  (expected one of: skip, buffer_one, buffer_all, cancel_other, allow_all)',
    ]);
    expect(messages('name: w\non:\n  cron: { schedule: "61 * * * *" }\nsteps:\n  - uses: export\n')).toEqual([
      "/lib/workflows/w.yaml:3:21  error: on.cron.schedule: must be a cron pattern with 5 or 6 fields, e.g. '0 */6 * * *'",
    ]);
    expect(messages("name: w\ntimeout: 10 minutes\nsteps:\n  - uses: export\n")).toEqual([
      "/lib/workflows/w.yaml:2:10  error: timeout: must be a duration such as 300ms, 30s, 10m, 24h or 7d",
    ]);
  });

  it("checks actions, expressions, step references and action inputs", () => {
    expect(
      messages(
        [
          "name: w",
          "steps:",
          "  - uses: exprot",
          "  - id: a",
          "    uses: export",
          "    if: steps.later.outputs.x == 1",
          "  - id: later",
          "    uses: notify",
          "    with: { url: 'https://x.example/${{ process.env }}' }",
          "  - id: b",
          "    uses: health",
          "    with: { stale_after: soon }",
          "  - id: c",
          "    uses: validate",
          "    if: inputs.nope",
          "",
        ].join("\n"),
      ),
    ).toEqual([
      "/lib/workflows/w.yaml:3:11  error: unknown action 'exprot'  (known actions: export, validate, sync, backup, health, notify, shell)",
      "/lib/workflows/w.yaml:6:9  error: steps.later does not name an earlier step  (earlier steps: exprot)",
      "/lib/workflows/w.yaml:9:18  error: with.url: unknown name 'process' (at character 23)  (expressions use literals, steps.<id>.outputs.<x>, trigger.*, inputs.*, env.*, == != < <= > >= && || !, and success() failure() always() cancelled() contains() startsWith() endsWith())",
      "/lib/workflows/w.yaml:12:26  error: steps.3.with.stale_after: must be a duration such as 300ms, 30s, 10m, 24h or 7d",
      "/lib/workflows/w.yaml:15:9  error: inputs.nope is not declared under inputs:",
    ]);
  });

  it("rejects ${{ }} in a shell step's argv (G02)", () => {
    expect(messages("name: w\nsteps:\n  - uses: shell\n    with:\n      command: [echo, '${{ trigger.title }}']\n")).toEqual([
      "/lib/workflows/w.yaml:5:23  error: with.command.1: shell does not allow ${{ }} here; event data must not become part of a command  (pass the value in with.env and read it from the environment variable instead)",
    ]);
  });

  it("rejects YAML aliases and duplicate keys (G30)", () => {
    expect(messages("name: w\nname: v\nsteps:\n  - uses: export\n")[0]).toBe(
      "/lib/workflows/w.yaml:2:1  error: YAML: Map keys must be unique  (each key may appear once in a mapping)",
    );
    expect(messages("a: &x [1]\nname: w\nsteps: *x\n")[0]).toBe(
      "/lib/workflows/w.yaml:1:1  error: YAML: Alias resolution is disabled  (anchors and aliases (&a / *a) are not allowed; repeat the value instead)",
    );
  });

  it("never throws on hostile input: random text and random YAML trees become diagnostics (G30)", () => {
    const check = (text: string) => {
      const r = compileWorkflowText(text, "/lib/workflows/w.yaml", "lib");
      expect(r.workflow !== undefined || r.diagnostics.some((d) => d.severity === "error")).toBe(true);
    };
    fc.assert(fc.property(fc.string({ maxLength: 300 }), check), { numRuns: 2000, seed: 11 });
    const key = fc.constantFrom(
      "name",
      "on",
      "steps",
      "uses",
      "with",
      "if",
      "retry",
      "cron",
      "watch",
      "__proto__",
      "constructor",
      "<<",
      "timeout",
      "concurrency",
    );
    const tree = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(key, tie("v"), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(tree, (v) => check(stringify(v))),
      { numRuns: 2000, seed: 12 },
    );
    check("steps: " + "[".repeat(5000) + "]".repeat(5000));
    check("name: w\nsteps:\n  - uses: export\n    with: { x: !!js/function 'return 1' }\n");
    expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  });

  it("generates a JSON Schema", () => {
    const schema = workflowJsonSchema() as { type: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(["name", "steps"]);
    expect(Object.keys(schema.properties)).toEqual(["$schema", "name", "description", "enabled", "on", "concurrency", "timeout", "inputs", "env", "steps"]);
  });
});

describe("validateWorkflows on a library", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  it("reports broken files and unknown after: workflows, keeps good ones", () => {
    writeLibrary(dir.path, {
      good: "name: good\non: { after: [missing] }\nsteps:\n  - uses: validate\n",
      bad: "name: bad\nsteps: []\n",
    });
    const lib = loadLibrary(dir.path);
    const set = loadWorkflows(lib);
    expect([...set.workflows.keys()]).toEqual(["good"]);
    expect(validateWorkflows(lib).map((d) => formatDiagnostic(d, dir.path))).toEqual([
      "workflows/bad.yaml:2:8  error: steps: Too small: expected array to have >=1 items  (at least 1)",
      "workflows/good.yaml:2:15  error: on.after names 'missing', which is not a workflow of this library  (workflows: good)",
    ]);
    expect(set.files.get(join(dir.path, "workflows/good.yaml"))!.length).toBe(1);
  });
});
