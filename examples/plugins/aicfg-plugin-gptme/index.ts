// aicfg-plugin-gptme: an adapter for gptme (gptme.org), the terminal agent. gptme reads a project
// config `gptme.toml` in the workspace root (docs/config.rst, "Project config"): `files`, paths it
// always includes in the context, and `prompt`, text added to the system prompt under
// "# Current Project". Each agent becomes a markdown file under .gptme/agents/ listed in `files`,
// with the always-on knowledge files next to it; on-demand knowledge becomes an index in the agent's
// file (aicfg's large-context planner, `withLargeContext`; gptme opens files with its tools). gptme has no per-project MCP, tool or model settings in
// gptme.toml, so those are reported as not expressed.
import { basename, join, relative, isAbsolute } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import {
  definePlugin,
  withLargeContext,
  type Adapter,
  type FileSource,
  type OutputFile,
  type ParseResult,
  type RenderResult,
  type Roots,
} from "ai-configurator/plugin";

const ID = "gptme";
const AGENTS_DIR = ".gptme/agents";

type Agent = Parameters<Adapter["render"]>[0][number];
type Warning = RenderResult["warnings"][number];

const quote = (s: string) => JSON.stringify(s);

function agentFile(a: Agent): string {
  return ["---", `name: ${quote(a.name)}`, `description: ${quote(a.description)}`, "---", "", a.instructions.trimEnd(), ""].join("\n");
}

function unexpressed(a: Agent): Warning[] {
  const found: [boolean, string][] = [
    [Object.keys(a.mcpServers).length > 0, "MCP servers (gptme configures MCP in the user's ~/.config/gptme/config.toml, not per project)"],
    [a.model !== undefined, "model (gptme picks the model from --model or MODEL in its user config)"],
    [(a.tools.allow?.length ?? 0) + (a.tools.deny?.length ?? 0) > 0, "tool allow/deny lists (gptme's TOOL_ALLOWLIST is a user-level setting)"],
    [Object.keys(a.toolSettings).length > 0, "tool settings"],
    [Object.keys(a.hooks).length > 0, "hooks"],
  ];
  return found
    .filter(([hit]) => hit)
    .map(([, what]) => ({
      severity: "warning" as const,
      code: "unsupported-feature",
      message: `${ID}: agent '${a.name}': ${what} not exported`,
      file: a.sourceFile,
      hint: "use a target that supports it for this agent, or set it in gptme's user config",
    }));
}

function render(agents: readonly Agent[], ctx: Parameters<Adapter["render"]>[1]): RenderResult {
  if (ctx.scope !== "project") return { files: [], warnings: [] };
  const sorted = [...agents].sort((x, y) => x.name.localeCompare(y.name));
  const files: OutputFile[] = [];
  const warnings: Warning[] = [];
  const context: string[] = [];
  const always = new Set<string>();
  for (const a of sorted) {
    warnings.push(...unexpressed(a));
    const path = join(ctx.projectRoot, AGENTS_DIR, `${a.name}.md`);
    files.push({ kind: "file", path, content: agentFile(a), agent: a.name, alwaysLoaded: true });
    context.push(`${AGENTS_DIR}/${a.name}.md`);
    for (const k of a.knowledge) if (k.mode === "always") always.add(k.absPath);
  }
  for (const abs of [...always].sort()) {
    const rel = relative(ctx.projectRoot, abs);
    context.push(rel.startsWith("..") || isAbsolute(rel) ? abs : rel);
  }
  if (!sorted.length) return { files, warnings };
  const toml = stringifyToml({
    files: context,
    prompt: `This project's agents are defined in ${AGENTS_DIR}/ (${sorted.map((a) => a.name).join(", ")}); act as the one the user names, else as ${sorted[0]!.name}.`,
  });
  files.push({
    kind: "file",
    path: join(ctx.projectRoot, "gptme.toml"),
    content: `# Written by aicfg (aicfg-plugin-gptme). Edit the library, then run 'aicfg export'.\n${toml}\n`,
  });
  return { files, warnings };
}

function frontmatter(text: string): { fields: Record<string, string>; body: string } | undefined {
  const m = /^---\n([\s\S]*?)\n---\n\n?([\s\S]*)$/.exec(text);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const line of m[1]!.split("\n")) {
    const kv = /^([a-z]+):\s*(.*)$/.exec(line);
    if (kv) fields[kv[1]!] = kv[2]!.startsWith('"') ? (JSON.parse(kv[2]!) as string) : kv[2]!;
  }
  return { fields, body: m[2]! };
}

