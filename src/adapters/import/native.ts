// `aicfg import <tool>`: turns a tool's existing agents into library agents — inline MCP servers
// into the registry, referenced files into knowledge.
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { ImportError } from "../../library/diagnostics.ts";
import { hashValue } from "../../library/hash.ts";
import { MANIFEST_FILE } from "../../library/load.ts";
import type { McpServer } from "../../library/schema.ts";
import { copyKnowledge, writeAgent, writeManifestFile, writeMcp } from "../library-writer.ts";
import { getAdapter, listAdapters } from "../registry.ts";
import type { ImportedAgent, Roots } from "../types.ts";
import { folderSource } from "./file-source.ts";
import type { ImportReport } from "./phase2.ts";

export type NativeImportOptions = {
  tool: string;
  /** Folder to read from; default: the current folder (project files) and the home folder (user files). */
  from?: string;
  into: string;
  force?: boolean;
  cwd?: string;
};

export function importableTools(): string[] {
  return listAdapters().filter((a) => a.parse).map((a) => a.id);
}

export function importNative(opts: NativeImportOptions): ImportReport {
  const adapter = getAdapter(opts.tool);
  if (!adapter?.parse) {
    throw new ImportError("usage", `cannot import from '${opts.tool}'`, { hint: `importable: ${importableTools().join(", ")}, phase2` });
  }
  const cwd = opts.cwd ?? process.cwd();
  const report: ImportReport = { written: [], warnings: [], agents: [], mcp: [] };
  const sources: Roots[] = opts.from
    ? [
        { scope: "project", projectRoot: resolve(cwd, opts.from), homeDir: resolve(cwd, opts.from) },
        { scope: "user", projectRoot: resolve(cwd, opts.from), homeDir: resolve(cwd, opts.from) },
      ]
    : [
        { scope: "project", projectRoot: cwd, homeDir: homedir() },
        { scope: "user", projectRoot: cwd, homeDir: homedir() },
      ];
  const found = new Map<string, ImportedAgent>();
  for (const roots of sources) {
    if (!adapter.scopes.includes(roots.scope)) continue;
    const root = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
    const result = adapter.parse(folderSource(root), roots);
    report.warnings.push(...result.warnings);
    for (const a of result.agents) {
      if (found.has(a.spec.name)) {
        report.warnings.push(warning(`agent '${a.spec.name}' exists in both project and user files; the project one is imported`, a.source));
        continue;
      }
      found.set(a.spec.name, a);
    }
  }
  if (!found.size) {
    throw new ImportError("nothing-to-import", `no ${adapter.displayName} agents found in ${sources.map((s) => (s.scope === "project" ? s.projectRoot : s.homeDir)).filter((v, i, a) => a.indexOf(v) === i).join(" or ")}`, {
      hint: `pass --from DIR pointing at the folder that holds the tool's files (see 'aicfg targets' for ${adapter.id}'s paths)`,
    });
  }

  const registry = new Map<string, { server: McpServer; hash: string }>();
  const into = resolve(cwd, opts.into);
  for (const a of [...found.values()].sort((x, y) => x.spec.name.localeCompare(y.spec.name))) {
    const spec = { ...a.spec };
    const names: string[] = [];
    for (const [name, server] of Object.entries(a.mcp)) {
      const h = hashValue(server);
      let finalName = name;
      const prev = registry.get(name);
      if (prev && prev.hash !== h) {
        finalName = `${name}-${a.spec.name}`;
        report.warnings.push(warning(`MCP server '${name}' of agent '${a.spec.name}' differs from another agent's; imported as '${finalName}'`, a.source));
      }
      if (!registry.has(finalName)) registry.set(finalName, { server, hash: h });
      names.push(finalName);
    }
    const mcpRefs = [...(spec.mcp ?? []).filter((m) => typeof m !== "string" || !(m in a.mcp)), ...names];
    if (mcpRefs.length) spec.mcp = mcpRefs;
    const knowledge: string[] = [...(spec.knowledge ?? []).map((k) => (typeof k === "string" ? k : k.path))];
    for (const ref of a.knowledgeFiles) {
      const abs = ref.startsWith("~/") ? join(homedir(), ref.slice(2)) : isAbsolute(ref) ? ref : resolve(dirnameOf(a.source), ref);
      if (/[*?[\]{}]/.test(ref)) {
        report.warnings.push(warning(`resource '${ref}' of agent '${a.spec.name}' is a glob; not copied`, a.source, "add the files to knowledge/ and reference them with a glob"));
        continue;
      }
      if (!existsSync(abs) || !statSync(abs).isFile()) {
        report.warnings.push(warning(`resource '${ref}' of agent '${a.spec.name}' does not exist; not imported`, a.source));
        continue;
      }
      const rel = `imported/${a.spec.name}/${basename(abs)}`;
      report.written.push(copyKnowledge(into, abs, rel, !!opts.force));
      knowledge.push(rel);
    }
    if (knowledge.length) spec.knowledge = [...new Set(knowledge)];
    else delete spec.knowledge;
    report.written.push(writeAgent(into, spec.name, spec, a.instructions, !!opts.force));
    report.agents.push(spec.name);
  }
  for (const [name, { server }] of [...registry].sort(([x], [y]) => x.localeCompare(y))) {
    report.written.push(writeMcp(into, name, server, !!opts.force));
    report.mcp.push(name);
  }
  if (!existsSync(join(into, MANIFEST_FILE))) {
    report.written.push(writeManifestFile(into, `name: ${JSON.stringify(basename(into))}\ntargets: [${adapter.id}]\n`));
  }
  return report;
}

function dirnameOf(p: string): string {
  return p.replace(/\/[^/]*$/, "") || "/";
}

function warning(message: string, file?: string, hint?: string): Diagnostic {
  return { severity: "warning", code: "import", message, ...(file ? { file } : {}), ...(hint ? { hint } : {}) };
}
