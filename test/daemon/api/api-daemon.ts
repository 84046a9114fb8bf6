// A real daemon for the API tests, started as `aicfg daemon` starts it: real libraries and workflow
// files on disk, the file run store in a temp state folder, the daemon core, and the API bridge
// (src/daemon/api-bridge.ts) in front of it. Time is a manual clock shared by the daemon and the API.
//
// Runs of `team/sync` and `other/export` stay running until the test releases them: their one step
// is a `notify` to a local HTTP server that holds each request (real HTTP, no command is run, so an
// editor may trigger them). `team/backup` runs a program (the admin role is needed to trigger it).
import { existsSync, readdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { apiDepsFromDaemon, apiLibraries } from "../../../src/daemon/api-bridge.ts";
import type { ApiDeps } from "../../../src/daemon/api/deps.ts";
import { createManualClock, type ManualClock } from "../../../src/daemon/clock.ts";
import { startDaemon, type DaemonHandle } from "../../../src/daemon/daemon.ts";
import type { EventBus } from "../../../src/daemon/events.ts";
import { openFileStore, STORE_DIR } from "../../../src/daemon/store/file-store.ts";
import type { RunRecord, RunStatus, RunStore } from "../../../src/daemon/store/types.ts";
import { writeTree } from "../../helpers/fixtures.ts";
import { nodeBin, testConfig } from "../harness.ts";

/** When the API tests start: the manual clock's wall time. */
export const T0 = Date.parse("2026-11-24T10:00:00.000Z");
export const CANARY = "canary-5f1c9e2a7b3d4e6f";

/** A local HTTP server that answers each request only when released: steps that wait for the test. */
type Hold = {
  url: string;
  held: () => number;
  /** Answers the requests held now with `status`; later ones are held again. */
  release: (status?: number) => void;
  bodies: string[];
  close: () => Promise<void>;
};

async function startHold(): Promise<Hold> {
  const waiting: ServerResponse[] = [];
  const bodies: string[] = [];
  let open: number | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (b: Buffer) => (body += b.toString("utf8")));
    req.on("end", () => {
      bodies.push(body);
      if (open === undefined) waiting.push(res);
      else res.writeHead(open).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const release = (status = 200) => {
    for (const res of waiting.splice(0)) res.writeHead(status).end("ok");
  };
  return {
    url: `http://127.0.0.1:${port}/hold`,
    held: () => waiting.length,
    release,
    bodies,
    close: async () => {
      open = 200;
      release();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The libraries: org (agent reviewer) extended by team (overrides, MCP with a literal secret), and other. */
function writeLibraries(root: string, holdUrl: string): { team: string; other: string; org: string } {
  const heldStep = (message: string) => `  - id: main\n    uses: notify\n    with:\n      url: ${holdUrl}\n      message: "${message}"\n      timeout: 1h\n`;
  writeTree(root, {
    "org/aicfg.yaml": "name: org\ntargets: [claude-code]\n",
    "org/agents/reviewer.md": "---\ndescription: Reviews changes\nmodel: claude-sonnet-4\n---\nReview every change carefully.\n",
    "team/aicfg.yaml": "name: team\nextends: [../org]\nexport:\n  root: ../project\n",
    "team/agents/reviewer.md": `---\ndescription: Reviews the team's changes\ntags: [quality]\nmcp: [fetch]\n---\n`,
    "team/mcp/fetch.yaml": `command: uvx\nargs: [mcp-server-fetch]\nenv:\n  API_KEY: ${CANARY}\n  OTHER: "\${FETCH_TOKEN}"\n`,
    "team/workflows/sync.yaml":
      'name: sync\ndescription: sync of team\non:\n  manual: true\n  cron: { schedule: "0 0 1 1 *", timezone: UTC }\n  git: { branches: [main] }\n' +
      "concurrency: { overlap: buffer_all }\ninputs:\n  target: { type: string, default: all }\nsteps:\n" +
      heldStep("target ${{ inputs.target }}"),
    "team/workflows/backup.yaml": `name: backup\ndescription: backup of team\non:\n  manual: true\nconcurrency: { overlap: buffer_all }\nsteps:\n  - id: main\n    uses: shell\n    with:\n      command: [${JSON.stringify(nodeBin())}, "-e", "process.exit(0)"]\n`,
    "other/aicfg.yaml": "name: other\n",
    "other/agents/helper.md": "---\ndescription: Helps\n---\nBe helpful.\n",
    "other/workflows/export.yaml":
      'name: export\ndescription: export of other\non:\n  manual: true\n  cron: { schedule: "0 0 1 7 *", timezone: UTC }\nconcurrency: { overlap: buffer_all }\nsteps:\n' +
      heldStep("export"),
  });
  return { team: join(root, "team"), other: join(root, "other"), org: join(root, "org") };
}

/** The real file store with one injectable outage (what a full disk or a lost database looks like to the daemon). */
type FaultyStore = RunStore & { failNextCreate: (message: string) => void };

function faulty(store: RunStore): FaultyStore {
  let fail: string | undefined;
  return {
    ...store,
    createRun: async (...args: Parameters<RunStore["createRun"]>) => {
      if (fail !== undefined) {
        const message = fail;
        fail = undefined;
        throw new Error(message);
      }
      return store.createRun(...args);
    },
    failNextCreate: (message) => {
      fail = message;
    },
  };
}

export type ApiDaemon = {
  handle: DaemonHandle;
  /** The API bridge over the daemon: what the API is served from. */
  deps: ApiDeps;
  bus: EventBus;
  clock: ManualClock;
  store: FaultyStore;
  hold: Hold;
  libs: { team: string; other: string; org: string };
  /** Queues a run the way `aicfg run` does; the clock moves 1 ms first so runs sort by creation. */
  trigger: (library: string, workflow: string, o?: { inputs?: Record<string, unknown>; actor?: string }) => Promise<string>;
  runs: () => Promise<RunRecord[]>;
  /** Webhook deliveries the run store has recorded (one file each). */
  deliveries: () => number;
  run: (id: string) => Promise<RunRecord>;
  /** Waits (real time) until the run has one of these statuses. */
  waitFor: (id: string, statuses: RunStatus[]) => Promise<RunRecord>;
  stop: () => Promise<void>;
};

export async function startApiDaemon(stateDir: string): Promise<ApiDaemon> {
  const hold = await startHold();
  const libs = writeLibraries(join(stateDir, "libs"), hold.url);
  const clock = createManualClock(T0);
  const config = testConfig(libs.team, stateDir, {
    libraries: [libs.team, libs.other],
    libraryGit: { [libs.team]: { repository: "acme/agents", branch: "main" } },
  });
  const store = faulty(openFileStore(stateDir, { clock }));
  const deliveriesDir = join(stateDir, STORE_DIR, "deliveries");
  const handle = await startDaemon({ config, clock, store, hotReload: false, random: () => 0.5 });
  const deps = apiDepsFromDaemon(handle, await apiLibraries(handle));
  const run = async (id: string): Promise<RunRecord> => {
    const r = await handle.store.getRun(id);
    if (!r) throw new Error(`no run ${id}`);
    return r;
  };
  return {
    handle,
    deps,
    bus: handle.bus,
    clock,
    store,
    hold,
    libs,
    trigger: async (library, workflow, o = {}) => {
      await clock.advance(1);
      return handle.triggerRun(library, workflow, { inputs: o.inputs ?? {}, actor: o.actor ?? "test", kind: "manual" });
    },
    runs: () => handle.store.listRuns({}),
    deliveries: () => (existsSync(deliveriesDir) ? readdirSync(deliveriesDir).filter((f) => !f.startsWith(".")).length : 0),
    run,
    waitFor: async (id, statuses) => {
      const end = Date.now() + 10_000;
      for (;;) {
        const r = await run(id);
        if (statuses.includes(r.status)) return r;
        if (Date.now() > end) throw new Error(`run ${id} is ${r.status}, not ${statuses.join(" or ")}`);
        await new Promise((res) => setTimeout(res, 5));
      }
    },
    stop: async () => {
      // The drain deadline is a timer on the manual clock: move the clock until the daemon has stopped.
      let stopped = false;
      const stopping = handle.stop({ deadlineMs: 0 }).finally(() => (stopped = true));
      while (!stopped) {
        await clock.advance(1);
        await new Promise((r) => setTimeout(r, 1));
      }
      await stopping;
      await hold.close();
    },
  };
}
