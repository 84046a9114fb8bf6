// `aicfg export`: render the library for the chosen targets, show the plan, and apply it safely.
import { literalSecretValues, maskValues } from "../../../library/literal-secrets.ts";
import { homedir } from "node:os";
import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { quickCheck, type ExportReplay } from "../../../adapters/export-record.ts";
import { hasErrors } from "../../../library/diagnostics.ts";
import { formatBudget } from "../../../adapters/budget.ts";
import type { ExportResult } from "../../../adapters/export.ts";
import { VERSION } from "../../version.ts";
import type { PlanEntry } from "../../../adapters/plan.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { EXIT, COMMON_OPTIONS, type CliIO, type Command, type ParsedArgs } from "../command.ts";
import { loadLibraryPlugins, pluginsStamp } from "../library-plugins.ts";
import { paint, printDiagnostics, progress } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, libraryDir, listOption, stateDir } from "../options.ts";

const SYMBOL: Record<PlanEntry["action"], string> = { create: "+", update: "~", delete: "-", unchanged: "=", drift: "!", conflict: "!" };

export const exportCommand: Command = {
  name: "export",
  summary: "export agents to the native config of AI tools (plan, then apply safely)",
  usage: "aicfg export [--library DIR] [--target ID,ID | --all] [--scope project|user] [--root DIR] [--dry-run | --check] [--force] [--json]",
  description:
    "Computes a plan (create / update / delete / unchanged / drift per file) and applies it atomically.\n" +
    "Only files aicfg wrote itself are updated or deleted; a file changed by hand since the last export is\n" +
    "reported as drift and left alone unless --force (which keeps a backup in the state folder).",
  options: {
    ...LIBRARY_OPTION,
    target: {
      type: "string",
      short: "t",
      multiple: true,
      valueName: "ids",
      description: "only these targets (comma-separated or repeated); 'all' is every known target, 'detected' the tools 'aicfg doctor' finds",
    },
    all: { type: "boolean", short: "a", description: "every agent to every target it names (the default)" },
    agent: { type: "string", multiple: true, valueName: "name", description: "only these agents" },
    scope: { type: "string", valueName: "project|user", description: "write into the project (default) or the user's home" },
    root: { type: "string", valueName: "dir", description: "relocate the project root (project scope) or home (user scope)" },
    "dry-run": { type: "boolean", short: "n", description: "print the plan with diffs, change nothing" },
    check: { type: "boolean", description: "exit 1 when any output is out of date (for CI), change nothing" },
    force: { type: "boolean", description: "overwrite drifted or foreign files (a backup is kept)" },
    strict: { type: "boolean", description: "treat unsupported features and exceeded limits as errors" },
    "no-cache": { type: "boolean", description: "render and compare everything even if the inputs did not change" },
    verbose: { type: "boolean", short: "v", description: "print every warning (by default many warnings are grouped per target)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg export --library ./my-library --all",
    "aicfg export --target claude-code,cursor --dry-run",
    "aicfg export --target all        # every known target ('aicfg targets')",
    "aicfg export --target detected   # the tools installed on this machine ('aicfg doctor')",
    "aicfg export --scope user --target q-cli,kiro-cli",
    "aicfg export --check            # in CI: fail when committed configs are stale",
    "aicfg export --root /tmp/sandbox --json",
  ],
  run: async (args, io) => {
    // A plugin's adapter is a target like the built-ins: the library's plugins load first.
    const plugins = await loadLibraryPlugins(libraryDir(args, io), io, args.values.json === true);
    try {
      return await runExport(args, io);
    } finally {
      await plugins.stop();
    }
  },
};

async function runExport(args: ParsedArgs, io: CliIO): Promise<number> {
  const v = args.values;
  if (v.all && v.target) throw new ConfigError("usage", "--all and --target exclude each other", { hint: "use one of them" });
  const scope = v.scope as string | undefined;
  if (scope !== undefined && scope !== "project" && scope !== "user") {
    throw new ConfigError("usage", `--scope must be 'project' or 'user', not '${scope}'`);
  }
  const check = v.check === true;
  const dryRun = check || v["dry-run"] === true;
  const p = progress(io, !v.json);
  const asked = listOption(v.target);
  // Detection looks where `aicfg doctor` looks: this environment's PATH and HOME. The registry
  // (every adapter) is imported only when needed, so a no-op export stays a few stat calls.
  let targets = asked;
  if (asked?.includes("detected")) {
    const [{ expandTargets }, { realDetectEnv }] = await Promise.all([import("../../../adapters/registry.ts"), import("../../../adapters/detect-env.ts")]);
    targets = await expandTargets(asked, () => realDetectEnv({ env: io.env, projectRoot: io.cwd, homeDir: io.env.HOME || homedir() }));
    if (targets.length === 0) {
      throw new ConfigError("no-targets-detected", "--target detected: no AI tool was found on this machine", {
        hint: "run 'aicfg doctor' to see where aicfg looked, or name the targets (--target claude-code,cursor)",
      });
    }
  }
  const library = libraryDir(args, io);
  const state = stateDir(args, io);
  const agents = listOption(v.agent);
  const noCache = v["no-cache"] === true || (dryRun && !check);
  // The no-op shortcut: same library, root, targets and options as a recorded clean export, and
  // every input and output with the recorded stats (or, when they moved, the recorded hash).
  const key = JSON.stringify({
    version: VERSION,
    library,
    root: v.root ? resolve(String(v.root)) : null,
    cwd: v.root ? null : process.cwd(),
    home: homedir(),
    scope: scope ?? null,
    targets: targets ?? null,
    strict: v.strict === true,
    secrets: secretStoreStamp(state),
    plugins: pluginsStamp(library),
  });
  const quick = !noCache && v.force !== true && !agents ? quickCheck(state, key, library) : undefined;
  let result: Shown;
  let secretValues: Map<string, string> | undefined;
  if (quick?.replay) result = replayed(quick.replay, dryRun);
  else {
    p.update("aicfg: loading library…");
    const [{ exportLibraryAsync }, { loadCliLibrary }] = await Promise.all([import("../../../adapters/export.ts"), import("../library-load.ts")]);
    // Only a tool without env-var references, in user scope, gets a decrypted value (src/adapters/secrets.ts).
    secretValues = scope === "project" ? undefined : await (await import("../../../workflows/secrets/store.ts")).readExportSecrets(state, io.env);
    result = await exportLibraryAsync({
      library: await loadCliLibrary(args, io, library),
      ...(targets ? { targets } : {}),
      ...(agents ? { agents } : {}),
      ...(scope ? { scope: scope as "project" | "user" } : {}),
      ...(v.root ? { root: String(v.root) } : {}),
      stateDir: state,
      dryRun,
      force: v.force === true,
      strict: v.strict === true,
      // Without a record of these options nothing says which inputs changed since the render cache was
      // filled (another --target set may have filled it): a same-size edit with its mtime put back
      // would pass its stat check, so everything is rendered (and compared) once.
      noCache: noCache || (quick !== undefined && !quick.recorded),
      ...(secretValues ? { secrets: secretValues } : {}),
      ...(quick ? { record: { key, scan: quick.scan }, changedInputs: quick.changed } : {}),
    });
  }
  p.done();
  const code = exitCode(result, check);
  if (v.json) {
    io.out(JSON.stringify(toJson(result, dryRun, code), null, 2));
    return code;
  }
  // The diff library is loaded only for the diffs of a dry run (a no-op export stays light).
  const patcher = dryRun && !check ? (await import("diff")).createTwoFilesPatch : undefined;
  printHuman(io, result, dryRun, check, v.verbose === true, patcher, [...(secretValues?.values() ?? [])]);
  return code;
}

/** An export result as shown; a replayed no-op has no loaded library. */
type Shown = Omit<ExportResult, "library"> & { library?: ExportResult["library"] };

function replayed(r: ExportReplay, dryRun: boolean): Shown {
  const targets = r.targets.map((t) => ({
    target: t.target,
    agents: t.agents,
    counts: { create: 0, update: 0, delete: 0, unchanged: t.files, drift: 0, conflict: 0 },
    cached: true,
    rendered: 0,
    ...(t.budget ? { budget: t.budget } : {}),
  }));
  return {
    libraryName: r.libraryName,
    libraryRoot: r.libraryRoot,
    scope: r.scope,
    roots: r.roots,
    plan: { entries: [], errors: [], work: [] },
    targets,
    warnings: r.warnings,
    errors: [],
    outOfDate: false,
    rendered: { targets: 0, outputs: 0, totalOutputs: r.totalOutputs ?? r.targets.reduce((n, t) => n + t.files, 0), whole: [] },
    ...(dryRun ? {} : { applied: { written: [], deleted: [], failed: [], backups: [] } }),
  };
}

function exitCode(r: Shown, check: boolean): number {
  if (hasErrors(r.errors)) return EXIT.failure;
  if (check && r.outOfDate) return EXIT.failure;
  if (r.plan.entries.some((e) => e.action === "drift" || e.action === "conflict")) return EXIT.drift;
  return EXIT.ok;
}

function toJson(r: Shown, dryRun: boolean, code: number): unknown {
  return {
    ok: code === EXIT.ok,
    dryRun,
    library: r.libraryRoot,
    scope: r.scope,
    root: r.scope === "project" ? r.roots.projectRoot : r.roots.homeDir,
    outOfDate: r.outOfDate,
    targets: r.targets,
    rendered: r.rendered,
    files: r.plan.entries.map((e) => ({
      path: e.path,
      action: e.action,
      targets: e.targets,
      kind: e.kind,
      ...(e.agent ? { agent: e.agent } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    })),
    written: r.applied?.written.length ?? 0,
    deleted: r.applied?.deleted.length ?? 0,
    backups: r.applied?.backups ?? [],
    warnings: r.warnings,
    errors: r.errors,
  };
}

type Patcher = typeof import("diff").createTwoFilesPatch;

/**
 * Size and mtime of the secret store (workflows/secrets/store.ts, read here with one stat so a no-op
 * export loads nothing more): part of the no-op key, so a changed secret is exported again.
 */
function secretStoreStamp(state: string): string {
  try {
    const st = statSync(join(state, "secrets.json"));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return "none";
  }
}

function printHuman(
  io: CliIO,
  r: Shown,
  dryRun: boolean,
  check: boolean,
  verbose: boolean,
  createTwoFilesPatch: Patcher | undefined,
  revealed: readonly string[],
): void {
  const root = r.scope === "project" ? r.roots.projectRoot : r.roots.homeDir;
  const rel = (p: string) => {
    const x = relative(root, p);
    return x.startsWith("..") ? p : x;
  };
  io.out(`${paint(io, "bold", dryRun ? "Plan" : "Export")} of library '${r.libraryName}' (${r.scope} scope, into ${root})`);
  for (const t of r.targets) {
    const c = t.counts;
    const parts = (["create", "update", "delete", "drift", "conflict", "unchanged"] as const)
      .filter((k) => c[k] > 0)
      .map((k) => `${c[k]} ${k === "create" ? "new" : k === "update" ? "updated" : k === "delete" ? "deleted" : k}`);
    io.out(
      `  ${t.target.padEnd(16)} ${String(t.agents.length).padStart(3)} agent${t.agents.length === 1 ? " " : "s"}  ${parts.join(", ") || "nothing to do"}${t.cached ? paint(io, "gray", " (inputs unchanged)") : ""}`,
    );
    if (t.budget) io.out(paint(io, t.budget.over ? "yellow" : "gray", `  ${"".padEnd(16)}      ${formatBudget(t.budget)}; tokens: ${t.budget.tokenizer}`));
  }
  const interesting = r.plan.entries.filter((e) => e.action !== "unchanged");
  if (interesting.length) io.out("");
  const secretValues = [...new Set([...collectSecrets(r), ...revealed])].sort((a, b) => b.length - a.length);
  for (const e of interesting) {
    const color = e.action === "create" ? "green" : e.action === "delete" ? "red" : e.action === "update" ? "cyan" : "yellow";
    const verb = dryRun && (e.action === "create" || e.action === "update" || e.action === "delete") ? `would ${e.action}` : e.action;
    io.out(`  ${paint(io, color, `${SYMBOL[e.action]} ${verb.padEnd(15)}`)} ${rel(e.path)}${e.reason ? paint(io, "gray", `  (${e.reason})`) : ""}`);
    if (createTwoFilesPatch && (e.before !== undefined || e.after !== undefined) && e.action !== "drift" && e.action !== "conflict") {
      // A new file needs no diff: it is all additions (the diff algorithm is spent on updates only).
      const patch =
        e.action === "create" && e.before === undefined
          ? additions(rel(e.path), e.after ?? "")
          : createTwoFilesPatch(rel(e.path), rel(e.path), e.before ?? "", e.after ?? "", "", "", { context: 2 });
      for (const line of patch.split("\n").slice(2)) {
        if (!line) continue;
        const shown = maskValues(line, secretValues);
        io.out("      " + (line.startsWith("+") ? paint(io, "green", shown) : line.startsWith("-") ? paint(io, "red", shown) : paint(io, "gray", shown)));
      }
    }
  }
  if (r.warnings.length || r.errors.length) io.err("");
  if (verbose || r.warnings.length <= 15) printDiagnostics(io, r.warnings);
  else printGroupedWarnings(io, r);
  printDiagnostics(io, r.errors);
  const drift = r.plan.entries.filter((e) => e.action === "drift" || e.action === "conflict").length;
  io.out("");
  if (hasErrors(r.errors)) io.out(paint(io, "red", `${r.errors.length} error(s); the other targets and agents were still exported.`));
  if (drift)
    io.out(
      paint(
        io,
        "yellow",
        `${drift} file(s) changed by hand or not ours were left alone. Review them, then re-run with --force to overwrite (backups are kept).`,
      ),
    );
  if (check) {
    const stale = r.plan.entries.filter((e) => e.action === "create" || e.action === "update" || e.action === "delete").length;
    if (!r.outOfDate) io.out(paint(io, "green", "Exports are up to date."));
    else
      io.out(
        paint(
          io,
          "red",
          `Exports are out of date: ${stale ? `${stale} file(s) stale` : "nothing stale"}${drift ? `, ${drift} changed by hand or not ours` : ""}. Run 'aicfg export' and commit the result.`,
        ),
      );
  } else if (dryRun) io.out("Dry run: nothing was written. Run without --dry-run to apply.");
  else if (r.applied)
    io.out(
      `${r.applied.written.length} file(s) written, ${r.applied.deleted.length} deleted.${r.applied.backups.length ? ` Backups: ${r.applied.backups.length} in the state folder.` : ""}`,
    );
  // Named when only part of the outputs was rendered: these targets render every agent together, so an edit renders all of theirs.
  const whole =
    r.rendered.whole.length && r.rendered.outputs < r.rendered.totalOutputs
      ? `; rendered whole, their adapter renders all agents together: ${r.rendered.whole.join(", ")}`
      : "";
  io.out(
    paint(
      io,
      "gray",
      `${r.rendered.outputs} of ${r.rendered.totalOutputs} output(s) rendered again (${r.rendered.targets} target(s) whose inputs changed${whole}).`,
    ),
  );
}

/** What the diff library prints for a file created with `text`, without running the diff. */
export function additions(name: string, text: string): string {
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  const head = `Index: ${name}\n${"=".repeat(67)}\n--- ${name}\n+++ ${name}\n`;
  if (text === "") return head;
  const tail = text.endsWith("\n") ? "" : "\n\\ No newline at end of file";
  return `${head}@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => "+" + l).join("\n")}${tail}\n`;
}

/** Many warnings: one line per target naming what it cannot express, the rest behind --verbose. */
function printGroupedWarnings(io: CliIO, r: Shown): void {
  const groups = new Map<string, { count: number; features: Map<string, number> }>();
  for (const w of r.warnings) {
    const target = /^([^:]+): /.exec(w.message)?.[1] ?? "library";
    const feature = /uses (.+?), which /.exec(w.message)?.[1]?.replace(/\s*\(.*\)$/, "") ?? w.code;
    const g = groups.get(target) ?? { count: 0, features: new Map() };
    g.count++;
    g.features.set(feature, (g.features.get(feature) ?? 0) + 1);
    groups.set(target, g);
  }
  for (const [target, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const list = [...g.features].sort((a, b) => b[1] - a[1]).map(([f, n]) => (n > 1 ? `${f} (${n}x)` : f));
    io.err(paint(io, "yellow", `warning: ${target}: ${g.count} warning(s): ${list.slice(0, 6).join("; ")}${list.length > 6 ? "; …" : ""}`));
  }
  io.err(paint(io, "gray", `${r.warnings.length} warnings in all; run with --verbose to see each with its file and hint.`));
}

/** Literal MCP env/header values: masked in diffs so a dry run never prints secrets. */
function collectSecrets(r: Shown): string[] {
  return r.library ? literalSecretValues(r.library) : []; // a replayed no-op prints no diffs
}
