// Workflow files (`workflows/*.yaml` in a library): the zod schema that is the single source of
// truth for their shape, loading with file:line:col diagnostics, and the semantic checks
// (expressions, step references, action inputs) that `aicfg validate` reports.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Cron } from "croner";
import { z } from "zod";
import type { Diagnostic } from "../library/diagnostics.ts";
import { hashValue } from "../library/hash.ts";
import type { Library } from "../library/model.ts";
import { isSecretRef, SecretRef, WINDOWS_DEVICE_MESSAGE, WINDOWS_DEVICE_NAME } from "../library/schema.ts";
import { MAX_YAML_BYTES, parseYaml, zodIssuesToDiagnostics, type ParsedYaml } from "../library/yaml-source.ts";
import { getAction, listActions } from "./actions/index.ts";
import { triggerRegistry } from "./triggers.ts";
import { Duration, parseDuration } from "./duration.ts";
import {
  compileValue,
  ExpressionError,
  hasTemplate,
  parseExpression,
  parseTemplate,
  references,
  usesStatusFunction,
  type CompiledValue,
  type Expr,
} from "./expr.ts";

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be lower-case letters, digits, '-' or '_' (at most 64)")
  .regex(WINDOWS_DEVICE_NAME, WINDOWS_DEVICE_MESSAGE);

const OVERLAP_POLICIES = ["skip", "buffer_one", "buffer_all", "cancel_other", "allow_all"] as const;
type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const WatchOn = z.strictObject({
  paths: z.array(z.string().min(1)).min(1).describe("globs relative to the library folder, e.g. agents/**"),
  ignore: z.array(z.string().min(1)).optional().describe("globs to leave out"),
  events: z
    .array(z.enum(["add", "change", "unlink"]))
    .optional()
    .describe("which file events count (default: all three)"),
  debounce: Duration.optional().describe("quiet time after the last event before the run starts (default 300ms)"),
  poll: z.boolean().optional().describe("poll instead of native events (network file systems)"),
  initial: z.boolean().optional().describe("also run once when the daemon starts (catches changes made while it was down)"),
});

const CatchupPolicy = z.enum(["none", "latest", "all"]);

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as Europe/Berlin or UTC");

export const CronOn = z.strictObject({
  schedule: z
    .string()
    .refine((p) => {
      try {
        new Cron(p, { paused: true, mode: "5-or-6-parts" });
        return true;
      } catch {
        return false;
      }
    }, "must be a cron pattern with 5 or 6 fields, e.g. '0 */6 * * *'")
    .describe("cron pattern (5 fields, or 6 with seconds first)"),
  timezone: timezone.optional().describe("IANA time zone (default UTC)"),
  dom_and_dow: z.boolean().optional().describe("day-of-month AND day-of-week must both match (default: either, as Vixie cron)"),
  catchup: z
    .strictObject({
      policy: CatchupPolicy.describe("what to do with occurrences missed while the daemon was down"),
      window: Duration.optional().describe("only occurrences this recent are caught up (default 24h)"),
      max: z.number().int().min(1).max(1000).optional().describe("at most this many catch-up runs (default 10)"),
    })
    .optional(),
});

export const GitOn = z.strictObject({
  branches: z.array(z.string().regex(/^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/, "must be a branch name")).min(1),
  poll: Duration.optional().describe("how often to look for new commits (default 60s)"),
});

const RetrySpec = z.strictObject({
  attempts: z.number().int().min(1).max(20).describe("total attempts, including the first"),
  backoff: z.enum(["fixed", "exponential"]).optional().describe("default exponential"),
  delay: Duration.optional().describe("first delay (default 1s)"),
  max_delay: Duration.optional().describe("cap on the delay (default 5m)"),
  jitter: z.boolean().optional().describe("randomise each delay between half and all of it (default true)"),
});

const StepSpec = z.strictObject({
  id: Name.optional().describe("name other steps use in steps.<id>.outputs"),
  name: z.string().optional(),
  uses: z.string().min(1).describe("the action: export, validate, sync, backup, health, notify or shell"),
  with: z.record(z.string(), z.unknown()).optional().describe("the action's inputs; strings may contain ${{ expressions }}"),
  if: z.string().min(1).optional().describe("run only when this expression is true (default: success())"),
  retry: RetrySpec.optional(),
  timeout: Duration.optional(),
  continue_on_error: z.boolean().optional(),
});

