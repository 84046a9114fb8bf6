// The zod schemas of every file a user writes in a library. They are the single source of truth:
// types are inferred from them, JSON Schemas under schemas/ are generated from them, and
// validation errors are produced by them.
import { z } from "zod";

/**
 * Names become file names in the tools' folders, and Windows cannot create a file called CON, PRN,
 * AUX, NUL, COM1-9 or LPT1-9 in any case and with any extension (`nul.md` opens the null device).
 * Spelled without the `i` flag so the generated JSON Schemas (which carry no flags) mean the same.
 */
const anyCase = (w: string): string => [...w].map((c) => `[${c}${c.toUpperCase()}]`).join("");
export const WINDOWS_DEVICE_NAME = new RegExp(
  `^(?!(?:${["con", "prn", "aux", "nul"].map(anyCase).join("|")}|(?:${anyCase("com")}|${anyCase("lpt")})[1-9\u00b9\u00b2\u00b3])(?:\\.|$))`,
);
export const WINDOWS_DEVICE_MESSAGE = "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension)";

/** Agent, skill and command names: lowercase slug, 1-64 characters. */
export const Slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, "must be a lowercase slug: letters, digits, '-' or '_' (e.g. code-reviewer)")
  .regex(WINDOWS_DEVICE_NAME, WINDOWS_DEVICE_MESSAGE);

/** MCP server names as the tools accept them (Codex: [A-Za-z0-9_-]; dots are common in the wild). */
export const McpName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-', starting with a letter or digit")
  .regex(/[^.]$/, "must not end in '.' (Windows drops a trailing dot from file names)")
  .regex(WINDOWS_DEVICE_NAME, WINDOWS_DEVICE_MESSAGE);

/** The target id of an adapter (validated against the adapter registry when a library is checked). */
const TargetId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a target id such as claude-code");

/**
 * The universal tool vocabulary. Each adapter maps these to the tool's own names
 * (Q: fs_read/execute_bash, Kiro: read/shell, Claude Code: Read/Bash, ...).
 */
export const BUILTIN_TOOLS = ["read", "write", "shell", "grep", "glob", "web_fetch", "web_search", "aws", "todo", "thinking", "knowledge", "delegate"] as const;
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

/** `read`, `*`, `@server` (all tools of an MCP server) or `@server/tool`. */
export const ToolRef = z
  .string()
  .regex(
    new RegExp(`^(?:\\*|${BUILTIN_TOOLS.join("|")}|@[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9_.*?-]+)?)$`),
    `must be '*', one of ${BUILTIN_TOOLS.join(", ")}, '@server' or '@server/tool'`,
  );

/** Secret names are environment-variable names: an export that can refer to one writes `${NAME}`. */
export const SecretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment-variable name: letters, digits and '_', not starting with a digit (at most 128)");

/** `{ secret: NAME }`: a value kept encrypted in the secret store (`aicfg secret set NAME`), never in the library. */
export const SecretRef = z
  .strictObject({ secret: SecretName.describe("the name given to 'aicfg secret set'") })
  .describe("a value from the encrypted secret store");
export type SecretRef = z.infer<typeof SecretRef>;

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secret?: unknown }).secret === "string";
}

/** The MCP server shape, with env and header values of the given kind. */
function mcpServerSchema<V extends z.ZodType<string | SecretRef>>(value: V) {
  return z
    .strictObject({
      $schema: z.string().optional(),
      description: z.string().max(1024).optional(),
      type: z.enum(["stdio", "http", "sse"]).optional().describe("defaults to stdio with a command, http with a url"),
      command: z.string().min(1).optional(),
      args: z.array(z.string()).optional(),
      env: z.record(z.string(), value).optional(),
      cwd: z.string().optional(),
      url: z.url().optional(),
      headers: z.record(z.string(), value).optional(),
      timeout: z.number().int().positive().optional().describe("request timeout in milliseconds"),
      disabled: z.boolean().optional(),
      autoApprove: z.array(z.string()).optional().describe("tools of this server used without confirmation"),
      includeTools: z.array(z.string()).optional(),
      excludeTools: z.array(z.string()).optional(),
      oauth: z.strictObject({ scopes: z.array(z.string()).optional(), redirectUri: z.string().optional() }).optional(),
    })
    .superRefine((s, ctx) => {
      const remote = s.type === "http" || s.type === "sse";
      if (remote && !s.url) ctx.addIssue({ code: "custom", path: ["url"], message: `a ${s.type} server needs a url` });
      if (!remote && !s.url && !s.command) ctx.addIssue({ code: "custom", path: ["command"], message: "a server needs a command (stdio) or a url (http)" });
      if (s.command && s.url) ctx.addIssue({ code: "custom", path: ["url"], message: "give either command or url, not both" });
      if (s.type === "stdio" && s.url) ctx.addIssue({ code: "custom", path: ["type"], message: "a stdio server takes a command, not a url" });
    });
}

