// `aicfg list`: the agents of a library with their targets and layer.
import { loadLibrary } from "../../../library/load.ts";
import { resolveAll } from "../../../library/resolve.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { LIBRARY_OPTION, libraryDir } from "../options.ts";

export const listCommand: Command = {
  name: "list",
  summary: "list the agents of a library",
  usage: "aicfg list [--library DIR] [--json]",
  options: { ...LIBRARY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg list", "aicfg list --json | jq '.[].name'"],
  positionals: false,
  run: async (args, io) => {
    const lib = loadLibrary(libraryDir(args, io));
    const { agents } = resolveAll(lib);
    if (args.values.json) {
      io.out(
        JSON.stringify(
          agents.map((a) => ({
            name: a.name,
            description: a.description,
            targets: a.targets,
            layer: a.provenance.name,
            file: a.sourceFile,
            knowledge: a.knowledge.length,
            mcp: Object.keys(a.mcpServers),
          })),
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    const w = Math.max(5, ...agents.map((a) => a.name.length)) + 2;
    for (const a of agents) io.out(`${paint(io, "bold", a.name.padEnd(w))}${a.description}${paint(io, "gray", `  [${a.targets.join(", ") || "no targets"}]`)}`);
    io.out(paint(io, "gray", `${agents.length} agent(s) in library '${lib.manifest.name}'`));
    return EXIT.ok;
  },
};
