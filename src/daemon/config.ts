// The daemon configuration (`daemon.yaml`): which libraries to serve, the state folder, where the
// HTTP API listens, which actions are enabled, retention. Command-line flags override the file,
// and a library can be served with no file at all.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { defaultStateDir } from "../adapters/export.ts";
import { ApiConfig, type ApiConfigInput } from "./api/config.ts";
import { ConfigError, type Diagnostic } from "../library/diagnostics.ts";
import { parseYaml, zodIssuesToDiagnostics } from "../library/yaml-source.ts";
import { PluginEntry, Slug } from "../library/schema.ts";
import { Duration, parseDuration } from "../workflows/duration.ts";

const DEFAULT_LISTEN = "127.0.0.1:7411";
/** In the state folder: the URL of the running daemon's API, for `aicfg trigger` on the same machine. */
export const API_URL_FILE = "api-url";

const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be HOST:PORT, e.g. 127.0.0.1:7411 or [::1]:7411")
  .refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, "port must be at most 65535");

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

/** Where runs, logs, the occurrence ledger, deliveries and settings live. */
const StoreSpec = z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("file").describe("files in the state folder (one daemon per state folder)") }),
    z
      .strictObject({
        kind: z.literal("postgres").describe("PostgreSQL, shared by several daemon replicas: each schedule slot runs once across them"),
        url: z.string().min(1).optional().describe("postgres://user@host:5432/db; better url_env or url_file, so no password sits in this file"),
        url_env: EnvName.optional().describe("the environment variable that holds the connection URL"),
        url_file: z.string().min(1).optional().describe("a file holding the connection URL (a systemd credential, a mounted secret); relative to this file"),
        lease: Duration.optional().describe("how long a replica holds a run without a heartbeat before another takes it over (default 15s)"),
      })
      .refine((s) => [s.url, s.url_env, s.url_file].filter((x) => x !== undefined).length === 1, {
        message: "set exactly one of url, url_env and url_file",
      }),
  ])
  .describe("the run store: kind file (default) or postgres");

export const DaemonConfigSpec = z.strictObject({
  $schema: z.string().optional(),
  libraries: z
    .array(
      z.union([
        z.string().min(1),
        z.strictObject({
          path: z.string().min(1),
          repository: z
            .string()
            .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name")
            .optional()
            .describe("the GitHub repository whose push webhooks feed this library (default: from its git remote 'origin')"),
          branch: z.string().min(1).optional().describe("the branch those pushes must be on (default: the checked-out branch)"),
          org: Slug.optional().describe("the organization the library belongs to (default: default); only that org's tokens and users see it"),
        }),
      ]),
    )
    .optional()
    .describe("library folders to serve (relative to this file)"),
  plugins: z
    .array(PluginEntry)
    .optional()
    .describe("plugins the daemon loads besides those of each library's aicfg.yaml; pinned in aicfg.lock beside this file"),
  state_dir: z.string().min(1).optional().describe("runs, logs, watermarks, the ownership manifest and backups (default $XDG_STATE_HOME/aicfg)"),
  listen: Listen.optional().describe(`where the HTTP API listens (default ${DEFAULT_LISTEN}; loopback unless auth is configured)`),
  actions: z
    .strictObject({
      shell: z.strictObject({ enabled: z.boolean() }).optional().describe("the shell action runs programs: off unless you trust every workflow author"),
      git: z.strictObject({ allow_file_remotes: z.boolean().optional() }).optional(),
      export: z
        .strictObject({
          roots: z
            .array(z.string().min(1))
            .optional()
            .describe(
              "the only folders exports may write into (project roots or home folders, and folders under them); relative to this file, ~/ is the home folder. Default: the library's export root and the roots workflow files name",
            ),
        })
        .optional(),
      backup: z
        .strictObject({
          dirs: z
            .array(z.string().min(1))
            .optional()
            .describe("the only folders a backup step's dir may point into (the state folder is always allowed); relative to this file, ~/ is the home folder"),
          s3: z
            .array(
              z
                .string()
                .regex(
                  /^https?:\/\/[^/\s]+\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/,
                  "must be <endpoint>/<bucket>[/<prefix>], e.g. https://s3.eu-west-1.amazonaws.com/team-backups/aicfg/",
                ),
            )
            .optional()
            .describe(
              "the only S3 destinations a backup step's s3 may name, as <endpoint>/<bucket>[/<prefix>] (e.g. https://s3.eu-west-1.amazonaws.com/team-backups/aicfg/); unset: any",
            ),
        })
        .optional(),
    })
    .optional(),
  env_allowlist: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .optional()
    .describe("environment variables workflows may read as env.NAME (and notify secrets)"),
  retention: z
    .strictObject({
      keep_runs: z.number().int().min(1).optional().describe("finished runs kept per workflow (default 200)"),
      max_age: Duration.optional().describe("finished runs older than this are deleted (default 30d)"),
      sweep_interval: Duration.optional().describe("how often retention and crash recovery run (default 10m)"),
    })
    .optional(),
  drain_timeout: Duration.optional().describe("on SIGTERM, how long in-flight runs may finish (default 30s)"),
  api: ApiConfig.omit({ host: true, port: true })
    .partial()
    .optional()
    .describe("HTTP API settings: allowed hosts and origins, probes, limits, the GitHub webhook secret (the address is 'listen')"),
  store: StoreSpec.optional(),
  recovery: z
    .strictObject({ retry_interrupted: z.boolean().optional().describe("start a new attempt of runs interrupted by a crash (default false)") })
    .optional(),
});
export type DaemonConfigSpec = z.infer<typeof DaemonConfigSpec>;

