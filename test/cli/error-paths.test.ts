// Bad inputs through the real CLI end in one precise error and a hint, never a stack trace: a
// missing library, a folder where a file is expected, an invalid --listen, a state folder that is a
// file, a corrupt state file, a folder given as an archive.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBin } from "../daemon/harness.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { tempDir } from "../helpers/fixtures.ts";

const BIN = join(import.meta.dirname, "../../bin/aicfg.js");
const dir = tempDir("aicfg-errors-");
const p = (rel: string): string => join(dir.path, rel);
beforeAll(() => {
  writeLibrary(p("lib"));
  mkdirSync(p("dirlib/aicfg.yaml"), { recursive: true });
  writeFileSync(p("a-file"), "not a folder\n");
  mkdirSync(p("corrupt/daemon"), { recursive: true });
  writeFileSync(p("corrupt/daemon/watermarks.json"), "{");
  writeFileSync(p("corrupt/daemon/settings.json"), "[1,");
});
afterAll(() => dir.cleanup());

function aicfg(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(nodeBin(), [BIN, ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1", AICFG_STATE_DIR: p("state") } });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("error paths of the real CLI", () => {
  it.each([
    ["a missing library", () => ["validate", "--library", p("nope")], "error: library folder", "hint: "],
    ["a folder where aicfg.yaml should be a file", () => ["validate", "--library", p("dirlib")], "error: cannot read: EISDIR", "1 error(s)"],
    [
      "an invalid --listen",
      () => ["daemon", "--library", p("lib"), "--state-dir", p("s1"), "--listen", "127.0.0.1:abc"],
      'error: --listen "127.0.0.1:abc": must be HOST:PORT',
      "",
    ],
    ["a port out of range", () => ["daemon", "--library", p("lib"), "--state-dir", p("s1"), "--listen", "localhost:99999"], "port must be at most 65535", ""],
    [
      "a state folder that is a file (daemon)",
      () => ["daemon", "--library", p("lib"), "--state-dir", p("a-file"), "--listen", "127.0.0.1:0"],
      `error: cannot use the state folder ${p("a-file")}: a file is in the way of a folder`,
      "hint: point --state-dir",
    ],
    ["a state folder that is a file (runs)", () => ["runs", "--state-dir", p("a-file")], "a file is in the way of a folder", "hint: point --state-dir"],
    [
      "a state folder that is a file (logs)",
      () => ["logs", "some-run", "--state-dir", p("a-file")],
      "a file is in the way of a folder",
      "hint: point --state-dir",
    ],
    ["corrupt state files", () => ["runs", "--state-dir", p("corrupt")], "", ""],
    ["a folder given as a backup archive", () => ["backup", "verify", p("lib")], "error: cannot read", ""],
    ["a folder given to restore", () => ["restore", p("lib"), "--to", p("restored")], "failed verification: cannot read", "hint: run 'aicfg backup verify'"],
  ])("%s", (_what, args, expected, hint) => {
    const r = aicfg(args());
    expect(r.out).not.toMatch(/^\s+at /m);
    expect(r.out).not.toContain("internal error");
    if (expected) expect(r.out).toContain(expected);
    if (hint) expect(r.out).toContain(hint);
    if (expected) expect(r.code).not.toBe(0);
  });
});