/**
 * An MCP server as the model holds it and adapters render it: every value a string. `${VAR}` in
 * command, args, env, url and headers means the environment variable VAR.
 */
export const McpServer = mcpServerSchema(z.string());
export type McpServer = z.infer<typeof McpServer>;

/**
 * An MCP server as a user writes it (mcp/<name>.yaml, inline in an agent): an env or header value may
 * also be `{ secret: NAME }`. Loading turns each into `${NAME}` plus a note of which fields are secrets
 * (`McpSecretFields`); the export decides per target what to write (src/adapters/secrets.ts).
 */
export const McpServerSource = mcpServerSchema(z.union([z.string(), SecretRef]));
export type McpServerSource = z.infer<typeof McpServerSource>;

/** `env.KEY` / `headers.KEY` -> the secret name it refers to. */
export type McpSecretFields = Record<string, string>;

/** Splits a written server into the model's string-only server and its secret fields. */
export function splitSecretRefs(source: McpServerSource): { server: McpServer; secrets: McpSecretFields } {
  const secrets: McpSecretFields = {};
  const strings = (rec: Record<string, string | SecretRef> | undefined, where: string): Record<string, string> | undefined => {
    if (!rec) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (typeof v === "string") out[k] = v;
      else {
        secrets[`${where}.${k}`] = v.secret;
        out[k] = `\${${v.secret}}`;
      }
    }
    return out;
  };
  const { env, headers, ...rest } = source;
  const server: McpServer = { ...rest };
  const e = strings(env, "env");
  const h = strings(headers, "headers");
  if (e) server.env = e;
  if (h) server.headers = h;
  return { server, secrets };
}

const Globs = z.array(z.string().min(1));

export const ToolSettings = z
  .strictObject({
    read: z.strictObject({ allowedPaths: Globs.optional(), deniedPaths: Globs.optional() }).optional(),
    write: z.strictObject({ allowedPaths: Globs.optional(), deniedPaths: Globs.optional() }).optional(),
    shell: z
      .strictObject({
        allowedCommands: z.array(z.string()).optional(),
        deniedCommands: z.array(z.string()).optional(),
        autoAllowReadonly: z.boolean().optional(),
      })
      .optional(),
    web_fetch: z.strictObject({ allowedDomains: z.array(z.string()).optional(), deniedDomains: z.array(z.string()).optional() }).optional(),
    aws: z
      .strictObject({
        allowedServices: z.array(z.string()).optional(),
        deniedServices: z.array(z.string()).optional(),
        autoAllowReadonly: z.boolean().optional(),
      })
      .optional(),
  })
  .describe("per-tool settings: allowed paths and commands");
export type ToolSettings = z.infer<typeof ToolSettings>;

export const Hook = z.strictObject({
  command: z.string().min(1),
  matcher: z.string().optional().describe("tool name pattern (beforeTool / afterTool only)"),
  timeout: z.number().int().positive().optional().describe("milliseconds"),
});
export type Hook = z.infer<typeof Hook>;

export const HOOK_EVENTS = ["sessionStart", "promptSubmit", "beforeTool", "afterTool", "stop"] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

export const Hooks = z.strictObject({
  sessionStart: z.array(Hook).optional(),
  promptSubmit: z.array(Hook).optional(),
  beforeTool: z.array(Hook).optional(),
  afterTool: z.array(Hook).optional(),
  stop: z.array(Hook).optional(),
});
export type Hooks = z.infer<typeof Hooks>;

export const KnowledgeMode = z.enum(["always", "on-demand"]);
export type KnowledgeMode = z.infer<typeof KnowledgeMode>;

const KnowledgeRef = z.union([z.string().min(1), z.strictObject({ path: z.string().min(1), mode: KnowledgeMode.optional() })]);

/** Model hint: one id for every tool, or one per target with an optional `default`. */
const ModelHint = z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]);

