// Loads a library folder (and the libraries it extends) from disk into the universal model,
// collecting every problem as a positioned diagnostic instead of stopping at the first one.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type Diagnostic } from "./diagnostics.ts";
import type { AgentSource, CommandEntry, KnowledgeEntry, LayerInfo, Library, McpEntry, SkillEntry, TemplateEntry } from "./model.ts";
import { isInside, toPosix } from "./paths.ts";
import {
  AgentSpec,
  CommandSpec,
  LibraryManifest,
  McpName,
  McpServerSource,
  SkillSpec,
  splitSecretRefs,
  Slug,
  WINDOWS_DEVICE_MESSAGE,
  WINDOWS_DEVICE_NAME,
} from "./schema.ts";
import { parseYaml, splitFrontmatter, zodIssuesToDiagnostics, type ParsedYaml } from "./yaml-source.ts";

export const MANIFEST_FILE = "aicfg.yaml";
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
const MAX_AGENT_BYTES = 1024 * 1024;

export type LoadOptions = {
  /** Skip reading knowledge files' frontmatter (the default; content is read lazily by adapters). */
  readonly?: boolean;
};

/** Loads a library. Throws ConfigError only when the folder is not a library at all. */
export function loadLibrary(dir: string, _opts: LoadOptions = {}): Library {
  const root = resolve(dir);
  const manifestFile = join(root, MANIFEST_FILE);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ConfigError("library-not-found", `library folder ${root} does not exist`, {
      hint: "pass --library DIR pointing at a folder with an aicfg.yaml, or create one with 'aicfg init'",
    });
  }
  if (!existsSync(manifestFile)) {
    throw new ConfigError("manifest-missing", `${root} has no ${MANIFEST_FILE}`, {
      file: manifestFile,
      hint: "create it with 'aicfg init', or point --library at the library folder",
    });
  }
  const diagnostics: Diagnostic[] = [];
  const layerRoots: { root: string; manifest: LibraryManifest | undefined; file: string }[] = [];
  collectLayers(root, [], layerRoots, diagnostics);

  const lib: Library = {
    root,
    manifestFile,
    manifest: { name: basename(root) },
    layers: [],
    agents: new Map(),
    knowledge: new Map(),
    mcp: new Map(),
    templates: new Map(),
    skills: new Map(),
    commands: new Map(),
    workflowDirs: [],
    diagnostics,
  };
  const merged: Record<string, unknown> = {};
  layerRoots.forEach((layer, index) => {
    const name = layer.manifest?.name ?? basename(layer.root);
    const info: LayerInfo = { name, root: layer.root, index };
    lib.layers.push(info);
    if (layer.manifest) mergeManifest(merged, layer.manifest);
    loadLayer(lib, info, layer.manifest);
  });
  const top = layerRoots[layerRoots.length - 1]?.manifest;
  lib.manifest = { ...(merged as LibraryManifest), name: top?.name ?? basename(root) };
  if (top?.extends) lib.manifest.extends = top.extends;
  else delete lib.manifest.extends;
  return lib;
}

function mergeManifest(into: Record<string, unknown>, m: LibraryManifest): void {
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || k === "$schema") continue;
    if (k === "ignore") into.ignore = [...new Set([...((into.ignore as string[]) ?? []), ...(v as string[])])];
    else if (k === "defaults" || k === "export" || k === "limits") into[k] = { ...((into[k] as object) ?? {}), ...(v as object) };
    else into[k] = v;
  }
}

function collectLayers(
  root: string,
  stack: string[],
  out: { root: string; manifest: LibraryManifest | undefined; file: string }[],
  diagnostics: Diagnostic[],
): void {
  const file = join(root, MANIFEST_FILE);
  if (stack.includes(root)) {
    diagnostics.push({
      severity: "error",
      code: "extends-cycle",
      message: `'extends' forms a cycle: ${[...stack, root].join(" -> ")}`,
      file,
      hint: "a library may not extend itself, directly or through others",
    });
    return;
  }
  if (out.some((l) => l.root === root)) return;
  const manifest = readManifest(file, diagnostics);
  for (const [i, ext] of (manifest?.extends ?? []).entries()) {
    const extRoot = resolve(root, ext);
    if (!existsSync(join(extRoot, MANIFEST_FILE))) {
      const parsed = safeParseYamlFile(file);
      diagnostics.push({
        severity: "error",
        code: "extends-missing",
        message: `extended library ${ext} (${extRoot}) has no ${MANIFEST_FILE}`,
        file,
        ...(parsed ? parsed.locate(["extends", i]) : {}),
        hint: "paths in 'extends' are relative to this library's folder",
      });
      continue;
    }
    collectLayers(extRoot, [...stack, root], out, diagnostics);
  }
  out.push({ root, manifest, file });
}

