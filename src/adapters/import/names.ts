// Agent names on import: a tool's name mapped onto a library name (a lowercase slug), since tools
// accept names the library does not (`dotnet-framework-4.8-expert`) and dropping those agents would
// lose them; and what two agents with one library name mean (a duplicate, or a collision).
import type { Diagnostic } from "../../library/diagnostics.ts";
import { Slug } from "../../library/schema.ts";
import type { ImportedAgent } from "../types.ts";

/**
 * `dotnet-framework-4.8-expert` -> `dotnet-framework-4-8-expert`, `Code Reviewer` -> `code-reviewer`.
 * Undefined when nothing usable is left (or the result is too long for a library name).
 */
export function librarySlug(name: string): string | undefined {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/[-_]{2,}/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
  return Slug.safeParse(slug).success ? slug : undefined;
}

/**
 * Two imported agents with one library name: the same native name is a duplicate (the first is
 * kept, as tools keep the first or closest); different native names mapped onto one library name
 * are an error, since either agent would silently replace the other.
 */
export function nameClash(first: ImportedAgent, again: ImportedAgent): { diagnostic: Diagnostic; reason: string } {
  const a = first.nativeName ?? first.spec.name;
  const b = again.nativeName ?? again.spec.name;
  if (a === b) {
    return {
      reason: "duplicate name",
      diagnostic: {
        severity: "warning",
        code: "duplicate-name",
        message: `${again.source} defines agent '${b}' again (also in ${first.source}); this one is skipped`,
        file: again.source,
      },
    };
  }
  return {
    reason: "name collision after mapping",
    diagnostic: {
      severity: "error",
      code: "name-collision",
      message: `agents '${a}' (${first.source}) and '${b}' (${again.source}) both become library agent '${again.spec.name}'; ${again.source} is not imported`,
      file: again.source,
      hint: "rename one of them so that the names differ in letters or digits, not only in '.', case or spaces",
    },
  };
}
