// `aicfg service install|status` against real temp folders. systemd is not running here, so where
// a systemctl must answer, a recording stand-in on PATH proves the exact argv (no shell involved).
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { CliIO, Command } from "../../src/daemon/cli/command.ts";
import { serviceInstallCommand, serviceStatusCommand } from "../../src/daemon/cli/commands/service.ts";
import { tempDir } from "../helpers/fixtures.ts";

const launcher = resolve(new URL("../../bin/aicfg.js", import.meta.url).pathname);
const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
/** How this runtime appears at the head of ExecStart. */
const runtimeArgs = isDeno ? `${process.execPath} run --allow-all ${launcher}` : `${process.execPath} ${launcher}`;

let tmp: { path: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir("aicfg-service-");
});
afterEach(() => tmp.cleanup());

/** Parses like the CLI entry point does, then runs the command with captured output. */
async function runCommand(cmd: Command, argv: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), color: false, tty: false, cwd: tmp.path, env };
  const parsed = parseArgs({ args: argv, options: cmd.options, allowPositionals: false, strict: true });
  const code = await cmd.run({ values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals }, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function envWith(pathDirs: string[]): Record<string, string | undefined> {
  return { HOME: join(tmp.path, "home"), XDG_CONFIG_HOME: join(tmp.path, "config"), PATH: pathDirs.join(":") };
}

/** A systemctl stand-in that appends its argv (one per line, then "--") to a log and prints `stdout`. */
function recordingSystemctl(stdout = ""): { dir: string; log: string } {
  const dir = join(tmp.path, "fakebin");
  mkdirSync(dir, { recursive: true });
  const log = join(tmp.path, "systemctl.log");
  const out = join(tmp.path, "systemctl.out");
  writeFileSync(out, stdout);
  writeFileSync(join(dir, "systemctl"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done\necho -- >> '${log}'\ncat '${out}'\n`);
  chmodSync(join(dir, "systemctl"), 0o755);
  return { dir, log };
}

const userUnit = (execStart: string) => `# AI Configurator daemon for one user: keeps your AI tools' configuration in sync with your library.
# It must write into your own tool folders (~/.claude, ~/.claude.json, ~/.codex, ~/.kiro, project folders, ...),
# so it runs as you; the owned-files manifest, not a sandbox, keeps it off files it did not write.
# Only settings that work without a file-system namespace are used: per-user service managers
# cannot set one up without unprivileged user namespaces (man systemd.exec, "Sandboxing").
[Unit]
Description=AI Configurator daemon (user)

[Service]
Type=notify
NotifyAccess=main
ExecStart=${execStart}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5s
TimeoutStartSec=120s
TimeoutStopSec=45s
WatchdogSec=30s
KillMode=mixed
StateDirectory=aicfg
StateDirectoryMode=0700
UMask=0077
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
# @pkey: V8 may use memory protection keys for its code space.
SystemCallFilter=@system-service @pkey
SystemCallFilter=~@privileged @resources
# A filtered call fails with EPERM instead of killing the process, so a runtime probing an
# optional syscall (io_uring, pkeys) falls back instead of crashing.
SystemCallErrorNumber=EPERM
# No MemoryDenyWriteExecute=: V8's and JavaScriptCore's JIT need writable+executable memory (nodejs/node#55509).

[Install]
WantedBy=default.target
`;

describe("service install", () => {
  test("--dry-run prints the unit with this runtime's real paths and the systemctl commands, and writes nothing", async () => {
    const r = await runCommand(serviceInstallCommand, ["--dry-run", "--library", "lib one", "-l", "/srv/team-lib"], envWith([]));
    const unitFile = join(tmp.path, "config/systemd/user/aicfg.service");
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toBe(
      [
        `Would write ${unitFile}:`,
        "",
        userUnit(`${runtimeArgs} daemon --library "${tmp.path}/lib one" --library /srv/team-lib --state-dir \${STATE_DIRECTORY}`),
        "Would run:",
        "  systemctl --user daemon-reload",
        "  systemctl --user enable --now aicfg.service",
      ].join("\n"),
    );
    expect(existsSync(join(tmp.path, "config"))).toBe(false);
  });

  test("--system --dry-run targets /etc/systemd/system and plain systemctl", async () => {
    const r = await runCommand(serviceInstallCommand, ["--system", "--dry-run", "--json"], envWith([]));
    const j = JSON.parse(r.out) as { scope: string; path: string; commands: string[][]; unit: string };
    expect(r.code).toBe(0);
    expect(j.scope).toBe("system");
    expect(j.path).toBe("/etc/systemd/system/aicfg.service");
    expect(j.commands).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "aicfg.service"],
    ]);
    expect(j.unit.split("\n").find((l) => l.startsWith("ExecStart="))).toBe(
      `ExecStart=${runtimeArgs} daemon --config /etc/aicfg/daemon.yaml --state-dir /var/lib/aicfg`,
    );
  });

  test("without systemctl the unit is still written, atomically, and the error says what to run", async () => {
    const emptyBin = join(tmp.path, "empty-bin");
    mkdirSync(emptyBin);
    await expect(runCommand(serviceInstallCommand, ["--library", "/srv/lib"], envWith([emptyBin]))).rejects.toMatchObject({
      code: "systemctl-missing",
      message: "systemctl was not found on PATH, so aicfg.service was written but not enabled",
      hint: "on a machine running systemd, run: systemctl --user daemon-reload && systemctl --user enable --now aicfg.service",
    });
    const dir = join(tmp.path, "config/systemd/user");
    expect(readdirSync(dir)).toEqual(["aicfg.service"]);
    expect(readFileSync(join(dir, "aicfg.service"), "utf8")).toBe(userUnit(`${runtimeArgs} daemon --library /srv/lib --state-dir \${STATE_DIRECTORY}`));
    expect(statSync(join(dir, "aicfg.service")).mode & 0o777).toBe(0o644);
  });

  test("runs systemctl with argv arrays: a hostile library name stays one literal argument", async () => {
    const fake = recordingSystemctl();
    const hostile = "/srv/lib $(touch pwned); `id`";
    const r = await runCommand(serviceInstallCommand, ["--library", hostile], envWith([fake.dir, "/usr/bin", "/bin"]));
    expect(r.code).toBe(0);
    expect(readFileSync(fake.log, "utf8")).toBe("--user\ndaemon-reload\n--\n--user\nenable\n--now\naicfg.service\n--\n");
    expect(existsSync(join(tmp.path, "pwned"))).toBe(false);
    const unit = readFileSync(join(tmp.path, "config/systemd/user/aicfg.service"), "utf8");
    expect(unit.split("\n").find((l) => l.startsWith("ExecStart="))).toBe(
      `ExecStart=${runtimeArgs} daemon --library "/srv/lib $$(touch pwned); \`id\`" --state-dir \${STATE_DIRECTORY}`,
    );
    expect(r.out).toBe(
      `Wrote ${join(tmp.path, "config/systemd/user/aicfg.service")}\nEnabled and started aicfg.service. Follow it with: journalctl --user -u aicfg.service -f`,
    );
  });

  test("--user and --system together is a usage error", async () => {
    await expect(runCommand(serviceInstallCommand, ["--user", "--system", "--dry-run"], envWith([]))).rejects.toMatchObject({
      code: "usage",
      message: "--user and --system cannot be combined",
    });
  });
});

describe("service status", () => {
  test("not installed: says where it looked and how to install", async () => {
    const r = await runCommand(serviceStatusCommand, ["--user"], envWith([]));
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `aicfg.service is not installed (looked for ${join(tmp.path, "config/systemd/user/aicfg.service")}).\nInstall it with: aicfg service install --library DIR`,
    );
  });

  test("not installed, as JSON", async () => {
    const r = await runCommand(serviceStatusCommand, ["--user", "--json"], envWith([]));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ installed: false, looked: [join(tmp.path, "config/systemd/user/aicfg.service")] });
  });

  test("installed and running: reports systemctl's view", async () => {
    const fake = recordingSystemctl(
      "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=4242\nStatusText=Ready: 3 workflows, next run 09:00\nNRestarts=0\n",
    );
    await runCommand(serviceInstallCommand, [], envWith([fake.dir, "/usr/bin", "/bin"]));
    writeFileSync(fake.log, "");
    const r = await runCommand(serviceStatusCommand, [], envWith([fake.dir, "/usr/bin", "/bin"]));
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `aicfg.service (user) installed at ${join(tmp.path, "config/systemd/user/aicfg.service")}`,
        "  LoadState: loaded",
        "  ActiveState: active",
        "  SubState: running",
        "  UnitFileState: enabled",
        "  MainPID: 4242",
        "  StatusText: Ready: 3 workflows, next run 09:00",
        "  NRestarts: 0",
      ].join("\n"),
    );
    expect(readFileSync(fake.log, "utf8")).toBe(
      "--user\nshow\naicfg.service\n--property=LoadState\n--property=ActiveState\n--property=SubState\n--property=UnitFileState\n--property=MainPID\n--property=StatusText\n--property=NRestarts\n--\n",
    );
  });

  test("installed but systemctl absent: state unknown, exit 1", async () => {
    const fake = recordingSystemctl();
    await runCommand(serviceInstallCommand, [], envWith([fake.dir, "/usr/bin", "/bin"]));
    const r = await runCommand(serviceStatusCommand, ["--user"], envWith([join(tmp.path, "nothing-here")]));
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `aicfg.service (user) installed at ${join(tmp.path, "config/systemd/user/aicfg.service")}\n  systemctl was not found on PATH, so the service state is unknown`,
    );
  });
});
