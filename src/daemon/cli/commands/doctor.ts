// `aicfg doctor` and `aicfg tools`: which AI tools are installed here (binary and version, config
// folders, format generation), where exports go, and what to do next.
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { realDetectEnv } from "../../../adapters/detect-env.ts";
import { listAdapters } from "../../../adapters/registry.ts";
import type { Detection } from "../../../adapters/types.ts";
import { validateLibrary } from "../../../adapters/validate.ts";
import { loadLibrary } from "../../../library/load.ts";
import { resolve } from "node:path";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type ParsedArgs } from "../command.ts";
import { paint } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, stateDir } from "../options.ts";

export type ToolReport = { id: string; name: string } & Detection;

export async function detectAll(io: CliIO, home?: string, project?: string): Promise<ToolReport[]> {
  const env = realDetectEnv({ env: io.env, projectRoot: project ?? io.cwd, ...(home ? { homeDir: home } : {}) });
  return Promise.all(
    listAdapters().map(async (a) => {
      try {
        return { id: a.id, name: a.displayName, ...(await a.detect(env)) };
      } catch (e) {
        return {
          id: a.id,
          name: a.displayName,
          installed: false,
          configPaths: [],
          exportPaths: { project: [], user: [] },
          notes: [`detection failed: ${(e as Error).message}`],
          nextSteps: [],
        };
      }
    }),
  );
}

const HOME_OPTION = {
  home: { type: "string", valueName: "dir", description: "look for tools under this home folder instead of yours" },
} as const;

