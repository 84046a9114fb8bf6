// `aicfg status`: the open merge conflicts of upstream updates (the local version of each file
// stays active; `<file>.conflict.md` holds the markers), read from the state folder.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { openConflictStore } from "../../../workflows/conflicts.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, stateDir } from "../options.ts";

export const statusCommand: Command = {
  name: "status",
  summary: "list open merge conflicts left by upstream updates, and how to resolve them",
  usage: "aicfg status [--library DIR] [--check] [--state-dir DIR] [--json]",
  description:
    "Without --library (and outside a library folder) every library's conflicts are listed. With --check the exit code is 3 when a conflict is open.",
  options: {
    ...LIBRARY_OPTION,
    check: { type: "boolean", description: "exit with 3 when a conflict is open (for CI)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: ["aicfg status", "aicfg status --library ~/team-library --json", "aicfg status --check"],
  run: async (args, io) => {
    const given = (args.values.library as string | undefined) ?? io.env.AICFG_LIBRARY;
    const root = given ? resolve(io.cwd, given) : existsSync(resolve(io.cwd, "aicfg.yaml")) ? io.cwd : undefined;
    const conflicts = openConflictStore(stateDir(args, io)).list(root ? { libraryRoot: root } : {});
    const code = args.values.check && conflicts.length ? EXIT.drift : EXIT.ok;
    if (args.values.json) {
      io.out(JSON.stringify({ conflicts }, null, 2));
      return code;
    }
    if (conflicts.length === 0) {
      io.out(paint(io, "green", "no open merge conflicts"));
      return code;
    }
    io.out(paint(io, "yellow", `${conflicts.length} open merge conflict(s); the local version of each file stays active:`));
    for (const c of conflicts) {
      const what = [c.fields.length ? `fields ${c.fields.join(", ")}` : "", c.bodyConflicts ? `${c.bodyConflicts} body hunk(s)` : ""]
        .filter(Boolean)
        .join(", ");
      io.out(
        `  ${c.library}  ${c.path}  ${what}${c.upstream?.commit ? `  upstream ${c.upstream.layer ? c.upstream.layer + "@" : ""}${c.upstream.commit.slice(0, 12)}` : ""}  since ${c.createdAt}`,
      );
      io.out(`    markers in ${c.conflictFile}${c.note ? `; ${c.note}` : ""}`);
    }
    io.out("resolve one with: aicfg resolve FILE --ours | --theirs | --edited");
    return code;
  },
};
