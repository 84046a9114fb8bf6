// `export`: renders the library into each AI tool's native files with the same options as
// `aicfg export`. Incremental: with changed paths from a watch trigger, only the agents whose
// sources changed are re-rendered (a change to shared inputs re-renders everything).
import { homedir } from "node:os";
import { resolve, sep } from "node:path";
import { z } from "zod";
import { realDetectEnv } from "../../adapters/detect-env.ts";
import { exportLibrary } from "../../adapters/export.ts";
import { expandTargets } from "../../adapters/registry.ts";
import { loadLibrary } from "../../library/load.ts";
import type { Library } from "../../library/model.ts";
import { resolveAll } from "../../library/resolve.ts";
import { ActionError, defineAction } from "./types.ts";

export const ExportWith = z.strictObject({
  targets: z
    .union([z.enum(["all", "detected"]), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe(
      "a list of target ids, 'all' (every known target) or 'detected' (the tools installed on the daemon's machine); default: the targets each agent names",
    ),
  agents: z.array(z.string().min(1)).optional().describe("only these agents"),
  scope: z.enum(["project", "user"]).optional(),
  root: z.string().min(1).optional().describe("project root (project scope) or home folder (user scope); relative to the library"),
  force: z.boolean().optional().describe("overwrite drifted files (their previous content is backed up)"),
  strict: z.boolean().optional().describe("unsupported features and exceeded limits are errors"),
  incremental: z.boolean().optional().describe("re-render only agents whose sources changed (default true)"),
  state_dir: z.string().min(1).optional().describe("where the ownership manifest lives (default: the daemon's state folder)"),
});

/**
 * The agents a set of changed files affects, or undefined when everything must be re-rendered
 * (library manifest, MCP registry, templates, skills, commands, a removed agent, anything unknown).
 */
export function affectedAgents(lib: Library, changed: readonly string[]): string[] | undefined {
  const byFile = new Map<string, Set<string>>();
  const add = (file: string, agent: string) => {
    const set = byFile.get(file) ?? new Set();
    set.add(agent);
    byFile.set(file, set);
  };
  for (const [name, stack] of lib.agents) for (const s of stack) add(resolve(s.file), name);
  for (const a of resolveAll(lib).agents) for (const k of a.knowledge) add(resolve(k.absPath), a.name);
  const out = new Set<string>();
  for (const raw of changed) {
    const p = resolve(raw);
    const hit = byFile.get(p);
    if (hit) {
      for (const a of hit) out.add(a);
      continue;
    }
    const layer = lib.layers.find((l) => p.startsWith(l.root + sep));
    if (!layer) continue;
    const rel = p.slice(layer.root.length + 1);
    if (rel.startsWith("workflows/") || rel.startsWith(".git/")) continue;
    // A knowledge file no agent uses yet changes nothing; anything else may affect every agent.
    if (rel.startsWith("knowledge/") && !/(^|\/)aicfg\.yaml$/.test(rel)) {
      if (lib.knowledge.has(rel.slice("knowledge/".length))) continue;
      return undefined;
    }
    return undefined;
  }
  return [...out].sort();
}

export const exportAction = defineAction({
  name: "export",
  description: "render the library into each AI tool's native configuration (incremental on file changes)",
  with: ExportWith,
  run: async (input, ctx) => {
    const lib = loadLibrary(ctx.libraryRoot);
    let agents = input.agents;
    let incrementalFrom: number | undefined;
    const changed = ctx.trigger.paths;
    if ((input.incremental ?? true) && changed && changed.length > 0 && !agents) {
      const affected = affectedAgents(lib, changed);
      if (affected && affected.length === 0) {
        return { outputs: { skipped: true, reason: "no agent uses the changed files", agents: [], written: 0, deleted: 0, drift: 0, conflicts: 0, errors: 0 } };
      }
      if (affected) {
        agents = affected;
        incrementalFrom = changed.length;
      }
    }
    const asked = input.targets === undefined ? undefined : typeof input.targets === "string" ? [input.targets] : input.targets;
    // Detection sees the daemon's environment, with the workflow settings' env (PATH, HOME) on top.
    const detectFrom = () => {
      const env = { ...process.env, ...ctx.settings.env };
      return realDetectEnv({ env, projectRoot: input.root ? resolve(ctx.libraryRoot, input.root) : ctx.libraryRoot, homeDir: env.HOME || homedir() });
    };
    const targets = asked ? await expandTargets(asked, detectFrom) : undefined;
    if (asked?.includes("detected") && targets!.length === 0) {
      throw new ActionError("no-targets-detected", "targets: detected found no AI tool on the daemon's machine", {
        retryable: false,
        hint: "name the targets in the step's with.targets, or install a tool ('aicfg doctor' shows where aicfg looks)",
      });
    }
    // Decrypted only where a tool without env-var references may get a value literally (user scope; src/adapters/secrets.ts).
    const secrets = (input.scope ?? lib.manifest.export?.scope ?? "project") === "user" ? await ctx.secrets?.all() : undefined;
    const result = exportLibrary({
      library: lib,
      ...(secrets ? { secrets } : {}),
      ...(targets ? { targets } : {}),
      ...(agents ? { agents } : {}),
      ...(input.scope ? { scope: input.scope } : {}),
      ...(input.root ? { root: resolve(ctx.libraryRoot, input.root) } : {}),
      stateDir: input.state_dir ? resolve(ctx.libraryRoot, input.state_dir) : ctx.stateDir,
      force: input.force ?? false,
      strict: input.strict ?? false,
      now: () => new Date(ctx.now()),
      ...(changed ? { changedPaths: changed } : {}),
    });
    const written = result.applied?.written.length ?? 0;
    const deleted = result.applied?.deleted.length ?? 0;
    const drift = result.plan.entries.filter((e) => e.action === "drift").length;
    const conflicts = result.plan.entries.filter((e) => e.action === "conflict").length;
    const facts = result.targets.map((t) => ({
      target: t.target,
      written: t.counts.create + t.counts.update,
      deleted: t.counts.delete,
      drift: t.counts.drift + t.counts.conflict,
    }));
    if (result.errors.length > 0) {
      const first = result.errors[0]!;
      throw new ActionError(
        "export-failed",
        `export reported ${result.errors.length} error(s); first: ${first.file ? first.file + ": " : ""}${first.message}`,
        { retryable: false, ...(first.hint ? { hint: first.hint } : {}) },
      );
    }
    return {
      outputs: {
        skipped: false,
        agents:
          agents ??
          result.targets
            .flatMap((t) => t.agents)
            .filter((a, i, all) => all.indexOf(a) === i)
            .sort(),
        incremental: incrementalFrom !== undefined,
        targets: result.targets.map((t) => t.target),
        written,
        deleted,
        drift,
        conflicts,
        errors: 0,
        warnings: result.warnings.length,
      },
      warnings: [
        ...result.warnings.slice(0, 20).map((w) => w.message),
        ...(drift + conflicts > 0
          ? [`${drift + conflicts} exported file(s) were changed by hand and left alone; export with force: true to overwrite them`]
          : []),
      ],
      facts: { exports: facts },
    };
  },
});
