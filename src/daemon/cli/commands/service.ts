// `aicfg service install` writes the systemd unit for the daemon (rendered with the real paths of
// this runtime and bin/aicfg.js) and enables it; `aicfg service status` reports whether it is
// installed and running. systemctl is run with argv arrays, never through a shell.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { atomicWrite } from "../../../adapters/atomic.ts";
import { findOnPath } from "../../../adapters/detect-env.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { currentRuntime, hasBuiltinFfi } from "../../runtime/sd-notify-ffi.ts";
import { EXIT, type Command, type ParsedArgs } from "../command.ts";
import { json } from "../format.ts";
import { renderUnit, type UnitScope } from "./service-unit.ts";

export const UNIT_NAME = "aicfg.service";
export const SYSTEM_UNIT_DIR = "/etc/systemd/system";

export function userUnitDir(env: Record<string, string | undefined>): string {
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith("/") ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), ".config");
  return join(config, "systemd", "user");
}

export function unitPath(scope: UnitScope, env: Record<string, string | undefined>): string {
  return join(scope === "user" ? userUnitDir(env) : SYSTEM_UNIT_DIR, UNIT_NAME);
}

/** bin/aicfg.js of this installation (the same depth from src/ and from a dist/ build). */
export function launcherPath(): string {
  return fileURLToPath(new URL("../../../../bin/aicfg.js", import.meta.url));
}

/** How the unit starts this runtime on the launcher: Deno needs `run` and its permissions. */
export function runtimeCommand(execPath: string = process.execPath, launcher: string = launcherPath()): string[] {
  return currentRuntime() === "deno" ? [execPath, "run", "--allow-all", launcher] : [execPath, launcher];
}

function systemctlArgs(scope: UnitScope, ...rest: string[]): string[] {
  return scope === "user" ? ["--user", ...rest] : rest;
}

