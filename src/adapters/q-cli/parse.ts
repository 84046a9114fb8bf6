// Imports Q CLI / Kiro CLI agent JSON files back into universal agents: universal tool names,
// instructions from `prompt` (inline or `file://`), inline MCP servers, `file://` resources as
// knowledge files, hooks and tool settings. A broken file is reported and the others still import.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { posix } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { isInside, toPosix } from "../../library/paths.ts";
import { AgentSpec, HOOK_EVENTS, McpName, type Hook, type HookEvent, type McpServer } from "../../library/schema.ts";
import type { FileSource, ImportedAgent, ParseResult, Roots } from "../types.ts";
import type { AgentDialect } from "./dialect.ts";
import { serverBack } from "./mcp.ts";
import { HOOK_NAMES } from "./render.ts";
import { matcherBack, settingsBack, toolsBack } from "./tools.ts";

/** Keys every dialect shares; each adapter names its own extra keys. */
const CORE_KEYS = [
  "$schema",
  "name",
  "description",
  "prompt",
  "mcpServers",
  "tools",
  "toolAliases",
  "allowedTools",
  "toolsSettings",
  "resources",
  "hooks",
  "model",
];

export type ExtensionReader = {
  /** Top-level keys only this tool has, copied into `extensions.<id>` when their value fits. */
  keys: Record<string, (v: unknown) => boolean>;
};

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

function toSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .replace(/([-_])[-_]+/g, "$1");
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** Reads every `*.json` in the dialect's agent folders of `src` (project and user layouts). */
export function parseAgentFiles(src: FileSource, roots: Roots, d: AgentDialect, ext: ExtensionReader): ParseResult {
  const agents: ImportedAgent[] = [];
  const warnings: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const dir of [...new Set([d.projectDir, d.userDir])]) {
    for (const rel of src.list(dir)) {
      if (!rel.endsWith(".json")) continue;
      const r = parseOne(src, roots, d, ext, rel);
      warnings.push(...r.warnings);
      if (!r.agent) continue;
      if (seen.has(r.agent.spec.name)) {
        warnings.push({
          severity: "warning",
          code: "import-duplicate-agent",
          message: `${d.displayName}: a second agent named '${r.agent.spec.name}' was skipped`,
          file: r.agent.source,
          hint: "rename one of the files",
        });
        continue;
      }
      seen.add(r.agent.spec.name);
      agents.push(r.agent);
    }
  }
  return { agents, warnings };
}