function safeParseYamlFile(file: string): ParsedYaml | undefined {
  try {
    return parseYaml(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
}

function readManifest(file: string, diagnostics: Diagnostic[]): LibraryManifest | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    diagnostics.push({ severity: "error", code: "read-failed", message: `cannot read: ${(e as Error).message}`, file });
    return undefined;
  }
  return validateYaml(text, file, LibraryManifest, diagnostics, 0, Object.keys(LibraryManifest.shape));
}

/** Parses YAML text and validates it with a schema; problems go to `diagnostics`. */
export function validateYaml<T>(
  text: string,
  file: string,
  schema: z.ZodType<T>,
  diagnostics: Diagnostic[],
  lineOffset = 0,
  topKeys?: string[],
): T | undefined {
  const parsed = parseYaml(text, file, lineOffset);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return undefined;
  const value = parsed.value ?? {};
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) {
    diagnostics.push(
      ...zodIssuesToDiagnostics(result.error.issues, file, parsed.locate, {
        knownKeys: (path) => (path.length === 0 ? topKeys : undefined),
      }),
    );
    return undefined;
  }
  return result.data;
}

function loadLayer(lib: Library, layer: LayerInfo, manifest: LibraryManifest | undefined): void {
  const d = lib.diagnostics;
  const maxBytes = manifest?.limits?.maxFileBytes ?? lib.manifest.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;

  // agents/<name>.md
  const agentsDir = join(layer.root, "agents");
  const seenInLayer = new Map<string, string>();
  for (const file of listFiles(agentsDir, d, false)) {
    if (!file.name.endsWith(".md")) continue;
    const source = readAgentFile(file.path, file.stats, layer.name, d);
    if (!source) continue;
    const prev = seenInLayer.get(source.name);
    if (prev) {
      d.push({
        severity: "error",
        code: "duplicate-name",
        message: `agent '${source.name}' is defined twice in layer '${layer.name}' (also in ${prev})`,
        file: file.path,
        line: 1,
        col: 1,
        hint: "agent names must be unique within a library; rename one of them",
      });
      continue;
    }
    seenInLayer.set(source.name, file.path);
    const stack = lib.agents.get(source.name) ?? [];
    if (stack.length) {
      d.push({
        severity: "warning",
        code: "layer-override",
        message: `agent '${source.name}' in layer '${layer.name}' overrides the one in layer '${stack[stack.length - 1]!.layer}'`,
        file: file.path,
        line: 1,
        col: 1,
        hint: "fields set here win; see which layer each field comes from with 'aicfg explain " + source.name + "'",
      });
    }
    stack.push(source);
    lib.agents.set(source.name, stack);
  }

  // knowledge/**
  const knowledgeDir = join(layer.root, "knowledge");
  for (const file of listFiles(knowledgeDir, d, true)) {
    const rel = toPosix(relative(knowledgeDir, file.path));
    const device = rel.split("/").find((s) => !WINDOWS_DEVICE_NAME.test(s));
    if (device !== undefined) {
      d.push({
        severity: "error",
        code: "invalid-name",
        message: `knowledge name '${device}' ${WINDOWS_DEVICE_MESSAGE}`,
        file: file.path,
        hint: "rename it: tools on Windows cannot create this file",
      });
      continue;
    }
    if (file.stats.size > maxBytes) {
      d.push({
        severity: "error",
        code: "file-too-large",
        message: `knowledge file is ${file.stats.size} bytes, over the limit of ${maxBytes}`,
        file: file.path,
        hint: "split it, or raise limits.maxFileBytes in aicfg.yaml",
      });
      continue;
    }
    const entry: KnowledgeEntry = { path: rel, absPath: file.path, layer: layer.name, size: file.stats.size, mtimeMs: file.stats.mtimeMs };
    lib.knowledge.set(rel, entry);
  }

  // mcp/<name>.yaml
  const mcpDir = join(layer.root, "mcp");
  for (const file of listFiles(mcpDir, d, false)) {
    if (!/\.ya?ml$/.test(file.name)) continue;
    const name = file.name.replace(/\.ya?ml$/, "");
    const text = readText(file.path, file.stats, MAX_AGENT_BYTES, d);
    if (text === undefined) continue;
    const badName = McpName.safeParse(name).error?.issues[0];
    if (badName) {
      d.push({
        severity: "error",
        code: "invalid-name",
        message: `MCP server file name '${name}' is not a valid server name: it ${badName.message}`,
        file: file.path,
        hint: "use letters, digits, '.', '_' or '-'",
      });
      continue;
    }
    const source = validateYaml(text, file.path, McpServerSource, d, 0, Object.keys(McpServerSource.shape));
    if (!source) continue;
    const entry: McpEntry = { name, file: file.path, layer: layer.name, ...mcpEntryParts(source) };
    lib.mcp.set(name, entry);
  }

  // templates/<name>.md
  for (const file of listFiles(join(layer.root, "templates"), d, false)) {
    if (!file.name.endsWith(".md")) continue;
    const entry: TemplateEntry = { name: file.name.slice(0, -3), file: file.path, layer: layer.name };
    lib.templates.set(entry.name, entry);
  }

  // skills/<name>/SKILL.md
  const skillsDir = join(layer.root, "skills");
  for (const dirent of listDirs(skillsDir, d)) {
    const skill = readSkill(join(skillsDir, dirent), layer.name, d);
    if (skill) lib.skills.set(skill.name, skill);
  }

  // commands/<name>.md
  for (const file of listFiles(join(layer.root, "commands"), d, false)) {
    if (!file.name.endsWith(".md")) continue;
    const text = readText(file.path, file.stats, MAX_AGENT_BYTES, d);
    if (text === undefined) continue;
    const { frontmatter, body, fmLine } = splitFrontmatter(text);
    if (frontmatter === undefined) {
      d.push({
        severity: "error",
        code: "frontmatter-missing",
        message: "command file has no YAML frontmatter",
        file: file.path,
        line: 1,
        col: 1,
        hint: "start the file with ---, a description: line, and ---",
      });
      continue;
    }
    const spec = validateYaml(frontmatter, file.path, CommandSpec, d, fmLine, Object.keys(CommandSpec.shape));
    if (!spec) continue;
    const name = spec.name ?? file.name.slice(0, -3);
    const entry: CommandEntry = { name, file: file.path, layer: layer.name, spec, body: body.trim() + "\n" };
    lib.commands.set(name, entry);
  }

  const wf = join(layer.root, "workflows");
  if (existsSync(wf) && !linksOutside(wf, d)) lib.workflowDirs.push(wf);
}