function run(file: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { env: env as NodeJS.ProcessEnv, timeout: 60_000, shell: false, windowsHide: true }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (err && typeof code !== "number") return reject(err);
      resolvePromise({ code: err ? Number(code) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function scopeOf(args: ParsedArgs): UnitScope | undefined {
  if (args.values.user && args.values.system) throw new ConfigError("usage", "--user and --system cannot be combined", { hint: "pick one" });
  return args.values.system ? "system" : args.values.user ? "user" : undefined;
}

function asList(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

const SCOPE_OPTIONS = {
  user: { type: "boolean", description: "a per-user service (systemctl --user): exports into your own tool folders (default)" },
  system: { type: "boolean", description: "a hardened system service for a team server (needs root)" },
} as const;

export const serviceInstallCommand: Command = {
  name: "service install",
  summary: "install and start the daemon as a systemd service",
  usage: "aicfg service install [--user|--system] [--dry-run] [--library DIR]... [--state-dir DIR] [--config FILE]",
  description:
    "Writes aicfg.service (user: $XDG_CONFIG_HOME/systemd/user, system: /etc/systemd/system) with the absolute\n" +
    "paths of this runtime and of bin/aicfg.js, then runs systemctl daemon-reload and enable --now.\n" +
    "With --dry-run it prints the unit and the commands instead.",
  options: {
    ...SCOPE_OPTIONS,
    "dry-run": { type: "boolean", description: "print what would be written and run, change nothing" },
    library: { type: "string", short: "l", multiple: true, valueName: "dir", description: "a library folder for the daemon" },
    "state-dir": { type: "string", valueName: "dir", description: "state folder (default: the unit's StateDirectory)" },
    config: { type: "string", valueName: "file", description: "daemon config file (system default: /etc/aicfg/daemon.yaml)" },
    json: { type: "boolean", description: "print machine-readable JSON on stdout" },
  },
  examples: [
    "aicfg service install --library ~/ai-library",
    "aicfg service install --dry-run",
    "sudo aicfg service install --system --library /srv/aicfg/library",
  ],
  positionals: false,
  run: async (args, io) => {
    const scope = scopeOf(args) ?? "user";
    const stateDirArg = args.values["state-dir"] as string | undefined;
    const configArg = args.values.config as string | undefined;
    const unit = renderUnit({
      scope,
      command: runtimeCommand(),
      libraries: asList(args.values.library).map((l) => resolve(io.cwd, l)),
      stateDir: stateDirArg === undefined ? undefined : resolve(io.cwd, stateDirArg),
      config: configArg === undefined ? undefined : resolve(io.cwd, configArg),
      notifyAccess: hasBuiltinFfi() ? "main" : "all",
    });
    const path = unitPath(scope, io.env);
    const commands = [systemctlArgs(scope, "daemon-reload"), systemctlArgs(scope, "enable", "--now", UNIT_NAME)];
    const shown = commands.map((c) => ["systemctl", ...c].join(" "));
    if (args.values["dry-run"]) {
      if (args.values.json) json(io, { dryRun: true, scope, path, unit, commands: commands.map((c) => ["systemctl", ...c]) });
      else io.out([`Would write ${path}:`, "", unit, "Would run:", ...shown.map((c) => `  ${c}`)].join("\n"));
      return EXIT.ok;
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    atomicWrite(path, unit, 0o644);
    if (!args.values.json) io.out(`Wrote ${path}`);
    const systemctl = findOnPath("systemctl", io.env.PATH);
    if (!systemctl) {
      throw new ConfigError("systemctl-missing", `systemctl was not found on PATH, so ${UNIT_NAME} was written but not enabled`, {
        file: path,
        hint: `on a machine running systemd, run: ${shown.join(" && ")}`,
      });
    }
    for (const c of commands) {
      const r = await run(systemctl, c, io.env);
      if (r.code !== 0) {
        throw new ConfigError("systemctl-failed", `systemctl ${c.join(" ")} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, {
          file: path,
          hint: scope === "user" ? "is a user service manager running? (loginctl enable-linger $USER keeps it running without a login)" : "run as root",
        });
      }
    }
    if (args.values.json) json(io, { dryRun: false, scope, path, commands: commands.map((c) => ["systemctl", ...c]) });
    else io.out(`Enabled and started ${UNIT_NAME}. Follow it with: journalctl ${scope === "user" ? "--user " : ""}-u ${UNIT_NAME} -f`);
    return EXIT.ok;
  },
};

const SHOW_PROPERTIES = ["LoadState", "ActiveState", "SubState", "UnitFileState", "MainPID", "StatusText", "NRestarts"];

export const serviceStatusCommand: Command = {
  name: "service status",
  summary: "show whether the daemon's systemd service is installed and running",
  usage: "aicfg service status [--user|--system] [--json]",
  description:
    "Looks for the user unit, then the system unit, and asks systemctl for its state.\nExit 0 when the service is active, 1 when it is not installed, not active, or systemctl is unavailable.",
  options: { ...SCOPE_OPTIONS, json: { type: "boolean", description: "print machine-readable JSON on stdout" } },
  examples: ["aicfg service status", "aicfg service status --system --json"],
  positionals: false,
  run: async (args, io) => {
    const wanted = scopeOf(args);
    const scopes: UnitScope[] = wanted ? [wanted] : ["user", "system"];
    const scope = scopes.find((s) => existsSync(unitPath(s, io.env)));
    if (!scope) {
      const looked = scopes.map((s) => unitPath(s, io.env));
      if (args.values.json) json(io, { installed: false, looked });
      else {
        io.out(`${UNIT_NAME} is not installed (looked for ${looked.join(" and ")}).`);
        io.out("Install it with: aicfg service install --library DIR");
      }
      return EXIT.failure;
    }
    const path = unitPath(scope, io.env);
    const systemctl = findOnPath("systemctl", io.env.PATH);
    let state: Record<string, string> | undefined;
    let problem: string | undefined;
    if (!systemctl) problem = "systemctl was not found on PATH, so the service state is unknown";
    else {
      const r = await run(systemctl, systemctlArgs(scope, "show", UNIT_NAME, ...SHOW_PROPERTIES.map((p) => `--property=${p}`)), io.env);
      if (r.code !== 0) problem = `systemctl show failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`;
      else {
        state = {};
        for (const line of r.stdout.split("\n")) {
          const eq = line.indexOf("=");
          if (eq > 0) state[line.slice(0, eq)] = line.slice(eq + 1);
        }
      }
    }
    const active = state?.ActiveState === "active";
    if (args.values.json) json(io, { installed: true, scope, path, active, state: state ?? null, problem: problem ?? null });
    else {
      io.out(`${UNIT_NAME} (${scope}) installed at ${path}`);
      if (state) for (const p of SHOW_PROPERTIES) if (state[p] !== undefined && state[p] !== "") io.out(`  ${p}: ${state[p]}`);
      if (problem) io.out(`  ${problem}`);
    }
    return active ? EXIT.ok : EXIT.failure;
  },
};
