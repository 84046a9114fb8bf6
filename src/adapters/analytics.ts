// Library analytics for the dashboard and `aicfg report`: one dry-run export (nothing written) of
// every agent to every target it names, read three ways: the agents x targets matrix (fresh, stale,
// drift, unsupported features), the sizes of agents and knowledge, and what each agent always loads
// in each tool against that tool's context budget (budget.ts: o200k_base counts from gpt-tokenizer).
import type { Diagnostic } from "../library/diagnostics.ts";
import type { Library } from "../library/model.ts";
import { resolveAll } from "../library/resolve.ts";
import type { ExportScope } from "../library/schema.ts";
import { measureBudget, type BudgetFigures, type ContextBudget } from "./budget.ts";
import { exportLibrary } from "./export.ts";
import type { PlanEntry } from "./plan.ts";
import { getAdapter } from "./registry.ts";
import type { ContextDecision } from "./fallback.ts";
import type { OutputFile } from "./types.ts";

/** fresh: every file is as the library says; stale: files to create, update or delete; drift: changed by hand (or not ours); none: nothing rendered. */
type CellStatus = "fresh" | "stale" | "drift" | "none";

export type MatrixCell = {
  agent: string;
  target: string;
  status: CellStatus;
  counts: Record<PlanEntry["action"], number>;
  /** Features of the agent the target cannot express (from the adapters' unsupported-feature warnings). */
  unsupported: string[];
};

type AgentFigures = {
  name: string;
  displayName: string;
  description: string;
  layer: string;
  targets: string[];
  instructionsChars: number;
  knowledgeFiles: number;
  /** Knowledge bytes the agent loads always, and on demand. */
  alwaysBytes: number;
  onDemandBytes: number;
  /** Targets in each state (staleness per agent). */
  states: Record<CellStatus, number>;
};

type KnowledgeFigure = { path: string; bytes: number; layer: string; usedBy: number };

/** What one agent always loads in one tool: the shared always-loaded files plus the agent's own, measured against the tool's budget. */
export type BudgetCell = {
  agent: string;
  target: string;
  figures: BudgetFigures;
  /** used / budget.max */
  share: number;
  /** How the agent's knowledge reaches the tool (fallback.ts): inline, or the large-context form used when it does not fit. */
  context?: ContextDecision;
};

type TargetFigures = {
  id: string;
  displayName: string;
  budget: ContextBudget;
  agents: string[];
  /** The whole target (every agent) as the export measures it. */
  whole?: BudgetFigures;
};

export type LibraryAnalytics = {
  library: string;
  root: string;
  scope: ExportScope;
  targets: TargetFigures[];
  agents: AgentFigures[];
  knowledge: KnowledgeFigure[];
  matrix: MatrixCell[];
  budgets: BudgetCell[];
  warnings: Diagnostic[];
  errors: Diagnostic[];
};

export type AnalyticsOptions = {
  library: Library;
  stateDir: string;
  /** Only these targets (default: the targets the agents name). */
  targets?: string[];
  scope?: ExportScope;
  root?: string;
};

const UNSUPPORTED = /agent '([^']+)' uses (.+?), which /;
const emptyCounts = (): Record<PlanEntry["action"], number> => ({ create: 0, update: 0, delete: 0, unchanged: 0, drift: 0, conflict: 0 });

function cellStatus(c: Record<PlanEntry["action"], number>): CellStatus {
  if (c.drift || c.conflict) return "drift";
  if (c.create || c.update || c.delete) return "stale";
  return c.unchanged ? "fresh" : "none";
}

