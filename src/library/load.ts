// Loads a library folder (and the libraries it extends) from disk into the universal model,
// collecting every problem as a positioned diagnostic instead of stopping at the first one.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type Diagnostic } from "./diagnostics.ts";
import type { AgentSource, CommandEntry, KnowledgeEntry, LayerFolder, LayerInfo, Library, McpEntry, SkillEntry, TemplateEntry } from "./model.ts";
import { isInside, toPosix } from "./paths.ts";
import { isConflictFile } from "./merge.ts";
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
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
const MAX_AGENT_BYTES = 1024 * 1024;

export type LoadOptions = {
  /** Skip reading knowledge files' frontmatter (the default; content is read lazily by adapters). */
  readonly?: boolean;
  /**
   * The folders of the git layers named in aicfg.yaml `layers:`, materialised by the caller from the pinned
   * commits (workflows/layers.ts). They are layered like `extends:` folders, below them, in the listed order.
   */
  layers?: readonly LayerFolder[];
};

type CollectedLayer = { root: string; manifest: LibraryManifest | undefined; file: string; name?: string };

/** Loads a library. Throws ConfigError only when the folder is not a library at all. */
export function loadLibrary(dir: string, opts: LoadOptions = {}): Library {
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
  const layerRoots: CollectedLayer[] = [];
  collectLayers(root, [], layerRoots, diagnostics, opts.layers ?? []);

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
    ...(opts.layers?.length ? { layerFolders: opts.layers } : {}),
  };
  const merged: Record<string, unknown> = {};
  layerRoots.forEach((layer, index) => {
    const name = layer.name ?? layer.manifest?.name ?? basename(layer.root);
    const info: LayerInfo = { name, root: layer.root, index };
    lib.layers.push(info);
    if (layer.manifest) mergeManifest(merged, layer.manifest);
    loadLayer(lib, info, layer.manifest);
  });
  const top = layerRoots[layerRoots.length - 1]?.manifest;
  lib.manifest = { ...(merged as LibraryManifest), name: top?.name ?? basename(root) };
  if (top?.extends) lib.manifest.extends = top.extends;
  else delete lib.manifest.extends;
  if (top?.layers) lib.manifest.layers = top.layers;
  else delete lib.manifest.layers;
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
  out: CollectedLayer[],
  diagnostics: Diagnostic[],
  gitLayers: readonly LayerFolder[] = [],
  gitLayer?: LayerFolder,
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
  // A git layer need not be a whole library: a folder of agents/, knowledge/, ... without aicfg.yaml is fine.
  const manifest = gitLayer && !existsSync(file) ? undefined : readManifest(file, diagnostics);
  if (stack.length === 0) collectGitLayers(root, manifest, out, diagnostics, gitLayers);
  else if (gitLayer && manifest?.layers?.length) {
    diagnostics.push({
      severity: "warning",
      code: "nested-layers",
      message: `the layers of git layer '${gitLayer.name}' are not followed`,
      file,
      hint: "list every git layer in the top library's aicfg.yaml",
    });
  }
  for (const [i, ext] of (manifest?.extends ?? []).entries()) {
    const extRoot = resolve(root, ext);
    if (gitLayer && !isInside(gitLayer.root, extRoot)) {
      const parsed = safeParseYamlFile(file);
      diagnostics.push({
        severity: "error",
        code: "extends-outside-layer",
        message: `git layer '${gitLayer.name}' extends ${ext}, outside its own checkout: not followed`,
        file,
        ...(parsed ? parsed.locate(["extends", i]) : {}),
        hint: "a git layer may only extend folders inside its repository",
      });
      continue;
    }
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
    collectLayers(extRoot, [...stack, root], out, diagnostics, [], gitLayer);
  }
  out.push({ root, manifest, file, ...(gitLayer && gitLayer.root === root ? { name: gitLayer.name } : {}) });
}

