// Renders the library's skills, commands and ignore patterns for one target, by the table in
// table.ts: skills copied byte-for-byte, commands rewritten per tool, ignore patterns as a marked
// block of the tool's ignore file. Pure apart from reading library files through the context.
import { join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { CommandEntry, Library, SkillEntry } from "../../library/model.ts";
import { resolveInside } from "../../library/paths.ts";
import type { ExportScope } from "../../library/schema.ts";
import { renderFrontmatter } from "../common.ts";
import type { OutputFile, RenderContext, RenderResult, Roots } from "../types.ts";
import { tomlBasicString, tomlMultilineString, translatePlaceholders } from "./format.ts";
import { extrasTarget, type CommandField, type CommandFormat, type ExtrasLayout, type ExtrasTarget } from "./table.ts";

export type ExtrasFeature = "skills" | "commands" | "ignore";

/** Agent Skills spec (agentskills.io/specification): 1-64 of a-z, 0-9 and single inner hyphens. */
const SKILL_NAME_MAX = 64;
const SKILL_DESCRIPTION_MAX = 1024;
const SKILL_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function warning(code: "unsupported-feature" | "limit-exceeded" | "no-native-place", message: string, file: string | undefined, hint?: string): Diagnostic {
  const d: Diagnostic = { severity: "warning", code, message };
  if (file !== undefined) d.file = file;
  if (hint !== undefined) d.hint = hint;
  return d;
}

function layoutFor(t: ExtrasTarget | undefined, scope: ExportScope): ExtrasLayout | undefined {
  return t ? (scope === "project" ? t.project : t.user) : undefined;
}

function scopeRoot(roots: Roots): string {
  return roots.scope === "project" ? roots.projectRoot : roots.homeDir;
}

/**
 * The library's skills, commands and ignore patterns as native files of `targetId` for the scope of
 * `ctx`. What the target (or this scope of it) has no place for is reported, never dropped silently.
 */
export function renderExtras(targetId: string, lib: Library, ctx: RenderContext): RenderResult {
  const files: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  const target = extrasTarget(targetId);
  const layout = layoutFor(target, ctx.scope);
  const root = scopeRoot(ctx);
  const name = target?.displayName ?? targetId;

  const skills = [...lib.skills.values()].sort((a, b) => a.name.localeCompare(b.name));
  const commands = [...lib.commands.values()].filter((c) => !c.spec.targets || c.spec.targets.includes(targetId)).sort((a, b) => a.name.localeCompare(b.name));
  const ignore = lib.manifest.ignore ?? [];

  const missing = (what: string, names: string[], file: string | undefined, hint: string): void => {
    const list = names.length ? ` (${names.map((n) => `'${n}'`).join(", ")})` : "";
    // Library-wide files a tool has no place for are not a feature of an agent: reported, but
    // not escalated by --strict (or no library with skills could strict-export to most tools).
    warnings.push(
      warning(
        "no-native-place",
        `${targetId}: the library's ${what}${list} have no place in ${name} (${ctx.scope} scope); left out of this target`,
        file,
        hint,
      ),
    );
  };
  const otherScope = (feature: ExtrasFeature): string => {
    const other: ExportScope = ctx.scope === "project" ? "user" : "project";
    return layoutFor(target, other)?.[feature] !== undefined
      ? `${name} reads them in ${other} scope: export with --scope ${other}`
      : `${name} has no file for them`;
  };

  // Skills: SKILL.md and every companion file, byte-for-byte.
  if (skills.length) {
    if (!layout?.skills)
      missing(
        "skills",
        skills.map((s) => s.name),
        skills[0]!.file,
        otherScope("skills"),
      );
    else for (const s of skills) renderSkill(targetId, s, join(root, layout.skills), ctx, files, warnings);
  }

  // Commands.
  if (commands.length) {
    if (!layout?.commands)
      missing(
        "commands",
        commands.map((c) => c.name),
        commands[0]!.file,
        otherScope("commands"),
      );
    else renderCommands(targetId, name, commands, layout.commands, root, files, warnings);
  }

  // Ignore patterns: one marked block in the tool's ignore file; the user's own lines stay as they are.
  if (ignore.length) {
    if (target?.ignoreInstead) {
      warnings.push(
        warning(
          "unsupported-feature",
          `${targetId}: the library's ignore patterns cannot be exported to ${name}: ${target.ignoreInstead}`,
          lib.manifestFile,
          `add deny rules to ${ctx.scope === "project" ? ".claude/settings.local.json" : "the .claude/settings.local.json of each project"} yourself (Claude Code merges the permission lists of all settings files): ${JSON.stringify({ permissions: { deny: ignore.filter((p) => !p.startsWith("!")).map((p) => `Read(${p})`) } })}`,
        ),
      );
    } else if (!layout?.ignore) {
      missing("ignore patterns", [], lib.manifestFile, otherScope("ignore"));
    } else {
      const bad = ignore.filter((p) => /[\r\n]/.test(p));
      if (bad.length)
        warnings.push(
          warning(
            "unsupported-feature",
            `${targetId}: ignore patterns with a line break cannot be written to an ignore file: ${bad.map((p) => JSON.stringify(p)).join(", ")}; left out`,
            lib.manifestFile,
            "write one pattern per list entry",
          ),
        );
      const lines = ignore.filter((p) => !/[\r\n]/.test(p));
      if (lines.length) files.push({ kind: "md-section", path: join(root, layout.ignore), content: lines.join("\n") + "\n", comment: "hash" });
    }
  }

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, warnings };
}

