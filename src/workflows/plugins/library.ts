// The library as a plugin's action reads it: the resolved agents (layers merged, defaults applied)
// and the text of their knowledge files, from the daemon's live copy when there is one, else loaded
// from the library folder (one-shot runs, the test kit, an isolated plugin's child).
import { loadLibrary } from "../../library/load.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import { readKnowledgeBody, resolveAll } from "../../library/resolve.ts";
import type { ActionContext } from "../actions/types.ts";

export type LibraryView = {
  name: string;
  agents: ResolvedAgent[];
  /** A knowledge file's text without its frontmatter. */
  knowledgeText: (absPath: string) => string;
};

export function readLibrary(ctx: Pick<ActionContext, "library" | "libraryRoot">): LibraryView {
  const lib = ctx.library ? ctx.library.current().library : loadLibrary(ctx.libraryRoot);
  const { agents } = resolveAll(lib);
  return { name: lib.manifest.name, agents, knowledgeText: readKnowledgeBody };
}
