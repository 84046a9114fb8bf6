// The secret canary (G18), end to end with the real CLI: a secret set with `aicfg secret set` is used
// by an MCP server (exported as ${NAME} to Claude Code, literally into a 0600 user-scope Zed file) and
// by a workflow input; `aicfg daemon` runs with the API; workflows run, one failing with the secret in
// its error; every GET route is called as admin; a backup is taken. Then every sink is searched: the
// daemon's log lines, the run records and logs, every API response, /metrics, every file of the state
// folder and every entry of the backup archive hold the canary 0 times. The only place it may be is
// the intended export target (the Zed file in the user's home, mode 0600). The S3 credentials of an
// off-site backup (a real S3 API on loopback) get the same treatment: a backup to S3 succeeds, one
// with a wrong secret key fails with the server's refusal, `aicfg restore --from s3://` fails the same
// way, and neither key is in any sink, nor in the archive stored in the bucket.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aicfgArgs, waitFor as poll, spawnDaemon, type DaemonChild } from "../helpers/daemon-child.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";

const CANARY = "canary-" + "d41f0c7e9a2b6385-" + "secret";
/** A wrong S3 secret key, as planted as the right one. */
const WRONG_S3_SECRET = "wrong-s3-" + "7c1e99d0b3a24f58-" + "canary";
let s3: TestS3;

let dir: { path: string; cleanup: () => void };
let lib: string;
let state: string;
let home: string;
let daemon: DaemonChild;
let base = "";
let token = "";
const responses: string[] = [];

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false) =>
  poll(what, fn, { context: () => daemon?.stderr() ?? "" });

/** Every response body is kept: the canary must be in none of them. */
async function api(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const text = await r.text();
  responses.push(`${path} ${r.status} ${JSON.stringify([...r.headers])} ${text}`);
  return { status: r.status, text };
}

