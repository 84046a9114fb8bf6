// Imports a library of the earlier Python version of AI Configurator ("Phase 2", layout in
// tool-formats.md §13.2): roles become agents, mcp-servers/*.json the MCP registry, common/,
// domains/, tools/ and workflows/ knowledge, templates agent templates.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { Diagnostic } from "../../library/diagnostics.ts";
import { ImportError } from "../../library/diagnostics.ts";
import { McpName, McpServer, Slug, type AgentSpec, type ToolSettings } from "../../library/schema.ts";
import { copyKnowledge, writeAgent, writeLibraryFile, writeManifestFile, writeMcp, type WriteOutcome } from "../library-writer.ts";
import type { SkippedFile } from "../types.ts";
import { listRecursive } from "./file-source.ts";

export type ImportReport = {
  written: WriteOutcome[];
  warnings: Diagnostic[];
  agents: string[];
  mcp: string[];
  /** Native agent files not imported, with why (native imports). */
  skipped?: SkippedFile[];
  /** --strict found warnings: nothing was written. */
  refused?: boolean;
};

const KNOWLEDGE_DIRS = ["common", "domains", "tools", "workflows"];

/** Q tool names used by Phase 2 -> universal names. */
const Q_TOOLS: Record<string, string> = {
  fs_read: "read",
  fs_write: "write",
  execute_bash: "shell",
  use_aws: "aws",
  thinking: "thinking",
  todo_list: "todo",
  knowledge: "knowledge",
  introspect: "",
  report_issue: "",
};

type Phase2Server = {
  name?: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  disabled?: boolean;
  autoApprove?: string[];
  description?: string;
  url?: string;
  timeout?: number;
};