const InputSpec = z
  .strictObject({
    type: z.enum(["string", "number", "boolean"]).optional(),
    description: z.string().optional(),
    default: z
      .union([z.string(), z.number(), z.boolean(), SecretRef])
      .optional()
      .describe(
        "the value when a run gives none; { secret: NAME } reads it from the encrypted secret store when the run starts (the run record keeps the reference)",
      ),
    required: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    if (isSecretRef(s.default) && (s.type ?? "string") !== "string")
      ctx.addIssue({ code: "custom", path: ["default"], message: "a { secret: NAME } default needs type: string (secrets are text)" });
  });

const PluginTriggerOn = z.strictObject({
  uses: z.string().min(1).describe("the trigger's id, as its plugin registers it"),
  with: z.record(z.string(), z.unknown()).optional().describe("the trigger's inputs (literal values)"),
});

export const WorkflowSpec = z.strictObject({
  $schema: z.string().optional(),
  name: Name,
  description: z.string().optional(),
  enabled: z.boolean().optional().describe("false keeps the workflow loaded but never triggered"),
  on: z
    .strictObject({
      watch: WatchOn.optional(),
      cron: z.union([CronOn, z.array(CronOn).min(1)]).optional(),
      git: GitOn.optional(),
      after: z.array(Name).min(1).optional().describe("run when one of these workflows succeeds"),
      manual: z.boolean().optional().describe("allow runs from 'aicfg run' and the API (default true)"),
      triggers: z
        .array(PluginTriggerOn)
        .min(1)
        .optional()
        .describe("triggers plugins provide (listed in plugins: of aicfg.yaml or daemon.yaml), e.g. { uses: http-poll, with: { url: … } }"),
    })
    .optional(),
  concurrency: z
    .strictObject({
      group: z.string().min(1).max(128).optional().describe("runs in the same group obey the overlap policy (default: the workflow name)"),
      overlap: z.enum(OVERLAP_POLICIES).optional().describe("default skip"),
    })
    .optional(),
  timeout: Duration.optional().describe("the whole run (default 1h)"),
  inputs: z.record(Name, InputSpec).optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
    .optional()
    .describe("literal values readable as env.NAME"),
  steps: z.array(StepSpec).min(1),
});
export type WorkflowSpec = z.infer<typeof WorkflowSpec>;
export type CronOn = z.infer<typeof CronOn>;

export type CompiledStep = {
  id: string;
  uses: string;
  with: CompiledValue;
  /** Already includes the implicit `success() &&` when no status function is used. */
  if: Expr;
  ifSource: string;
  retry: { attempts: number; backoff: "fixed" | "exponential"; delayMs: number; maxDelayMs: number; jitter: boolean };
  timeoutMs: number | undefined;
  continueOnError: boolean;
};

export type LoadedWorkflow = {
  name: string;
  library: string;
  file: string;
  spec: WorkflowSpec;
  /** Stable hash of the definition; derived scheduler state is keyed by it. */
  hash: string;
  steps: CompiledStep[];
  timeoutMs: number;
  concurrency: { group: string; overlap: OverlapPolicy };
  crons: CronOn[];
};

const DEFAULT_RUN_TIMEOUT_MS = 3_600_000;
const SUCCESS: Expr = { k: "call", name: "success", args: [] };

export function workflowJsonSchema(): unknown {
  return z.toJSONSchema(WorkflowSpec, { io: "input", unrepresentable: "any" });
}

