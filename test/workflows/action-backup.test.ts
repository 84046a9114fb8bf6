// `backup`: a checksummed zip of the library, owned exported files and daemon state; retention;
// verification that catches corruption; restore into a new folder with safe entry names only.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backupAction } from "../../src/workflows/actions/backup.ts";
import { exportAction } from "../../src/workflows/actions/export.ts";
import { backupFileName, BACKUP_MANIFEST, restoreBackup, verifyBackup } from "../../src/workflows/backup-archive.ts";
import { sha256 } from "../../src/library/hash.ts";
import { runCli } from "../../src/daemon/cli/main.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { ensureLocalAdminToken, openTokenStore } from "../../src/daemon/auth/token-store.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { actionContext } from "./action-context.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
beforeEach(() => {
  dir = tempDir("aicfg-backup-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
});
afterEach(() => dir.cleanup());

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, tty: false, cwd: dir.path, env: {} } };
}

describe("backup action", () => {
  it("archives library, owned exports and state; verifies; restores into a new folder", async () => {
    await exportAction.run({ targets: ["claude-code"], root: "../project" }, actionContext(lib, state));
    const made = await backupAction.run({}, actionContext(lib, state));
    const file = String(made.outputs.file);
    expect(file).toBe(join(state, "backups", "lib", "aicfg-backup-lib-20260601T100000Z.zip"));
    expect(readFileSync(file + ".sha256", "utf8")).toBe(`${made.outputs.sha256}  aicfg-backup-lib-20260601T100000Z.zip\n`);
    const v = verifyBackup(file);
    expect([v.ok, v.problems]).toEqual([true, []]);
    const paths = v.manifest!.entries.map((e) => e.path);
    expect(paths).toContain("library/agents/reviewer.md");
    expect(paths).toContain("state/exports.json");
    expect(paths).toContain("exports/" + join(dir.path, "project", ".claude", "agents", "reviewer.md").slice(1));
    expect(paths.some((p) => p.startsWith("state/backups"))).toBe(false);

    const c = io();
    expect(await runCli(["restore", file, "--to", "restored"], c.io)).toBe(0);
    expect(c.out).toEqual([`restored ${paths.length} file(s) into ${join(dir.path, "restored")}`]);
    expect(readFileSync(join(dir.path, "restored", "library", "agents", "reviewer.md"), "utf8")).toBe(readFileSync(join(lib, "agents", "reviewer.md"), "utf8"));
    const again = io();
    expect(await runCli(["restore", file, "--to", "restored"], again.io)).toBe(1);
    expect(again.err[0]).toBe(`error: ${join(dir.path, "restored")} already exists and is not an empty folder`);
    const ok = io();
    expect(await runCli(["backup", "verify", file], ok.io)).toBe(0);
    expect(ok.out[0]).toBe(`ok: ${paths.length} file(s) from lib, made 2026-06-01T10:00:00.000Z`);
  });

  it("never archives a credential: the live local admin token and token files stay out (canary)", async () => {
    const admin = await ensureLocalAdminToken(state);
    const issued = openTokenStore(state).create({ role: "viewer", name: "ci" }).token;
    mkdirSync(join(state, "secrets"), { recursive: true });
    writeFileSync(join(state, "secrets", "age.key"), "AGE-SECRET-KEY-CANARY\n", { mode: 0o600 });
    const made = await backupAction.run({}, actionContext(lib, state));
    expect(made.outputs.credentials_left_out).toBe(2);
    const entries = unzipSync(readFileSync(String(made.outputs.file)));
    const names = Object.keys(entries);
    expect(names).toContain("state/tokens.json");
    expect(names.filter((n) => n.endsWith(".token") || n.includes("secrets/"))).toEqual([]);
    const all = Buffer.concat(Object.values(entries).map((b) => Buffer.from(b))).toString("latin1");
    for (const canary of [admin, issued, "AGE-SECRET-KEY-CANARY"]) expect(all).not.toContain(canary);
    expect(verifyBackup(String(made.outputs.file)).ok).toBe(true);
  });

  it("detects a corrupted archive", async () => {
    const made = await backupAction.run({}, actionContext(lib, state));
    const file = String(made.outputs.file);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 3)]! ^= 0xff;
    writeFileSync(file, bytes);
    const c = io();
    expect(await runCli(["backup", "verify", file], c.io)).toBe(1);
    expect(c.err[0]!.startsWith("error: archive checksum mismatch: expected ")).toBe(true);
  });

  it("refuses unsafe entry names and unlisted entries on restore", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const evil = enc("pwned");
    const manifest = {
      format: 1,
      created_at: "x",
      library: { name: "x", root: "/x" },
      entries: [{ path: "../escape.txt", sha256: sha256(evil), size: evil.length, kind: "library" }],
    };
    const zip = zipSync({ [BACKUP_MANIFEST]: enc(JSON.stringify(manifest)), "../escape.txt": evil, "library/extra.txt": evil });
    const file = join(dir.path, "evil.zip");
    writeFileSync(file, zip);
    writeFileSync(file + ".sha256", `${sha256(zip)}  evil.zip\n`);
    const v = verifyBackup(file);
    expect(v.problems).toEqual(['unsafe entry name "../escape.txt"', "library/extra.txt is in the archive but not in its manifest"]);
    expect(() => restoreBackup(file, join(dir.path, "out"))).toThrow(
      `${file} failed verification: unsafe entry name "../escape.txt"; library/extra.txt is in the archive but not in its manifest`,
    );
    expect(existsSync(join(dir.path, "escape.txt"))).toBe(false);
    expect(existsSync(join(dir.path, "out"))).toBe(false);
  });

  it("keeps the newest N archives and drops those older than max_age", async () => {
    const day = 86_400_000;
    const t0 = Date.parse("2026-06-01T10:00:00Z");
    for (let i = 0; i < 4; i++) await backupAction.run({ keep: 3 }, actionContext(lib, state, { now: () => t0 + i * day }));
    const folder = join(state, "backups", "lib");
    expect(
      readdirSync(folder)
        .filter((n) => n.endsWith(".zip"))
        .sort(),
    ).toEqual([1, 2, 3].map((i) => backupFileName("lib", t0 + i * day)));
    const r = await backupAction.run({ keep: 10, max_age: "36h" }, actionContext(lib, state, { now: () => t0 + 4 * day }));
    expect((r.outputs.removed as string[]).map((p) => p.slice(folder.length + 1)).sort()).toEqual([1, 2].map((i) => backupFileName("lib", t0 + i * day)));
    expect(
      readdirSync(folder)
        .filter((n) => n.endsWith(".zip"))
        .sort(),
    ).toEqual([3, 4].map((i) => backupFileName("lib", t0 + i * day)));
  });
});