export function importPhase2(from: string, into: string, opts: { force?: boolean; targets?: string[] } = {}): ImportReport {
  if (!existsSync(join(from, "roles"))) {
    throw new ImportError("not-phase2", `${from} does not look like a Phase-2 library (no roles/ folder)`, {
      hint: "point at the folder that holds roles/, common/ and mcp-servers/",
    });
  }
  const report: ImportReport = { written: [], warnings: [], agents: [], mcp: [] };
  const force = !!opts.force;
  const warn = (message: string, file?: string, hint?: string): void => {
    report.warnings.push({ severity: "warning", code: "import", message, ...(file ? { file } : {}), ...(hint ? { hint } : {}) });
  };

  // MCP registry: mcp-servers/*.json, then servers defined in roles (same name + same config merge).
  const registry = new Map<string, McpServer>();
  const addServer = (rawName: string, raw: Phase2Server, file: string): string | undefined => {
    const name = rawName.trim();
    if (!McpName.safeParse(name).success) {
      warn(`MCP server name '${name}' is not valid; skipped`, file);
      return undefined;
    }
    const server = toServer(raw, file, warn);
    if (!server) return undefined;
    const prev = registry.get(name);
    if (prev && JSON.stringify(stripDesc(prev)) !== JSON.stringify(stripDesc(server))) {
      warn(`MCP server '${name}' is defined differently in ${file}; the registry keeps the first definition`, file, "compare the two and keep one");
      return name;
    }
    if (!prev) registry.set(name, server);
    return name;
  };
  const serverDir = join(from, "mcp-servers");
  for (const rel of existsSync(serverDir) ? listRecursive(serverDir) : []) {
    if (!rel.endsWith(".json")) continue;
    const file = join(serverDir, rel);
    const raw = readJson(file, warn) as Phase2Server | undefined;
    if (raw) addServer(raw.name ?? basename(rel, ".json"), raw, file);
  }

  // Knowledge folders.
  for (const dir of KNOWLEDGE_DIRS) {
    const abs = join(from, dir);
    if (!existsSync(abs)) continue;
    for (const rel of listRecursive(abs)) {
      report.written.push(copyKnowledge(into, join(abs, rel), `${dir}/${rel}`, force));
    }
  }

  // Roles -> agents.
  const rolesDir = join(from, "roles");
  for (const role of listRecursive(rolesDir)
    .map((r) => r.split("/")[0]!)
    .filter((v, i, a) => a.indexOf(v) === i)) {
    const roleDir = join(rolesDir, role);
    if (!statSync(roleDir).isDirectory()) continue;
    const name = role
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    if (!Slug.safeParse(name).success) {
      warn(`role '${role}' has no usable agent name; skipped`, roleDir);
      continue;
    }
    const mainFile = join(roleDir, `${role}.md`);
    const files = listRecursive(roleDir);
    const main = existsSync(mainFile) ? readFileSync(mainFile, "utf8") : undefined;
    if (main === undefined) warn(`role '${role}' has no ${role}.md; the agent gets no instructions`, roleDir);
    const spec: AgentSpec & { name: string } = { name, description: describe(main ?? "", role) };
    const knowledge: string[] = [];
    for (const rel of files) {
      if (rel === `${role}.md` || rel === "mcp.json") continue;
      if (/\.(md|txt)$/i.test(rel)) {
        report.written.push(copyKnowledge(into, join(roleDir, rel), `roles/${name}/${rel}`, force));
        knowledge.push(`roles/${name}/${rel}`);
      } else warn(`file ${rel} of role '${role}' is not markdown; not imported`, join(roleDir, rel));
    }
    if (knowledge.length) spec.knowledge = knowledge;
    const mcpFile = join(roleDir, "mcp.json");
    if (existsSync(mcpFile)) {
      const cfg = readJson(mcpFile, warn) as
        | { mcpServers?: Record<string, Phase2Server>; toolsSettings?: Record<string, Record<string, unknown>>; allowedTools?: string[] }
        | undefined;
      if (cfg) {
        const names: string[] = [];
        for (const [n, s] of Object.entries(cfg.mcpServers ?? {})) {
          const added = addServer(n, s, mcpFile);
          if (added) names.push(added);
        }
        if (names.length) spec.mcp = names;
        const trusted = mapTools(cfg.allowedTools ?? [], mcpFile, warn);
        if (trusted.length) spec.tools = { trusted };
        const settings = mapSettings(cfg.toolsSettings ?? {}, mcpFile, warn);
        if (Object.keys(settings).length) spec.toolSettings = settings;
      }
    }
    report.written.push(writeAgent(into, name, spec, main ?? "", force));
    report.agents.push(name);
  }

  for (const [name, server] of [...registry].sort(([a], [b]) => a.localeCompare(b))) {
    report.written.push(writeMcp(into, name, server, force));
    report.mcp.push(name);
  }

  // Templates: Phase-2 prompt templates become agent templates.
  const tplDir = join(from, "templates");
  for (const rel of existsSync(tplDir) ? listRecursive(tplDir) : []) {
    if (!rel.endsWith(".md")) continue;
    const body = readFileSync(join(tplDir, rel), "utf8");
    const tname = basename(rel, ".md").replace(/-q-cli$/, "");
    report.written.push(
      writeLibraryFile(into, `templates/${tname}.md`, `---\ndescription: "{{description}}"\nknowledge:\n  - common/**\n---\n\n${body.trim()}\n`, force),
    );
  }

  const targets = opts.targets ?? ["q-cli", "kiro-cli", "claude-code"];
  const manifest = [
    `name: ${JSON.stringify(basename(from) || "imported")}`,
    `description: Imported from the Phase-2 library at ${JSON.stringify(from)}`,
    `targets: [${targets.join(", ")}]`,
    ...(existsSync(join(from, "common")) ? ["defaults:", "  knowledge:", "    - common/**   # org-wide policies applied to every role"] : []),
    "",
  ].join("\n");
  report.written.push(writeManifestFile(into, manifest, force));
  for (const w of report.written) if (w.action === "skipped" && w.reason !== "already exists") warn(`${w.path} ${w.reason}`, w.path);
  return report;
}

