// `backup`: a compressed, checksummed snapshot of the library, the exported files we own and the
// daemon state, with retention (`keep` newest, `max_age`).
import { resolve } from "node:path";
import { z } from "zod";
import { createBackup, pruneBackups } from "../backup-archive.ts";
import { Duration, parseDuration } from "../duration.ts";
import { defineAction } from "./types.ts";
import { requireAllowedFolder } from "./write-roots.ts";

const BackupWith = z.strictObject({
  dir: z
    .string()
    .min(1)
    .optional()
    .describe(
      "where archives go (default <state-dir>/backups/<library>); relative to the library; literal, and inside the daemon's actions.backup.dirs when set",
    ),
  keep: z.number().int().min(1).max(10_000).optional().describe("newest archives to keep (default 7)"),
  max_age: Duration.optional().describe("delete archives older than this (the newest always stays)"),
});

export const backupAction = defineAction({
  name: "backup",
  description: "snapshot the library, owned exported files and daemon state into a checksummed zip",
  with: BackupWith,
  // A backup holds the library and the exported files: trigger data must not pick where it lands.
  literalFields: ["dir"],
  literalReason: "trigger data must not pick where files are written",
  literalHint: "write the folder literally; an administrator can restrict backups further with actions.backup.dirs in the daemon config",
  run: async (input, ctx) => {
    const backupsRoot = resolve(ctx.stateDir, "backups");
    const dir = input.dir ? resolve(ctx.libraryRoot, input.dir) : resolve(backupsRoot, ctx.libraryName);
    if (input.dir && ctx.settings.backupDirs) requireAllowedFolder(dir, [backupsRoot, ...ctx.settings.backupDirs], "the backup dir", "actions.backup.dirs");
    const made = createBackup({
      libraryRoot: ctx.libraryRoot,
      libraryName: ctx.libraryName,
      stateDir: ctx.stateDir,
      dir,
      now: ctx.now(),
      excludeState: [backupsRoot],
    });
    const removed = pruneBackups(dir, ctx.libraryName, ctx.now(), input.keep ?? 7, input.max_age ? parseDuration(input.max_age) : undefined);
    ctx.log(
      "info",
      `backup ${made.file} (${made.entries} files, ${made.bytes} bytes, sha256 ${made.sha256}); removed ${removed.length} old archive(s)${made.credentialsLeftOut ? `; ${made.credentialsLeftOut} credential file(s) of the state left out` : ""}`,
    );
    return {
      outputs: { file: made.file, sha256: made.sha256, bytes: made.bytes, entries: made.entries, credentials_left_out: made.credentialsLeftOut, removed },
      warnings: made.warnings,
    };
  },
});
