// `aicfg trigger <workflow>`: queue a run in the RUNNING daemon through its API, with the local admin
// token the daemon keeps in its state folder, and optionally wait for the result. (`aicfg run` runs a
// workflow once in this process instead, for CI.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";
import { readLocalAdminToken } from "../../auth/token-store.ts";
import { API_URL_FILE } from "../../config.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION, stateDir } from "../options.ts";

const FINISHED = new Set(["success", "failure", "cancelled", "timed_out", "interrupted", "skipped"]);

type RunView = {
  id: string;
  status: string;
  workflow: string;
  durationMs?: number;
  error?: string;
  steps?: { id: string; action: string; status: string; error?: string }[];
};

export const triggerCommand: Command = {
  name: "trigger",
  summary: "queue a workflow run in the running daemon (through its API) and optionally wait for it",
  usage: "aicfg trigger <workflow> [--library NAME] [--input key=value]... [--wait] [--state-dir DIR] [--url URL] [--json]",
  description:
    "Uses the local admin token and API address the daemon keeps in its state folder; --url and $AICFG_TOKEN " +
    "reach a daemon elsewhere. Exit code with --wait: 0 when the run succeeded, 1 otherwise.",
  options: {
    library: { type: "string", short: "l", valueName: "name", description: "the library's name (default: the only one the daemon serves)" },
    input: { type: "string", multiple: true, valueName: "key=value", description: "a workflow input" },
    wait: { type: "boolean", short: "w", description: "wait until the run finishes and print its steps" },
    url: { type: "string", valueName: "url", description: "the daemon's API (default: from the state folder)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg trigger export-on-change",
    "aicfg trigger health-report --wait",
    "aicfg trigger sync-library --library team --input strategy=rebase --json",
  ],
  run: async (args, io) => {
    const workflow = args.positionals[0];
    if (!workflow)
      throw new ConfigError("usage", "which workflow? e.g. 'aicfg trigger export-on-change'", { hint: "list them with 'aicfg runs' or GET /v1/workflows" });
    const state = stateDir(args, io);
    const base = ((args.values.url as string | undefined) ?? readUrl(state)).replace(/\/$/, "");
    const token = io.env.AICFG_TOKEN ?? readLocalAdminToken(state);
    if (!token)
      throw new ConfigError("no-token", `no API token: ${join(state, "local-admin.token")} does not exist`, {
        hint: "start the daemon with this --state-dir, or set AICFG_TOKEN",
      });
    const call = async (path: string, init: RequestInit = {}): Promise<unknown> => {
      let res: Response;
      try {
        res = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) } });
      } catch (e) {
        throw new ConfigError("daemon-unreachable", `cannot reach the daemon at ${base}: ${(e as Error).message}`, {
          hint: "is 'aicfg daemon' running with this state folder?",
        });
      }
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; hint?: string } };
      if (!res.ok)
        throw new ConfigError("api-error", `the daemon answered ${res.status}: ${body.error?.message ?? res.statusText}`, { hint: body.error?.hint ?? "" });
      return body;
    };
    let library = args.values.library as string | undefined;
    if (!library) {
      const libs = ((await call("/v1/libraries")) as { items: { name: string }[] }).items;
      if (libs.length !== 1)
        throw new ConfigError("usage", `the daemon serves ${libs.length} libraries: name one with --library`, { hint: libs.map((l) => l.name).join(", ") });
      library = libs[0]!.name;
    }
    const inputs: Record<string, string> = {};
    for (const kv of (args.values.input as string[] | undefined) ?? []) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new ConfigError("usage", `--input takes key=value, not '${kv}'`);
      inputs[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const { runId } = (await call(`/v1/workflows/${encodeURIComponent(library)}/${encodeURIComponent(workflow)}/runs`, {
      method: "POST",
      body: JSON.stringify({ inputs }),
    })) as { runId: string };
    if (!args.values.wait) {
      if (args.values.json) io.out(JSON.stringify({ runId, status: "queued" }));
      else io.out(`queued ${runId} (follow it with 'aicfg logs ${runId}')`);
      return EXIT.ok;
    }
    let run: RunView;
    for (;;) {
      run = (await call(`/v1/runs/${encodeURIComponent(runId)}`)) as RunView;
      if (FINISHED.has(run.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (args.values.json) io.out(JSON.stringify(run, null, 2));
    else printRun(io, run);
    return run.status === "success" ? EXIT.ok : EXIT.failure;
  },
};

function readUrl(state: string): string {
  try {
    return readFileSync(join(state, API_URL_FILE), "utf8").trim();
  } catch {
    throw new ConfigError("daemon-not-running", `no running daemon found in ${state}`, { hint: "start 'aicfg daemon' with this --state-dir, or pass --url" });
  }
}

function printRun(io: CliIO, run: RunView): void {
  const color = run.status === "success" ? "green" : "red";
  io.out(`${run.id}  ${paint(io, color, run.status)}  ${run.workflow}${run.durationMs !== undefined ? `  ${run.durationMs} ms` : ""}`);
  for (const s of run.steps ?? []) io.out(`  ${s.id.padEnd(16)} ${s.action.padEnd(10)} ${s.status}${s.error ? `: ${s.error}` : ""}`);
  if (run.error) io.out(paint(io, "red", run.error));
}
