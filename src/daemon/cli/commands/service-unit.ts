// Renders the systemd unit for `aicfg daemon`: a per-user unit (exports into the user's own tool
// folders) or a hardened system unit (team server). The files in systemd/ are this renderer's
// output for the packaged paths; a test keeps them identical.
import { isAbsolute } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";

export type UnitScope = "user" | "system";

export type UnitParams = {
  scope: UnitScope;
  /** The program and its leading arguments, e.g. [node, /opt/aicfg/bin/aicfg.js]; `daemon ...` is appended. */
  command: readonly string[];
  /** Absolute library folders (`--library`, repeatable); none means the daemon config names them. */
  libraries: readonly string[];
  /** Absolute state folder; undefined means the default (StateDirectory=aicfg). */
  stateDir?: string | undefined;
  /** Absolute daemon config file; the system unit defaults to /etc/aicfg/daemon.yaml. */
  config?: string | undefined;
  /**
   * "main" when the runtime can send sd_notify datagrams itself (FFI backend); "all" when it must
   * fall back to the systemd-notify child process, whose PID is not the main PID.
   */
  notifyAccess: "main" | "all";
};

/** The daemon's own drain deadline on SIGTERM; TimeoutStopSec must exceed it (security goal G26). */
export const DRAIN_DEADLINE_SEC = 30;
export const TIMEOUT_STOP_SEC = DRAIN_DEADLINE_SEC + 15;
export const WATCHDOG_SEC = 30;
export const SYSTEM_STATE_DIR = "/var/lib/aicfg";
export const SYSTEM_CONFIG = "/etc/aicfg/daemon.yaml";
export const SYSTEM_CREDENTIALS_DIR = "/etc/aicfg/credentials";
/** Secrets handed to the system service with LoadCredential= (read with readCredential()). */
export const CREDENTIALS = ["github-webhook-secret", "github-token"] as const;

/** Folders the system unit hides entirely (ProtectHome=yes): a system-scope path must not be inside them. */
const HOME_ROOTS = ["/home", "/root", "/run/user"];

/**
 * Quotes one ExecStart= argument for systemd: specifiers (%) and variable references ($) are
 * escaped so a path is always taken literally; arguments with spaces or quotes are double-quoted.
 */