function parseOne(src: FileSource, roots: Roots, d: AgentDialect, ext: ExtensionReader, rel: string): { agent?: ImportedAgent; warnings: Diagnostic[] } {
  const file = posix.join(toPosix(src.root), rel);
  const warnings: Diagnostic[] = [];
  const text = src.read(rel);
  if (text === undefined)
    return { warnings: [{ severity: "warning", code: "import-unreadable", message: `${d.displayName}: cannot read the agent file`, file }] };
  const errors: ParseError[] = [];
  // The tools parse these files with serde_json: no comments, no trailing commas.
  const raw: unknown = parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length) {
    const e = errors[0]!;
    const pos = lineCol(text, e.offset);
    return {
      warnings: [
        {
          severity: "warning",
          code: "import-invalid-json",
          message: `${d.displayName}: the agent file is not valid JSON (${printParseErrorCode(e.error)}); it was not imported`,
          file,
          line: pos.line,
          col: pos.col,
          hint: `${d.displayName} refuses this file too; fix it or run '${d.target === "kiro-cli" ? "kiro-cli" : "q"} agent validate --path ${rel}'`,
        },
      ],
    };
  }
  if (!isObject(raw))
    return {
      warnings: [
        {
          severity: "warning",
          code: "import-invalid-agent",
          message: `${d.displayName}: the agent file's top level is not a JSON object; it was not imported`,
          file,
        },
      ],
    };

  const dropped: string[] = [];
  const stem = posix.basename(rel, ".json");
  const rawName = typeof raw.name === "string" && raw.name.length ? raw.name : stem;
  const name = toSlug(rawName);
  if (name !== rawName)
    warnings.push({
      severity: "warning",
      code: "import-renamed",
      message: `${d.displayName}: agent '${rawName}' is imported as '${name}'`,
      file,
      hint: "agent names are lowercase slugs",
    });

  let description = typeof raw.description === "string" && raw.description.trim() ? raw.description : `Imported from ${d.displayName} (${posix.basename(rel)})`;
  if (description.length > 1024) {
    description = description.slice(0, 1024);
    dropped.push("description (beyond 1024 characters)");
  }

  let instructions = "";
  if (typeof raw.prompt === "string") {
    if (raw.prompt.startsWith("file://")) {
      const p = readPromptFile(src, roots, rel, raw.prompt.slice("file://".length));
      if (p.text !== undefined) instructions = p.text;
      else
        warnings.push({
          severity: "warning",
          code: "import-prompt-missing",
          message: `${d.displayName}: the prompt file ${raw.prompt} ${p.why}; the agent is imported without instructions`,
          file,
        });
    } else instructions = raw.prompt;
  } else if (raw.prompt !== undefined && raw.prompt !== null) dropped.push("prompt");

  const mcp: Record<string, McpServer> = {};
  if (isObject(raw.mcpServers)) {
    for (const [sname, body] of Object.entries(raw.mcpServers)) {
      if (!McpName.safeParse(sname).success) {
        dropped.push(`mcpServers.${sname} (not a valid server name)`);
        continue;
      }
      const b = serverBack(body);
      for (const f of b.dropped) dropped.push(`mcpServers.${sname}.${f}`);
      if (b.server) mcp[sname] = b.server;
      else dropped.push(`mcpServers.${sname}`);
    }
  } else if (raw.mcpServers !== undefined) dropped.push("mcpServers");

  const tools: { allow?: string[]; trusted?: string[] } = {};
  if (Array.isArray(raw.tools)) {
    const t = toolsBack(raw.tools, d);
    for (const x of t.dropped) dropped.push(`tools '${x}'`);
    if (!(t.value.length === 1 && t.value[0] === "*")) tools.allow = t.value;
  } else {
    // Both tools give an agent without `tools` no tools at all.
    if (raw.tools !== undefined) dropped.push("tools");
    tools.allow = [];
  }
  if (Array.isArray(raw.allowedTools)) {
    const t = toolsBack(raw.allowedTools, d);
    for (const x of t.dropped) dropped.push(`allowedTools '${x}'`);
    if (t.value.length) tools.trusted = t.value;
  } else if (raw.allowedTools !== undefined) dropped.push("allowedTools");

  const settings = settingsBack(raw.toolsSettings, d);
  dropped.push(...settings.dropped);

  const knowledgeFiles: string[] = [];
  const extraResources: string[] = [];
  if (Array.isArray(raw.resources)) {
    for (const r of raw.resources) {
      if (typeof r === "string" && r.startsWith("file://")) {
        const p = r.slice("file://".length);
        // The tools resolve relative resources against the chat's working folder: the project root.
        knowledgeFiles.push(p.startsWith("/") || p.startsWith("~") ? p : posix.join(toPosix(roots.projectRoot), p));
      } else if (typeof r === "string" && d.extraResourcePrefixes.some((x) => r.startsWith(x))) extraResources.push(r);
      else dropped.push(`resources '${typeof r === "string" ? r : JSON.stringify(r)}'`);
    }
  } else if (raw.resources !== undefined) dropped.push("resources");

  const hooks: Partial<Record<HookEvent, Hook[]>> = {};
  if (isObject(raw.hooks)) {
    const byNative = new Map(HOOK_EVENTS.map((e) => [HOOK_NAMES[e], e] as const));
    for (const [trigger, list] of Object.entries(raw.hooks)) {
      const event = byNative.get(trigger);
      if (!event || !Array.isArray(list)) {
        dropped.push(`hooks.${trigger}`);
        continue;
      }
      const out: Hook[] = [];
      list.forEach((h, i) => {
        if (!isObject(h) || typeof h.command !== "string" || !h.command) {
          dropped.push(`hooks.${trigger}[${i}]`);
          return;
        }
        const hook: Hook = { command: h.command };
        if (typeof h.matcher === "string") hook.matcher = matcherBack(h.matcher, d);
        if (typeof h.timeout_ms === "number" && Number.isInteger(h.timeout_ms) && h.timeout_ms > 0) hook.timeout = h.timeout_ms;
        for (const k of Object.keys(h)) if (!["command", "matcher", "timeout_ms"].includes(k)) dropped.push(`hooks.${trigger}[${i}].${k}`);
        out.push(hook);
      });
      if (out.length) hooks[event] = out;
    }
  } else if (raw.hooks !== undefined) dropped.push("hooks");

  const extension: Record<string, unknown> = {};
  if (isObject(raw.toolAliases) && Object.values(raw.toolAliases).every((v) => typeof v === "string")) {
    if (Object.keys(raw.toolAliases).length) extension.toolAliases = raw.toolAliases;
  } else if (raw.toolAliases !== undefined) dropped.push("toolAliases");
  if (extraResources.length) extension.resources = extraResources;
  for (const [k, fits] of Object.entries(ext.keys)) {
    if (raw[k] === undefined) continue;
    if (fits(raw[k])) extension[k] = raw[k];
    else dropped.push(k);
  }
  for (const k of Object.keys(raw)) if (!CORE_KEYS.includes(k) && !(k in ext.keys)) dropped.push(k);

  const spec: Record<string, unknown> = { name, description };
  if (typeof raw.model === "string" && raw.model) spec.model = raw.model;
  else if (raw.model !== undefined && raw.model !== null) dropped.push("model");
  if (Object.keys(mcp).length) spec.mcp = Object.keys(mcp);
  spec.tools = tools;
  if (Object.keys(settings.value).length) spec.toolSettings = settings.value;
  if (Object.keys(hooks).length) spec.hooks = hooks;
  if (Object.keys(extension).length) spec.extensions = { [d.target]: extension };

  if (dropped.length) {
    warnings.push({
      severity: "warning",
      code: "import-dropped-field",
      message: `${d.displayName}: agent '${name}': ${dropped.join(", ")} ${dropped.length > 1 ? "have" : "has"} no universal equivalent and ${dropped.length > 1 ? "were" : "was"} not imported`,
      file,
    });
  }
  const checked = AgentSpec.safeParse(spec);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `${i.path.join(".") || "(agent)"}: ${i.message}`).join("; ");
    warnings.push({
      severity: "warning",
      code: "import-invalid-agent",
      message: `${d.displayName}: agent '${name}' does not fit the universal model (${issues}); it was not imported`,
      file,
    });
    return { warnings };
  }
  return { agent: { spec: { ...checked.data, name }, instructions, mcp, knowledgeFiles, source: file }, warnings };
}

/**
 * A `file://` prompt (Q 1.19+): `file://./p.md` is relative to the agent file, `file:///abs` is
 * absolute and `file://~/p.md` is under the home folder; only files inside the source are read.
 */
function readPromptFile(src: FileSource, roots: Roots, agentRel: string, target: string): { text?: string; why: string } {
  const root = toPosix(src.root);
  let abs: string;
  if (target.startsWith("~/")) abs = posix.join(toPosix(roots.homeDir), target.slice(2));
  else if (target.startsWith("/")) abs = posix.normalize(target);
  else abs = posix.join(root, posix.dirname(agentRel), target);
  if (!isInside(root, abs) || abs === root) return { why: `is outside ${root}` };
  const text = src.read(posix.relative(root, abs));
  return text === undefined ? { why: "cannot be read" } : { text, why: "" };
}
