// Git trigger: polling new commits on watched branches of the library's repository (real git),
// and pushes fed by the webhook route through notifyGitPush, deduplicated by commit id.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/daemon/clock.ts";
import { startDaemon, type DaemonHandle } from "../../src/daemon/daemon.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { testConfig, until } from "./harness.ts";
import { writeLibrary } from "./lib-fixture.ts";

let d: DaemonHandle | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await d?.stop({ deadlineMs: 0 });
  dir?.cleanup();
  d = undefined;
});

export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args],
    { cwd, encoding: "utf8" },
  ).trim();
}

describe("git trigger", () => {
  it("fires on a new commit (poll) and on a pushed commit id once (webhook)", async () => {
    dir = tempDir();
    const lib = join(dir.path, "lib");
    writeLibrary(lib, {
      ongit: "name: ongit\non:\n  git: { branches: [main], poll: 10s }\nconcurrency: { overlap: buffer_all }\nsteps:\n  - uses: validate\n",
    });
    git(lib, "init", "-q");
    git(lib, "add", "-A");
    git(lib, "commit", "-q", "-m", "first");
    const first = git(lib, "rev-parse", "HEAD");
    const clock = createManualClock(Date.parse("2026-06-01T10:00:00Z"));
    d = await startDaemon({ config: testConfig(lib, join(dir.path, "state")), clock, hotReload: false });
    await clock.advance(10_000);
    expect(await d.store.listRuns()).toEqual([]);

    writeFileSync(join(lib, "knowledge", "new.md"), "new\n");
    git(lib, "add", "-A");
    git(lib, "commit", "-q", "-m", "second");
    const second = git(lib, "rev-parse", "HEAD");
    await clock.advance(10_000);
    await until(async () => (await d!.store.listRuns()).length === 1, "a run for the new commit");
    await d.idle();
    expect((await d.store.listRuns())[0]!.trigger).toEqual({ kind: "git", branch: "main", before: first, after: second, source: "poll" });

    const pushed = "a".repeat(40);
    const r1 = await d.notifyGitPush({ library: "lib", branch: "refs/heads/main", after: pushed });
    expect(r1.fired).toEqual(["ongit"]);
    expect(r1.runIds.length).toBe(1);
    expect(r1.duplicate).toBe(false);
    await d.idle();
    expect((await d.store.getRun(r1.runIds[0]!))!.trigger).toEqual({ kind: "git", branch: "main", before: second, after: pushed, source: "push" });
    expect(await d.notifyGitPush({ library: "lib", branch: "main", after: pushed })).toEqual({ fired: [], runIds: [], duplicate: true });
    expect(await d.notifyGitPush({ library: "lib", branch: "other", after: "b".repeat(40) })).toEqual({ fired: [], runIds: [], duplicate: false });
    await expect(d.notifyGitPush({ library: "lib", branch: "--upload-pack=touch PWN", after: pushed })).rejects.toThrow(
      'branch "--upload-pack=touch PWN" is not a safe git name',
    );
    // Polls and pushes feed one state: the next local commit follows the pushed one.
    writeFileSync(join(lib, "knowledge", "third.md"), "third\n");
    git(lib, "add", "-A");
    git(lib, "commit", "-q", "-m", "third");
    const third = git(lib, "rev-parse", "HEAD");
    await clock.advance(10_000);
    await until(async () => (await d!.store.listRuns()).length === 3, "a run for the third commit");
    await d.idle();
    const latest = (await d.store.listRuns()).find((r) => r.trigger.after === third)!;
    expect(latest.trigger).toEqual({ kind: "git", branch: "main", before: pushed, after: third, source: "poll" });
  });
});