export function libraryAnalytics(opts: AnalyticsOptions): LibraryAnalytics {
  const lib = opts.library;
  const resolved = resolveAll(lib);
  const renders = new Map<string, { files: OutputFile[]; warnings: Diagnostic[]; contextPlan: ContextDecision[] }>();
  const result = exportLibrary({
    library: lib,
    stateDir: opts.stateDir,
    dryRun: true,
    noCache: true,
    resolved,
    ...(opts.targets ? { targets: opts.targets } : {}),
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...(opts.root ? { root: opts.root } : {}),
    onRender: (target, r) => renders.set(target, { files: r.files, warnings: r.warnings, contextPlan: r.contextPlan ?? [] }),
  });

  const targets: TargetFigures[] = result.targets
    .map((t) => {
      const adapter = getAdapter(t.target)!;
      return { id: t.target, displayName: adapter.displayName, budget: adapter.budget, agents: t.agents, ...(t.budget ? { whole: t.budget } : {}) };
    })
    .sort((a, b) => a.id.localeCompare(b.id));

  const matrix: MatrixCell[] = [];
  const budgets: BudgetCell[] = [];
  for (const t of targets) {
    const render = renders.get(t.id);
    const unsupported = new Map<string, string[]>();
    for (const w of render?.warnings ?? []) {
      const m = w.code === "unsupported-feature" ? UNSUPPORTED.exec(w.message) : null;
      if (m) unsupported.set(m[1]!, [...(unsupported.get(m[1]!) ?? []), m[2]!]);
    }
    for (const agent of t.agents) {
      const counts = emptyCounts();
      for (const e of result.plan.entries) if (e.targets.includes(t.id) && (e.agent === undefined || e.agent === agent)) counts[e.action]++;
      matrix.push({ agent, target: t.id, status: cellStatus(counts), counts, unsupported: [...new Set(unsupported.get(agent) ?? [])] });
      if (render) {
        const files = render.files.filter((f) => f.agent === undefined || f.agent === agent);
        const figures = measureBudget(t.budget, files);
        // A shared budget has one decision for every agent (no `agent` on it).
        const context = render.contextPlan.find((d) => d.agent === agent) ?? render.contextPlan.find((d) => d.agent === undefined);
        budgets.push({ agent, target: t.id, figures, share: figures.budget.max > 0 ? figures.used / figures.budget.max : 0, ...(context ? { context } : {}) });
      }
    }
  }

  const usedBy = new Map<string, number>();
  for (const a of resolved.agents) for (const k of a.knowledge) usedBy.set(k.path, (usedBy.get(k.path) ?? 0) + 1);
  const knowledge: KnowledgeFigure[] = [...lib.knowledge.entries()]
    .map(([path, k]) => ({ path, bytes: k.size, layer: k.layer, usedBy: usedBy.get(path) ?? 0 }))
    .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path));

  const agents: AgentFigures[] = resolved.agents
    .map((a) => {
      const states: Record<CellStatus, number> = { fresh: 0, stale: 0, drift: 0, none: 0 };
      for (const c of matrix) if (c.agent === a.name) states[c.status]++;
      return {
        name: a.name,
        displayName: a.displayName ?? a.name,
        description: a.description,
        layer: a.provenance.name ?? "",
        targets: a.targets,
        instructionsChars: a.instructions.length,
        knowledgeFiles: a.knowledge.length,
        alwaysBytes: a.knowledge.filter((k) => k.mode === "always").reduce((n, k) => n + k.size, 0),
        onDemandBytes: a.knowledge.filter((k) => k.mode !== "always").reduce((n, k) => n + k.size, 0),
        states,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

  return {
    library: result.libraryName,
    root: result.libraryRoot,
    scope: result.scope,
    targets,
    agents,
    knowledge,
    matrix,
    budgets,
    warnings: result.warnings,
    errors: result.errors,
  };
}

/** The plan entries of one agent in one target (a dry run), with the text before and after, for the dashboard's diff view. */
export function agentTargetPlan(opts: AnalyticsOptions & { agent: string; target: string }): {
  entries: PlanEntry[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
} {
  const result = exportLibrary({
    library: opts.library,
    stateDir: opts.stateDir,
    dryRun: true,
    noCache: true,
    targets: [opts.target],
    agents: [opts.agent],
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...(opts.root ? { root: opts.root } : {}),
  });
  const entries = result.plan.entries.filter((e) => e.targets.includes(opts.target) && (e.agent === undefined || e.agent === opts.agent));
  return { entries, errors: result.errors, warnings: result.warnings };
}
