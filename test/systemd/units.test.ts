// The shipped unit files are exactly the renderer's output, and carry the settings the daemon's
// contract depends on (Type=notify, watchdog, stop timeout above the drain deadline, credentials,
// hardening without MemoryDenyWriteExecute). The exposure score itself is gated by scripts/check-units.sh.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CREDENTIALS, DRAIN_DEADLINE_SEC, packagedUnit, quoteExecArg, renderUnit, TIMEOUT_STOP_SEC } from "../../src/daemon/cli/commands/service-unit.ts";

const root = new URL("../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");

/** The [Service] settings as (key, value) pairs, comments dropped, in file order. */
function settings(unit: string): Array<[string, string]> {
  return unit
    .split("\n")
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]);
}
const values = (unit: string, key: string) =>
  settings(unit)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe("packaged units", () => {
  test("systemd/aicfg.service is the renderer's system unit", () => {
    expect(read("systemd/aicfg.service")).toBe(packagedUnit("system"));
  });

  test("systemd/aicfg-user.service is the renderer's user unit", () => {
    expect(read("systemd/aicfg-user.service")).toBe(packagedUnit("user"));
  });

  test.each(["systemd/aicfg.service", "systemd/aicfg-user.service"])("%s follows the daemon's service contract", (file) => {
    const unit = read(file);
    expect(values(unit, "Type")).toEqual(["notify"]);
    expect(values(unit, "NotifyAccess")).toEqual(["main"]);
    expect(values(unit, "WatchdogSec")).toEqual(["30s"]);
    expect(values(unit, "ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    expect(values(unit, "KillMode")).toEqual(["mixed"]);
    expect(values(unit, "TimeoutStopSec")).toEqual([`${TIMEOUT_STOP_SEC}s`]);
    expect(TIMEOUT_STOP_SEC).toBeGreaterThan(DRAIN_DEADLINE_SEC);
    expect(values(unit, "MemoryDenyWriteExecute")).toEqual([]);
    expect(values(unit, "NoNewPrivileges")).toEqual(["yes"]);
    expect(values(unit, "SystemCallFilter")).toEqual(["@system-service @pkey", "~@privileged @resources"]);
    expect(values(unit, "SystemCallErrorNumber")).toEqual(["EPERM"]);
  });

  test("the system unit is sandboxed, writes only its state folder and gets secrets as credentials", () => {
    const unit = read("systemd/aicfg.service");
    expect(values(unit, "ExecStart")).toEqual(["/usr/local/bin/aicfg daemon --config /etc/aicfg/daemon.yaml --state-dir /var/lib/aicfg"]);
    expect(values(unit, "DynamicUser")).toEqual(["yes"]);
    expect(values(unit, "ProtectSystem")).toEqual(["strict"]);
    expect(values(unit, "ProtectHome")).toEqual(["yes"]);
    expect(values(unit, "StateDirectory")).toEqual(["aicfg"]);
    expect(values(unit, "ReadWritePaths")).toEqual([]);
    expect(values(unit, "CapabilityBoundingSet")).toEqual([""]);
    expect(values(unit, "LoadCredential")).toEqual(CREDENTIALS.map((id) => `${id}:/etc/aicfg/credentials/${id}`));
    expect(values(unit, "SetCredential")).toEqual(CREDENTIALS.map((id) => `${id}:\\n`));
    // Secrets never travel in the environment.
    expect(values(unit, "Environment")).toEqual(["NODE_ENV=production"]);
    expect(values(unit, "WantedBy")).toEqual(["multi-user.target"]);
  });

  test("the user unit runs as the user without a file-system namespace", () => {
    const unit = read("systemd/aicfg-user.service");
    expect(values(unit, "ExecStart")).toEqual(["/usr/local/bin/aicfg daemon --state-dir ${STATE_DIRECTORY}"]);
    for (const key of ["ProtectSystem", "ProtectHome", "ReadWritePaths", "PrivateTmp", "DynamicUser", "User", "LoadCredential"]) {
      expect(values(unit, key)).toEqual([]);
    }
    expect(values(unit, "WantedBy")).toEqual(["default.target"]);
  });
});

describe("rendering", () => {
  test("ExecStart arguments are literal: specifiers and variables escaped, spaces quoted", () => {
    expect(quoteExecArg("/usr/bin/node")).toBe("/usr/bin/node");
    expect(quoteExecArg("--library")).toBe("--library");
    expect(quoteExecArg("/home/ana/My Library")).toBe('"/home/ana/My Library"');
    expect(quoteExecArg("/srv/50%/lib")).toBe("/srv/50%%/lib");
    expect(quoteExecArg("/srv/$HOME/x")).toBe("/srv/$$HOME/x");
    expect(quoteExecArg('/a "b"\\c')).toBe('"/a \\"b\\"\\\\c"');
    expect(quoteExecArg("")).toBe('""');
    expect(() => quoteExecArg("/a\nExecStartPre=/bin/evil")).toThrow(
      'cannot put "/a\\nExecStartPre=/bin/evil" in a unit file: it contains a line break or NUL',
    );
  });

  test("a user unit with libraries and a custom state folder", () => {
    const unit = renderUnit({
      scope: "user",
      command: ["/opt/node/bin/node", "/opt/aicfg/bin/aicfg.js"],
      libraries: ["/home/ana/ai library", "/home/ana/team-lib"],
      stateDir: "/home/ana/.aicfg-state",
      notifyAccess: "all",
    });
    expect(values(unit, "ExecStart")).toEqual([
      '/opt/node/bin/node /opt/aicfg/bin/aicfg.js daemon --library "/home/ana/ai library" --library /home/ana/team-lib --state-dir /home/ana/.aicfg-state',
    ]);
    expect(values(unit, "NotifyAccess")).toEqual(["all"]);
    expect(values(unit, "StateDirectory")).toEqual([]);
  });

  test("a system unit with a custom state folder may write exactly there", () => {
    const unit = renderUnit({
      scope: "system",
      command: ["/usr/bin/node", "/opt/aicfg/bin/aicfg.js"],
      libraries: ["/srv/aicfg/library"],
      stateDir: "/srv/aicfg/state",
      notifyAccess: "main",
    });
    expect(values(unit, "ExecStart")).toEqual([
      "/usr/bin/node /opt/aicfg/bin/aicfg.js daemon --config /etc/aicfg/daemon.yaml --library /srv/aicfg/library --state-dir /srv/aicfg/state",
    ]);
    expect(values(unit, "ReadWritePaths")).toEqual(["/srv/aicfg/state"]);
  });

  test("the system unit refuses folders it could not see", () => {
    const base = { scope: "system" as const, command: ["/usr/bin/node", "/opt/aicfg/bin/aicfg.js"], notifyAccess: "main" as const };
    expect(() => renderUnit({ ...base, libraries: ["/home/ana/lib"] })).toThrow(
      "library /home/ana/lib is inside a home folder, which the system service cannot see (ProtectHome=yes)",
    );
    expect(() => renderUnit({ ...base, libraries: [], stateDir: "/root/state" })).toThrow(
      "state folder /root/state is inside a home folder, which the system service cannot see (ProtectHome=yes)",
    );
    expect(() => renderUnit({ ...base, libraries: [], stateDir: "/srv/my state" })).toThrow(
      'state folder "/srv/my state" contains spaces, quotes or backslashes, which this unit setting cannot hold',
    );
    expect(() => renderUnit({ ...base, libraries: ["lib"] })).toThrow('library "lib" must be an absolute path');
    expect(() => renderUnit({ ...base, command: ["node"], libraries: [] })).toThrow(`the daemon's executable "node" must be an absolute path`);
  });
});
