// Loaded before every test file (vitest.config.ts setupFiles):
// - a test that makes no assertion fails, so an early return or a loop over nothing can never pass;
// - git never reads the machine's configuration: every git the tests run (directly, through the sync
//   action, or in a daemon or CLI they spawn, which inherit the environment) uses a config file of
//   the suite's own, with an identity, `main` as the default branch and no signing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, expect } from "vitest";

export const TEST_GIT_IDENTITY = { name: "aicfg tests", email: "tests@aicfg.invalid" };

const gitDir = mkdtempSync(join(tmpdir(), "aicfg-gitconfig-"));
const gitConfig = join(gitDir, "gitconfig");
writeFileSync(
  gitConfig,
  `[user]\n\tname = ${TEST_GIT_IDENTITY.name}\n\temail = ${TEST_GIT_IDENTITY.email}\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgSign = false\n[tag]\n\tgpgSign = false\n[advice]\n\tdetachedHead = false\n`,
);
process.env.GIT_CONFIG_GLOBAL = gitConfig;
process.env.GIT_CONFIG_NOSYSTEM = "1";
for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"])
  delete process.env[k];
process.once("exit", () => rmSync(gitDir, { recursive: true, force: true }));

beforeEach(() => {
  expect.hasAssertions();
});
