// `aicfg import <tool>`: turns a tool's existing agents into library agents — inline MCP servers
// and the tool's shared MCP files into the registry, referenced files into knowledge. Each folder
// is read once; every skipped file is counted with its reason.
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { ImportError } from "../../library/diagnostics.ts";
import { hashValue } from "../../library/hash.ts";
import { MANIFEST_FILE } from "../../library/load.ts";
import { McpName, type McpServer } from "../../library/schema.ts";
import { hasEnvRef } from "../common.ts";
import { copyKnowledge, writeAgent, writeManifestFile, writeMcp, type WriteOutcome } from "../library-writer.ts";
import { getAdapter, listAdapters } from "../registry.ts";
import type { FileSource, ImportedAgent, Roots } from "../types.ts";
import { folderSource } from "./file-source.ts";
import { nameClash } from "./names.ts";
import type { ImportReport } from "./phase2.ts";

export type NativeImportOptions = {
  tool: string;
  /** Folder to read from; default: the current folder (project files) and the home folder (user files). */
  from?: string;
  into: string;
  force?: boolean;
  /** Warnings fail the import: nothing is written when there is any. */
  strict?: boolean;
  cwd?: string;
  /** The user's home folder (default: os.homedir()). */
  home?: string;
};

export function importableTools(): string[] {
  return listAdapters()
    .filter((a) => a.parse)
    .map((a) => a.id);
}

/**
 * A FileSource per scope over one set of files: a file (or a folder's entry) that an earlier scope
 * already read is not seen again. With `--from DIR` the project and the user scope both look into
 * DIR, and reading `.claude/agents` twice made every agent look defined twice.
 */
function onceSources(): (root: string) => FileSource {
  const owner = new Map<string, number>();
  let next = 0;
  return (root) => {
    const id = next++;
    const base = folderSource(root);
    const mine = (rel: string): boolean => {
      const abs = join(root, rel);
      const o = owner.get(abs);
      if (o === undefined) owner.set(abs, id);
      return o === undefined || o === id;
    };
    return {
      root,
      read: (rel) => (mine(rel) ? base.read(rel) : undefined),
      list: (relDir) => base.list(relDir).filter(mine),
    };
  };
}

