// A real `aicfg daemon` for the browser test and the dashboard bench, a child process of the runtime
// running this code (Node, Bun or Deno): a copy of the sample library with an agent whose name and
// description are XSS payloads and a workflow `held` whose one step waits on a local HTTP server
// until it is released (POST /release), tokens of each role, the daemon on 127.0.0.1:0.
import { cpSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openTokenStore } from "../../src/daemon/auth/token-store.ts";
import { spawnDaemon } from "./daemon-child.ts";
import { tempDir } from "./fixtures.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
export const XSS_NAME = `<script>window.__xss=1</script>`;
export const XSS_DESC = `"><img src=x onerror="window.__xss=2"> & <svg onload="window.__xss=3">`;

export type DashboardDaemon = {
  base: string;
  library: string;
  /** The temp folder: examples/library and .aicfg-state (with the sample's export sandbox) are in it. */
  dir: string;
  /** Where the sample's export-on-change workflow exports (its step's root:). */
  sandbox: string;
  /** Resolves once the initial export of export-on-change (watch, initial: true) succeeded. */
  exported: () => Promise<void>;
  tokens: { viewer: string; editor: string; admin: string };
  /** Answers the held step's requests (now and later ones). */
  releaseUrl: string;
  held: () => number;
  stderr: () => string;
  stop: () => Promise<void>;
};

export async function startDashboardDaemon(): Promise<DashboardDaemon> {
  const dir = tempDir("aicfg-ui-");
  const lib = join(dir.path, "examples", "library");
  const state = join(dir.path, ".aicfg-state");
  cpSync(join(repo, "examples", "library"), lib, { recursive: true });
  const waiting: ServerResponse[] = [];
  let open = false;
  const hold = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/release") {
        open = true;
        for (const w of waiting.splice(0)) w.end("ok");
        res.end("released");
      } else if (open) res.end("ok");
      else waiting.push(res);
    });
  });
  await new Promise<void>((r) => hold.listen(0, "127.0.0.1", r));
  const holdUrl = `http://127.0.0.1:${(hold.address() as { port: number }).port}`;
  writeFileSync(
    join(lib, "workflows", "held.yaml"),
    `name: held\ndescription: "Waits until the test releases it <b>bold?</b>"\non:\n  manual: true\nsteps:\n  - id: wait\n    uses: notify\n    with: { url: "${holdUrl}/hold", timeout: 1h }\n  - id: after\n    uses: notify\n    with: { url: "${holdUrl}/after" }\n`,
  );
  writeFileSync(
    join(lib, "agents", "xss-probe.md"),
    `---\ndisplayName: ${JSON.stringify(XSS_NAME)}\ndescription: ${JSON.stringify(XSS_DESC)}\ntargets: [claude-code]\n---\nInstructions with <script>window.__xss=4</script> markup.\n`,
  );
  const store = openTokenStore(state);
  const tokens = {
    viewer: store.create({ role: "viewer", name: "viewer" }).token,
    editor: store.create({ role: "editor", name: "editor" }).token,
    admin: store.create({ role: "admin", name: "admin" }).token,
  };
  const daemon = await spawnDaemon(["--library", lib, "--state-dir", state, "--listen", "127.0.0.1:0"], { cwd: dir.path });
  const { base, stderr } = daemon;
  return {
    base,
    library: "acme-engineering",
    dir: dir.path,
    sandbox: join(state, "sandbox"),
    exported: async () => {
      const end = Date.now() + 60_000;
      for (;;) {
        const res = await fetch(`${base}/v1/runs?workflow=export-on-change`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
        const items = ((await res.json()) as { items: { status: string }[] }).items;
        if (items.some((r) => r.status === "success")) return;
        if (items.some((r) => r.status === "failure") || Date.now() > end)
          throw new Error(`the initial export did not succeed: ${JSON.stringify(items)}\n${stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    tokens,
    releaseUrl: `${holdUrl}/release`,
    held: () => waiting.length,
    stderr,
    stop: async () => {
      await daemon.stop();
      open = true;
      for (const w of waiting.splice(0)) w.end("ok");
      hold.closeAllConnections?.();
      await new Promise<void>((r) => hold.close(() => r()));
      dir.cleanup();
    },
  };
}