/** Parses and checks one workflow file. Never throws for bad content. */
function loadWorkflowFile(file: string, library: string): { workflow: LoadedWorkflow | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  let text: string;
  try {
    const st = statSync(file);
    if (st.size > MAX_YAML_BYTES) {
      return {
        workflow: undefined,
        diagnostics: [
          {
            severity: "error",
            code: "file-too-large",
            message: `workflow file is ${st.size} bytes, over the ${MAX_YAML_BYTES}-byte limit`,
            file,
            line: 1,
            col: 1,
          },
        ],
      };
    }
    text = readFileSync(file, "utf8");
  } catch (e) {
    return { workflow: undefined, diagnostics: [{ severity: "error", code: "read-failed", message: `cannot read: ${(e as Error).message}`, file }] };
  }
  return compileWorkflowText(text, file, library, diagnostics);
}

export function compileWorkflowText(
  text: string,
  file: string,
  library: string,
  diagnostics: Diagnostic[] = [],
): { workflow: LoadedWorkflow | undefined; diagnostics: Diagnostic[] } {
  const parsed = parseYaml(text, file);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return { workflow: undefined, diagnostics };
  const result = WorkflowSpec.safeParse(parsed.value ?? {}, { reportInput: true });
  if (!result.success) {
    diagnostics.push(
      ...zodIssuesToDiagnostics(result.error.issues, file, parsed.locate, {
        knownKeys: (path) => knownKeysAt(path),
      }),
    );
    return { workflow: undefined, diagnostics };
  }
  const spec = result.data;
  const before = diagnostics.length;
  const steps = compileSteps(spec, file, parsed, diagnostics);
  checkPluginTriggers(spec, file, parsed, diagnostics);
  if (diagnostics.slice(before).some((d) => d.severity === "error")) return { workflow: undefined, diagnostics };
  const crons = spec.on?.cron === undefined ? [] : Array.isArray(spec.on.cron) ? spec.on.cron : [spec.on.cron];
  const workflow: LoadedWorkflow = {
    name: spec.name,
    library,
    file,
    spec,
    hash: hashValue(spec).slice(0, 16),
    steps,
    timeoutMs: spec.timeout ? parseDuration(spec.timeout) : DEFAULT_RUN_TIMEOUT_MS,
    concurrency: { group: spec.concurrency?.group ?? spec.name, overlap: spec.concurrency?.overlap ?? "skip" },
    crons,
  };
  return { workflow, diagnostics };
}

function knownKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  if (path.length === 0) return Object.keys(WorkflowSpec.shape);
  if (path.length === 1 && path[0] === "on") return ["watch", "cron", "git", "after", "manual", "triggers"];
  if (path.length === 2 && path[0] === "steps") return Object.keys(StepSpec.shape);
  if (path.length === 1 && path[0] === "concurrency") return ["group", "overlap"];
  return undefined;
}

/** `on.triggers`: each `uses` must name a registered trigger type and its `with` must match that type's schema. */
function checkPluginTriggers(spec: WorkflowSpec, file: string, parsed: ParsedYaml, d: Diagnostic[]): void {
  for (const [i, t] of (spec.on?.triggers ?? []).entries()) {
    const found = triggerRegistry.get(t.uses);
    // A built-in trigger is configured by its own key of `on:` (on.cron, on.watch…), not here.
    const type = found?.instances ? undefined : found;
    if (!type) {
      const known = triggerRegistry
        .list()
        .filter((x) => !x.instances)
        .map((x) => x.id);
      d.push({
        severity: "error",
        code: "unknown-trigger",
        message: `on.triggers[${i}].uses: no plugin provides a trigger '${t.uses}'${known.length ? ` (known: ${known.join(", ")})` : ""}`,
        file,
        ...parsed.locate(["on", "triggers", i, "uses"]),
        hint: found
          ? `'${t.uses}' is built in: configure it with on.${t.uses}`
          : "add the plugin that provides it to plugins: in aicfg.yaml or daemon.yaml ('aicfg plugin add'), or fix the id",
      });
      continue;
    }
    const r = type.with.safeParse(t.with ?? {}, { reportInput: true });
    if (!r.success) {
      const issues = r.error.issues.map((iss) => ({ ...iss, path: ["on", "triggers", i, "with", ...iss.path] })) as typeof r.error.issues;
      d.push(...zodIssuesToDiagnostics(issues, file, parsed.locate));
    }
  }
}