/** Where the PostgreSQL URL comes from: read when the store opens, so the URL is not kept in the config. */
export type PgUrlSource = { url: string } | { env: string } | { file: string };
type StoreConfig = { kind: "file" } | { kind: "postgres"; urlFrom: PgUrlSource; leaseMs: number };

/** The effective configuration after the file and the flags are combined. */
export type DaemonConfig = {
  /** The run store (default: files in the state folder). */
  store?: StoreConfig;
  libraries: string[];
  stateDir: string;
  listen: { host: string; port: number; text: string };
  shellEnabled: boolean;
  allowFileRemotes: boolean;
  /** `actions.export.roots`, absolute: when set, exports write only inside these. */
  exportRoots?: string[];
  /** `actions.backup.dirs`, absolute: when set, a backup step's dir must be inside one (or the state folder). */
  backupDirs?: string[];
  /** `actions.backup.s3`: when set, a backup step's S3 destination must be under one of these `<origin>/<bucket>/<prefix>`. */
  backupS3?: string[];
  envAllowlist: string[];
  keepRuns: number;
  maxAgeMs: number;
  sweepIntervalMs: number;
  drainTimeoutMs: number;
  retryInterrupted: boolean;
  /** The `api:` section (the address comes from `listen`). */
  api?: ApiConfigInput;
  /** GitHub repository and branch per library root, where the config names them. */
  libraryGit?: Record<string, { repository?: string; branch?: string }>;
  /** The org per library root, where the config names one (otherwise the default org). */
  libraryOrg?: Record<string, string>;
  /** `plugins:` of daemon.yaml, as written (resolved against the file's folder by the plugin loader). */
  plugins?: PluginEntry[];
  /** The file it came from, if any. */
  file?: string;
};

export type DaemonFlags = { config?: string; libraries?: string[]; stateDir?: string; listen?: string };

function parseListen(text: string): { host: string; port: number; text: string } {
  const r = Listen.safeParse(text);
  if (!r.success)
    throw new ConfigError("bad-listen", `--listen ${JSON.stringify(text)}: ${r.error.issues[0]!.message}`, { hint: "e.g. --listen 127.0.0.1:7411" });
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(text.slice(i + 1)), text };
}