function describe(text: string, role: string): string {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("```")) continue;
    const sentence = line
      .replace(/\*\*/g, "")
      .split(/(?<=\.)\s/)[0]!
      .trim();
    return sentence.length > 200 ? sentence.slice(0, 197) + "..." : sentence;
  }
  return `The ${role.replace(/-/g, " ")} role`;
}

function stripDesc(s: McpServer): McpServer {
  const { description: _d, ...rest } = s;
  return rest as McpServer;
}

function toServer(raw: Phase2Server, file: string, warn: (m: string, f?: string, h?: string) => void): McpServer | undefined {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.env ?? {})) {
    // Placeholders such as "<your-github-token>" are not values: refer to the environment instead.
    if (/^<[^>]+>$/.test(v)) {
      env[k] = `\${${k}}`;
      warn(`env ${k} held the placeholder ${v}; it now reads $${k} from the environment`, file);
    } else env[k] = v;
  }
  const candidate: Record<string, unknown> = {
    ...(raw.description ? { description: raw.description } : {}),
    ...(raw.url ? { type: "http", url: raw.url } : { command: raw.command }),
    ...(raw.args?.length ? { args: raw.args } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(raw.timeout ? { timeout: raw.timeout } : {}),
    ...(raw.disabled ? { disabled: true } : {}),
    ...(raw.autoApprove?.length ? { autoApprove: raw.autoApprove } : {}),
  };
  const r = McpServer.safeParse(candidate);
  if (!r.success) {
    warn(`MCP server in ${file} is not valid: ${r.error.issues[0]?.message}`, file);
    return undefined;
  }
  return r.data;
}

function mapTools(tools: string[], file: string, warn: (m: string, f?: string) => void): NonNullable<AgentSpec["tools"]>["trusted"] & string[] {
  const out: string[] = [];
  for (const t of tools) {
    const trimmed = t.trim();
    if (trimmed.startsWith("@")) out.push(trimmed);
    else if (Q_TOOLS[trimmed]) out.push(Q_TOOLS[trimmed]!);
    else warn(`tool '${trimmed}' has no universal equivalent; not imported`, file);
  }
  return [...new Set(out)] as string[];
}

function mapSettings(raw: Record<string, Record<string, unknown>>, file: string, warn: (m: string, f?: string) => void): ToolSettings {
  const out: ToolSettings = {};
  const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);
  for (const [tool, s] of Object.entries(raw)) {
    if (tool === "fs_read" || tool === "fs_write") {
      const key = tool === "fs_read" ? "read" : "write";
      out[key] = {
        ...(strs(s.allowedPaths) ? { allowedPaths: strs(s.allowedPaths)! } : {}),
        ...(strs(s.deniedPaths) ? { deniedPaths: strs(s.deniedPaths)! } : {}),
      };
    } else if (tool === "execute_bash") {
      const ro = s.autoAllowReadonly ?? s.allowReadOnly; // Phase 2 wrote allowReadOnly, Q reads autoAllowReadonly
      out.shell = {
        ...(strs(s.allowedCommands) ? { allowedCommands: strs(s.allowedCommands)! } : {}),
        ...(strs(s.deniedCommands) ? { deniedCommands: strs(s.deniedCommands)! } : {}),
        ...(typeof ro === "boolean" ? { autoAllowReadonly: ro } : {}),
      };
    } else if (tool === "use_aws") {
      out.aws = {
        ...(strs(s.allowedServices) ? { allowedServices: strs(s.allowedServices)! } : {}),
        ...(strs(s.deniedServices) ? { deniedServices: strs(s.deniedServices)! } : {}),
      };
    } else warn(`settings of tool '${tool}' have no universal equivalent; not imported`, file);
  }
  return out;
}

function readJson(file: string, warn: (m: string, f?: string, h?: string) => void): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    warn(`not valid JSON (${(e as Error).message}); skipped`, file, "fix the file and import again");
    return undefined;
  }
}