function compileSteps(spec: WorkflowSpec, file: string, parsed: ParsedYaml, d: Diagnostic[]): CompiledStep[] {
  const steps: CompiledStep[] = [];
  const seen = new Set<string>();
  const usesCount = new Map<string, number>();
  for (const s of spec.steps) usesCount.set(s.uses, (usesCount.get(s.uses) ?? 0) + 1);
  const inputNames = new Set(Object.keys(spec.inputs ?? {}));
  spec.steps.forEach((s, i) => {
    const at = (path: PropertyKey[]) => parsed.locate(["steps", i, ...path]);
    const id = s.id ?? (usesCount.get(s.uses) === 1 ? s.uses : `${s.uses}-${i + 1}`);
    if (seen.has(id)) {
      d.push({
        severity: "error",
        code: "duplicate-step-id",
        message: `step id '${id}' is used twice`,
        file,
        ...at(["id"]),
        hint: "give each step a unique id:",
      });
    }
    seen.add(id);
    const action = getAction(s.uses);
    if (!action) {
      d.push({
        severity: "error",
        code: "unknown-action",
        message: `unknown action '${s.uses}'`,
        file,
        ...at(["uses"]),
        hint: `known actions: ${listActions()
          .map((a) => a.name)
          .join(", ")}`,
      });
    }
    const checkRefs = (expr: Expr, where: PropertyKey[]) => {
      for (const ref of references(expr)) {
        if (ref[0] === "steps") {
          const target = ref[1];
          if (target === undefined || !seen.has(target) || target === id) {
            d.push({
              severity: "error",
              code: "unknown-step-ref",
              message: `steps.${target ?? ""} does not name an earlier step`,
              file,
              ...at(where),
              hint: `earlier steps: ${[...seen].filter((x) => x !== id).join(", ") || "(none)"}`,
            });
          }
        } else if (ref[0] === "inputs" && ref[1] !== undefined && !inputNames.has(ref[1])) {
          d.push({ severity: "error", code: "unknown-input", message: `inputs.${ref[1]} is not declared under inputs:`, file, ...at(where) });
        }
      }
    };
    let cond: Expr = SUCCESS;
    if (s.if !== undefined) {
      const src = s.if.trim().startsWith("${{") && s.if.trim().endsWith("}}") ? s.if.trim().slice(3, -2) : s.if;
      try {
        const e = parseExpression(src);
        checkRefs(e, ["if"]);
        cond = usesStatusFunction(e) ? e : { k: "and", l: SUCCESS, r: e };
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        d.push({ severity: "error", code: "bad-expression", message: `if: ${e.message} (at character ${e.offset + 1})`, file, ...at(["if"]), hint: exprHint });
      }
    }
    let compiled: CompiledValue = { k: "plain", v: {} };
    const withValue = s.with ?? {};
    let hasTemplates = false;
    walkStrings(withValue, [], (str, path) => {
      if (!hasTemplate(str)) return;
      hasTemplates = true;
      if (action?.literalFields?.includes(String(path[0]))) {
        d.push({
          severity: "error",
          code: "template-in-literal-field",
          message: `with.${path.join(".")}: ${s.uses} does not allow \${{ }} here; ${action.literalReason ?? "it must be literal"}`,
          file,
          ...at(["with", ...path]),
          hint: action.literalHint ?? "write the value literally",
        });
        return;
      }
      try {
        const t = parseTemplate(str);
        for (const p of t.parts) if ("expr" in p) checkRefs(p.expr, ["with", ...path]);
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        d.push({
          severity: "error",
          code: "bad-expression",
          message: `with.${path.join(".")}: ${e.message} (at character ${e.offset + 1})`,
          file,
          ...at(["with", ...path]),
          hint: exprHint,
        });
      }
    });
    if (action && !hasTemplates) {
      const r = action.with.safeParse(withValue, { reportInput: true });
      if (!r.success) {
        d.push(
          ...zodIssuesToDiagnostics(
            r.error.issues.map((iss) => ({ ...iss, path: ["steps", i, "with", ...iss.path] })) as typeof r.error.issues,
            file,
            parsed.locate,
            { knownKeys: (p) => (p.length === 3 && action.with instanceof z.ZodObject ? Object.keys(action.with.shape) : undefined) },
          ),
        );
      }
    }
    try {
      compiled = compileValue(withValue);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
    }
    const r = s.retry;
    steps.push({
      id,
      uses: s.uses,
      with: compiled,
      if: cond,
      ifSource: s.if ?? "success()",
      retry: {
        attempts: r?.attempts ?? 1,
        backoff: r?.backoff ?? "exponential",
        delayMs: r?.delay ? parseDuration(r.delay) : 1000,
        maxDelayMs: r?.max_delay ? parseDuration(r.max_delay) : 300_000,
        jitter: r?.jitter ?? true,
      },
      timeoutMs: s.timeout ? parseDuration(s.timeout) : undefined,
      continueOnError: s.continue_on_error ?? false,
    });
  });
  return steps;
}

