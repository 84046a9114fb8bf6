// `aicfg org|role|binding|audit` through the real CLI on a temp state folder; the daemon's API,
// opened on the same folder, sees the changes on its next request.
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { openFileTenancyStore, auditFile } from "../../src/daemon/tenancy/file-store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

let dir: { path: string; cleanup: () => void } | undefined;
afterEach(() => {
  dir?.cleanup();
  dir = undefined;
});
const state = () => {
  dir = tempDir("aicfg-tenancy-cli-");
  return ["--state-dir", dir.path];
};

describe("aicfg org, role, binding", () => {
  it("creates an org with quotas, a custom role, a token of the org and a binding; lists them as text and JSON; deletes them", async () => {
    const sd = state();
    const created = await cli(["org", "create", "acme", "--name", "Acme", "--runs-per-hour", "50", ...sd, "--json"]);
    expect(created.code).toBe(0);
    expect(created.json().org).toMatchObject({ id: "acme", name: "Acme", quotas: { runsPerHour: 50 } });
    expect((await cli(["org", "create", "acme", ...sd])).code).toBe(1);
    const list = await cli(["org", "list", ...sd, "--json"]);
    expect(list.json().orgs.map((o: { id: string }) => o.id)).toEqual(["default", "acme"]);
    expect((await cli(["org", "quota", "acme", "--requests-per-minute", "99", ...sd])).out).toContain("requests/min 99");
    expect((await cli(["org", "quota", "acme", "--runs-per-hour", "0", ...sd])).code).toBe(2);

    expect((await cli(["role", "create", "runner", "--org", "acme", "--actions", "view,run", ...sd])).code).toBe(0);
    const bad = await cli(["role", "create", "x", "--org", "acme", "--actions", "view,fly", ...sd]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown action(s): fly");
    const roles = await cli(["role", "list", "--org", "acme", ...sd, "--json"]);
    expect(roles.json().roles.map((r: { name: string }) => r.name)).toEqual(["viewer", "editor", "admin", "runner"]);

    const tok = await cli(["token", "create", "--org", "acme", "--role", "viewer", ...sd, "--json"]);
    expect(tok.code).toBe(0);
    const tokenId = tok.json().record.id as string;
    expect(tok.json().record.org).toBe("acme");
    expect((await cli(["token", "create", "--org", "nope", "--role", "viewer", ...sd])).code).toBe(1);

    const outside = await cli(["binding", "create", "--org", "acme", "--subject", `token:${tokenId}`, "--role", "runner", "--scope", "org/default", ...sd]);
    expect(outside.code).toBe(1);
    expect(outside.err).toContain("outside org acme");
    const b = await cli([
      "binding",
      "create",
      "--org",
      "acme",
      "--subject",
      `token:${tokenId}`,
      "--role",
      "runner",
      "--scope",
      "org/acme/lib/platform",
      ...sd,
      "--json",
    ]);
    expect(b.code).toBe(0);
    const bindingId = b.json().binding.id as string;
    expect((await cli(["binding", "list", "--org", "acme", ...sd])).out).toContain(`${bindingId}  runner`);
    expect((await cli(["role", "delete", "runner", "--org", "acme", ...sd])).code).toBe(1);
    expect((await cli(["binding", "delete", bindingId, "--org", "default", ...sd])).code).toBe(1);
    expect((await cli(["binding", "delete", bindingId, "--org", "acme", ...sd])).code).toBe(0);
    expect((await cli(["role", "delete", "runner", "--org", "acme", ...sd])).code).toBe(0);

    const del = await cli(["org", "delete", "acme", ...sd, "--json"]);
    expect(del.json()).toEqual({ ok: true, id: "acme", tokensRevoked: 1 });
    expect((await cli(["org", "delete", "default", ...sd])).code).toBe(1);
    expect((await openFileTenancyStore(dir!.path).listOrgs()).map((o) => o.id)).toEqual(["default"]);
  });

  it("every command has help with examples", async () => {
    for (const cmd of [
      ["org", "create"],
      ["role", "create"],
      ["binding", "create"],
      ["audit", "verify"],
      ["audit", "export"],
    ]) {
      const r = await cli([...cmd, "--help"]);
      expect(r.code, cmd.join(" ")).toBe(0);
      expect(r.out, cmd.join(" ")).toMatch(/Examples?:/i);
    }
  });
});

describe("aicfg audit", () => {
  async function seeded(sd: string[]) {
    await cli(["org", "create", "acme", ...sd]);
    await cli(["role", "create", "runner", "--org", "acme", "--actions", "view,run", ...sd]);
    await cli(["binding", "create", "--org", "acme", "--subject", "group:https://idp.example|eng", "--role", "runner", ...sd]);
    await cli(["org", "quota", "acme", "--runs-per-hour", "7", ...sd]);
    return auditFile(dir!.path, "acme");
  }

  it("verifies an intact chain and exports it as JSON lines", async () => {
    const sd = state();
    await seeded(sd);
    const v = await cli(["audit", "verify", "--org", "acme", ...sd]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/acme: 4 row\(s\), chain intact, head [0-9a-f]{64}/);
    const exp = await cli(["audit", "export", "--org", "acme", ...sd]);
    const rows = exp.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.seq, r.action, r.actor.kind])).toEqual([
      [1, "org.create", "cli"],
      [2, "role.create", "cli"],
      [3, "binding.create", "cli"],
      [4, "org.quota", "cli"],
    ]);
    expect((await cli(["audit", "export", "--org", "acme", "--after", "3", ...sd])).out.trim().split("\n")).toHaveLength(1);
  });

  it("exit 1 with the row for a changed, a removed and a reordered row; a truncated tail is caught by --expect-head", async () => {
    const sd = state();
    const file = await seeded(sd);
    const original = readFileSync(file, "utf8");
    const lines = original.trimEnd().split("\n");
    const head = JSON.parse(lines[3]!).hash as string;

    writeFileSync(file, [lines[0], lines[1]!.replace('"role.create"', '"role.delete"'), lines[2], lines[3]].join("\n") + "\n");
    let r = await cli(["audit", "verify", "--org", "acme", ...sd]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:2: error: row 2 (line 2) was changed after it was written (changed)`);

    writeFileSync(file, [lines[0], lines[2], lines[3]].join("\n") + "\n");
    r = await cli(["audit", "verify", "--org", "acme", ...sd, "--json"]);
    expect(r.code).toBe(1);
    expect(r.json().orgs[0].report.problem).toMatchObject({ line: 2, seq: 3, reason: "out-of-order" });

    writeFileSync(file, [lines[0], lines[2], lines[1], lines[3]].join("\n") + "\n");
    r = await cli(["audit", "verify", ...sd]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(":2: error: line 2 holds row 3 where row 2 belongs");

    writeFileSync(file, [lines[0], lines[1], lines[2]].join("\n") + "\n");
    expect((await cli(["audit", "verify", "--org", "acme", ...sd])).code).toBe(0);
    r = await cli(["audit", "verify", "--org", "acme", "--expect-head", head, ...sd]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("rows were removed or rewritten");
    writeFileSync(file, original);
    expect((await cli(["audit", "verify", "--org", "acme", "--expect-head", head, ...sd])).code).toBe(0);
  });
});
