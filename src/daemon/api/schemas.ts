// The zod schemas of everything the HTTP API accepts and returns. They are the single source of
// truth: request validation uses them, the TypeScript types of ApiDeps are inferred from them and
// /v1/openapi.json is generated from them (z.toJSONSchema).
import { Action, CustomRole } from "../tenancy/policy.ts";
import { AuditRow, BindingRecord, OrgRecord, Quotas, UserRecord } from "../tenancy/types.ts";
import { z } from "zod";
import { Slug } from "../../library/schema.ts";
import { Role } from "../auth/token-store.ts";

/** Run ids, workflow and library names taken from URLs: one safe path segment each. */
const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a run id (letters, digits, '.', '_', '-')");
const LibraryName = Slug;
const WorkflowName = Slug;
const AgentName = Slug;

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().meta({ description: "stable machine-readable code, e.g. not-found, invalid-request" }),
    message: z.string(),
    hint: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

const Diagnostic = z.object({
  severity: z.enum(["error", "warning"]),
  code: z.string(),
  message: z.string(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  hint: z.string().optional(),
});

const TriggerKind = z.enum(["cron", "watch", "git", "webhook", "manual", "after", "api", "plugin"]);
const RunStatus = z.enum(["queued", "running", "success", "failure", "cancelled", "timed_out", "interrupted", "skipped"]);
type RunStatus = z.infer<typeof RunStatus>;
const IsoTime = z.iso.datetime();

const WorkflowInput = z.object({
  type: z.enum(["string", "number", "boolean"]),
  required: z.boolean(),
  default: z
    .union([
      z.string(),
      z.number(),
      z.boolean(),
      z.object({ secret: z.string() }).meta({ description: "read from the secret store when a run starts (the value is never shown)" }),
    ])
    .optional(),
  description: z.string().optional(),
});

export const WorkflowSummary = z.object({
  library: LibraryName,
  name: WorkflowName,
  description: z.string(),
  state: z.enum(["enabled", "disabled", "broken"]),
  triggers: z.array(TriggerKind),
  /** True when a step runs a command (shell, git, ...): triggering and enabling then need the admin role. */
  runsCommands: z.boolean(),
  nextRunAt: IsoTime.nullable(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

export const WorkflowDetail = WorkflowSummary.extend({
  file: z.string(),
  inputs: z.record(z.string(), WorkflowInput),
  nextOccurrences: z.array(IsoTime).meta({ description: "the next scheduled times (up to 5)" }),
  diagnostics: z.array(Diagnostic),
});
export type WorkflowDetail = z.infer<typeof WorkflowDetail>;
export const WorkflowList = z.object({ items: z.array(WorkflowSummary) });

const InputValue = z.union([z.string().max(4096), z.number(), z.boolean()]);
export const TriggerRequest = z.strictObject({ inputs: z.record(z.string().max(64), InputValue).default({}) });
export const RunQueued = z.object({ runId: RunId, status: z.literal("queued") });

const RunSummary = z.object({
  id: RunId,
  library: LibraryName,
  workflow: WorkflowName,
  status: RunStatus,
  trigger: TriggerKind,
  actor: z.string(),
  attempt: z.number().int().min(1),
  createdAt: IsoTime,
  startedAt: IsoTime.optional(),
  finishedAt: IsoTime.optional(),
  durationMs: z.number().optional(),
});
type RunSummary = z.infer<typeof RunSummary>;

const StepRecord = z.object({
  id: z.string(),
  action: z.string(),
  status: RunStatus,
  startedAt: IsoTime.optional(),
  finishedAt: IsoTime.optional(),
  durationMs: z.number().optional(),
  error: z.string().optional(),
});
export const RunDetail = RunSummary.extend({
  inputs: z.record(z.string(), InputValue),
  steps: z.array(StepRecord),
  error: z.string().optional(),
});
export type RunDetail = z.infer<typeof RunDetail>;

const Cursor = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, "must be a cursor returned by a previous page");
export const RunQuery = z.strictObject({
  library: LibraryName.optional(),
  workflow: WorkflowName.optional(),
  status: RunStatus.optional(),
  trigger: TriggerKind.optional(),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type RunQuery = z.infer<typeof RunQuery>;
export const RunPage = z.object({ items: z.array(RunSummary), nextCursor: Cursor.nullable() });
export type RunPage = z.infer<typeof RunPage>;

export const LogLine = z.object({
  seq: z.number().int().min(0),
  at: IsoTime,
  step: z.string().optional(),
  stream: z.enum(["stdout", "stderr", "system"]),
  message: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;
export const LogQuery = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1).meta({ description: "only lines with seq greater than this" }),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export const LogPage = z.object({ runId: RunId, items: z.array(LogLine) });

const OccurrenceKind = z.enum(["planned", "started", "skipped", "missed", "caught_up"]);
export const Occurrence = z.object({
  library: LibraryName,
  workflow: WorkflowName,
  scheduledAt: IsoTime,
  kind: OccurrenceKind,
  runId: RunId.optional(),
  reason: z.string().optional(),
});
export type Occurrence = z.infer<typeof Occurrence>;
export const OccurrenceQuery = z.strictObject({
  library: LibraryName.optional(),
  workflow: WorkflowName.optional(),
  kind: OccurrenceKind.optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type OccurrenceQuery = z.infer<typeof OccurrenceQuery>;
export const OccurrenceList = z.object({ items: z.array(Occurrence) });

const LibrarySummary = z.object({
  name: LibraryName,
  root: z.string(),
  git: z.object({ repository: z.string(), branch: z.string() }).optional(),
});
export const LibraryList = z.object({ items: z.array(LibrarySummary) });
export const LibraryHealth = z.object({
  library: LibraryName,
  status: z.enum(["pass", "warn", "fail"]),
  layers: z.array(z.string()),
  counts: z.object({ agents: z.number(), knowledge: z.number(), mcp: z.number(), skills: z.number(), commands: z.number(), workflowDirs: z.number() }),
  errors: z.number(),
  warnings: z.number(),
  diagnostics: z.array(Diagnostic),
});

const AgentSummary = z.object({
  name: AgentName,
  description: z.string(),
  layer: z.string().meta({ description: "the top-most layer defining the agent" }),
  layers: z.array(z.string()),
  file: z.string(),
  targets: z.array(z.string()),
  tags: z.array(z.string()),
});
export const AgentList = z.object({ library: LibraryName, items: z.array(AgentSummary) });
export const EffectiveAgent = z.object({
  library: LibraryName,
  agent: z.record(z.string(), z.unknown()).meta({ description: "the resolved agent; MCP env and header values that are not ${VAR} references are masked" }),
  provenance: z.record(z.string(), z.string()).meta({ description: "for each field, the layer it came from (or defaults/manifest)" }),
  diagnostics: z.array(Diagnostic),
});
export const ExportPlanQuery = z.strictObject({
  target: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a target id such as claude-code, or 'all' or 'detected'"),
  scope: z.enum(["project", "user"]).optional(),
});
const ExportPlanEntry = z.object({
  path: z.string(),
  action: z.enum(["create", "update", "delete", "unchanged", "drift", "conflict"]),
  /** The targets whose output this file carries (several for `all`). */
  targets: z.array(z.string()),
  kind: z.string(),
  reason: z.string().optional(),
  secret: z.boolean(),
});
export const ExportPlanView = z.object({
  library: LibraryName,
  agent: AgentName,
  target: z.string(),
  /** The targets `target` stands for (itself, or every known / detected one). */
  targets: z.array(z.string()),
  scope: z.enum(["project", "user"]),
  entries: z.array(ExportPlanEntry),
  errors: z.array(Diagnostic),
  warnings: z.array(Diagnostic),
});

const ToolView = z.object({
  id: z.string(),
  displayName: z.string(),
  installed: z.boolean(),
  binary: z.object({ name: z.string(), path: z.string(), version: z.string().optional() }).optional(),
  generation: z.string().optional(),
  configPaths: z.array(z.object({ path: z.string(), exists: z.boolean() })),
});
export const ToolList = z.object({ items: z.array(ToolView), detectedAt: IsoTime });

const TokenView = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string(),
  role: Role,
  org: LibraryName.optional(),
  library: LibraryName.optional(),
  createdAt: IsoTime,
  expiresAt: IsoTime.optional(),
});
export const TokenList = z.object({ items: z.array(TokenView) });
export const TokenCreateRequest = z.strictObject({
  role: Role,
  library: LibraryName.optional(),
  expires: z.string().max(40).optional().meta({ description: "a duration like 90d or 12h, or an ISO date" }),
  name: z.string().max(100).optional(),
});
export const TokenCreated = z.object({ token: z.string().meta({ description: "shown once; only its SHA-256 digest is stored" }), record: TokenView });

export const ApiSettingsView = z.object({
  api: z.object({
    host: z.string(),
    port: z.number(),
    unixSocket: z.string().optional(),
    allowedHosts: z.array(z.string()),
    allowedOrigins: z.array(z.string()),
    probes: z.enum(["loopback-open", "token", "open"]),
    limits: z.object({
      apiBodyBytes: z.number(),
      webhookBodyBytes: z.number(),
      webhookSmallBodyBytes: z.number(),
      webhookConcurrentBodies: z.number(),
      authFailuresPerMinute: z.number(),
      requestsPerMinutePerToken: z.number(),
    }),
    webhooks: z.object({ github: z.object({ secretConfigured: z.boolean() }) }),
    oidc: z.object({
      issuers: z.array(
        z.object({ issuer: z.string(), org: z.string(), audience: z.union([z.string(), z.array(z.string())]), algorithms: z.array(z.string()) }),
      ),
    }),
  }),
});

// Tenancy: orgs, roles, bindings, users, the audit log, the caller.
export const OrgView = OrgRecord;
export const OrgList = z.object({ items: z.array(OrgRecord) });
export const OrgParams = z.strictObject({ org: LibraryName });
export const OrgCreateRequest = z.strictObject({ id: LibraryName, name: z.string().max(200).optional(), quotas: Quotas.partial().optional() });
export const QuotaRequest = Quotas.partial();
const RoleView = z.object({ name: z.string(), actions: z.array(Action), builtin: z.boolean(), description: z.string().optional() });
export const RoleList = z.object({ items: z.array(RoleView) });
export const RoleCreateRequest = CustomRole;
export const RoleParams = z.strictObject({ org: LibraryName, role: LibraryName });
export const BindingList = z.object({ items: z.array(BindingRecord) });
export const BindingCreateRequest = z.strictObject({ subject: z.string().max(600), role: LibraryName, scope: z.string().max(300) });
export const BindingParams = z.strictObject({ org: LibraryName, id: z.string().regex(/^bnd_[0-9a-f]{16}$/) });
export const OrgTokenParams = z.strictObject({ org: LibraryName, id: z.string().regex(/^tok_[0-9a-f]{12}$/) });
export const UserList = z.object({ items: z.array(UserRecord) });
export const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const AuditPage = z.object({ items: z.array(AuditRow), next: z.number().int().nullable() });
export const AuditVerifyView = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  head: z.string().optional(),
  problem: z.object({ line: z.number().int(), seq: z.number().int().optional(), reason: z.string(), message: z.string() }).optional(),
});
export const WhoAmI = z.object({
  kind: z.enum(["token", "user"]),
  actor: z.string(),
  org: z.string(),
  serverAdmin: z.boolean(),
  subjects: z.array(z.string()),
  grants: z.array(z.object({ scope: z.string(), actions: z.array(Action), ruleId: z.string() })),
});

const HealthCheck = z.object({
  componentType: z.enum(["component", "datastore", "system"]),
  status: z.enum(["pass", "warn", "fail"]),
  time: IsoTime,
  observedValue: z.union([z.number(), z.string(), z.boolean()]).optional(),
  observedUnit: z.string().optional(),
  output: z.string().optional(),
});
export const HealthBody = z.object({
  status: z.enum(["pass", "warn", "fail"]),
  version: z.string(),
  serviceId: z.string(),
  description: z.string(),
  checks: z.record(z.string(), z.array(HealthCheck)).optional(),
});

export const StatusView = z.object({
  status: z.enum(["pass", "warn", "fail"]).describe("the /readyz verdict"),
  version: z.string(),
  checks: z.record(z.string(), z.array(HealthCheck)),
  features: z.object({
    githubWebhooks: z.object({
      secretConfigured: z.boolean(),
      usedBy: z.array(z.string()).describe("enabled workflows (library/name) whose git trigger GitHub pushes feed"),
      note: z.string(),
    }),
  }),
  scope: z
    .object({
      org: z.string().nullable().describe("the caller's org, or null for the server admin (every org)"),
      libraries: z.array(z.object({ name: LibraryName, org: z.string(), workflows: z.number().int(), enabled: z.number().int(), broken: z.number().int() })),
      runs: z.object({ running: z.number().int(), queued: z.number().int() }),
    })
    .describe("what the caller may see: its org's libraries, workflows and live runs (every org's for the server admin)"),
});

export const PushPayload = z.looseObject({
  ref: z.string().max(1024),
  after: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/),
  deleted: z.boolean().optional(),
  repository: z.looseObject({ full_name: z.string().max(300) }),
});
export const WebhookAccepted = z.object({
  status: z.enum(["queued", "ignored", "duplicate", "pong"]),
  runIds: z.array(RunId).optional(),
  reason: z.string().optional(),
});

export const NamedWorkflowParams = z.object({ library: LibraryName, workflow: WorkflowName });
export const RunParams = z.object({ id: RunId });
/** An open merge conflict of an upstream update (the local file stays active). */
const ConflictView = z.object({
  id: z.string(),
  path: z.string().meta({ description: "the live file, relative to the library" }),
  conflictFile: z.string().meta({ description: "the file holding the conflict markers" }),
  policy: z.string(),
  fields: z.array(z.string()).meta({ description: "frontmatter fields in conflict" }),
  bodyConflicts: z.number(),
  upstream: z.object({ layer: z.string().optional(), commit: z.string().optional() }).optional(),
  note: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ConflictList = z.object({ library: LibraryName, items: z.array(ConflictView) });

export const LibraryParams = z.object({ library: LibraryName });
export const AgentParams = z.object({ library: LibraryName, agent: AgentName });
export const TokenParams = z.object({ id: z.string().regex(/^tok_[0-9a-f]{12}$/) });
export const LibraryFilter = z.strictObject({ library: LibraryName.optional() });
