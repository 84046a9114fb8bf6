// `aicfg backup verify` and `aicfg restore`: check a backup archive's checksums, and restore one
// into a new folder (never over the live library or the home folder).
import { resolve } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";
import { restoreBackup, verifyBackup } from "../../../workflows/backup-archive.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";

export const backupVerifyCommand: Command = {
  name: "backup verify",
  summary: "check a backup archive: its own checksum and every file's",
  usage: "aicfg backup verify <archive.zip> [--json]",
  options: { json: COMMON_OPTIONS.json },
  examples: ["aicfg backup verify ~/.local/state/aicfg/backups/team/aicfg-backup-team-20261124T020000Z.zip"],
  run: async (args, io) => {
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1) throw new ConfigError("usage", "name one archive: aicfg backup verify <archive.zip>");
    const r = verifyBackup(resolve(io.cwd, file));
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            ok: r.ok,
            problems: r.problems,
            entries: r.manifest?.entries.length ?? 0,
            created_at: r.manifest?.created_at ?? null,
            library: r.manifest?.library ?? null,
          },
          null,
          2,
        ),
      );
    } else if (r.ok) {
      io.out(paint(io, "green", `ok: ${r.manifest!.entries.length} file(s) from ${r.manifest!.library.name}, made ${r.manifest!.created_at}`));
    } else {
      for (const p of r.problems) io.err(paint(io, "red", `error: ${p}`));
    }
    return r.ok ? EXIT.ok : EXIT.failure;
  },
};

export const restoreCommand: Command = {
  name: "restore",
  summary: "restore a backup archive into a new folder (library/, exports/, state/)",
  usage: "aicfg restore <archive.zip> [--to DIR] [--json]",
  description: "The archive is verified first. The target folder must not exist or be empty; copy what you need from it afterwards.",
  options: { to: { type: "string", valueName: "dir", description: "where to restore (default ./aicfg-restore-<archive name>)" }, json: COMMON_OPTIONS.json },
  examples: ["aicfg restore aicfg-backup-team-20261124T020000Z.zip", "aicfg restore backup.zip --to /tmp/restored"],
  run: async (args, io) => {
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1) throw new ConfigError("usage", "name one archive: aicfg restore <archive.zip>");
    const base = file
      .split("/")
      .pop()!
      .replace(/\.zip$/, "");
    const dest = resolve(io.cwd, args.values.to ? String(args.values.to) : `aicfg-restore-${base}`);
    const r = restoreBackup(resolve(io.cwd, file), dest);
    if (args.values.json) io.out(JSON.stringify({ ok: true, dest: r.dest, files: r.files }, null, 2));
    else io.out(paint(io, "green", `restored ${r.files} file(s) into ${r.dest}`));
    return EXIT.ok;
  },
};
