// Reads Codex custom agents (`.codex/agents/*.toml`) and the `[mcp_servers.*]` of config.toml back
// into library agents, for `aicfg import`. config.toml servers are shared by every Codex session, so
// each imported agent gets all of them (the library can narrow them later).
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { AgentSpec, Slug, type McpServer } from "../../library/schema.ts";
import type { FileSource, ImportedAgent, ParseResult, Roots } from "../types.ts";
import { fromCodexServer } from "./mcp.ts";
import { CodexExtension, TARGET } from "./render.ts";

type TomlRead = { ok: true; value: Record<string, unknown> } | { ok: false; diagnostic: Diagnostic };

function readToml(text: string, file: string): TomlRead {
  try {
    return { ok: true, value: parseToml(text) as Record<string, unknown> };
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    const d: Diagnostic = {
      severity: "error",
      code: "toml-syntax",
      message: `codex: ${(err.message.split("\n")[0] ?? "invalid TOML").replace(/^Invalid TOML document: /, "invalid TOML: ")}`,
      file,
      hint: "fix the TOML syntax; nothing was imported from this file",
    };
    if (typeof err.line === "number") d.line = err.line;
    if (typeof err.column === "number") d.col = err.column;
    return { ok: false, diagnostic: d };
  }
}

export function parseCodex(src: FileSource, _roots: Roots): ParseResult {
  const warnings: Diagnostic[] = [];
  const abs = (rel: string): string => join(src.root, rel);

  const servers: Record<string, McpServer> = {};
  const configRel = ".codex/config.toml";
  const configText = src.read(configRel);
  if (configText !== undefined) {
    const r = readToml(configText, abs(configRel));
    if (!r.ok) warnings.push(r.diagnostic);
    else {
      const tables = r.value.mcp_servers;
      if (tables && typeof tables === "object" && !Array.isArray(tables)) {
        for (const name of Object.keys(tables).sort()) {
          const s = fromCodexServer(name, (tables as Record<string, unknown>)[name], abs(configRel), warnings);
          if (s) servers[name] = s;
        }
      }
    }
  }

  const agents: ImportedAgent[] = [];
  for (const rel of src
    .list(".codex/agents")
    .filter((f) => f.endsWith(".toml"))
    .sort()) {
    const file = abs(rel);
    const text = src.read(rel);
    if (text === undefined) continue;
    const r = readToml(text, file);
    if (!r.ok) {
      warnings.push(r.diagnostic);
      continue;
    }
    const t = r.value;
    const missing = ["name", "description", "developer_instructions"].filter((k) => typeof t[k] !== "string" || !(t[k] as string).length);
    if (missing.length) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: `codex: ${missing.join(", ")} missing or not a string; agent skipped`,
        file,
        hint: "a Codex custom agent needs name, description and developer_instructions",
      });
      continue;
    }
    const name = t.name as string;
    if (!Slug.safeParse(name).success) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: `codex: agent name ${JSON.stringify(name)} is not a library slug; agent skipped`,
        file,
        hint: "rename it to lowercase letters, digits, '-' or '_'",
      });
      continue;
    }
    const spec: Record<string, unknown> = { name, description: t.description };
    if (typeof t.model === "string") spec.model = t.model;
    const names = Object.keys(servers);
    if (names.length) spec.mcp = names;
    const ext: Record<string, unknown> = {};
    for (const key of ["model_reasoning_effort", "sandbox_mode", "nickname_candidates"] as const) if (t[key] !== undefined) ext[key] = t[key];
    if (Object.keys(ext).length) {
      const e = CodexExtension.safeParse(ext);
      if (e.success) spec.extensions = { [TARGET]: e.data };
      else
        warnings.push({
          severity: "warning",
          code: "import-lossy",
          message: `codex: ${e.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}; these settings were dropped`,
          file,
        });
    }
    const dropped = Object.keys(t)
      .filter((k) => !["name", "description", "developer_instructions", "model", "model_reasoning_effort", "sandbox_mode", "nickname_candidates"].includes(k))
      .sort();
    if (dropped.length)
      warnings.push({
        severity: "warning",
        code: "import-lossy",
        message: `codex: keys ${dropped.join(", ")} have no place in the library model; dropped`,
        file,
      });
    const checked = AgentSpec.safeParse(spec);
    if (!checked.success) {
      warnings.push({
        severity: "error",
        code: "import-invalid",
        message: `codex: ${checked.error.issues[0]?.message ?? "invalid agent"}; agent skipped`,
        file,
      });
      continue;
    }
    agents.push({ spec: { ...checked.data, name }, instructions: t.developer_instructions as string, mcp: { ...servers }, knowledgeFiles: [], source: file });
  }
  return { agents, warnings };
}
