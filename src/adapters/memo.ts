// The adapters' side of the export's per-output memo (RenderContext.output): a render names each
// output with what it reads, and the export answers unchanged ones from its cache.
import type { ResolvedAgent } from "../library/model.ts";
import type { Diagnostic } from "../library/diagnostics.ts";
import type { OutputFile, OutputPart, OutputReads, RenderContext } from "./types.ts";

/** One memoized part of a render: from the export's cache when its inputs are unchanged, else computed. */
export function outputOf(ctx: RenderContext, key: string, reads: OutputReads, compute: () => OutputPart): OutputPart {
  return ctx.output ? ctx.output(key, reads, compute) : compute();
}

/**
 * An agent as an output's input: its definition without the size and mtime of its knowledge files
 * (an edit of a knowledge file must not re-render the outputs that only name it; those that read its
 * text name the file in `reads.files`).
 */
export function agentInput(a: ResolvedAgent): unknown {
  return { ...a, knowledge: a.knowledge.map((k) => [k.path, k.absPath, k.mode, k.layer]) };
}

/** outputOf, its files and warnings appended to a render's own lists; gives the part back. */
export function addOutput(
  into: { files: OutputFile[]; warnings: Diagnostic[] },
  ctx: RenderContext,
  key: string,
  reads: OutputReads,
  compute: () => OutputPart,
): OutputPart {
  const part = outputOf(ctx, key, reads, compute);
  into.files.push(...part.files);
  into.warnings.push(...part.warnings);
  return part;
}