async function runWorkflow(name: string): Promise<{ id: string; status: string; error?: string }> {
  const r = await api(`/v1/workflows/canary/${name}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(r.status, r.text).toBe(202);
  const id = (JSON.parse(r.text) as { runId: string }).runId;
  return waitFor(`run ${id}`, async () => {
    const x = await api(`/v1/runs/${id}`);
    const run = JSON.parse(x.text) as { status: string; error?: string };
    return run.status === "queued" || run.status === "running" ? undefined : { id, ...run };
  });
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const shell = (code: string, env = "") =>
  `    uses: shell\n    with:\n      command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(code)}]\n${env}`;

beforeAll(async () => {
  s3 = await startS3();
  dir = tempDir("aicfg-canary-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  home = join(dir.path, "home");
  writeTree(lib, {
    "aicfg.yaml": "name: canary\ntargets: [claude-code, zed]\nexport:\n  scope: project\n  root: ../project\n",
    "agents/dev.md": "---\ndescription: Develops\nmcp: [github]\n---\nDevelop.\n",
    "mcp/github.yaml": "command: gh-mcp\nenv:\n  GITHUB_TOKEN: { secret: CANARY_TOKEN }\n",
    "workflows/use.yaml":
      "name: use\non: { manual: true }\ninputs:\n  token: { type: string, default: { secret: CANARY_TOKEN } }\nsteps:\n" +
      "  - id: echo\n" +
      shell("console.log('token is ' + process.env.T); console.error('stderr ' + process.env.T)", '      env: { T: "${{ inputs.token }}" }\n') +
      "  - id: export-project\n    uses: export\n    with: { targets: [claude-code, zed] }\n" +
      "  - id: export-user\n    uses: export\n    with: { targets: [zed], scope: user, root: ../home }\n",
    "workflows/fail.yaml":
      "name: fail\non: { manual: true }\ninputs:\n  token: { type: string, default: { secret: CANARY_TOKEN } }\nsteps:\n" +
      "  - id: boom\n" +
      shell("process.stderr.write('could not log in with ' + process.env.T + '\\n'); process.exit(1)", '      env: { T: "${{ inputs.token }}" }\n') +
      '  - id: notify\n    if: failure()\n    uses: notify\n    with: { url: "http://127.0.0.1:9/${{ inputs.token }}", timeout: 2s }\n',
    "workflows/backup.yaml": "name: backup\non: { manual: true }\nsteps:\n  - uses: backup\n",
    "workflows/backup-s3.yaml": s3Workflow("backup-s3", "S3_SECRET"),
    "workflows/backup-s3-bad.yaml": s3Workflow("backup-s3-bad", "S3_WRONG"),
    // The S3 destination the backups use is the one the daemon allows.
    "daemon.yaml": `libraries: [.]\nactions:\n  shell: { enabled: true }\n  backup: { s3: ["${s3.endpoint}/${s3.bucket}/canary/"] }\n`,
  });
  for (const [name, value] of [
    ["CANARY_TOKEN", CANARY],
    ["S3_KEY_ID", s3.accessKeyId],
    ["S3_SECRET", s3.secretAccessKey],
    ["S3_WRONG", WRONG_S3_SECRET],
  ] as const) {
    const set = spawnSync(process.execPath, [...aicfgArgs(), "secret", "set", name, "--state-dir", state], {
      input: value + "\n",
      encoding: "utf8",
      cwd: dir.path,
    });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(value);
  }

  daemon = await spawnDaemon(["--config", join(lib, "daemon.yaml"), "--state-dir", state, "--listen", "127.0.0.1:0"], { cwd: dir.path, env: { HOME: home } });
  base = daemon.base;
  token = readFileSync(join(state, "local-admin.token"), "utf8").trim();
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  dir.cleanup();
  await s3?.stop();
});

function s3Workflow(name: string, secretKey: string): string {
  return (
    `name: ${name}\non: { manual: true }\nsteps:\n  - uses: backup\n    with:\n      s3:\n` +
    `        endpoint: ${s3.endpoint}\n        bucket: ${s3.bucket}\n        prefix: canary\n        force_path_style: true\n` +
    `        access_key_id: { secret: S3_KEY_ID }\n        secret_access_key: { secret: ${secretKey} }\n`
  );
}

describe("a planted secret", () => {
  it("is used where it is meant to be and appears in no log, run record, API response, metric, state file or backup", async () => {
    const used = await runWorkflow("use");
    expect(used.status, used.error).toBe("success");
    // Claude Code reads environment variables: the project file refers to the secret by name.
    expect(readFileSync(join(dir.path, "project", ".mcp.json"), "utf8")).toContain('"GITHUB_TOKEN": "${CANARY_TOKEN}"');
    // Zed cannot: the committed project file leaves it out, the user-scope file has it, 0600.
    expect(readFileSync(join(dir.path, "project", ".zed", "settings.json"), "utf8")).not.toContain("GITHUB_TOKEN");
    const zedUser = join(home, ".config", "zed", "settings.json");
    expect(readFileSync(zedUser, "utf8")).toContain(CANARY);
    expect(statSync(zedUser).mode & 0o777).toBe(0o600);

    const failed = await runWorkflow("fail");
    expect(failed.status).toBe("failure");
    expect(failed.error).toContain("could not log in with [redacted]");
    const backup = await runWorkflow("backup");
    expect(backup.status, backup.error).toBe("success");
    const offsite = await runWorkflow("backup-s3");
    expect(offsite.status, offsite.error).toBe("success");
    const refused = await runWorkflow("backup-s3-bad");
    expect(refused.status).toBe("failure");
    expect(refused.error).toContain("(403 SignatureDoesNotMatch): the secret access key is wrong");
    // The CLI's restore with the wrong key: refused, and its output names no key.
    const restore = spawnSync(
      process.execPath,
      [...aicfgArgs(), "restore", "--from", `s3://${s3.bucket}/canary/`, "--endpoint", s3.endpoint, "--path-style", "--state-dir", state].concat([
        "--access-key-secret",
        "S3_KEY_ID",
        "--secret-key-secret",
        "S3_WRONG",
        "--to",
        join(dir.path, "restored"),
      ]),
      { encoding: "utf8", cwd: dir.path, env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(restore.status).toBe(1);
    expect(restore.stderr).toContain("SignatureDoesNotMatch");
    const cliOutput = restore.stdout + restore.stderr;

    // Every GET route, as admin, with real ids.
    const runs = JSON.parse((await api("/v1/runs?limit=200")).text) as { items: { id: string }[] };
    expect(runs.items.length).toBe(5);
    for (const p of [
      "/livez",
      "/readyz",
      "/healthz",
      "/metrics",
      "/v1/openapi.json",
      "/v1/status",
      "/v1/config",
      "/v1/tokens",
      "/v1/workflows",
      "/v1/occurrences",
      "/v1/libraries",
      "/v1/tools",
    ]) {
      expect((await api(p)).status, p).toBe(200);
    }
    for (const w of ["use", "fail", "backup", "backup-s3", "backup-s3-bad"]) expect((await api(`/v1/workflows/canary/${w}`)).status).toBe(200);
    for (const r of runs.items) {
      expect((await api(`/v1/runs/${r.id}`)).status).toBe(200);
      expect((await api(`/v1/runs/${r.id}/logs`)).status).toBe(200);
    }
    for (const p of ["/v1/libraries/canary/health", "/v1/libraries/canary/agents", "/v1/libraries/canary/agents/dev"])
      expect((await api(p)).status, p).toBe(200);
    for (const t of ["claude-code", "zed"]) expect((await api(`/v1/libraries/canary/agents/dev/export-plan?target=${t}`)).status).toBe(200);
    const metrics = (await api("/metrics")).text;
    expect(metrics).toContain("aicfg_");

    // The sinks, for the MCP secret and both S3 secret keys.
    const hits: string[] = [];
    const stateFiles = filesUnder(state);
    const archives = stateFiles.filter((f) => f.endsWith(".zip"));
    expect(archives).toHaveLength(1);
    // The archive the S3 backup stored, as the server keeps it.
    const inBucket = filesUnder(join(s3.dir, s3.bucket)).filter((f) => f.endsWith(".zip._S3rver_object"));
    expect(inBucket).toHaveLength(1);
    for (const secret of [CANARY, s3.secretAccessKey, WRONG_S3_SECRET]) {
      for (const r of responses) if (r.includes(secret)) hits.push(`API ${r.slice(0, 120)}`);
      for (const l of daemon.stderr().split("\n")) if (l.includes(secret)) hits.push(`log ${l.slice(0, 200)}`);
      if (cliOutput.includes(secret)) hits.push(`restore CLI output`);
      for (const f of stateFiles) if (readFileSync(f).includes(secret)) hits.push(`state ${f}`);
      for (const archive of [archives[0]!, inBucket[0]!]) {
        const entries = unzipSync(readFileSync(archive));
        expect(Object.keys(entries)).toContain("state/secrets.json");
        for (const [name, bytes] of Object.entries(entries)) if (Buffer.from(bytes).includes(secret)) hits.push(`backup ${archive} ${name}`);
        // …and the backup holds the ciphertext, not the key: a restore with the key file brings the secret back.
        expect(Object.keys(entries).some((n) => n.endsWith("secret.key"))).toBe(false);
      }
    }
    expect(hits).toEqual([]);
  }, 90_000);
});
