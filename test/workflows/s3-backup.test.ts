// Backups to S3, against a real S3 API on loopback (s3rver checks every SigV4 signature): the client
// (PutObject, multipart, GetObject, ListObjectsV2 pages, DeleteObject, the errors a platform team
// meets), the backup action's s3 destination (credentials from the secret store, sha256 metadata,
// retention), the workflow schema (no literal credentials) and `aicfg restore --from s3://`.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/daemon/cli/main.ts";
import { resolveDaemonConfig } from "../../src/daemon/config.ts";
import { sha256 } from "../../src/library/hash.ts";
import { backupAction, S3_META } from "../../src/workflows/actions/backup.ts";
import { compileWorkflowText } from "../../src/workflows/schema.ts";
import { createS3Client, S3Error, type S3Location } from "../../src/workflows/s3.ts";
import { openSecretStore, secretAccess } from "../../src/workflows/secrets/store.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { actionContext } from "./action-context.ts";

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
}, 30_000);
afterAll(async () => {
  await s3?.stop();
});

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
const env = { AICFG_SECRET_KEY: undefined } as Record<string, string | undefined>;
beforeEach(async () => {
  dir = tempDir("aicfg-s3-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
  const store = openSecretStore(state, env);
  await store.set("S3_KEY_ID", s3.accessKeyId);
  await store.set("S3_SECRET", s3.secretAccessKey);
  await store.set("S3_WRONG", "wrong-" + s3.secretAccessKey.slice(6));
});
afterEach(() => dir.cleanup());

let prefixCount = 0;
/** A fresh prefix per test: the server (and its bucket) is shared by the file. */
const freshPrefix = () => `t${++prefixCount}-${Date.now().toString(36)}/`;
const loc = (prefix: string, over: Partial<S3Location> = {}): S3Location => ({
  endpoint: s3.endpoint,
  region: "us-east-1",
  bucket: s3.bucket,
  prefix,
  forcePathStyle: true,
  ...over,
});
const creds = () => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });

function ctx(now = Date.parse("2026-06-01T10:00:00Z")) {
  const revealed: string[] = [];
  const c = actionContext(lib, state, { now: () => now, secrets: secretAccess(state, env, (v) => revealed.push(v)) });
  return Object.assign(c, { revealed });
}

const s3With = (prefix: string, over: Record<string, unknown> = {}) => ({
  s3: {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix,
    force_path_style: true,
    access_key_id: { secret: "S3_KEY_ID" },
    secret_access_key: { secret: "S3_SECRET" },
    ...over,
  },
});

async function caught(p: Promise<unknown>): Promise<S3Error & { retryable: boolean }> {
  try {
    await p;
  } catch (e) {
    return e as S3Error;
  }
  throw new Error("expected a rejection");
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      color: false,
      tty: false,
      cwd: dir.path,
      env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } as Record<string, string | undefined>,
    },
  };
}

/** The file s3rver keeps an object's bytes in. */
function objectFile(key: string): string {
  const found = (d: string): string[] =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? found(p) : p.endsWith("._S3rver_object") ? [p] : [];
    });
  const hit = found(join(s3.dir, s3.bucket)).filter((p) => p === join(s3.dir, s3.bucket, `${key}._S3rver_object`));
  expect(hit).toHaveLength(1);
  return hit[0]!;
}