function parse(src: FileSource, _roots: Roots): ParseResult {
  const result: ParseResult = { agents: [], warnings: [], skipped: [] };
  const config = src.read("gptme.toml");
  if (config === undefined) return result;
  let listed: string[] = [];
  try {
    const t = parseToml(config) as { files?: unknown };
    listed = Array.isArray(t.files) ? t.files.filter((f): f is string => typeof f === "string") : [];
  } catch (e) {
    result.skipped!.push({ file: join(src.root, "gptme.toml"), reason: `not valid TOML: ${(e as Error).message}`, error: true });
    return result;
  }
  for (const rel of listed.filter((f) => f.startsWith(`${AGENTS_DIR}/`) && f.endsWith(".md"))) {
    const text = src.read(rel);
    const fm = text === undefined ? undefined : frontmatter(text);
    if (!fm?.fields.name) {
      result.skipped!.push({ file: join(src.root, rel), reason: "no agent frontmatter (name, description)", error: text !== undefined });
      continue;
    }
    result.agents.push({
      spec: { name: fm.fields.name, description: fm.fields.description ?? basename(rel, ".md") } as ParseResult["agents"][number]["spec"],
      instructions: fm.body,
      mcp: {},
      knowledgeFiles: listed.filter((f) => !f.startsWith(`${AGENTS_DIR}/`)),
      source: join(src.root, rel),
    });
  }
  return result;
}

export const gptmeAdapter: Adapter = withLargeContext({
  id: ID,
  displayName: "gptme",
  description: "gptme (terminal agent): agents as files gptme.toml always includes in the context",
  scopes: ["project"],
  locations: (r) => [join(r.projectRoot, "gptme.toml"), join(r.projectRoot, AGENTS_DIR)],
  capabilities: {
    instructions: "yes",
    "knowledge-always": "yes",
    "knowledge-on-demand": "partial",
    "mcp-stdio": "no",
    "mcp-http": "no",
    "tools-allow": "no",
    "tools-deny": "no",
    "tool-settings": "no",
    hooks: "no",
    model: "no",
    skills: "no",
    commands: "no",
    ignore: "no",
  },
  render,
  parse,
  detect: async (env) => {
    const file = join(env.projectRoot, "gptme.toml");
    const bin = env.which("gptme");
    const version = bin ? (await env.run(bin, ["--version"]))?.stdout.trim().split("\n")[0] : undefined;
    return {
      installed: bin !== undefined,
      ...(bin ? { binary: { name: "gptme", path: bin, ...(version ? { version } : {}) } } : {}),
      configPaths: [
        { path: file, exists: env.exists(file) },
        { path: join(env.homeDir, ".config/gptme/config.toml"), exists: env.exists(join(env.homeDir, ".config/gptme/config.toml")) },
      ],
      exportPaths: { project: [file, join(env.projectRoot, AGENTS_DIR)], user: [] },
      notes: ["gptme reads gptme.toml from the workspace root (the working folder unless --workspace says otherwise)"],
      nextSteps: bin ? [] : ["install gptme (pipx install gptme), then run it in the project folder"],
    };
  },
  // gptme puts every listed file into the system prompt; no size limit is documented, so the budget
  // is a share of a small model window, as an assumption.
  budget: {
    max: 32_000,
    unit: "tokens",
    per: "total",
    model: "various",
    source: "[?] gptme documents no limit for files; 32k tokens is a conservative share of common context windows",
  },
  largeContext: { strategies: ["index"], source: "gptme reads files with its tools (gptme.org/docs/tools.html): on-demand knowledge is an index of paths" },
  limitations: [
    "project scope only: gptme's user config (~/.config/gptme/config.toml) holds the user's own settings",
    "gptme.toml is owned whole: a gptme.toml you wrote yourself is reported as drift, not merged",
    "no MCP servers, models, tool lists or hooks (gptme sets those in its user config)",
  ],
});

export default definePlugin({
  apiVersion: "aicfg/v1",
  name: "aicfg-plugin-gptme",
  version: "1.0.0",
  setup(ctx) {
    ctx.adapters.register(gptmeAdapter);
  },
});
