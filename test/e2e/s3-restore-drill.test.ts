// The restore drill, end to end with the real CLI and a real S3 API on loopback: `aicfg run` takes a
// backup to S3 (credentials from the encrypted secret store), the library is damaged (a file
// deleted, one overwritten, one added), `aicfg restore --from s3://` fetches the latest backup,
// checks its sha256 against the object's metadata and every file against the manifest, and the
// restored library equals the original byte for byte; put back in place, it validates.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../../src/library/hash.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));

function aicfg(args: string[], opts: { input?: string; cwd: string }): { status: number | null; stdout: string; stderr: string } {
  const g = globalThis as { Deno?: unknown };
  const pre = g.Deno ? ["run", "-A", join(repo, "bin/aicfg.js")] : [join(repo, "bin/aicfg.js")];
  const r = spawnSync(process.execPath, [...pre, ...args], {
    cwd: opts.cwd,
    input: opts.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) visit(p);
      else out[relative(root, p)] = sha256(readFileSync(p));
    }
  };
  visit(root);
  return out;
}

let s3: TestS3;
let dir: { path: string; cleanup: () => void };
beforeAll(async () => {
  s3 = await startS3("team-backups");
  dir = tempDir("aicfg-s3-drill-");
}, 30_000);
afterAll(async () => {
  await s3?.stop();
  dir?.cleanup();
});

describe("restore drill from S3", () => {
  it("backup to S3 -> library damaged -> aicfg restore --from s3:// -> the library equals the original, checksums verified", async () => {
    const lib = join(dir.path, "lib");
    const state = join(dir.path, "state");
    writeTree(lib, {
      "aicfg.yaml": "name: team\ntargets: [claude-code]\nexport:\n  scope: project\n  root: ../project\n",
      "agents/reviewer.md": "---\ndescription: Reviews code\nknowledge: [style.md]\nmcp: [github]\n---\nReview every change carefully.\n",
      "agents/writer.md": "---\ndescription: Writes docs\n---\nWrite clear documentation.\n",
      "knowledge/style.md": "# Style\n\nUse short sentences.\n",
      "mcp/github.yaml": "command: gh-mcp\nenv:\n  GITHUB_TOKEN: { secret: GITHUB_TOKEN }\n",
      "workflows/offsite.yaml":
        "name: offsite\non: { manual: true }\nsteps:\n  - uses: export\n    with: { targets: [claude-code] }\n  - uses: backup\n    with:\n      keep: 5\n      s3:\n" +
        `        endpoint: ${s3.endpoint}\n        region: us-east-1\n        bucket: ${s3.bucket}\n        prefix: aicfg/team\n        force_path_style: true\n` +
        "        access_key_id: { secret: S3_KEY_ID }\n        secret_access_key: { secret: S3_SECRET }\n",
    });
    for (const [name, value] of [
      ["S3_KEY_ID", s3.accessKeyId],
      ["S3_SECRET", s3.secretAccessKey],
      ["GITHUB_TOKEN", "ghp_drill"],
    ] as const) {
      const set = aicfg(["secret", "set", name, "--state-dir", state], { input: value, cwd: dir.path });
      expect(set.status, set.stderr).toBe(0);
    }
    const original = tree(lib);

    const run = aicfg(["run", "offsite", "--library", lib, "--state-dir", state, "--json"], { cwd: dir.path });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const record = JSON.parse(run.stdout) as { ok: boolean; run: { steps: { id: string; outputs: Record<string, unknown> }[] } };
    const backup = record.run.steps.find((s) => s.id === "backup")!.outputs;
    expect(String(backup.url)).toMatch(/^s3:\/\/team-backups\/aicfg\/team\/aicfg-backup-team-\d{8}T\d{6}Z\.zip$/);
    const s3Args = ["--endpoint", s3.endpoint, "--path-style", "--state-dir", state, "--access-key-secret", "S3_KEY_ID", "--secret-key-secret", "S3_SECRET"];

    const listed = aicfg(["restore", "--from", "s3://team-backups/aicfg/team/", "--list", "--json", ...s3Args], { cwd: dir.path });
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { backups: { url: string }[] }).backups.map((b) => b.url)).toEqual([backup.url]);

    // The damage.
    rmSync(join(lib, "agents", "writer.md"));
    writeFileSync(join(lib, "agents", "reviewer.md"), "garbage\n");
    writeFileSync(join(lib, "knowledge", "stray.md"), "not part of the library\n");
    expect(tree(lib)).not.toEqual(original);

    const restored = aicfg(["restore", "--from", "s3://team-backups/aicfg/team", "--to", "restored", "--json", ...s3Args], { cwd: dir.path });
    expect(restored.status, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout) as { ok: boolean; from: string; sha256: string; files: number; dest: string };
    expect(r).toMatchObject({ ok: true, from: backup.url, sha256: backup.sha256, dest: join(dir.path, "restored") });
    expect(r.files).toBe(backup.entries);
    expect(tree(join(dir.path, "restored", "library"))).toEqual(original);
    // The exports came back too, and no secret key file.
    expect(readdirSync(join(dir.path, "restored", "exports")).length).toBeGreaterThan(0);
    expect(Object.keys(tree(join(dir.path, "restored", "state")))).not.toContain("secret.key");

    // Put back in place: the library is whole again and validates.
    renameSync(lib, join(dir.path, "lib-damaged"));
    cpSync(join(dir.path, "restored", "library"), lib, { recursive: true });
    expect(tree(lib)).toEqual(original);
    const valid = aicfg(["validate", "--library", lib], { cwd: dir.path });
    expect(valid.status, valid.stdout + valid.stderr).toBe(0);
  }, 120_000);
});