function readDaemonConfigFile(file: string): DaemonConfigSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("config-unreadable", `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  const parsed = parseYaml(text, file);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  let spec: DaemonConfigSpec | undefined;
  if (!diagnostics.some((d) => d.severity === "error")) {
    const r = DaemonConfigSpec.safeParse(parsed.value ?? {}, { reportInput: true });
    if (r.success) spec = r.data;
    else
      diagnostics.push(
        ...zodIssuesToDiagnostics(r.error.issues, file, parsed.locate, {
          knownKeys: (p) => (p.length === 0 ? Object.keys(DaemonConfigSpec.shape) : undefined),
        }),
      );
  }
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (!spec || errors.length) {
    const first = errors[0]!;
    throw new ConfigError(first.code, first.message, {
      file,
      ...(first.line !== undefined ? { line: first.line, col: first.col ?? 1 } : {}),
      ...(first.hint ? { hint: first.hint } : {}),
      diagnostics,
    });
  }
  return spec;
}

/** Combines the config file (if any) with the flags; flags win. */
export function resolveDaemonConfig(flags: DaemonFlags, cwd: string, env: Record<string, string | undefined> = process.env): DaemonConfig {
  let spec: DaemonConfigSpec = {};
  let base = cwd;
  let file: string | undefined;
  if (flags.config) {
    file = resolve(cwd, flags.config);
    if (!existsSync(file)) throw new ConfigError("config-not-found", `config file ${file} does not exist`, { hint: "omit --config to run with flags only" });
    spec = readDaemonConfigFile(file);
    base = dirname(file);
  }
  const libraries = flags.libraries?.length
    ? flags.libraries.map((l) => resolve(cwd, l))
    : (spec.libraries ?? []).map((l) => resolve(base, typeof l === "string" ? l : l.path));
  if (libraries.length === 0) {
    throw new ConfigError("no-libraries", "no library to serve", { hint: "pass --library DIR (repeatable) or list libraries: in daemon.yaml" });
  }
  const stateDir = flags.stateDir ? resolve(cwd, flags.stateDir) : spec.state_dir ? resolve(base, spec.state_dir) : defaultStateDir(env);
  const folders = (list: string[] | undefined) =>
    list?.map((p) => (p === "~" || p.startsWith("~/") ? resolve(env.HOME || homedir(), p.slice(2)) : resolve(base, p)));
  const exportRoots = folders(spec.actions?.export?.roots);
  const backupDirs = folders(spec.actions?.backup?.dirs);
  return {
    libraries: [...new Set(libraries)],
    stateDir,
    listen: parseListen(flags.listen ?? spec.listen ?? DEFAULT_LISTEN),
    shellEnabled: spec.actions?.shell?.enabled ?? false,
    allowFileRemotes: spec.actions?.git?.allow_file_remotes ?? false,
    ...(exportRoots ? { exportRoots } : {}),
    ...(backupDirs ? { backupDirs } : {}),
    ...(spec.actions?.backup?.s3 ? { backupS3: spec.actions.backup.s3 } : {}),
    envAllowlist: spec.env_allowlist ?? [],
    keepRuns: spec.retention?.keep_runs ?? 200,
    maxAgeMs: parseDuration(spec.retention?.max_age ?? "30d"),
    sweepIntervalMs: parseDuration(spec.retention?.sweep_interval ?? "10m"),
    drainTimeoutMs: parseDuration(spec.drain_timeout ?? "30s"),
    retryInterrupted: spec.recovery?.retry_interrupted ?? false,
    ...(spec.store?.kind === "postgres"
      ? {
          store: {
            kind: "postgres" as const,
            urlFrom:
              spec.store.url !== undefined
                ? { url: spec.store.url }
                : spec.store.url_env !== undefined
                  ? { env: spec.store.url_env }
                  : { file: resolve(base, spec.store.url_file!) },
            leaseMs: parseDuration(spec.store.lease ?? "15s"),
          },
        }
      : {}),
    api: spec.api ?? {},
    libraryGit: Object.fromEntries(
      (spec.libraries ?? []).flatMap((l) =>
        typeof l === "string" || (!l.repository && !l.branch)
          ? []
          : [[resolve(base, l.path), { ...(l.repository ? { repository: l.repository } : {}), ...(l.branch ? { branch: l.branch } : {}) }]],
      ),
    ),
    libraryOrg: Object.fromEntries((spec.libraries ?? []).flatMap((l) => (typeof l === "string" || !l.org ? [] : [[resolve(base, l.path), l.org]]))),
    ...(spec.plugins?.length ? { plugins: spec.plugins } : {}),
    ...(file ? { file } : {}),
  };
}

/** The PostgreSQL connection URL of a postgres store, read from where the config says. */
export function readPgUrl(from: PgUrlSource, env: Record<string, string | undefined> = process.env): string {
  if ("url" in from) return from.url;
  if ("env" in from) {
    const v = env[from.env];
    if (!v)
      throw new ConfigError("store-url-missing", `store.url_env names ${from.env}, but that environment variable is not set`, {
        hint: `export ${from.env}=postgres://…`,
      });
    return v.trim();
  }
  try {
    const v = readFileSync(from.file, "utf8").trim();
    if (v) return v;
  } catch (e) {
    throw new ConfigError("store-url-missing", `cannot read store.url_file ${from.file}: ${(e as Error).message}`, { file: from.file });
  }
  throw new ConfigError("store-url-missing", `store.url_file ${from.file} is empty`, { file: from.file, hint: "write the postgres:// URL into it" });
}
