// How CLI commands that read a library load it: git layers (aicfg.yaml `layers:`) resolved to their pinned
// checkouts first, then the one loader. Notes (a layer checked out from the local mirror) go to stderr.
import type { Library } from "../../library/model.ts";
import type { CliIO, ParsedArgs } from "./command.ts";
import { libraryDir, stateDir } from "./options.ts";

export async function loadCliLibrary(args: ParsedArgs, io: CliIO, root: string = libraryDir(args, io)): Promise<Library> {
  const { loadLibraryWithLayers } = await import("../../workflows/layers.ts");
  const { lib, notes } = await loadLibraryWithLayers({ libraryRoot: root, stateDir: stateDir(args, io), env: io.env });
  for (const n of notes) io.err(n);
  return lib;
}