/** Reads and validates one agent file. Exported for incremental reloads of a single file. */
export function readAgentFile(path: string, stats: Stats, layer: string, d: Diagnostic[]): AgentSource | undefined {
  const text = readText(path, stats, MAX_AGENT_BYTES, d);
  if (text === undefined) return undefined;
  const { frontmatter, body, fmLine } = splitFrontmatter(text);
  if (frontmatter === undefined) {
    d.push({
      severity: "error",
      code: "frontmatter-missing",
      message: "agent file has no YAML frontmatter",
      file: path,
      line: 1,
      col: 1,
      hint: "start the file with ---, then at least 'description: ...', then --- and the instructions",
    });
    return undefined;
  }
  const spec = validateYaml(frontmatter, path, AgentSpec, d, fmLine, Object.keys(AgentSpec.shape));
  if (!spec) return undefined;
  const stem = basename(path).slice(0, -3);
  const name = spec.name ?? stem;
  const badStem = spec.name ? undefined : Slug.safeParse(stem).error?.issues[0];
  if (badStem) {
    d.push({
      severity: "error",
      code: "invalid-name",
      message: `agent file name '${stem}' is not a valid agent name: it ${badStem.message}`,
      file: path,
      line: 1,
      col: 1,
      hint: "rename the file to a lowercase slug such as code-reviewer.md, or set name: in the frontmatter",
    });
    return undefined;
  }
  if (!body.trim()) {
    d.push({
      severity: "warning",
      code: "empty-instructions",
      message: `agent '${name}' has no instructions (the markdown body is empty)`,
      file: path,
      line: fmLine + frontmatter.split("\n").length + 1,
      col: 1,
      hint: "write the agent's instructions below the frontmatter",
    });
  }
  return { name, file: path, layer, spec, body: body.replace(/^\s*\n/, "").trimEnd() + "\n", size: stats.size, mtimeMs: stats.mtimeMs };
}