/** The git layers of the top library, lowest first; one named in aicfg.yaml but not handed in is an error, not a silent gap. */
function collectGitLayers(
  root: string,
  manifest: LibraryManifest | undefined,
  out: CollectedLayer[],
  diagnostics: Diagnostic[],
  given: readonly LayerFolder[],
): void {
  for (const [i, spec] of (manifest?.layers ?? []).entries()) {
    const folder = given.find((g) => g.name === spec.name);
    if (!folder || !existsSync(folder.root)) {
      const file = join(root, MANIFEST_FILE);
      const parsed = safeParseYamlFile(file);
      diagnostics.push({
        severity: "error",
        code: "layer-not-materialised",
        message: `git layer '${spec.name}' (${spec.url} ${spec.ref}) is not checked out${folder ? ` (${folder.root} is missing)` : ""}: its agents are left out`,
        file,
        ...(parsed ? parsed.locate(["layers", i, "name"]) : {}),
        hint: "run 'aicfg sync' (or 'aicfg library update') to fetch and pin it",
      });
      continue;
    }
    collectLayers(resolve(folder.root), [root], out, diagnostics, [], { name: spec.name, root: resolve(folder.root) });
  }
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
      // `<file>.conflict.md` holds merge conflict markers: never an agent, knowledge or command.
      if (name.startsWith(".") || isConflictFile(name)) continue;
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

const fullLoad = (root: string, opts: LoadOptions): Library => loadLibrary(root, opts);

/** The entries of a layer folder that loadLibrary reads: a change anywhere else is no input. */
export const INPUT_TOPS: ReadonlySet<string> = new Set([MANIFEST_FILE, "agents", "knowledge", "mcp", "templates", "skills", "commands", "workflows"]);

/**
 * Incremental reload after file events (the daemon's library watcher): re-reads only the changed
 * agent, knowledge and MCP files, with the same validation and positioned errors as a full load.
 * Changes to manifests, skills, commands or templates, folder events, symbolic links and the cases
 * a single file cannot settle (duplicate names, a removed MCP server) fall back to a full load.
 * Paths that are no input (exported files inside the library, dot-files) are ignored. Returns a
 * new Library; the old one is unchanged.
 */
export function refreshLibrary(lib: Library, changedPaths: readonly string[]): Library {
  // A full reload keeps the git layers the library was loaded with.
  const loadLibrary = (root: string): Library => fullLoad(root, lib.layerFolders ? { layers: lib.layerFolders } : {});
  const changed = new Set(changedPaths.map((p) => resolve(p)));
  const next: Library = {
    ...lib,
    agents: new Map(lib.agents),
    knowledge: new Map(lib.knowledge),
    mcp: new Map(lib.mcp),
    diagnostics: lib.diagnostics.filter((d) => !d.file || !changed.has(d.file)),
  };
  const layerIndex = new Map(lib.layers.map((l) => [l.name, l.index]));
  for (const path of changed) {
    if (isConflictFile(path)) continue; // a merge conflict's <file>.conflict.md is never an input
    const layer = [...lib.layers].reverse().find((l) => path.startsWith(l.root + "/"));
    if (!layer) {
      if (lib.layers.some((l) => l.root === path)) return loadLibrary(lib.root); // a layer folder itself
      continue; // outside every layer: no input
    }
    const rel = toPosix(relative(layer.root, path));
    const [top, ...rest] = rel.split("/");
    if (!INPUT_TOPS.has(top!) || (top === MANIFEST_FILE) !== (rest.length === 0)) continue;
    if (rest.some((s) => s.startsWith("."))) continue; // listFiles skips dot-files and dot-folders
    let stats: Stats | undefined;
    try {
      stats = lstatSync(path);
    } catch {
      stats = undefined;
    }
    if (stats?.isSymbolicLink() || (rest.length && isSymlink(join(layer.root, top!)))) return loadLibrary(lib.root); // the full load checks where links lead
    if (stats && !stats.isFile()) return loadLibrary(lib.root); // a folder appeared where a file was
    if (top === "knowledge") {
      const krel = rest.join("/");
      const maxBytes = lib.manifest.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      const owner = next.knowledge.get(krel);
      // A higher layer's file wins: a change below it changes nothing (but its errors are its own).
      const shadowed = owner && owner.absPath !== path && layerIndex.get(owner.layer)! > layer.index;
      if (!stats) {
        if (owner?.absPath !== path) continue;
        next.knowledge.delete(krel);
        // A lower layer may provide the same path: it shows through again.
        for (const lower of [...lib.layers].reverse().filter((l) => l.index < layer.index)) {
          const again = join(lower.root, "knowledge", ...rest);
          if (existsSync(again)) return loadLibrary(lib.root);
        }
        continue;
      }
      const device = rest.find((s) => !WINDOWS_DEVICE_NAME.test(s));
      if (device !== undefined) {
        next.diagnostics.push({
          severity: "error",
          code: "invalid-name",
          message: `knowledge name '${device}' ${WINDOWS_DEVICE_MESSAGE}`,
          file: path,
          hint: "rename it: tools on Windows cannot create this file",
        });
        if (owner?.absPath === path) next.knowledge.delete(krel);
        continue;
      }
      if (stats.size > maxBytes) {
        next.diagnostics.push({
          severity: "error",
          code: "file-too-large",
          message: `knowledge file is ${stats.size} bytes, over the limit of ${maxBytes}`,
          file: path,
          hint: "split it, or raise limits.maxFileBytes in aicfg.yaml",
        });
        if (owner?.absPath === path) return loadLibrary(lib.root); // a lower layer's copy may show through
        continue;
      }
      if (shadowed) continue;
      next.knowledge.set(krel, { path: krel, absPath: path, layer: layer.name, size: stats.size, mtimeMs: stats.mtimeMs });
    } else if (top === "agents") {
      if (rest.length !== 1 || !rel.endsWith(".md")) continue; // agents/ is not read recursively
      // Duplicate names are reported on one of two files: only a full load settles them again.
      if (lib.diagnostics.some((d) => d.code === "duplicate-name")) return loadLibrary(lib.root);
      // Which agent did this file define before? Drop that definition, then read the file again.
      for (const [name, stack] of next.agents) {
        const kept = stack.filter((s) => s.file !== path);
        if (kept.length !== stack.length) {
          if (kept.length) next.agents.set(name, kept);
          else next.agents.delete(name);
        }
      }
      if (stats) {
        const source = readAgentFile(path, stats, layer.name, next.diagnostics);
        if (source) {
          const stack = [...(next.agents.get(source.name) ?? []), source].sort((a, b) => layerIndex.get(a.layer)! - layerIndex.get(b.layer)!);
          if (stack.filter((s) => s.layer === layer.name).length > 1) return loadLibrary(lib.root); // duplicate names: report fully
          next.agents.set(source.name, stack);
        }
      }
      // The layer-override warnings of the agents this file touched, as a full load reports them.
      next.diagnostics = next.diagnostics.filter((d) => d.code !== "layer-override");
      next.diagnostics.push(...overrideWarnings(next));
    } else if (top === "mcp") {
      if (rest.length !== 1 || !/\.ya?ml$/.test(rel)) continue;
      const name = rest[0]!.replace(/\.ya?ml$/, "");
      if (!stats) return loadLibrary(lib.root); // another layer (or the other extension) may define it
      const text = readText(path, stats, MAX_AGENT_BYTES, next.diagnostics);
      const badName = McpName.safeParse(name).error?.issues[0];
      if (badName) return loadLibrary(lib.root);
      const source = text === undefined ? undefined : validateYaml(text, path, McpServerSource, next.diagnostics, 0, Object.keys(McpServerSource.shape));
      if (source) next.mcp.set(name, { name, file: path, layer: layer.name, ...mcpEntryParts(source) });
      else next.mcp.delete(name);
    } else if (top === "workflows") {
    } else {
      return loadLibrary(lib.root);
    }
  }
  return next;
}

/** The layer-override warnings of a library's agent stacks, in the order a full load gives them. */
function overrideWarnings(lib: Library): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const stack of lib.agents.values()) {
    for (let i = 1; i < stack.length; i++) {
      const s = stack[i]!;
      out.push({
        severity: "warning",
        code: "layer-override",
        message: `agent '${s.name}' in layer '${s.layer}' overrides the one in layer '${stack[i - 1]!.layer}'`,
        file: s.file,
        line: 1,
        col: 1,
        hint: "fields set here win; see which layer each field comes from with 'aicfg explain " + s.name + "'",
      });
    }
  }
  return out;
}

/** The model's server (secret references as `${NAME}`) and, when there are any, which fields are secrets. */
function mcpEntryParts(source: McpServerSource): Pick<McpEntry, "server" | "secrets"> {
  const { server, secrets } = splitSecretRefs(source);
  return Object.keys(secrets).length ? { server, secrets } : { server };
}
