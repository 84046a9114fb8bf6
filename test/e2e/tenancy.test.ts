// End to end: the real `aicfg daemon` (child process of the runtime running this suite) serving a
// library that belongs to org acme, with an OIDC issuer on loopback (started by this test) mapped
// to acme; the org and a group binding made beforehand with the real CLI. An OIDC user of group
// eng triggers a run; the default org's admin token cannot see it; the audit chain verifies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aicfgArgs, waitFor as poll, spawnDaemon, type DaemonChild } from "../helpers/daemon-child.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { startIssuer, type IssuerKey, type TestIssuer } from "../helpers/oidc-issuer.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const aicfg = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [...aicfgArgs(), ...args], { encoding: "utf8", cwd, env: { ...process.env, NO_COLOR: "1" } });

let dir: { path: string; cleanup: () => void };
let state: string;
let daemon: DaemonChild;
let base = "";
let idp: TestIssuer;
let key: IssuerKey;

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false) =>
  poll(what, fn, { context: () => daemon?.stderr() ?? "" });

const jwt = (groups: string[]) => {
  const s = Math.floor(Date.now() / 1000);
  return idp.sign(key, { iss: idp.issuer, aud: "aicfg-e2e", sub: "ann", groups }, { iat: s - 5, exp: s + 600 });
};
const call = (path: string, bearer: string, init: RequestInit = {}) =>
  fetch(base + path, { ...init, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", ...(init.headers ?? {}) } });

beforeAll(async () => {
  dir = tempDir("aicfg-e2e-tenancy-");
  state = join(dir.path, "state");
  cpSync(join(repo, "examples", "library"), join(dir.path, "lib"), { recursive: true });
  idp = await startIssuer();
  key = await idp.newKey("ES256");
  idp.publish([key]);
  writeFileSync(
    join(dir.path, "daemon.yaml"),
    [
      "libraries:",
      "  - path: lib",
      "    org: acme",
      "state_dir: state",
      "listen: 127.0.0.1:0",
      "api:",
      "  oidc:",
      "    issuers:",
      `      - issuer: ${idp.issuer}`,
      `        jwksUri: ${idp.jwksUri}`,
      "        org: acme",
      "        audience: aicfg-e2e",
      "",
    ].join("\n"),
  );
  expect(aicfg(["org", "create", "acme", "--state-dir", state], dir.path).status).toBe(0);
  const bind = aicfg(["binding", "create", "--org", "acme", "--subject", `group:${idp.issuer}|eng`, "--role", "editor", "--state-dir", state], dir.path);
  expect(bind.status, bind.stderr).toBe(0);
  daemon = await spawnDaemon(["--config", join(dir.path, "daemon.yaml")], { cwd: dir.path });
  base = daemon.base;
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await idp.close();
  dir.cleanup();
});

describe("a team server with an org, OIDC and the audit log", () => {
  it("an OIDC user of a bound group runs acme's workflow; without the group, no access; the default org's admin does not see it", async () => {
    const token = await jwt(["eng"]);
    const who = (await (await call("/v1/whoami", token)).json()) as { org: string; kind: string };
    expect(who).toMatchObject({ org: "acme", kind: "user" });
    const r = await call("/v1/workflows/acme-engineering/health-report/runs", token, { method: "POST", body: "{}" });
    expect(r.status).toBe(202);
    const { runId } = (await r.json()) as { runId: string };
    const run = await waitFor("the run to finish", async () => {
      const x = (await (await call(`/v1/runs/${runId}`, token)).json()) as { status: string };
      return x.status === "queued" || x.status === "running" ? undefined : x;
    });
    expect(run.status).toBe("success");
    expect((await call("/v1/workflows/acme-engineering/health-report/runs", await jwt([]), { method: "POST", body: "{}" })).status).toBe(403);
    const admin = readFileSync(join(state, "local-admin.token"), "utf8").trim();
    expect((await call(`/v1/runs/${runId}`, admin)).status).toBe(404);
    expect((await call("/v1/workflows/acme-engineering/health-report", admin)).status).toBe(404);
    // A token with another audience is refused.
    const s = Math.floor(Date.now() / 1000);
    const wrongAud = await idp.sign(key, { iss: idp.issuer, aud: "someone-else", sub: "ann", groups: ["eng"] }, { iat: s, exp: s + 600 });
    expect((await call("/v1/whoami", wrongAud)).status).toBe(401);
  });

  it("the audit chains verify and the trigger is a row of acme's", () => {
    const v = aicfg(["audit", "verify", "--state-dir", state, "--json"], dir.path);
    expect(v.status, v.stderr).toBe(0);
    const orgs = (JSON.parse(v.stdout) as { orgs: { org: string; report: { ok: boolean } }[] }).orgs;
    expect(orgs.map((o) => o.org)).toContain("acme");
    const rows = aicfg(["audit", "export", "--org", "acme", "--state-dir", state], dir.path)
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; decision: string; actor: { kind: string }; resource: string });
    expect(rows.some((r) => r.action === "run.trigger" && r.decision === "allow" && r.actor.kind === "user")).toBe(true);
    expect(rows.some((r) => r.action === "run.trigger" && r.decision === "deny")).toBe(true);
    expect(rows.some((r) => r.action === "binding.create" && r.actor.kind === "cli")).toBe(true);
  });
});