export function importNative(opts: NativeImportOptions): ImportReport {
  const adapter = getAdapter(opts.tool);
  if (!adapter?.parse) {
    throw new ImportError("usage", `cannot import from '${opts.tool}'`, { hint: `importable: ${importableTools().join(", ")}, phase2` });
  }
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const report: ImportReport = { written: [], warnings: [], agents: [], mcp: [], skipped: [] };
  const skipped = report.skipped!;
  const from = opts.from ? resolve(cwd, opts.from) : undefined;
  const sources: Roots[] = [
    { scope: "project", projectRoot: from ?? cwd, homeDir: from ?? home },
    { scope: "user", projectRoot: from ?? cwd, homeDir: from ?? home },
  ];
  const source = onceSources();
  const found = new Map<string, ImportedAgent>();
  const shared: { file: string; servers: Record<string, McpServer> }[] = [];
  for (const roots of sources) {
    if (!adapter.scopes.includes(roots.scope)) continue;
    const root = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
    const result = adapter.parse(source(root), roots);
    report.warnings.push(...result.warnings);
    // Parsers that do not list their skipped files skip a file for each error they report.
    skipped.push(
      ...(result.skipped ?? result.warnings.filter((w) => w.severity === "error" && w.file).map((w) => ({ file: w.file!, reason: w.code, error: true }))),
    );
    if (result.servers) shared.push(result.servers);
    for (const a of result.agents) {
      const prev = found.get(a.spec.name);
      if (prev) {
        const clash = nameClash(prev, a);
        if (clash.reason === "duplicate name") {
          report.warnings.push(
            warning(
              `agent '${a.nativeName ?? a.spec.name}' exists in both project and user files (${prev.source} and ${a.source}); the project one is imported`,
              a.source,
            ),
          );
        } else report.warnings.push(clash.diagnostic);
        skipped.push({ file: a.source, reason: clash.reason, error: clash.diagnostic.severity === "error" });
        continue;
      }
      found.set(a.spec.name, a);
    }
  }
  if (!found.size && !skipped.length && !shared.some((s) => Object.keys(s.servers).length)) {
    throw new ImportError(
      "nothing-to-import",
      `no ${adapter.displayName} agents found in ${sources
        .map((s) => (s.scope === "project" ? s.projectRoot : s.homeDir))
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(" or ")}`,
      {
        hint: `pass --from DIR pointing at the folder that holds the tool's files (see 'aicfg targets' for ${adapter.id}'s paths)`,
      },
    );
  }

  // Every write is planned first, so that --strict can refuse before anything is written.
  const writes: (() => WriteOutcome)[] = [];
  const registry = new Map<string, { server: McpServer; hash: string }>();
  const into = resolve(cwd, opts.into);
  // The tool's shared MCP files first: agents that name one of their servers get the same entry.
  for (const { file, servers } of shared) {
    for (const [name, server] of Object.entries(servers)) {
      if (!McpName.safeParse(name).success) {
        report.warnings.push(warning(`MCP server name '${name}' is not a valid library name; left out`, file, "use letters, digits, '.', '_' and '-'"));
        continue;
      }
      const safe = withoutLiteralSecrets(name, server, file, report.warnings);
      if (!registry.has(name)) registry.set(name, { server: safe, hash: hashValue(safe) });
      else if (registry.get(name)!.hash !== hashValue(safe))
        report.warnings.push(warning(`MCP server '${name}' of ${file} differs from the one already imported; the first is kept`, file));
    }
  }
  for (const a of [...found.values()].sort((x, y) => x.spec.name.localeCompare(y.spec.name))) {
    const spec = { ...a.spec };
    const names: string[] = [];
    for (const [name, raw] of Object.entries(a.mcp)) {
      const server = withoutLiteralSecrets(name, raw, a.source, report.warnings);
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
      const abs = ref.startsWith("~/") ? join(home, ref.slice(2)) : isAbsolute(ref) ? ref : resolve(dirnameOf(a.source), ref);
      if (/[*?[\]{}]/.test(ref)) {
        report.warnings.push(
          warning(`resource '${ref}' of agent '${a.spec.name}' is a glob; not copied`, a.source, "add the files to knowledge/ and reference them with a glob"),
        );
        continue;
      }
      if (!existsSync(abs) || !statSync(abs).isFile()) {
        report.warnings.push(warning(`resource '${ref}' of agent '${a.spec.name}' does not exist; not imported`, a.source));
        continue;
      }
      const rel = `imported/${a.spec.name}/${basename(abs)}`;
      writes.push(() => copyKnowledge(into, abs, rel, !!opts.force));
      knowledge.push(rel);
    }
    if (knowledge.length) spec.knowledge = [...new Set(knowledge)];
    else delete spec.knowledge;
    writes.push(() => writeAgent(into, spec.name, spec, a.instructions, !!opts.force));
    report.agents.push(spec.name);
  }
  for (const [name, { server }] of [...registry].sort(([x], [y]) => x.localeCompare(y))) {
    writes.push(() => writeMcp(into, name, server, !!opts.force));
    report.mcp.push(name);
  }
  if (!existsSync(join(into, MANIFEST_FILE))) {
    writes.push(() => writeManifestFile(into, `name: ${JSON.stringify(basename(into))}\ntargets: [${adapter.id}]\n`));
  }
  if (opts.strict && report.warnings.length) {
    report.refused = true;
    return report;
  }
  for (const w of writes) report.written.push(w());
  return report;
}

/** Keys of env and headers whose values are credentials. */
const SECRET_KEY = /token|secret|password|passwd|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth|bearer|cookie|session/i;

/**
 * A literal credential in an MCP server's env or headers is not copied into the library (a git
 * repository): the library refers to an environment variable instead, and a warning names it.
 * `${VAR}` references are kept as they are.
 */
function withoutLiteralSecrets(name: string, server: McpServer, file: string, warnings: Diagnostic[]): McpServer {
  const out: McpServer = { ...server };
  const replaced: string[] = [];
  if (server.env) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(server.env)) {
      if (v && !hasEnvRef(v) && SECRET_KEY.test(k)) {
        env[k] = `\${${k}}`;
        replaced.push(`env ${k} -> \${${k}}`);
      } else env[k] = v;
    }
    out.env = env;
  }
  if (server.headers) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(server.headers)) {
      if (v && !hasEnvRef(v) && SECRET_KEY.test(k)) {
        const variable = `${name}_${k}`
          .toUpperCase()
          .replace(/[^A-Z0-9]+/g, "_")
          .replace(/^_+|_+$/g, "");
        const scheme = /^(Bearer|Basic|Token)\s+\S/i.exec(v)?.[1];
        headers[k] = scheme ? `${scheme} \${${variable}}` : `\${${variable}}`;
        replaced.push(`header ${k} -> ${headers[k]}`);
      } else headers[k] = v;
    }
    out.headers = headers;
  }
  if (replaced.length) {
    warnings.push({
      severity: "warning",
      code: "literal-secret",
      message: `MCP server '${name}' holds literal credentials; they are not copied into the library, which refers to environment variables instead: ${replaced.join(", ")}`,
      file,
      hint: "set those variables where the tools run (the exported files refer to them too), and rotate the credential if the file was ever shared",
    });
  }
  return out;
}

function dirnameOf(p: string): string {
  return p.replace(/\/[^/]*$/, "") || "/";
}

function warning(message: string, file?: string, hint?: string): Diagnostic {
  return { severity: "warning", code: "import", message, ...(file ? { file } : {}), ...(hint ? { hint } : {}) };
}