function readSkill(dir: string, layer: string, d: Diagnostic[]): SkillEntry | undefined {
  const file = join(dir, "SKILL.md");
  if (!existsSync(file)) {
    d.push({
      severity: "error",
      code: "skill-missing",
      message: `skill folder has no SKILL.md`,
      file: dir,
      hint: "add SKILL.md with name and description frontmatter",
    });
    return undefined;
  }
  const stats = lstatSync(file);
  const text = readText(file, stats, MAX_AGENT_BYTES, d);
  if (text === undefined) return undefined;
  const { frontmatter, body, fmLine } = splitFrontmatter(text);
  if (frontmatter === undefined) {
    d.push({
      severity: "error",
      code: "frontmatter-missing",
      message: "SKILL.md has no YAML frontmatter",
      file,
      line: 1,
      col: 1,
      hint: "add name: and description:",
    });
    return undefined;
  }
  const spec = validateYaml(frontmatter, file, SkillSpec, d, fmLine);
  if (!spec) return undefined;
  if (spec.name !== basename(dir)) {
    d.push({
      severity: "error",
      code: "skill-name-mismatch",
      message: `skill name '${spec.name}' must equal its folder name '${basename(dir)}'`,
      file,
      line: fmLine + 1,
      col: 1,
      hint: "the Agent Skills format requires name == folder name",
    });
    return undefined;
  }
  const files: string[] = [];
  for (const f of listFiles(dir, d, true)) {
    const rel = toPosix(relative(dir, f.path));
    if (rel !== "SKILL.md") files.push(rel);
  }
  return { name: spec.name, dir, file, layer, spec, body, files: files.sort() };
}

type Listed = { path: string; name: string; stats: Stats };

/**
 * True (with an error) when `dir` is a symbolic link that resolves outside the folder holding it,
 * e.g. `knowledge -> /etc`: following it would export files from anywhere on the machine as
 * library content. A link that stays inside the library (`knowledge -> docs/knowledge`) is fine.
 */
function linksOutside(dir: string, d: Diagnostic[]): boolean {
  try {
    if (!lstatSync(dir).isSymbolicLink()) return false;
    const parent = realpathSync(dirname(dir));
    const target = realpathSync(dir);
    if (isInside(parent, target)) return false;
    d.push({
      severity: "error",
      code: "symlink-outside",
      message: `${basename(dir)}/ is a symbolic link to ${target}, outside the library ${parent}: not followed`,
      file: dir,
      hint: "copy the files into the library (or add the other folder as a layer with 'extends')",
    });
  } catch {
    /* vanished or unreadable between the checks: skipped, as a link outside would be */
  }
  return true;
}

/** Lists regular files (never following symlinks), skipping dot-files. */
function listFiles(dir: string, d: Diagnostic[], recursive: boolean): Listed[] {
  const out: Listed[] = [];
  if (!existsSync(dir) || linksOutside(dir, d)) return out;
  const walk = (current: string): void => {
    let names: string[];
    try {
      names = readdirSync(current);
    } catch (e) {
      d.push({ severity: "error", code: "read-failed", message: `cannot list folder: ${(e as Error).message}`, file: current });
      return;
    }
    names.sort();
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const path = join(current, name);
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch {
        continue;
      }
      if (stats.isSymbolicLink()) {
        d.push({
          severity: "warning",
          code: "symlink-skipped",
          message: "symbolic links in a library are not followed",
          file: path,
          hint: "copy the file into the library instead",
        });
        continue;
      }
      if (stats.isDirectory()) {
        if (recursive) walk(path);
      } else if (stats.isFile()) out.push({ path, name, stats });
    }
  };
  walk(dir);
  return out;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function listDirs(dir: string, d: Diagnostic[]): string[] {
  if (!existsSync(dir) || linksOutside(dir, d)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}

function readText(path: string, stats: Stats, max: number, d: Diagnostic[]): string | undefined {
  if (stats.size > max) {
    d.push({
      severity: "error",
      code: "file-too-large",
      message: `file is ${stats.size} bytes, over the ${max}-byte limit`,
      file: path,
      hint: "split it into smaller files",
    });
    return undefined;
  }
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    d.push({ severity: "error", code: "read-failed", message: `cannot read: ${(e as Error).message}`, file: path });
    return undefined;
  }
}

