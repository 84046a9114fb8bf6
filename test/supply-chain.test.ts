// Supply-chain gates (G31): every dependency pinned to one exact version, and the offline audit
// (lockfile against the committed advisory snapshot) finds what it should and says which mode ran.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLockfile, inRange, unpinned, type Snapshot } from "../scripts/audit.ts";
import { nodeBin } from "./daemon/harness.ts";

const root = join(import.meta.dirname, "..");

describe("pinned dependencies", () => {
  it("package.json names one exact version for every dependency", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(unpinned(pkg)).toEqual([]);
    expect(
      unpinned({ dependencies: { a: "^1.2.3", b: "1.2.3", c: "~1.0.0", d: "latest", e: "github:x/y", f: "1.0.0-rc.1" }, devDependencies: { g: "*" } }),
    ).toEqual(['dependencies.a: "^1.2.3"', 'dependencies.c: "~1.0.0"', 'dependencies.d: "latest"', 'dependencies.e: "github:x/y"', 'devDependencies.g: "*"']);
  });

  it("the lockfile agrees with package.json for every direct dependency", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect([name, lock.packages[`node_modules/${name}`]?.version]).toEqual([name, version]);
    }
  });
});

describe("offline audit against the advisory snapshot", () => {
  it("matches npm audit's range grammar", () => {
    expect(inRange("2.2.1", ">=2.0.0-5 <2.2.2")).toBe(true);
    expect(inRange("2.0.0-4", ">=2.0.0-5 <2.2.2")).toBe(false);
    expect(inRange("2.0.0-5", ">=2.0.0-5 <2.2.2")).toBe(true);
    expect(inRange("2.0.0", ">=2.0.0-5 <2.2.2")).toBe(true);
    expect(inRange("2.9.1", ">=2.0.0-5 <2.2.2")).toBe(false);
    expect(inRange("7.0.4", "<6.0.6 || >=7.0.0 <7.0.5")).toBe(true);
    expect(inRange("6.0.6", "<6.0.6 || >=7.0.0 <7.0.5")).toBe(false);
    expect(inRange("0.24.2", "<=0.24.2")).toBe(true);
    expect(inRange("1.0.0", "*")).toBe(true);
    expect(inRange("1.0.0", "1.0.0")).toBe(true);
    expect(() => inRange("1.0.0", "^1.0.0")).toThrow('not a version: "^1.0.0"');
  });

  it("finds vulnerable installed versions, nested ones included, and can leave dev dependencies out", () => {
    const snapshot: Snapshot = {
      generated_at: "2026-01-01",
      source: "test",
      advisories: [
        { package: "yaml", vulnerable: ">=2.0.0-5 <2.2.2", id: "GHSA-f9xv-q969-pqx4", severity: "high", title: "t1" },
        { package: "@scope/lib", vulnerable: "<1.0.1", id: "GHSA-test-0000-0002", severity: "critical", title: "t2" },
      ],
    };
    const lock = {
      packages: {
        "": { version: "0.1.0" },
        "node_modules/yaml": { version: "2.9.1" },
        "node_modules/a/node_modules/yaml": { version: "2.1.0" },
        "node_modules/@scope/lib": { version: "1.0.0", dev: true },
        "packages/linked": { version: "1.0.0", link: true },
      },
    };
    expect(checkLockfile(lock, snapshot).map((f) => [f.id, f.version, f.path])).toEqual([
      ["GHSA-test-0000-0002", "1.0.0", "node_modules/@scope/lib"],
      ["GHSA-f9xv-q969-pqx4", "2.1.0", "node_modules/a/node_modules/yaml"],
    ]);
    expect(checkLockfile(lock, snapshot, { omitDev: true }).map((f) => f.path)).toEqual(["node_modules/a/node_modules/yaml"]);
  });

  it("the committed snapshot is well formed and its ranges parse", () => {
    const s = JSON.parse(readFileSync(join(root, "security", "advisories.json"), "utf8")) as Snapshot;
    expect(s.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(s.advisories.length).toBeGreaterThan(0);
    for (const a of s.advisories) {
      expect(a.id).toMatch(/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/);
      expect(["low", "moderate", "high", "critical"]).toContain(a.severity);
      expect(() => inRange("0.0.1", a.vulnerable)).not.toThrow();
    }
  });

  it("--offline says which mode ran, from which snapshot date, and passes the current lockfile", () => {
    const r = spawnSync(nodeBin(), [join(root, "scripts", "audit.ts"), "--offline"], { cwd: root, encoding: "utf8" });
    const date = JSON.parse(readFileSync(join(root, "security", "advisories.json"), "utf8")).generated_at;
    expect(r.stdout).toContain(`mode: OFFLINE snapshot from ${date}`);
    expect(r.stdout).toContain("all dependencies: the registry's audit endpoint was unreachable (--offline given)");
    expect(r.stdout).toContain("production dependencies: 0 finding(s), 0 high or critical");
    expect([r.status, r.stdout.trim().split("\n").pop()]).toEqual([0, "ok: no high or critical advisory affects an installed package"]);
  });
});