export function quoteExecArg(arg: string): string {
  if (arg.length === 0) return '""';
  if (/[\n\r\0]/.test(arg)) throw new ConfigError("usage", `cannot put ${JSON.stringify(arg)} in a unit file: it contains a line break or NUL`);
  const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A path for a settings line such as ReadWritePaths=: specifiers escaped, no spaces allowed. */
function unitPath(path: string, what: string): string {
  if (!isAbsolute(path)) throw new ConfigError("usage", `${what} ${JSON.stringify(path)} must be an absolute path`);
  if (/[\s"'\\]/.test(path)) {
    throw new ConfigError("usage", `${what} ${JSON.stringify(path)} contains spaces, quotes or backslashes, which this unit setting cannot hold`, {
      hint: "use a folder path without spaces for the system service",
    });
  }
  return path.replace(/%/g, "%%");
}

function insideHome(path: string): boolean {
  return HOME_ROOTS.some((root) => path === root || path.startsWith(root + "/"));
}

export function daemonArgs(p: UnitParams): string[] {
  const args = [...p.command, "daemon"];
  const config = p.config ?? (p.scope === "system" ? SYSTEM_CONFIG : undefined);
  if (config !== undefined) args.push("--config", config);
  for (const lib of p.libraries) args.push("--library", lib);
  args.push("--state-dir", p.stateDir ?? (p.scope === "system" ? SYSTEM_STATE_DIR : "${STATE_DIRECTORY}"));
  return args;
}

function execStart(p: UnitParams): string {
  // The executable must be absolute: systemd reads a leading -, @, :, + or ! there as a prefix.
  if (!p.command[0] || !isAbsolute(p.command[0]))
    throw new ConfigError("usage", `the daemon's executable ${JSON.stringify(p.command[0])} must be an absolute path`);
  const args = daemonArgs(p);
  // The user unit's default state folder comes from StateDirectory= via $STATE_DIRECTORY, which
  // systemd expands; every other argument is literal.
  return args.map((a, i) => (a === "${STATE_DIRECTORY}" && args[i - 1] === "--state-dir" ? a : quoteExecArg(a))).join(" ");
}

/** Settings that need no file-system namespace, so they also work in a per-user service manager. */
const PROCESS_HARDENING = [
  "NoNewPrivileges=yes",
  "LockPersonality=yes",
  "RestrictRealtime=yes",
  "RestrictSUIDSGID=yes",
  "RestrictNamespaces=yes",
  "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
  "SystemCallArchitectures=native",
  "# @pkey: V8 may use memory protection keys for its code space.",
  "SystemCallFilter=@system-service @pkey",
  "SystemCallFilter=~@privileged @resources",
  "# A filtered call fails with EPERM instead of killing the process, so a runtime probing an",
  "# optional syscall (io_uring, pkeys) falls back instead of crashing.",
  "SystemCallErrorNumber=EPERM",
  "# No MemoryDenyWriteExecute=: V8's and JavaScriptCore's JIT need writable+executable memory (nodejs/node#55509).",
];

export function renderUnit(p: UnitParams): string {
  for (const lib of p.libraries) if (!isAbsolute(lib)) throw new ConfigError("usage", `library ${JSON.stringify(lib)} must be an absolute path`);
  const lines: string[] = [];
  if (p.scope === "system") {
    if (p.stateDir !== undefined && insideHome(p.stateDir)) {
      throw new ConfigError("usage", `state folder ${p.stateDir} is inside a home folder, which the system service cannot see (ProtectHome=yes)`, {
        hint: "use --user to run as your own user, or a folder such as /var/lib/aicfg",
      });
    }
    for (const lib of p.libraries) {
      if (insideHome(lib)) {
        throw new ConfigError("usage", `library ${lib} is inside a home folder, which the system service cannot see (ProtectHome=yes)`, {
          hint: "use --user to export into your own tool folders, or keep the team library in a folder such as /srv/aicfg/library",
        });
      }
    }
    lines.push(
      "# AI Configurator daemon: team server (system service).",
      "# Hardened; CI checks `systemd-analyze security --offline=yes --threshold=20` (exposure <= 2.0).",
      `# Secrets: files in ${SYSTEM_CREDENTIALS_DIR}/ (root-only), handed over with LoadCredential= and`,
      "# read by the daemon from $CREDENTIALS_DIRECTORY; nothing secret in this file or the environment.",
      "[Unit]",
      "Description=AI Configurator daemon (team server)",
      "Wants=network-online.target",
      "After=network-online.target",
      "",
      "[Service]",
      "Type=notify",
      `NotifyAccess=${p.notifyAccess}`,
      `ExecStart=${execStart(p)}`,
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "RestartSec=5s",
      "TimeoutStartSec=120s",
      `# Longer than the daemon's ${DRAIN_DEADLINE_SEC}s drain deadline, so in-flight runs finish or are marked interrupted.`,
      `TimeoutStopSec=${TIMEOUT_STOP_SEC}s`,
      `WatchdogSec=${WATCHDOG_SEC}s`,
      "KillMode=mixed",
      "DynamicUser=yes",
      "StateDirectory=aicfg",
      "StateDirectoryMode=0700",
      "ConfigurationDirectory=aicfg",
      "Environment=NODE_ENV=production",
      ...CREDENTIALS.flatMap((id) => [
        `LoadCredential=${id}:${SYSTEM_CREDENTIALS_DIR}/${id}`,
        `# Default when the file is missing (so that is not fatal): a lone newline, read as "not configured".`,
        `SetCredential=${id}:\\n`,
      ]),
      ...(p.stateDir !== undefined && p.stateDir !== SYSTEM_STATE_DIR ? [`ReadWritePaths=${unitPath(p.stateDir, "state folder")}`] : []),
      "UMask=0077",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "PrivateUsers=yes",
      "PrivateMounts=yes",
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectKernelLogs=yes",
      "ProtectControlGroups=yes",
      "ProtectClock=yes",
      "ProtectHostname=yes",
      "ProtectProc=invisible",
      "ProcSubset=pid",
      "RemoveIPC=yes",
      "DevicePolicy=closed",
      "CapabilityBoundingSet=",
      "AmbientCapabilities=",
      ...PROCESS_HARDENING,
      "",
      "[Install]",
      "WantedBy=multi-user.target",
    );
  } else {
    lines.push(
      "# AI Configurator daemon for one user: keeps your AI tools' configuration in sync with your library.",
      "# It must write into your own tool folders (~/.claude, ~/.claude.json, ~/.codex, ~/.kiro, project folders, ...),",
      "# so it runs as you; the owned-files manifest, not a sandbox, keeps it off files it did not write.",
      "# Only settings that work without a file-system namespace are used: per-user service managers",
      '# cannot set one up without unprivileged user namespaces (man systemd.exec, "Sandboxing").',
      "[Unit]",
      "Description=AI Configurator daemon (user)",
      "",
      "[Service]",
      "Type=notify",
      `NotifyAccess=${p.notifyAccess}`,
      `ExecStart=${execStart(p)}`,
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "RestartSec=5s",
      "TimeoutStartSec=120s",
      `TimeoutStopSec=${TIMEOUT_STOP_SEC}s`,
      `WatchdogSec=${WATCHDOG_SEC}s`,
      "KillMode=mixed",
      ...(p.stateDir === undefined ? ["StateDirectory=aicfg", "StateDirectoryMode=0700"] : []),
      "UMask=0077",
      ...PROCESS_HARDENING,
      "",
      "[Install]",
      "WantedBy=default.target",
    );
  }
  return lines.join("\n") + "\n";
}

/** The packaged units in systemd/: the npm global install's launcher, default folders. */
export function packagedUnit(scope: UnitScope): string {
  return renderUnit({ scope, command: ["/usr/local/bin/aicfg"], libraries: [], notifyAccess: "main" });
}