function renderSkill(targetId: string, s: SkillEntry, dir: string, ctx: RenderContext, files: OutputFile[], warnings: Diagnostic[]): void {
  const problems: string[] = [];
  if (s.name.length > SKILL_NAME_MAX) problems.push(`its name is ${s.name.length} characters long (at most ${SKILL_NAME_MAX})`);
  else if (!SKILL_NAME.test(s.name)) problems.push(`its name '${s.name}' is not lowercase letters, digits and single hyphens`);
  const description = typeof s.spec.description === "string" ? s.spec.description : "";
  if (description.length === 0 || description.length > SKILL_DESCRIPTION_MAX)
    problems.push(`its description is ${description.length} characters long (1 to ${SKILL_DESCRIPTION_MAX})`);
  if (s.spec.name !== s.name) problems.push(`its frontmatter name '${String(s.spec.name)}' differs from its folder name '${s.name}'`);
  if (problems.length) {
    warnings.push(
      warning(
        "limit-exceeded",
        `${targetId}: skill '${s.name}' breaks the Agent Skills rules: ${problems.join("; ")}; not exported`,
        s.file,
        "see https://agentskills.io/specification; rename the folder and the name: field together",
      ),
    );
    return;
  }
  const skillDir = join(dir, s.name);
  files.push({ kind: "file", path: join(skillDir, "SKILL.md"), content: ctx.readBytes(s.file) });
  for (const rel of [...s.files].sort()) {
    let src: string;
    let dest: string;
    try {
      src = resolveInside(s.dir, rel, "skill file");
      dest = resolveInside(skillDir, rel, "skill file");
    } catch (e) {
      warnings.push(
        warning(
          "unsupported-feature",
          `${targetId}: skill '${s.name}': ${(e as Error).message}; this file is left out`,
          s.file,
          "keep companion files inside the skill folder",
        ),
      );
      continue;
    }
    files.push({ kind: "file", path: dest, content: ctx.readBytes(src) });
  }
}

const FIELD_VALUE: Record<CommandField, (c: CommandEntry) => string | undefined> = {
  description: (c) => c.spec.description,
  "argument-hint": (c) => c.spec["argument-hint"],
  model: (c) => c.spec.model,
};