export const toolsCommand: Command = {
  name: "tools",
  summary: "detect installed AI tools (binary, version, config folders, format generation)",
  usage: "aicfg tools [--json] [--home DIR]",
  options: { ...HOME_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg tools", "aicfg tools --json | jq '.[] | select(.installed)'"],
  positionals: false,
  run: async (args, io) => {
    const reports = await detectAll(io, args.values.home as string | undefined);
    if (args.values.json) io.out(JSON.stringify(reports, null, 2));
    else printTools(io, reports, false);
    return EXIT.ok;
  },
};

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check this machine: installed AI tools, where exports go, library and state health, next steps",
  usage: "aicfg doctor [--library DIR] [--state-dir DIR] [--home DIR] [--json]",
  options: { ...LIBRARY_OPTION, ...STATE_OPTION, ...HOME_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg doctor", "aicfg doctor --library ./my-library --json"],
  positionals: false,
  run: async (args, io) => {
    const reports = await detectAll(io, args.values.home as string | undefined);
    const checks = environmentChecks(args, io);
    const failed = checks.filter((c) => !c.ok).length;
    if (args.values.json) {
      io.out(JSON.stringify({ ok: failed === 0, checks, tools: reports }, null, 2));
      return failed ? EXIT.failure : EXIT.ok;
    }
    io.out(paint(io, "bold", "Checks"));
    for (const c of checks)
      io.out(`  ${c.ok ? paint(io, "green", "ok  ") : paint(io, "red", "FAIL")} ${c.name}: ${c.detail}${c.hint ? paint(io, "gray", `  (${c.hint})`) : ""}`);
    io.out("");
    printTools(io, reports, true);
    return failed ? EXIT.failure : EXIT.ok;
  },
};

type Check = { name: string; ok: boolean; detail: string; hint?: string };

function environmentChecks(args: ParsedArgs, io: CliIO): Check[] {
  const checks: Check[] = [];
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  const runtime = g.Bun ? `Bun ${g.Bun.version}` : g.Deno ? `Deno ${g.Deno.version.deno}` : `Node ${process.versions.node}`;
  const nodeOk = !!g.Bun || !!g.Deno || major > 22 || (major === 22 && minor >= 22);
  checks.push({ name: "runtime", ok: nodeOk, detail: runtime, ...(nodeOk ? {} : { hint: "install Node >= 22.22 (or use Bun or Deno)" }) });
  const state = stateDir(args, io);
  try {
    mkdirSync(state, { recursive: true, mode: 0o700 });
    accessSync(state, constants.W_OK);
    checks.push({ name: "state folder", ok: true, detail: state });
  } catch (e) {
    checks.push({ name: "state folder", ok: false, detail: `${state}: ${(e as Error).message}`, hint: "pass --state-dir to a writable folder" });
  }
  const libDir = (args.values.library as string | undefined) ?? io.env.AICFG_LIBRARY ?? (existsSync(resolve(io.cwd, "aicfg.yaml")) ? io.cwd : undefined);
  if (libDir) {
    try {
      const lib = loadLibrary(resolve(io.cwd, libDir));
      const ds = validateLibrary(lib);
      const errors = ds.filter((d) => d.severity === "error").length;
      checks.push({
        name: "library",
        ok: errors === 0,
        detail: `${lib.root}: ${lib.agents.size} agent(s), ${errors} error(s), ${ds.length - errors} warning(s)`,
        ...(errors ? { hint: "run 'aicfg validate' for the details" } : {}),
      });
    } catch (e) {
      checks.push({ name: "library", ok: false, detail: (e as Error).message, hint: "pass --library DIR or run 'aicfg init'" });
    }
  } else {
    checks.push({ name: "library", ok: true, detail: "none given (pass --library DIR to check one)" });
  }
  return checks;
}

/**
 * Tools that are installed or have config on this machine get a line each (with details for
 * doctor); the rest are grouped into one line each for web apps and tools not found, so ~35
 * absent tools cost two lines instead of eighty. --json keeps every tool's full report.
 */
function printTools(io: CliIO, reports: ToolReport[], detailed: boolean): void {
  const installed = reports.filter((r) => r.installed);
  const present = reports.filter((r) => r.installed || r.configPaths.some((p) => p.exists));
  const absent = reports.filter((r) => !present.includes(r));
  const web = absent.filter((r) => r.generation?.startsWith("web"));
  const missing = absent.filter((r) => !web.includes(r));
  io.out(paint(io, "bold", `AI tools (${installed.length} of ${reports.length} detected)`));
  for (const r of present) {
    const status = r.installed ? paint(io, "green", "installed") : paint(io, "yellow", "config only");
    const version = r.binary?.version ? ` ${r.binary.version}` : "";
    const gen = r.generation ? ` [${r.generation}]` : "";
    io.out(`  ${r.id.padEnd(18)}${status}${version}${gen}${r.binary ? paint(io, "gray", `  ${r.binary.path}`) : ""}`);
    if (!detailed) continue;
    const found = r.configPaths.filter((p) => p.exists).map((p) => p.path);
    if (found.length) io.out(`${" ".repeat(20)}config: ${found.join(", ")}`);
    if (r.exportPaths.project.length) io.out(`${" ".repeat(20)}exports (project): ${r.exportPaths.project.join(", ")}`);
    if (r.exportPaths.user.length) io.out(`${" ".repeat(20)}exports (user):    ${r.exportPaths.user.join(", ")}`);
    for (const n of r.notes) io.out(paint(io, "gray", `${" ".repeat(20)}note: ${n}`));
    if (!r.installed) for (const s of r.nextSteps.slice(0, 2)) io.out(paint(io, "cyan", `${" ".repeat(20)}next: ${s}`));
  }
  if (web.length) io.out(`  ${paint(io, "gray", `web apps, nothing to install (${web.length}):`)} ${web.map((r) => r.id).join(", ")}`);
  if (missing.length) io.out(`  ${paint(io, "gray", `not found (${missing.length}):`)} ${missing.map((r) => r.id).join(", ")}`);
  if (absent.length)
    io.out(
      paint(
        io,
        "gray",
        `  How to install one, and its notes: 'aicfg ${detailed ? "doctor" : "tools"} --json' (nextSteps, notes), or export it anyway with --target ID.`,
      ),
    );
}
