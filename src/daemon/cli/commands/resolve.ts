// `aicfg resolve FILE --ours|--theirs|--edited`: closes an open merge conflict. --ours keeps the
// local file, --theirs takes the upstream version (stored in the state folder, so this works
// offline), --edited takes `<file>.conflict.md` once its markers are gone.
import { resolve } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";
import { CONFLICT_SUFFIX } from "../../../library/merge.ts";
import { openConflictStore } from "../../../workflows/conflicts.ts";
import { resolveConflict } from "../../../workflows/layer-merge.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION, stateDir } from "../options.ts";

export const resolveCommand: Command = {
  name: "resolve",
  summary: "close a merge conflict: keep the local file, take upstream's, or take your edited .conflict.md",
  usage: "aicfg resolve FILE (--ours | --theirs | --edited) [--state-dir DIR] [--json]",
  description: "FILE is the live file or its .conflict.md. The conflict file is removed and the record closed; `aicfg status` lists what is open.",
  options: {
    ours: { type: "boolean", description: "keep the local version (upstream's change to this file is skipped)" },
    theirs: { type: "boolean", description: "take the upstream version (local edits to this file are replaced)" },
    edited: { type: "boolean", description: "take FILE.conflict.md as edited by you (no markers may remain)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg resolve agents/reviewer.md --theirs", "aicfg resolve agents/reviewer.md.conflict.md --edited"],
  run: async (args, io) => {
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1) throw new ConfigError("usage", "name one file: aicfg resolve FILE --ours|--theirs|--edited");
    const takes = (["ours", "theirs", "edited"] as const).filter((k) => args.values[k]);
    if (takes.length !== 1)
      throw new ConfigError("usage", "give exactly one of --ours, --theirs, --edited", {
        hint: "--ours keeps your file, --theirs takes upstream's, --edited takes the .conflict.md you edited",
      });
    const take = takes[0]!;
    let abs = resolve(io.cwd, file);
    if (abs.endsWith(CONFLICT_SUFFIX)) abs = abs.slice(0, -CONFLICT_SUFFIX.length);
    const dir = stateDir(args, io);
    const open = openConflictStore(dir).list();
    const rec = open.find((r) => resolve(r.libraryRoot, r.path) === abs);
    if (!rec) {
      throw new ConfigError("no-conflict", `${file} has no open merge conflict`, {
        hint: open.length ? `open: ${open.map((r) => resolve(r.libraryRoot, r.path)).join(", ")}` : "aicfg status lists open conflicts",
      });
    }
    const r = resolveConflict({ stateDir: dir, libraryRoot: rec.libraryRoot, path: rec.path, take, now: Date.now() });
    if (args.values.json) io.out(JSON.stringify({ resolved: r.record, written: r.written }, null, 2));
    else
      io.out(
        paint(io, "green", `resolved ${rec.path} (${rec.library}) with --${take}${r.written ? "; the live file was updated" : "; the live file is unchanged"}`),
      );
    return EXIT.ok;
  },
};
