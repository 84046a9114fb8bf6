// /v1 workflows, runs and occurrences: list and inspect for viewers; trigger, enable/disable,
// cancel and re-run for editors (admin when the workflow runs commands, security-rules §1.6).
import { formatTraceparent, parseTraceparent } from "../telemetry/tracing.ts";
import { ApiError } from "./errors.ts";
import { workflowPath } from "../tenancy/policy.ts";
import { actorOf, canSeeLibrary, canSeeWorkflow, libraryOrg, requireAction, requireLibrary, requireWorkflow, sendJson } from "./respond.ts";
import { defineRoute, type ApiContext, type RouteDef, type RouteServices } from "./route.ts";
import {
  ErrorBody,
  LibraryFilter,
  LogPage,
  LogQuery,
  NamedWorkflowParams,
  OccurrenceList,
  OccurrenceQuery,
  RunDetail,
  RunPage,
  RunParams,
  RunQuery,
  RunQueued,
  TriggerRequest,
  WorkflowDetail,
  WorkflowList,
  type WorkflowSummary,
} from "./schemas.ts";

const notFound = { description: "no such resource (or not visible to this token)", schema: ErrorBody };
const forbidden = { description: "the token's role is too low", schema: ErrorBody };

export function runRoutes(s: RouteServices): RouteDef[] {
  const secrets = s.telemetry.secrets;

  const workflowOr404 = async (c: ApiContext, library: string, workflow: string) => {
    requireLibrary(c, library, `workflow ${library}/${workflow}`);
    requireWorkflow(c, library, workflow, `workflow ${library}/${workflow}`);
    const wf = await s.deps.getWorkflow(library, workflow);
    if (!wf) throw new ApiError(404, "not-found", `workflow ${library}/${workflow} not found`, { hint: "list workflows with GET /v1/workflows" });
    return wf;
  };
  const runOr404 = async (c: ApiContext, id: string) => {
    const run = await s.deps.getRun(id);
    // A run of another org, library or workflow is absent (404), never forbidden.
    if (!run || !canSeeWorkflow(c, run.library, run.workflow)) {
      c.set("decision", { decision: "deny", action: "view", resource: `run ${id}`, ruleId: "default-deny" });
      throw new ApiError(404, "not-found", `run ${id} not found`);
    }
    c.set("runId", id);
    return run;
  };
  /** The action itself on the workflow, and run-commands (an admin's) when the workflow runs commands (security-rules §1.6). */
  const workflowGate = (c: ApiContext, wf: WorkflowSummary, action: "run" | "update" | "cancel") => {
    const resource = workflowPath(libraryOrg(c, wf.library), wf.library, wf.name);
    requireAction(c, action, resource, `${action} on workflow ${wf.library}/${wf.name}`);
    if (wf.runsCommands && action !== "cancel") requireAction(c, "run-commands", resource, `workflow ${wf.library}/${wf.name} runs commands`);
  };
  const traceparentOf = (c: ApiContext): string | undefined => (parseTraceparent(c.req.header("traceparent")) ? c.req.header("traceparent") : undefined);
  const linkRun = (c: ApiContext, runId: string) => {
    const parent = c.get("parent");
    if (parent) s.telemetry.tracing.setRunParent(runId, parent);
    c.set("runId", runId);
  };

  const setEnabled = (enabled: boolean) =>
    defineRoute({
      method: "POST",
      path: `/v1/workflows/:library/:workflow/${enabled ? "enable" : "disable"}`,
      access: "editor",
      action: "update",
      tag: "workflows",
      summary: `${enabled ? "Enable" : "Disable"} a workflow (admin when it runs commands)`,
      params: NamedWorkflowParams,
      audit: enabled ? "workflow.enable" : "workflow.disable",
      responses: { 200: { description: "the workflow after the change", schema: WorkflowDetail }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        c.set("auditTarget", `${params.library}/${params.workflow}`);
        const wf = await workflowOr404(c, params.library, params.workflow);
        workflowGate(c, wf, "update");
        if (!(await s.deps.setWorkflowEnabled(params.library, params.workflow, enabled, actorOf(c))))
          throw new ApiError(404, "not-found", `workflow ${params.library}/${params.workflow} not found`);
        return sendJson(secrets, 200, await workflowOr404(c, params.library, params.workflow));
      },
    });

  return [
    defineRoute({
      method: "GET",
      path: "/v1/workflows",
      access: "viewer",
      tag: "workflows",
      summary: "List workflows (of the token's library when it is scoped)",
      query: LibraryFilter,
      responses: { 200: { description: "workflows", schema: WorkflowList } },
      handler: async (c, { query }) => {
        if (query.library) requireLibrary(c, query.library, `library ${query.library}`);
        const items = (await s.deps.listWorkflows(query.library)).filter((w) => canSeeWorkflow(c, w.library, w.name));
        return sendJson(secrets, 200, { items });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/workflows/:library/:workflow",
      access: "viewer",
      tag: "workflows",
      summary: "A workflow with its inputs and next occurrences",
      params: NamedWorkflowParams,
      responses: { 200: { description: "the workflow", schema: WorkflowDetail }, 404: notFound },
      handler: async (c, { params }) => sendJson(secrets, 200, await workflowOr404(c, params.library, params.workflow)),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/workflows/:library/:workflow/runs",
      access: "editor",
      action: "run",
      tag: "workflows",
      summary: "Trigger a run with inputs; 202 once it is durably queued (admin when the workflow runs commands)",
      params: NamedWorkflowParams,
      body: TriggerRequest,
      audit: "run.trigger",
      responses: {
        202: { description: "queued", schema: RunQueued },
        403: forbidden,
        404: notFound,
        422: { description: "invalid inputs", schema: ErrorBody },
      },
      handler: async (c, { params, body }) => {
        c.set("auditTarget", `${params.library}/${params.workflow}`);
        const wf = await workflowOr404(c, params.library, params.workflow);
        workflowGate(c, wf, "run");
        if (wf.state === "broken")
          throw new ApiError(409, "conflict", `workflow ${wf.library}/${wf.name} has errors and cannot run`, {
            hint: "fix the diagnostics listed by GET on the workflow",
          });
        // The run is a child of this request's span; it travels with the run, which the daemon may start before triggerRun returns.
        const span = traceparentOf(c) ? c.get("parent") : undefined;
        const runId = await s.deps.triggerRun(params.library, params.workflow, {
          inputs: body.inputs,
          trigger: "api",
          actor: actorOf(c),
          ...(span ? { traceparent: formatTraceparent(span) } : {}),
        });
        linkRun(c, runId);
        return sendJson(secrets, 202, { runId, status: "queued" }, { location: `/v1/runs/${runId}` });
      },
    }),
    setEnabled(true),
    setEnabled(false),
    defineRoute({
      method: "GET",
      path: "/v1/runs",
      access: "viewer",
      tag: "runs",
      summary: "List runs, newest first, with filters and cursor pagination",
      query: RunQuery,
      responses: { 200: { description: "one page of runs", schema: RunPage } },
      handler: async (c, { query }) => {
        const visible = s.deps.libraries().filter((l) => canSeeLibrary(c, l.name));
        if ((query.library && !visible.some((l) => l.name === query.library)) || !visible.length)
          return sendJson(secrets, 200, { items: [], nextCursor: null });
        const only = !query.library && visible.length === 1 ? visible[0]!.name : undefined;
        const page = await s.deps.listRuns(only ? { ...query, library: only } : query);
        // Workflow-scoped grants (or several scoped libraries) see only their workflows' runs of the page.
        return sendJson(secrets, 200, { ...page, items: page.items.filter((r) => canSeeWorkflow(c, r.library, r.workflow)) });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/runs/:id",
      access: "viewer",
      tag: "runs",
      summary: "A run with its steps",
      params: RunParams,
      responses: { 200: { description: "the run", schema: RunDetail }, 404: notFound },
      handler: async (c, { params }) => sendJson(secrets, 200, await runOr404(c, params.id)),
    }),
    defineRoute({
      method: "GET",
      path: "/v1/runs/:id/logs",
      access: "viewer",
      tag: "runs",
      summary: "A run's log lines (secrets scrubbed)",
      params: RunParams,
      query: LogQuery,
      responses: { 200: { description: "log lines", schema: LogPage }, 404: notFound },
      handler: async (c, { params, query }) => {
        await runOr404(c, params.id);
        const items = await s.deps.getRunLogs(params.id, { after: query.after, limit: query.limit });
        if (!items) throw new ApiError(404, "not-found", `run ${params.id} not found`);
        return sendJson(secrets, 200, { runId: params.id, items });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/runs/:id/cancel",
      access: "editor",
      action: "cancel",
      tag: "runs",
      summary: "Cancel a queued or running run",
      params: RunParams,
      audit: "run.cancel",
      responses: {
        202: { description: "cancellation requested", schema: RunDetail },
        404: notFound,
        409: { description: "already finished", schema: ErrorBody },
      },
      handler: async (c, { params }) => {
        c.set("auditTarget", params.id);
        const run = await runOr404(c, params.id);
        requireAction(c, "cancel", workflowPath(libraryOrg(c, run.library), run.library, run.workflow), `cancelling a run of ${run.library}/${run.workflow}`);
        if (!(await s.deps.cancelRun(params.id, actorOf(c)))) {
          throw new ApiError(409, "conflict", `run ${params.id} already finished (${run.status})`, { hint: "re-run it with POST /v1/runs/{id}/rerun" });
        }
        return sendJson(secrets, 202, (await s.deps.getRun(params.id)) ?? run);
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/runs/:id/rerun",
      access: "editor",
      action: "run",
      tag: "runs",
      summary: "Queue a new run with the same workflow and inputs (admin when the workflow runs commands)",
      params: RunParams,
      audit: "run.rerun",
      responses: { 202: { description: "queued", schema: RunQueued }, 403: forbidden, 404: notFound },
      handler: async (c, { params }) => {
        c.set("auditTarget", params.id);
        const run = await runOr404(c, params.id);
        const wf = await s.deps.getWorkflow(run.library, run.workflow);
        if (!wf) throw new ApiError(404, "not-found", `workflow ${run.library}/${run.workflow} of run ${params.id} no longer exists`);
        workflowGate(c, wf, "run");
        const runId = await s.deps.rerun(params.id, actorOf(c));
        linkRun(c, runId);
        return sendJson(secrets, 202, { runId, status: "queued" }, { location: `/v1/runs/${runId}` });
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/occurrences",
      access: "viewer",
      tag: "runs",
      summary: "Schedule occurrences: planned, started, skipped, missed, caught up",
      query: OccurrenceQuery,
      responses: { 200: { description: "occurrences", schema: OccurrenceList } },
      handler: async (c, { query }) => {
        if (query.library) requireLibrary(c, query.library, `library ${query.library}`);
        const items = (await s.deps.listOccurrences(query)).filter((o) => canSeeLibrary(c, o.library));
        return sendJson(secrets, 200, { items });
      },
    }),
  ];
}