describe("the S3 client against a real S3 API", () => {
  it("puts, gets (metadata included), lists across pages and deletes", async () => {
    const prefix = freshPrefix();
    const c = createS3Client(loc(prefix), creds());
    const keys = ["a.zip", "b.zip", "c.zip", "d.zip", "sub/e.zip"].map((k) => prefix + k);
    for (const k of keys) expect(await c.putObject(k, new TextEncoder().encode(`body of ${k}`), { "aicfg-sha256": sha256(k) })).toEqual({ parts: 1 });
    const got = await c.getObject(keys[1]!, 1024);
    expect(new TextDecoder().decode(got.body)).toBe(`body of ${keys[1]}`);
    expect(got.meta["aicfg-sha256"]).toBe(sha256(keys[1]!));
    // Two keys a page: three ListObjectsV2 requests, continuation tokens followed.
    const listed = await c.listObjects(prefix, 2);
    expect(listed.map((o) => o.key).sort()).toEqual([...keys].sort());
    expect(listed.find((o) => o.key === keys[0])!.size).toBe(`body of ${keys[0]}`.length);
    await c.deleteObject(keys[0]!);
    expect((await c.listObjects(prefix, 2)).map((o) => o.key)).not.toContain(keys[0]);
    const gone = await caught(c.getObject(keys[0]!, 1024));
    expect([gone.code, gone.status]).toEqual(["s3-no-such-key", 404]);
  });

  it("uploads a large archive in parts (multipart) and reads back the same bytes and metadata", async () => {
    const prefix = freshPrefix();
    const partBytes = 5 * 1024 * 1024;
    const c = createS3Client(loc(prefix), creds(), { multipartThreshold: partBytes, partBytes });
    const body = new Uint8Array(12 * 1024 * 1024 + 123);
    for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, Math.min(i + 65536, body.length)));
    const r = await c.putObject(prefix + "big.zip", body, { "aicfg-sha256": sha256(body) });
    expect(r.parts).toBe(3);
    const got = await c.getObject(prefix + "big.zip", body.length);
    expect(got.body.length).toBe(body.length);
    expect(sha256(got.body)).toBe(sha256(body));
    expect(got.meta["aicfg-sha256"]).toBe(sha256(body));
    const tooBig = await caught(c.getObject(prefix + "big.zip", 1024));
    expect(tooBig.code).toBe("s3-object-too-large");
  }, 60_000);

  it("a wrong secret key is refused by the server's signature check, with an error that names neither key", async () => {
    const wrong = "wrong-" + s3.secretAccessKey.slice(6);
    const c = createS3Client(loc(freshPrefix()), { accessKeyId: s3.accessKeyId, secretAccessKey: wrong });
    const e = await caught(c.putObject("x/y.zip", new Uint8Array([1, 2, 3]), {}));
    expect(e).toBeInstanceOf(S3Error);
    expect([e.code, e.status, e.s3Code, e.retryable]).toEqual(["s3-signature-mismatch", 403, "SignatureDoesNotMatch", false]);
    expect(e.message).toBe(
      `PutObject s3://${s3.bucket}/x/y.zip at ${s3.endpoint}: the server refused the request signature (403 SignatureDoesNotMatch): the secret access key is wrong`,
    );
    expect(e.hint).toContain("aicfg secret set");
    for (const s of [wrong, s3.secretAccessKey]) expect(JSON.stringify({ m: e.message, h: e.hint })).not.toContain(s);
    const unknown = await caught(createS3Client(loc(""), { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x".repeat(40) }).listObjects(""));
    expect([unknown.code, unknown.status]).toEqual(["s3-unknown-access-key", 403]);
  });

  it("a missing bucket and an unreachable endpoint get their own errors", async () => {
    const nb = await caught(createS3Client(loc("", { bucket: "no-such-bucket" }), creds()).listObjects(""));
    expect([nb.code, nb.status, nb.retryable]).toEqual(["s3-no-such-bucket", 404, false]);
    expect(nb.message).toBe(`ListObjectsV2: bucket no-such-bucket does not exist at ${s3.endpoint} (404 NoSuchBucket)`);
    expect(nb.hint).toBe("create the bucket, or check bucket, endpoint and force_path_style");
    // A port nobody listens on: bind one, close it, connect.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const down = await caught(createS3Client(loc("", { endpoint: `http://127.0.0.1:${port}` }), creds()).putObject("k.zip", new Uint8Array(1), {}));
    expect([down.code, down.retryable]).toEqual(["s3-unreachable", true]);
    expect(down.message).toBe(`PutObject: cannot reach the S3 endpoint http://127.0.0.1:${port}: connection refused`);
  });
});

describe("the backup action's s3 destination", () => {
  it("uploads the archive with its sha256 as metadata, reading the credentials from the secret store", async () => {
    const prefix = freshPrefix();
    const c = ctx();
    const r = await backupAction.run(s3With(prefix), c);
    const key = `${prefix}aicfg-backup-lib-20260601T100000Z.zip`;
    expect(r.outputs).toMatchObject({ url: `s3://${s3.bucket}/${key}`, key, parts: 1, removed: [] });
    const stored = readFileSync(objectFile(key));
    expect(r.outputs.sha256).toBe(sha256(stored));
    expect(r.outputs.bytes).toBe(stored.length);
    const meta = await createS3Client(loc(prefix), creds()).getObject(key, 1 << 26);
    expect(meta.meta).toMatchObject({
      [S3_META.sha256]: sha256(stored),
      [S3_META.library]: "lib",
      [S3_META.createdAt]: "2026-06-01T10:00:00.000Z",
      [S3_META.entries]: String(r.outputs.entries),
    });
    // The decrypted credentials went through the scrubber's registration; the log names none of them.
    expect(c.revealed).toEqual([s3.accessKeyId, s3.secretAccessKey]);
    expect(c.logs.join("\n")).toContain(`backup s3://${s3.bucket}/${key} at ${s3.endpoint}`);
    expect(c.logs.join("\n")).not.toContain(s3.secretAccessKey);
  });

  it("keeps the newest `keep` archives and drops those older than max_age, leaving other keys alone", async () => {
    const prefix = freshPrefix();
    const other = createS3Client(loc(prefix), creds());
    await other.putObject(`${prefix}aicfg-backup-other-20200101T000000Z.zip`, new Uint8Array([1]), {});
    await other.putObject(`${prefix}notes.txt`, new Uint8Array([1]), {});
    await other.putObject(`${prefix}nested/aicfg-backup-lib-20200101T000000Z.zip`, new Uint8Array([1]), {});
    const day = 86_400_000;
    const t0 = Date.parse("2026-06-01T02:00:00Z");
    const removed: unknown[] = [];
    for (let i = 0; i < 6; i++) removed.push((await backupAction.run({ ...s3With(prefix), keep: 4 }, ctx(t0 + i * day))).outputs.removed);
    expect(removed.slice(0, 4)).toEqual([[], [], [], []]);
    expect(removed[4]).toEqual([`s3://${s3.bucket}/${prefix}aicfg-backup-lib-20260601T020000Z.zip`]);
    const names = async () =>
      (await other.listObjects(prefix))
        .map((o) => o.key.slice(prefix.length))
        .sort()
        .filter((n) => n.startsWith("aicfg-backup-lib"));
    expect(await names()).toEqual([
      "aicfg-backup-lib-20260603T020000Z.zip",
      "aicfg-backup-lib-20260604T020000Z.zip",
      "aicfg-backup-lib-20260605T020000Z.zip",
      "aicfg-backup-lib-20260606T020000Z.zip",
    ]);
    // max_age 36h a day later: only the last two stay.
    const r = await backupAction.run({ ...s3With(prefix), keep: 10, max_age: "36h" }, ctx(t0 + 6 * day));
    expect((r.outputs.removed as string[]).length).toBe(3);
    expect(await names()).toEqual(["aicfg-backup-lib-20260606T020000Z.zip", "aicfg-backup-lib-20260607T020000Z.zip"]);
    const all = (await other.listObjects(prefix)).map((o) => o.key.slice(prefix.length));
    for (const k of ["aicfg-backup-other-20200101T000000Z.zip", "notes.txt", "nested/aicfg-backup-lib-20200101T000000Z.zip"]) expect(all).toContain(k);
  }, 60_000);

  it("fails the step with the server's refusal for a wrong secret key, and names the missing secret", async () => {
    const e = await caught(backupAction.run(s3With(freshPrefix(), { secret_access_key: { secret: "S3_WRONG" } }), ctx()));
    expect([e.code, e.retryable]).toEqual(["s3-signature-mismatch", false]);
    expect(e.message).toContain("(403 SignatureDoesNotMatch): the secret access key is wrong");
    const missing = await caught(backupAction.run(s3With(freshPrefix(), { secret_access_key: { secret: "NOT_SET" } }), ctx()));
    expect(missing.code).toBe("secret-unavailable");
    expect(missing.message).toContain("NOT_SET");
    const env = await caught(backupAction.run(s3With(freshPrefix(), { secret_access_key: { env: "S3_SECRET_ENV" } }), ctx()));
    expect([env.code, env.message]).toEqual(["missing-env", "s3.secret_access_key: environment variable S3_SECRET_ENV is not set or not allowed"]);
    // From an allowlisted environment variable it works.
    const c = actionContext(lib, state, { settings: { env: { S3_SECRET_ENV: s3.secretAccessKey, S3_ID_ENV: s3.accessKeyId } } });
    const ok = await backupAction.run(s3With(freshPrefix(), { access_key_id: { env: "S3_ID_ENV" }, secret_access_key: { env: "S3_SECRET_ENV" } }), c);
    expect(ok.outputs.parts).toBe(1);
  });
});

describe("actions.backup.s3 in the daemon config", () => {
  it("when set, only the listed endpoint/bucket/prefix destinations take a backup; nothing is uploaded elsewhere", async () => {
    const prefix = freshPrefix();
    const allowed = `${s3.endpoint}/${s3.bucket}/${prefix}`;
    const only = (list: string[]) => actionContext(lib, state, { settings: { backupS3: list }, secrets: secretAccess(state, env, () => {}) });
    const ok = await backupAction.run(s3With(prefix), only([allowed]));
    expect(String(ok.outputs.key).startsWith(prefix)).toBe(true);
    const other = freshPrefix();
    const e = await caught(backupAction.run(s3With(other), only([allowed, "https://s3.eu-west-1.amazonaws.com/team-backups"])));
    expect([e.code, e.retryable]).toEqual(["s3-destination-not-allowed", false]);
    expect(e.message).toBe(
      `the S3 destination ${s3.endpoint}/${s3.bucket}/${other} is not one the daemon allows (${allowed}, https://s3.eu-west-1.amazonaws.com/team-backups)`,
    );
    expect(e.hint).toBe("an administrator can add it to actions.backup.s3 in the daemon config");
    expect(await createS3Client(loc(other), creds()).listObjects(other)).toEqual([]);
    // A bucket-wide entry allows every prefix of that bucket, and only on that endpoint.
    expect((await backupAction.run(s3With(other), only([`${s3.endpoint}/${s3.bucket}`]))).outputs.parts).toBe(1);
    const elsewhere = await caught(backupAction.run(s3With(other), only([`http://127.0.0.2:1/${s3.bucket}`])));
    expect(elsewhere.code).toBe("s3-destination-not-allowed");
  });

  it("is read from daemon.yaml, and a malformed entry is a config error", () => {
    const file = join(dir.path, "daemon.yaml");
    writeFileSync(file, `libraries: [lib]\nactions:\n  backup:\n    s3: [https://s3.eu-west-1.amazonaws.com/team-backups/aicfg/]\n`);
    expect(resolveDaemonConfig({ config: file }, "/", {}).backupS3).toEqual(["https://s3.eu-west-1.amazonaws.com/team-backups/aicfg/"]);
    expect(resolveDaemonConfig({ libraries: [lib] }, "/", {}).backupS3).toBe(undefined);
    writeFileSync(file, "libraries: [lib]\nactions:\n  backup:\n    s3: [team-backups]\n");
    expect(() => resolveDaemonConfig({ config: file }, "/", {})).toThrow(/must be <endpoint>\/<bucket>\[\/<prefix>\]/);
  });
});

describe("the workflow schema for an s3 backup", () => {
  const wf = (s3: string) => `name: b\non: { manual: true }\nsteps:\n  - uses: backup\n    with:\n      s3:\n${s3}`;
  const base = "        bucket: team-backups\n        endpoint: https://s3.eu-west-1.amazonaws.com\n";
  it("refuses a literal credential at its line and column, with a hint", () => {
    const r = compileWorkflowText(
      wf(base + "        access_key_id: { secret: KEY_ID }\n        secret_access_key: hunter2hunter2\n"),
      "/lib/workflows/b.yaml",
      "lib",
    );
    expect(r.workflow).toBeUndefined();
    expect(r.diagnostics).toEqual([
      {
        severity: "error",
        code: "invalid-value",
        message: "steps.0.with.s3.secret_access_key: a credential must not be written in the workflow file (it is committed and shared)",
        file: "/lib/workflows/b.yaml",
        line: 10,
        col: 28,
        hint: "write { secret: NAME } (stored encrypted with 'aicfg secret set NAME') or { env: NAME } (a variable listed in env_allowlist)",
      },
    ]);
  });

  it("accepts secret and env references; refuses dir with s3, a bad bucket and ${{ }} in the destination", () => {
    const good = compileWorkflowText(
      wf(base + "        access_key_id: { env: AWS_ACCESS_KEY_ID }\n        secret_access_key: { secret: S3_SECRET }\n"),
      "/w.yaml",
      "lib",
    );
    expect(good.diagnostics).toEqual([]);
    const both = compileWorkflowText(
      wf(base + "        access_key_id: { env: A }\n        secret_access_key: { env: B }\n      dir: /backups\n"),
      "/w.yaml",
      "lib",
    );
    expect(both.diagnostics.map((d) => [d.message, d.hint])).toEqual([
      ["steps.0.with.s3: give dir or s3, not both", "use two backup steps for a local and an off-site copy"],
    ]);
    const bucket = compileWorkflowText(
      wf("        bucket: Team_Backups\n        access_key_id: { env: A }\n        secret_access_key: { env: B }\n"),
      "/w.yaml",
      "lib",
    );
    expect(bucket.diagnostics.map((d) => d.message)).toEqual([
      "steps.0.with.s3.bucket: must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'",
    ]);
    const tpl = compileWorkflowText(
      wf('        bucket: "${{ inputs.b }}"\n        access_key_id: { env: A }\n        secret_access_key: { env: B }\n') + "inputs:\n  b: { type: string }\n",
      "/w.yaml",
      "lib",
    );
    expect(tpl.diagnostics.map((d) => d.code)).toEqual(["template-in-literal-field"]);
  });
});

describe("aicfg restore --from s3://", () => {
  it("lists the backups, restores the latest with its checksum verified, or a named one", async () => {
    const prefix = freshPrefix();
    const t0 = Date.parse("2026-06-01T02:00:00Z");
    const first = await backupAction.run(s3With(prefix), ctx(t0));
    writeFileSync(join(lib, "agents", "writer.md"), "---\ndescription: Writes docs\n---\nSecond version.\n");
    const second = await backupAction.run(s3With(prefix), ctx(t0 + 3_600_000));
    const from = `s3://${s3.bucket}/${prefix}`;
    const common = ["--endpoint", s3.endpoint, "--path-style"];

    const l = io();
    expect(await runCli(["restore", "--from", from, "--list", "--json", ...common], l.io)).toBe(0);
    const listed = JSON.parse(l.out.join("\n")) as { backups: { url: string; library: string; created_at: string; bytes: number }[] };
    expect(listed.backups.map((b) => [b.url, b.library, b.created_at, b.bytes])).toEqual([
      [second.outputs.url, "lib", "2026-06-01T03:00:00.000Z", second.outputs.bytes],
      [first.outputs.url, "lib", "2026-06-01T02:00:00.000Z", first.outputs.bytes],
    ]);

    const latest = io();
    expect(await runCli(["restore", "--from", from, "--to", "latest", ...common], latest.io)).toBe(0);
    expect(latest.out[0]).toMatch(
      new RegExp(`^restored \\d+ file\\(s\\) from ${second.outputs.url} \\(\\d+ bytes, sha256 verified\\) into ${join(dir.path, "latest")}$`),
    );
    expect(readFileSync(join(dir.path, "latest", "library", "agents", "writer.md"), "utf8")).toContain("Second version.");

    const named = io();
    expect(await runCli(["restore", "--from", String(first.outputs.url), "--to", "first", "--json", ...common], named.io)).toBe(0);
    expect(JSON.parse(named.out.join("\n"))).toMatchObject({ ok: true, from: first.outputs.url, sha256: first.outputs.sha256 });
    expect(readFileSync(join(dir.path, "first", "library", "agents", "writer.md"), "utf8")).toContain("Write clear documentation.");

    // Credentials from the secret store instead of the environment.
    const fromStore = io();
    fromStore.io.env = {};
    const args = ["restore", "--from", from, "--list", ...common, "--state-dir", state, "--access-key-secret", "S3_KEY_ID", "--secret-key-secret", "S3_SECRET"];
    expect(await runCli(args, fromStore.io)).toBe(0);
    expect(fromStore.out).toHaveLength(2);
  });

  it("asks which library when a prefix holds several, and says when there is none", async () => {
    const prefix = freshPrefix();
    const made = await backupAction.run(s3With(prefix), ctx());
    await createS3Client(loc(prefix), creds()).putObject(`${prefix}aicfg-backup-other-20260701T000000Z.zip`, new Uint8Array([1]), {});
    const from = `s3://${s3.bucket}/${prefix}`;
    const common = ["--endpoint", s3.endpoint, "--path-style"];
    const two = io();
    expect(await runCli(["restore", "--from", from, "--to", "out", ...common], two.io)).toBe(2);
    expect(two.err).toEqual([`error: ${from} holds backups of several libraries: lib, other`, "hint: pick one with --library-name NAME, or name the object"]);
    const one = io();
    expect(await runCli(["restore", "--from", from, "--library-name", "lib", "--to", "out", "--json", ...common], one.io)).toBe(0);
    expect(JSON.parse(one.out.join("\n"))).toMatchObject({ from: made.outputs.url, sha256: made.outputs.sha256 });
    const empty = io();
    expect(await runCli(["restore", "--from", `s3://${s3.bucket}/${freshPrefix()}`, ...common], empty.io)).toBe(1);
    expect(empty.err[0]).toMatch(/^error: no backups under s3:\/\/backups\/t\d+-[a-z0-9]+\/ at http:\/\/127\.0\.0\.1:\d+$/);
    const flag = io();
    expect(await runCli(["restore", "backup.zip", "--list"], flag.io)).toBe(2);
    expect(flag.err[0]).toBe("error: --list needs --from s3://...");
  });

  it("refuses a tampered object, an object without its checksum and a wrong secret key, restoring nothing", async () => {
    const prefix = freshPrefix();
    const made = await backupAction.run(s3With(prefix), ctx());
    const key = String(made.outputs.key);
    const file = objectFile(key);
    const bytes = readFileSync(file);
    const from = `s3://${s3.bucket}/${prefix}`;
    const common = ["--endpoint", s3.endpoint, "--path-style"];

    // One byte of the stored object flipped (damage at rest, or an edit by someone with write access).
    const tampered = Buffer.from(bytes);
    tampered[Math.floor(tampered.length / 2)]! ^= 0xff;
    writeFileSync(file, tampered);
    const t = io();
    expect(await runCli(["restore", "--from", from, "--to", "out", ...common], t.io)).toBe(1);
    expect(t.err[0]).toBe(
      `error: s3://${s3.bucket}/${key}: the downloaded archive's sha256 is ${sha256(tampered)}, but the backup stored ${made.outputs.sha256} (x-amz-meta-aicfg-sha256): the object was changed or damaged after the backup; nothing was restored`,
    );
    expect(t.err[1]).toBe(`hint: restore another backup (aicfg restore --from s3://${s3.bucket}/${prefix} --list)`);
    expect(readdirSync(dir.path)).not.toContain("out");

    // Uploaded again without our metadata: cannot be verified, refused.
    await createS3Client(loc(prefix), creds()).putObject(key, bytes, {});
    const n = io();
    expect(await runCli(["restore", "--from", from, "--to", "out", ...common], n.io)).toBe(1);
    expect(n.err[0]).toBe(`error: s3://${s3.bucket}/${key} has no x-amz-meta-aicfg-sha256 metadata, so it cannot be verified: nothing was restored`);

    const w = io();
    w.io.env.AWS_SECRET_ACCESS_KEY = "wrong-" + s3.secretAccessKey.slice(6);
    expect(await runCli(["restore", "--from", from, "--to", "out", "--json", ...common], w.io)).toBe(1);
    const err = JSON.parse(w.out.join("\n") || w.err.join("\n")) as { error: { code: string; message: string } };
    expect(err.error.code).toBe("s3-signature-mismatch");
    expect(JSON.stringify(err)).not.toContain(s3.secretAccessKey.slice(6));
    expect(readdirSync(dir.path)).not.toContain("out");

    const none = io();
    none.io.env = {};
    expect(await runCli(["restore", "--from", from, ...common], none.io)).toBe(1);
    expect(none.err).toEqual([
      "error: no S3 credentials: the access key id is missing",
      "hint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name secrets of the store with --access-key-secret and --secret-key-secret",
    ]);
  });
});
