// `aicfg migrate q-cli-to-kiro`: Amazon Q Developer CLI became Kiro CLI (tools renamed, folders
// moved). Exports the same agents to kiro-cli, then removes the q-cli files aicfg wrote (files
// changed by hand are left and reported).
import { resolve } from "node:path";
import { exportLibrary } from "../../../adapters/export.ts";
import { loadManifest, saveManifest } from "../../../adapters/manifest.ts";
import { applyPlan, planExport } from "../../../adapters/plan.ts";
import { ConfigError, hasErrors } from "../../../library/diagnostics.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint, printDiagnostics } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, libraryDir, stateDir } from "../options.ts";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "move exported agents across a tool rename (q-cli-to-kiro)",
  usage: "aicfg migrate q-cli-to-kiro [--library DIR] [--scope project|user] [--root DIR] [--dry-run] [--json]",
  description: "After migrating, replace q-cli with kiro-cli in the targets of aicfg.yaml so later exports keep them there.",
  options: {
    ...LIBRARY_OPTION,
    scope: { type: "string", valueName: "project|user", description: "which exports to move (default: the library's scope)" },
    root: { type: "string", valueName: "dir", description: "project root or home used for the exports" },
    "dry-run": { type: "boolean", short: "n", description: "show what would change" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg migrate q-cli-to-kiro --scope user", "aicfg migrate q-cli-to-kiro --dry-run"],
  run: async (args, io) => {
    if (args.positionals[0] !== "q-cli-to-kiro") {
      throw new ConfigError("usage", `unknown migration '${args.positionals[0] ?? ""}'`, { hint: "available: q-cli-to-kiro" });
    }
    const state = stateDir(args, io);
    const dryRun = args.values["dry-run"] === true;
    const scopeArg = args.values.scope as "project" | "user" | undefined;
    // The manifest records absolute roots: a relative --root must be resolved against the caller's
    // folder, or it matches no recorded q-cli file and nothing is removed.
    const rootArg = args.values.root === undefined ? undefined : resolve(io.cwd, args.values.root as string);
    const manifest = loadManifest(state);
    const owned = Object.values(manifest.entries).filter(
      (e) => e.target === "q-cli" && (!scopeArg || e.scope === scopeArg) && (!rootArg || e.root === rootArg),
    );
    if (!owned.length) {
      io.out(`No q-cli exports recorded in the state folder${rootArg ? ` for ${rootArg}` : ""}: nothing to migrate.`);
      return EXIT.ok;
    }
    const agents = [...new Set(owned.map((e) => e.agent).filter((a): a is string => !!a))].sort();
    const scope = scopeArg ?? owned[0]!.scope;
    const root = rootArg ?? owned[0]!.root;
    const kiro = exportLibrary({ library: libraryDir(args, io), targets: ["kiro-cli"], agents, scope, root, stateDir: state, dryRun });
    const failed = hasErrors(kiro.errors);
    // Remove the q-cli files only once the kiro-cli export worked.
    let removed: string[] = [];
    let left: string[] = [];
    if (!failed) {
      const fresh = loadManifest(state);
      const plan = planExport([{ target: "q-cli", scope, root, files: [], prune: true, agents: new Set(agents) }], fresh, {
        force: false,
        now: new Date().toISOString(),
      });
      left = plan.entries.filter((e) => e.action === "drift" || e.action === "conflict").map((e) => e.path);
      removed = plan.entries.filter((e) => e.action === "delete").map((e) => e.path);
      if (!dryRun) {
        applyPlan(plan, fresh, state, new Date().toISOString());
        saveManifest(state, fresh);
      }
    }
    if (args.values.json) {
      io.out(
        JSON.stringify(
          { ok: !failed, dryRun, agents, kiro: kiro.plan.entries.map((e) => ({ path: e.path, action: e.action })), removed, left, errors: kiro.errors },
          null,
          2,
        ),
      );
      return failed ? EXIT.failure : EXIT.ok;
    }
    printDiagnostics(io, [...kiro.warnings, ...kiro.errors]);
    if (failed) {
      io.out(paint(io, "red", "The kiro-cli export failed; the q-cli files were left in place."));
      return EXIT.failure;
    }
    const verb = dryRun ? "would be" : "were";
    io.out(`${agents.length} agent(s) ${verb} exported to kiro-cli; ${removed.length} q-cli file(s) ${verb} removed.`);
    for (const p of left) io.out(paint(io, "yellow", `  left in place (changed by hand): ${p}`));
    io.out("Next: replace q-cli with kiro-cli in the targets of aicfg.yaml.");
    return EXIT.ok;
  },
};