const InlineMcp = McpServerSource.and(z.object({ name: McpName }));

/** The frontmatter of `agents/<name>.md`; the markdown body is the agent's instructions. */
export const AgentSpec = z.strictObject({
  name: Slug.optional().describe("defaults to the file name"),
  displayName: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("the name people see, for targets that show one (e.g. 'powershell-5.1-expert', imported as powershell-5-1-expert); defaults to name"),
  description: z.string().min(1).max(1024).describe("what the agent is for; tools show it when choosing an agent"),
  model: ModelHint.optional(),
  knowledge: z.array(KnowledgeRef).optional().describe("globs into knowledge/, e.g. common/** or {path, mode: on-demand}"),
  mcp: z
    .array(z.union([McpName, InlineMcp]))
    .optional()
    .describe("names from mcp/ or inline servers with a name"),
  tools: z
    .strictObject({
      allow: z.array(ToolRef).optional().describe("tools the agent may use; absent means all"),
      deny: z.array(ToolRef).optional().describe("tools the agent must not use"),
      trusted: z.array(ToolRef).optional().describe("tools used without asking for confirmation"),
    })
    .optional(),
  toolSettings: ToolSettings.optional(),
  hooks: Hooks.optional(),
  targets: z.array(TargetId).optional().describe("targets this agent exports to; default: the library's targets"),
  tags: z.array(z.string()).optional(),
  extensions: z.record(TargetId, z.record(z.string(), z.unknown())).optional().describe("fields only one tool has"),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

/** Optional frontmatter of a knowledge file. */
export const KnowledgeSpec = z.strictObject({
  title: z.string().optional(),
  description: z.string().max(1024).optional(),
  tags: z.array(z.string()).optional(),
  applyTo: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe("file globs this knowledge applies to (rules targets)"),
  mode: KnowledgeMode.optional(),
});
export type KnowledgeSpec = z.infer<typeof KnowledgeSpec>;

/** The frontmatter of `skills/<name>/SKILL.md` (Agent Skills format). */
export const SkillSpec = z
  .object({
    name: Slug,
    description: z.string().min(1).max(1024),
    license: z.string().optional(),
    compatibility: z.string().max(500).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    "allowed-tools": z.string().optional(),
  })
  .loose();
export type SkillSpec = z.infer<typeof SkillSpec>;

/** The frontmatter of `commands/<name>.md` (a reusable prompt / slash command). */
export const CommandSpec = z.strictObject({
  name: Slug.optional(),
  description: z.string().min(1).max(1024),
  "argument-hint": z.string().optional(),
  model: z.string().optional(),
  targets: z.array(TargetId).optional(),
});
export type CommandSpec = z.infer<typeof CommandSpec>;

export const ExportScope = z.enum(["project", "user"]);
export type ExportScope = z.infer<typeof ExportScope>;

/**
 * Where a git layer comes from. Checked here, in the schema, so a bad value in aicfg.yaml is an error at its
 * file:line:col before git ever sees it (security goal G03): nothing starting with '-' (git would read it as an
 * option, e.g. --upload-pack=...), no transport helpers (ext::sh -c ...), no control characters, and only
 * https, ssh, scp-like (git@host:path), file:// and local paths (relative to the library) as protocols.
 */
const LayerUrl = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[^-]/, "must not start with '-' (git would read it as an option)")
  .regex(/^(?!.*::)/, "must not use a transport helper ('ext::', 'fd::', ...)")
  .regex(/^(?!.*:\/\/-)(?!.*@-)/, "must not have a user or host starting with '-' (ssh would read it as an option)")
  .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters")
  .regex(
    /^(?:https:\/\/|ssh:\/\/|file:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:|\/|\.\.?\/)/,
    "must be an https:// or ssh:// URL, git@host:path, a file:// URL, or a local path starting with /, ./ or ../",
  );

/** A branch, a tag or a full commit id. Same rules as git's ref names, minus anything an option parser could take. */
export const LayerRef = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^-]/, "must not start with '-' (git would read it as an option)")
  .regex(/^[A-Za-z0-9._/-]+$/, "must be a branch, a tag or a commit id: letters, digits, '.', '_', '/' and '-'")
  .regex(
    /^(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)(?!.*\.$)/,
    "is not a valid git ref name (no '..', '//', leading or trailing '/', trailing '.' or '.lock')",
  );