const exprHint =
  "expressions use literals, steps.<id>.outputs.<x>, trigger.*, inputs.*, env.*, == != < <= > >= && || !, and success() failure() always() cancelled() contains() startsWith() endsWith()";

function walkStrings(v: unknown, path: (string | number)[], fn: (s: string, path: (string | number)[]) => void): void {
  if (typeof v === "string") fn(v, path);
  else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) walkStrings(x, [...path, i], fn);
  } else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) walkStrings((v as Record<string, unknown>)[k], [...path, k], fn);
}

export type WorkflowSet = {
  workflows: Map<string, LoadedWorkflow>;
  /** Per file: the problems found (empty when the file is fine). */
  files: Map<string, Diagnostic[]>;
  diagnostics: Diagnostic[];
};

function workflowFiles(lib: Pick<Library, "workflowDirs">): string[] {
  const out: string[] = [];
  for (const dir of lib.workflowDirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const n of names) if ((n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".")) out.push(join(dir, n));
  }
  return out;
}

/** Loads every workflow of a library (all layers; a later layer's workflow replaces an earlier one of the same name). */
export function loadWorkflows(lib: Pick<Library, "workflowDirs" | "manifest">): WorkflowSet {
  const set: WorkflowSet = { workflows: new Map(), files: new Map(), diagnostics: [] };
  const libName = lib.manifest.name;
  const owner = new Map<string, { file: string; dir: string }>();
  for (const file of workflowFiles(lib)) {
    const { workflow, diagnostics } = loadWorkflowFile(file, libName);
    set.files.set(file, diagnostics);
    set.diagnostics.push(...diagnostics);
    if (!workflow) continue;
    const dir = file.slice(0, file.lastIndexOf("/"));
    const prev = owner.get(workflow.name);
    if (prev && prev.dir === dir) {
      const d: Diagnostic = {
        severity: "error",
        code: "duplicate-workflow",
        message: `workflow name '${workflow.name}' is also used by ${prev.file}`,
        file,
        hint: "workflow names must be unique in a library",
      };
      diagnostics.push(d);
      set.diagnostics.push(d);
      continue;
    }
    owner.set(workflow.name, { file, dir });
    set.workflows.set(workflow.name, workflow);
  }
  // Cross-workflow checks: `after:` must name a workflow of this library.
  for (const wf of set.workflows.values()) {
    for (const [i, dep] of (wf.spec.on?.after ?? []).entries()) {
      if (!set.workflows.has(dep)) {
        const parsed = safeParse(wf.file);
        const d: Diagnostic = {
          severity: "error",
          code: "unknown-workflow",
          message: `on.after names '${dep}', which is not a workflow of this library`,
          file: wf.file,
          ...(parsed ? parsed.locate(["on", "after", i]) : {}),
          hint: `workflows: ${[...set.workflows.keys()].sort().join(", ")}`,
        };
        set.diagnostics.push(d);
        set.files.get(wf.file)?.push(d);
      }
    }
  }
  return set;
}

function safeParse(file: string): ParsedYaml | undefined {
  try {
    return parseYaml(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
}

/** The workflow check `aicfg validate` adds to the library's diagnostics. */
export function validateWorkflows(lib: Pick<Library, "workflowDirs" | "manifest">): Diagnostic[] {
  return loadWorkflows(lib).diagnostics;
}
