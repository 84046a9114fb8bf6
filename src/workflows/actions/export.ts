// `export`: renders the library into each AI tool's native files with the same options as
// `aicfg export`. Incremental: in the daemon the library comes from its watched in-memory copy
// (only changed files are read again); a watch trigger's changed paths that no agent reads skip the
// run, and otherwise go to the export, whose per-target cache renders again only the targets whose
// inputs changed (a change to shared inputs renders everything).
import { homedir } from "node:os";
import { resolve, sep } from "node:path";
import { z } from "zod";
import { realDetectEnv } from "../../adapters/detect-env.ts";
import { exportLibrary, exportRoots } from "../../adapters/export.ts";
import { expandTargets } from "../../adapters/registry.ts";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { Library, ResolvedAgent } from "../../library/model.ts";
import { resolveAll } from "../../library/resolve.ts";
import { loadLibraryWithLayers } from "../layers.ts";
import { ActionError, defineAction } from "./types.ts";
import { requireAllowedFolder } from "./write-roots.ts";

export const ExportWith = z.strictObject({
  targets: z
    .union([z.enum(["all", "detected"]), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe(
      "a list of target ids, 'all' (every known target) or 'detected' (the tools installed on the daemon's machine); default: the targets each agent names",
    ),
  agents: z.array(z.string().min(1)).optional().describe("only these agents"),
  scope: z.enum(["project", "user"]).optional().describe("project or user (the home folder); literal, never an expression"),
  root: z
    .string()
    .min(1)
    .optional()
    .describe(
      "project root (project scope) or home folder (user scope); relative to the library; literal, and inside the daemon's actions.export.roots when set",
    ),
  force: z.boolean().optional().describe("overwrite drifted files (their previous content is backed up)"),
  strict: z.boolean().optional().describe("unsupported features and exceeded limits are errors"),
  incremental: z.boolean().optional().describe("re-render only agents whose sources changed (default true)"),
  state_dir: z.string().min(1).optional().describe("where the ownership manifest lives (default: the daemon's state folder); literal"),
});

type ExportWith = z.infer<typeof ExportWith>;

/** Where an export step writes, resolved as the step resolves it when it runs. */
export type ExportDestination = {
  /** The `root:` resolved against the library (absent: the library's export.root, else the daemon's working folder). */
  root?: string;
  /** The `scope:` (absent: the library's). */
  scope?: "project" | "user";
  /** The ownership manifest's folder (`state_dir:`, else the daemon's state folder). */
  stateDir: string;
  /** The targets after expanding all/detected (absent: the targets each agent names). */
  targets?: string[];
  agents?: string[];
};

type ExportAt = { libraryRoot: string; stateDir: string; env: Record<string, string | undefined> };

/** The folders of an export step's `with`, as the action resolves them. */
function exportFolders(input: ExportWith, at: ExportAt): Omit<ExportDestination, "targets"> {
  const root = input.root ? resolve(at.libraryRoot, input.root) : undefined;
  return {
    ...(root ? { root } : {}),
    ...(input.scope ? { scope: input.scope } : {}),
    stateDir: input.state_dir ? resolve(at.libraryRoot, input.state_dir) : at.stateDir,
    ...(input.agents ? { agents: input.agents } : {}),
  };
}

/** The step's targets with all/detected expanded (detection sees `env`: the daemon's, with the workflow settings' PATH and HOME). */
async function exportTargets(input: ExportWith, root: string | undefined, at: ExportAt): Promise<string[] | undefined> {
  const asked = input.targets === undefined ? undefined : typeof input.targets === "string" ? [input.targets] : input.targets;
  const detectFrom = () => realDetectEnv({ env: at.env, projectRoot: root ?? at.libraryRoot, homeDir: at.env.HOME || homedir() });
  return asked ? expandTargets(asked, detectFrom) : undefined;
}

/** Where an export step writes and which targets, resolved as the action resolves them when it runs. */
export async function exportDestination(input: ExportWith, at: ExportAt): Promise<ExportDestination> {
  const folders = exportFolders(input, at);
  const targets = await exportTargets(input, folders.root, at);
  return { ...folders, ...(targets ? { targets } : {}) };
}

/**
 * The agents a set of changed files affects, or undefined when everything must be re-rendered
 * (library manifest, MCP registry, templates, skills, commands, a removed agent, anything unknown).
 */
export function affectedAgents(
  lib: Library,
  changed: readonly string[],
  resolved: { agents: ResolvedAgent[]; diagnostics: Diagnostic[] } = resolveAll(lib),
): string[] | undefined {
  const byFile = new Map<string, Set<string>>();
  const add = (file: string, agent: string) => {
    const set = byFile.get(file) ?? new Set();
    set.add(agent);
    byFile.set(file, set);
  };
  for (const [name, stack] of lib.agents) for (const s of stack) add(resolve(s.file), name);
  for (const a of resolved.agents) for (const k of a.knowledge) add(resolve(k.absPath), a.name);
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
  // Where files are written is decided by the workflow file and the daemon config, never by trigger
  // data: an editor-level trigger must not aim MCP command configs at a folder of its choosing.
  literalFields: ["root", "scope", "state_dir"],
  literalReason: "trigger data must not pick where files are written",
  literalHint: "write the folder literally; an administrator can restrict exports further with actions.export.roots in the daemon config",
  run: async (input, ctx) => {
    const changed = ctx.trigger.paths;
    // The daemon's copy applies the changes its watcher saw (and this run's paths); else load it all.
    const started = performance.now();
    const live = ctx.library?.current(changed ?? []);
    // Outside the daemon (or for git layers at their pins), a full load.
    const lib = live?.library ?? (await loadLibraryWithLayers({ libraryRoot: ctx.libraryRoot, stateDir: ctx.stateDir, signal: ctx.signal })).lib;
    // What bringing the library up to date cost (a file re-read in the daemon, a full load elsewhere).
    const refreshMs = Math.round(performance.now() - started);
    // Detection sees the daemon's environment, with the workflow settings' env (PATH, HOME) on top.
    const at: ExportAt = { libraryRoot: ctx.libraryRoot, stateDir: ctx.stateDir, env: { ...process.env, ...ctx.settings.env } };
    const { root: rootArg, stateDir } = exportFolders(input, at);
    const allowed = ctx.settings.exportRoots;
    if (allowed) {
      const scope = input.scope ?? lib.manifest.export?.scope ?? "project";
      const roots = exportRoots(lib, scope, rootArg);
      requireAllowedFolder(scope === "project" ? roots.projectRoot : roots.homeDir, allowed, `the export root (${scope} scope)`, "actions.export.roots");
      if (input.state_dir) requireAllowedFolder(stateDir, [ctx.stateDir, ...allowed], "the export's state_dir", "actions.export.roots");
    }
    let affected: string[] | undefined;
    if ((input.incremental ?? true) && changed && changed.length > 0 && !input.agents) {
      affected = live ? live.affectedBy(changed) : affectedAgents(lib, changed);
      if (affected && affected.length === 0) {
        return {
          outputs: {
            skipped: true,
            reason: "no agent uses the changed files",
            agents: [],
            written: 0,
            deleted: 0,
            drift: 0,
            conflicts: 0,
            errors: 0,
            rendered: 0,
            refreshMs,
          },
        };
      }
    }
    const targets = await exportTargets(input, rootArg, at);
    const askedDetected = input.targets === "detected" || (Array.isArray(input.targets) && input.targets.includes("detected"));
    if (askedDetected && targets!.length === 0) {
      throw new ActionError("no-targets-detected", "targets: detected found no AI tool on the daemon's machine", {
        retryable: false,
        hint: "name the targets in the step's with.targets, or install a tool ('aicfg doctor' shows where aicfg looks)",
      });
    }
    // Decrypted only where a tool without env-var references may get a value literally (user scope; src/adapters/secrets.ts).
    const secrets = (input.scope ?? lib.manifest.export?.scope ?? "project") === "user" ? await ctx.secrets?.all() : undefined;
    const result = exportLibrary({
      library: lib,
      ...(live ? { resolved: live.resolved } : {}),
      ...(secrets ? { secrets } : {}),
      ...(targets ? { targets } : {}),
      // Naming the affected agents here would narrow the export to their own files and switch the
      // cache off; the changed paths let the cache find the targets to render again instead.
      ...(input.agents ? { agents: input.agents } : {}),
      ...(input.scope ? { scope: input.scope } : {}),
      ...(rootArg ? { root: rootArg } : {}),
      stateDir,
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
      const where = first.file ? `${first.file}${first.line !== undefined ? `:${first.line}:${first.col ?? 1}` : ""}: ` : "";
      throw new ActionError("export-failed", `export reported ${result.errors.length} error(s); first: ${where}${first.message}`, {
        retryable: false,
        ...(first.hint ? { hint: first.hint } : {}),
      });
    }
    return {
      outputs: {
        skipped: false,
        agents:
          affected ??
          input.agents ??
          result.targets
            .flatMap((t) => t.agents)
            .filter((a, i, all) => all.indexOf(a) === i)
            .sort(),
        incremental: affected !== undefined,
        /** Outputs rendered again, of all the export covers (the rest came from the cache). */
        rendered: result.rendered.outputs,
        outputs: result.rendered.totalOutputs,
        /** Targets rendered again as a whole (their adapter renders every agent together). */
        renderedWhole: result.rendered.whole,
        refreshMs,
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
