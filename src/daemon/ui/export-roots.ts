// Where a library's exports actually go, for the dashboard's matrix and diffs: the `root:`,
// `scope:`, `targets:` and `state_dir:` of every export step of the library's enabled workflows,
// resolved as the export action resolves them (src/workflows/actions/export.ts), one entry per
// distinct destination. Without an export workflow, the library's own export.root (else the
// daemon's working folder), which is where `aicfg export` writes.
//
// Several roots: each cell of the matrix is compared with the first root that covers it (its
// target and agent), the roots ordered by how many export steps write there (then by workflow
// name), and the cell says which root it is.
import { libraryAnalytics, type BudgetCell, type LibraryAnalytics, type MatrixCell } from "../../adapters/analytics.ts";
import { exportRoots } from "../../adapters/export.ts";
import type { Library } from "../../library/model.ts";
import type { ExportScope } from "../../library/schema.ts";
import { exportDestination, ExportWith } from "../../workflows/actions/export.ts";
import type { ExportStep } from "../api/deps.ts";

export type ExportRoot = {
  /** The project root (project scope) or home folder (user scope) the files are under. */
  folder: string;
  scope: ExportScope;
  stateDir: string;
  /** As passed to the export (absent: the library's default). */
  root?: string;
  targets?: string[];
  agents?: string[];
  /** The `workflow/step`s writing here, or why this root is the default. */
  by: string[];
  notes: string[];
};

const EXPR = /\$\{\{/;

/** The distinct destinations of the library's export steps (or the library's default destination). */
export async function exportRootsOf(
  lib: Library,
  steps: readonly ExportStep[],
  at: { stateDir: string; env: Record<string, string | undefined> },
): Promise<ExportRoot[]> {
  const byKey = new Map<string, ExportRoot>();
  const defaultScope: ExportScope = lib.manifest.export?.scope ?? "project";
  for (const s of steps) {
    const notes: string[] = [];
    const literal: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.with)) {
      // root, scope and state_dir are literal by rule; targets or agents from an expression are known only when the run starts.
      if (JSON.stringify(v).match(EXPR)) notes.push(`${k} comes from an expression; the matrix assumes the default`);
      else literal[k] = v;
    }
    const parsed = ExportWith.safeParse(literal);
    if (!parsed.success) continue;
    const d = await exportDestination(parsed.data, { libraryRoot: lib.root, stateDir: at.stateDir, env: at.env });
    const scope = d.scope ?? defaultScope;
    const roots = exportRoots(lib, scope, d.root);
    const folder = scope === "project" ? roots.projectRoot : roots.homeDir;
    const key = JSON.stringify([folder, scope, d.stateDir, d.targets ?? null, d.agents ?? null]);
    const have = byKey.get(key);
    if (have) {
      have.by.push(`${s.workflow}/${s.step}`);
      for (const n of notes) if (!have.notes.includes(n)) have.notes.push(n);
      continue;
    }
    byKey.set(key, {
      folder,
      scope,
      stateDir: d.stateDir,
      ...(d.root ? { root: d.root } : {}),
      ...(d.targets ? { targets: d.targets } : {}),
      ...(d.agents ? { agents: d.agents } : {}),
      by: [`${s.workflow}/${s.step}`],
      notes,
    });
  }
  const found = [...byKey.values()];
  if (found.length) return found.sort((a, b) => b.by.length - a.by.length || a.by[0]!.localeCompare(b.by[0]!));
  const roots = exportRoots(lib, defaultScope, undefined);
  return [
    {
      folder: defaultScope === "project" ? roots.projectRoot : roots.homeDir,
      scope: defaultScope,
      stateDir: at.stateDir,
      by: [lib.manifest.export?.root ? "the library's export.root (no enabled workflow exports)" : "the daemon's working folder (no enabled workflow exports)"],
      notes: [],
    },
  ];
}

export type RootedAnalytics = {
  roots: ExportRoot[];
  /** One matrix: each cell from the root that covers it. */
  merged: LibraryAnalytics;
  /** The index in `roots` each cell of `merged` was compared with. */
  rootOf: (agent: string, target: string) => number | undefined;
};

const covers = (r: ExportRoot, agent: string) => !r.agents || r.agents.includes(agent);

/** The dry-run analytics against each root, merged into one matrix (the first covering root per cell). */
export function analyticsByRoot(lib: Library, roots: readonly ExportRoot[]): RootedAnalytics {
  const each = roots.map((r) =>
    libraryAnalytics({
      library: lib,
      stateDir: r.stateDir,
      scope: r.scope,
      ...(r.root ? { root: r.root } : {}),
      ...(r.targets ? { targets: r.targets } : {}),
    }),
  );
  const first = each[0]!;
  const targets = new Map<string, LibraryAnalytics["targets"][number]>();
  for (const a of each) for (const t of a.targets) if (!targets.has(t.id)) targets.set(t.id, t);
  const where = new Map<string, number>();
  const matrix: MatrixCell[] = [];
  const budgets: BudgetCell[] = [];
  for (const agent of first.agents) {
    for (const target of [...targets.keys()].sort()) {
      const i = each.findIndex((a, k) => covers(roots[k]!, agent.name) && a.matrix.some((c) => c.agent === agent.name && c.target === target));
      if (i < 0) continue;
      where.set(`${agent.name}\u0000${target}`, i);
      matrix.push(each[i]!.matrix.find((c) => c.agent === agent.name && c.target === target)!);
      const b = each[i]!.budgets.find((c) => c.agent === agent.name && c.target === target);
      if (b) budgets.push(b);
    }
  }
  const agents = first.agents.map((a) => {
    const states = { fresh: 0, stale: 0, drift: 0, none: 0 };
    for (const c of matrix) if (c.agent === a.name) states[c.status]++;
    return { ...a, states };
  });
  const seen = new Set<string>();
  const once = <T extends { message: string }>(xs: T[]) => xs.filter((x) => !seen.has(x.message) && seen.add(x.message));
  return {
    roots: [...roots],
    merged: {
      ...first,
      targets: [...targets.values()].sort((a, b) => a.id.localeCompare(b.id)),
      agents,
      matrix,
      budgets,
      errors: once(each.flatMap((a) => a.errors)),
      warnings: once(each.flatMap((a) => a.warnings)),
    },
    rootOf: (agent, target) => where.get(`${agent}\u0000${target}`),
  };
}