export function libraryDirOf(file: string): string {
  return dirname(dirname(file));
}

/**
 * Incremental reload after file events (the daemon's watch trigger): re-reads only the changed
 * agent, knowledge and MCP files. Changes to manifests, skills, commands or templates (or a file
 * outside every layer) fall back to a full load. Returns a new Library; the old one is unchanged.
 */
export function refreshLibrary(lib: Library, changedPaths: readonly string[]): Library {
  const next: Library = {
    ...lib,
    agents: new Map(lib.agents),
    knowledge: new Map(lib.knowledge),
    mcp: new Map(lib.mcp),
    diagnostics: lib.diagnostics.filter((d) => !d.file || !changedPaths.includes(d.file)),
  };
  for (const raw of changedPaths) {
    const path = resolve(raw);
    const layer = [...lib.layers].reverse().find((l) => path.startsWith(l.root + "/"));
    if (!layer) return loadLibrary(lib.root);
    const rel = toPosix(relative(layer.root, path));
    const [top, ...rest] = rel.split("/");
    let stats: Stats | undefined;
    try {
      stats = lstatSync(path);
    } catch {
      stats = undefined;
    }
    if (stats?.isSymbolicLink() || (rest.length && isSymlink(join(layer.root, top!)))) return loadLibrary(lib.root); // the full load checks where links lead
    if (top === "knowledge" && rest.length) {
      const krel = rest.join("/");
      if (rest.some((s) => s.startsWith("."))) continue;
      const maxBytes = lib.manifest.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      if (!stats?.isFile()) {
        if (next.knowledge.get(krel)?.layer === layer.name) return loadLibrary(lib.root); // a lower layer may provide it again
        continue;
      }
      if (stats.size > maxBytes) {
        next.knowledge.delete(krel);
        next.diagnostics.push({
          severity: "error",
          code: "file-too-large",
          message: `knowledge file is ${stats.size} bytes, over the limit of ${maxBytes}`,
          file: path,
          hint: "split it, or raise limits.maxFileBytes in aicfg.yaml",
        });
        continue;
      }
      const owner = next.knowledge.get(krel);
      if (owner && owner.layer !== layer.name && lib.layers.find((l) => l.name === owner.layer)!.index > layer.index) continue;
      next.knowledge.set(krel, { path: krel, absPath: path, layer: layer.name, size: stats.size, mtimeMs: stats.mtimeMs });
    } else if (top === "agents" && rest.length === 1 && rel.endsWith(".md")) {
      // Which agent did this file define before? Drop that definition, then read the file again.
      for (const [name, stack] of next.agents) {
        const kept = stack.filter((s) => s.file !== path);
        if (kept.length !== stack.length) {
          if (kept.length) next.agents.set(name, kept);
          else next.agents.delete(name);
        }
      }
      if (stats?.isFile()) {
        const source = readAgentFile(path, stats, layer.name, next.diagnostics);
        if (source) {
          const stack = [...(next.agents.get(source.name) ?? []), source].sort(
            (a, b) => lib.layers.find((l) => l.name === a.layer)!.index - lib.layers.find((l) => l.name === b.layer)!.index,
          );
          if (stack.filter((s) => s.layer === layer.name).length > 1) return loadLibrary(lib.root); // duplicate names: report fully
          next.agents.set(source.name, stack);
        }
      }
    } else if (top === "mcp" && rest.length === 1 && /\.ya?ml$/.test(rel)) {
      const name = rest[0]!.replace(/\.ya?ml$/, "");
      if (!stats?.isFile()) {
        return loadLibrary(lib.root);
      }
      const text = readText(path, stats, MAX_AGENT_BYTES, next.diagnostics);
      const source = text === undefined ? undefined : validateYaml(text, path, McpServerSource, next.diagnostics, 0, Object.keys(McpServerSource.shape));
      if (source) next.mcp.set(name, { name, file: path, layer: layer.name, ...mcpEntryParts(source) });
      else next.mcp.delete(name);
    } else if (top === "workflows") {
      continue;
    } else {
      return loadLibrary(lib.root);
    }
  }
  return next;
}

/** The model's server (secret references as `${NAME}`) and, when there are any, which fields are secrets. */
function mcpEntryParts(source: McpServerSource): Pick<McpEntry, "server" | "secrets"> {
  const { server, secrets } = splitSecretRefs(source);
  return Object.keys(secrets).length ? { server, secrets } : { server };
}