/** A folder inside a layer's repository. */
export const LayerPath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^-/\\]/, "must be a relative path inside the repository (not starting with '/', '\\' or '-')")
  .regex(/^[^\u0000-\u001f\u007f\\]*$/, "must not contain control characters or backslashes")
  .regex(/^(?!(?:.*\/)?\.\.(?:\/|$))/, "must not contain '..' segments");

/** One git layer: org and team libraries that live in their own repositories, layered under this one in order. */
export const LayerSpec = z.strictObject({
  name: Slug.describe("the layer's name: shown as provenance ('aicfg explain') and used by 'aicfg library update NAME'"),
  url: LayerUrl.describe("a git URL (https://, ssh://, git@host:path, file://) or a local path relative to this library"),
  ref: LayerRef.describe("a branch (follows it on 'aicfg library update'), a tag, or a full commit id"),
  path: LayerPath.optional().describe("the folder inside the repository that holds the library (default: the repository root)"),
});
export type LayerSpec = z.infer<typeof LayerSpec>;

/** How an adopted copy merges an upstream update (library/merge.ts). */
export const MergePolicyName = z
  .enum(["three-way", "upstream-wins", "local-wins", "union"])
  .describe(
    "three-way: field by field + diff3 body (default); upstream-wins / local-wins: that whole file; union: like three-way, conflicting body hunks keep both sides",
  );

export const MergeRule = z.strictObject({
  path: z
    .string()
    .min(1)
    .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))/, "must be a glob relative to the library, without a leading '/' or '..'")
    .describe("glob of library-relative paths, e.g. policies/** (first matching rule wins)"),
  policy: MergePolicyName,
});
export type MergeRule = z.infer<typeof MergeRule>;

/**
 * One entry of `plugins:` (aicfg.yaml, daemon.yaml): an npm package name (`aicfg-plugin-foo`) or a
 * path (`./plugins/bar.ts`), relative to the file; as an object it may run out of process with
 * only the capabilities granted here.
 */
export const PluginEntry = z.union([
  z.string().min(1),
  z.strictObject({
    use: z.string().min(1).describe("npm package name or ./relative/path of the plugin"),
    isolation: z
      .enum(["in-process", "process"])
      .optional()
      .describe("process: run it in a child process over JSON-RPC with only the grant below (default in-process, which needs a pin in aicfg.lock)"),
    grant: z
      .strictObject({
        write: z.array(z.string().min(1)).optional().describe("folders it may write into (relative to this file); nothing else"),
        net: z.boolean().optional().describe("may it use the network (default false)"),
      })
      .optional(),
  }),
]);
export type PluginEntry = z.infer<typeof PluginEntry>;

/** `aicfg.yaml`, the library manifest. */
export const LibraryManifest = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).max(128),
  description: z.string().optional(),
  version: z.string().optional(),
  extends: z.array(z.string().min(1)).optional().describe("libraries layered under this one: org first, then team"),
  layers: z
    .array(LayerSpec)
    .superRefine((layers, ctx) => {
      const seen = new Set<string>();
      layers.forEach((l, i) => {
        if (seen.has(l.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `layer name '${l.name}' is used twice` });
        seen.add(l.name);
      });
    })
    .optional()
    .describe("git layers under this library, org first, then team; pinned in aicfg.lock (see 'aicfg library')"),
  targets: z.array(TargetId).optional().describe("default targets of every agent"),
  defaults: z
    .strictObject({
      model: ModelHint.optional(),
      knowledge: z.array(KnowledgeRef).optional().describe("knowledge every agent gets"),
      mcp: z.array(McpName).optional(),
      tools: AgentSpec.shape.tools,
    })
    .optional(),
  export: z
    .strictObject({
      scope: ExportScope.optional(),
      root: z.string().optional().describe("project root for project scope (relative to the library)"),
    })
    .optional(),
  ignore: z.array(z.string()).optional().describe("files agents must not read (gitignore-style patterns)"),
  merge: z.array(MergeRule).optional().describe("merge policy per path glob for upstream updates of adopted files; first match wins"),
  plugins: z.array(PluginEntry).optional().describe("plugins that add adapters, actions and triggers, loaded in this order ('aicfg plugin add')"),
  limits: z
    .strictObject({
      maxFileBytes: z.number().int().positive().optional().describe("largest knowledge file accepted (default 1 MiB)"),
    })
    .optional(),
});
export type LibraryManifest = z.infer<typeof LibraryManifest>;