function renderCommands(
  targetId: string,
  name: string,
  commands: CommandEntry[],
  format: CommandFormat,
  root: string,
  files: OutputFile[],
  warnings: Diagnostic[],
): void {
  // Optional fields the tool cannot hold: one warning per field, naming the commands that set it.
  // (`description` is required by the library and only a listing aid: tools without it show the name.)
  for (const field of ["argument-hint", "model"] as const) {
    if (format.fields[field]) continue;
    const users = commands.filter((c) => FIELD_VALUE[field](c) !== undefined);
    if (users.length) {
      warnings.push(
        warning(
          "unsupported-feature",
          `${targetId}: ${name} command files have no '${field}'; it is left out of ${users.map((c) => `'${c.name}'`).join(", ")}`,
          users[0]!.file,
        ),
      );
    }
  }
  const dir = join(root, format.dir);
  for (const c of commands) {
    const { text, unsupported } = translatePlaceholders(c.body, format.placeholders);
    if (unsupported.length) {
      warnings.push(
        warning(
          "unsupported-feature",
          `${targetId}: command '${c.name}' uses ${unsupported.join(", ")}, which ${name} cannot express; kept as written`,
          c.file,
          format.placeholders.all !== undefined
            ? `${name} only has ${format.placeholders.all} (all arguments); use $ARGUMENTS or add targets: to the command to skip ${targetId}`
            : `${name} passes no arguments to this kind of file; the user types them in the chat message instead`,
        ),
      );
    }
    const fields: Record<string, string> = {};
    for (const [field, key] of Object.entries(format.fields) as [CommandField, string][]) {
      const v = FIELD_VALUE[field](c);
      if (v !== undefined) fields[key] = v;
    }
    const content = format.syntax === "toml" ? renderToml(fields, text) : Object.keys(fields).length ? renderFrontmatter(fields, text) : text;
    if (format.maxChars !== undefined && content.length > format.maxChars) {
      warnings.push(
        warning(
          "limit-exceeded",
          `${targetId}: command '${c.name}' is ${content.length} characters long; ${name} loads at most ${format.maxChars} per file; not exported`,
          c.file,
          "shorten the command or split it in two",
        ),
      );
      continue;
    }
    files.push({ kind: "file", path: join(dir, c.name + format.suffix), content });
  }
}

/** Gemini-style command TOML: the mapped fields, then the prompt as a multi-line string. */
function renderToml(fields: Record<string, string>, prompt: string): string {
  const lines = Object.entries(fields).map(([k, v]) => `${k} = ${tomlBasicString(v)}`);
  lines.push(`prompt = ${tomlMultilineString(prompt)}`);
  return lines.join("\n") + "\n";
}

/** What a target can hold for each feature: `yes` in both scopes, `partial` in one or with losses. */
export function extrasCapabilities(targetId: string): Partial<Record<ExtrasFeature, "yes" | "partial">> {
  const t = extrasTarget(targetId);
  const out: Partial<Record<ExtrasFeature, "yes" | "partial">> = {};
  if (!t) return out;
  const both = (f: ExtrasFeature): boolean => t.project?.[f] !== undefined && t.user?.[f] !== undefined;
  const any = (f: ExtrasFeature): boolean => t.project?.[f] !== undefined || t.user?.[f] !== undefined;
  if (any("skills")) out.skills = both("skills") ? "yes" : "partial";
  if (any("commands")) {
    const formats = [t.project?.commands, t.user?.commands].filter((f): f is CommandFormat => f !== undefined);
    const full = formats.every(
      (f) => f.placeholders.all !== undefined && f.placeholders.positional !== undefined && f.fields["argument-hint"] && f.fields.model,
    );
    out.commands = both("commands") && full ? "yes" : "partial";
  }
  // Ignore files are per project by nature; a project-scope file is full support.
  if (t.project?.ignore !== undefined) out.ignore = "yes";
  else if (t.user?.ignore !== undefined) out.ignore = "partial";
  return out;
}

/** Absolute folders and files renderExtras may write for `targetId` in the scope of `roots`. */
export function extrasLocations(targetId: string, roots: Roots): string[] {
  const layout = layoutFor(extrasTarget(targetId), roots.scope);
  if (!layout) return [];
  const root = scopeRoot(roots);
  const out: string[] = [];
  if (layout.skills) out.push(join(root, layout.skills));
  if (layout.commands) out.push(join(root, layout.commands.dir));
  if (layout.ignore) out.push(join(root, layout.ignore));
  return out.sort();
}
