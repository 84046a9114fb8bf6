// `backup`: a compressed, checksummed snapshot of the library, the exported files we own and the
// daemon state, with retention (`keep` newest, `max_age`), into a local folder or an S3 bucket.
import { resolve } from "node:path";
import { z } from "zod";
import { SecretName, SecretRef } from "../../library/schema.ts";
import { backupNamesOf, buildBackup, createBackup, expiredBackups, pruneBackups } from "../backup-archive.ts";
import { Duration, parseDuration } from "../duration.ts";
import { createS3Client, isBucketName, normalizePrefix, S3Error, type S3Credentials, type S3Location } from "../s3.ts";
import { ActionError, defineAction, type ActionContext } from "./types.ts";
import { requireAllowedFolder } from "./write-roots.ts";

const EnvRef = z
  .strictObject({ env: SecretName.describe("an environment variable of the daemon, listed in env_allowlist") })
  .describe("a value from the daemon's environment");

const CREDENTIAL_HINT = "write { secret: NAME } (stored encrypted with 'aicfg secret set NAME') or { env: NAME } (a variable listed in env_allowlist)";

/** A credential is a reference, never a literal: workflow files are committed and shared. */
const Credential = z.union([SecretRef, EnvRef], {
  error: (iss) =>
    typeof iss.input === "string"
      ? `a credential must not be written in the workflow file (it is committed and shared)\nhint: ${CREDENTIAL_HINT}`
      : `expected { secret: NAME } or { env: NAME }\nhint: ${CREDENTIAL_HINT}`,
});
type Credential = z.infer<typeof Credential>;

const S3Destination = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL, e.g. https://s3.eu-west-1.amazonaws.com" })
      .optional()
      .describe("the S3 API endpoint (default https://s3.<region>.amazonaws.com); MinIO, Ceph, R2, ... give theirs"),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, "must be a region such as eu-west-1 (or auto)")
      .optional()
      .describe("signing region (default us-east-1)"),
    bucket: z.string().refine(isBucketName, "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'"),
    prefix: z
      .string()
      .max(512)
      .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "must use S3's safe key characters: letters, digits, / ! - _ . * ' ( )")
      .refine((p) => !p.split("/").some((s) => s === ".." || s === "."), "must not contain '.' or '..' segments")
      .optional()
      .describe("folder inside the bucket, e.g. aicfg/team/ (archives are <prefix>aicfg-backup-<library>-<time>.zip)"),
    force_path_style: z
      .boolean()
      .optional()
      .describe("address the bucket as <endpoint>/<bucket> (MinIO and most self-hosted servers) instead of <bucket>.<host>"),
    access_key_id: Credential.describe("the access key id: { secret: NAME } or { env: NAME }"),
    secret_access_key: Credential.describe("the secret access key: { secret: NAME } or { env: NAME }"),
    session_token: Credential.optional().describe("a session token for temporary credentials: { secret: NAME } or { env: NAME }"),
  })
  .describe("upload the archive to an S3-compatible bucket instead of a folder; the archive's sha256 is stored as object metadata and checked on restore");

const BackupWith = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "where archives go (default <state-dir>/backups/<library>); relative to the library; literal, and inside the daemon's actions.backup.dirs when set",
      ),
    s3: S3Destination.optional(),
    keep: z.number().int().min(1).max(10_000).optional().describe("newest archives to keep (default 7)"),
    max_age: Duration.optional().describe("delete archives older than this (the newest always stays)"),
  })
  .superRefine((w, ctx) => {
    if (w.dir !== undefined && w.s3 !== undefined)
      ctx.addIssue({ code: "custom", path: ["s3"], message: "give dir or s3, not both\nhint: use two backup steps for a local and an off-site copy" });
  });

/** The metadata keys (x-amz-meta-*) of an archive object. */
export const S3_META = { sha256: "aicfg-sha256", library: "aicfg-library", createdAt: "aicfg-created-at", entries: "aicfg-entries" } as const;

async function credential(c: Credential, field: string, ctx: ActionContext): Promise<string> {
  if ("secret" in c) {
    if (!ctx.secrets)
      throw new ActionError("no-secret-store", `s3.${field} refers to secret ${c.secret}, but this daemon has no secret store`, {
        retryable: false,
        hint: `store it with: aicfg secret set ${c.secret} --state-dir <the daemon's state dir>`,
      });
    try {
      return await ctx.secrets.get(c.secret);
    } catch (e) {
      throw new ActionError("secret-unavailable", `s3.${field}: ${(e as Error).message}`, {
        retryable: false,
        hint: (e as { hint?: string }).hint ?? `store it with: aicfg secret set ${c.secret}`,
      });
    }
  }
  const v = ctx.settings.env[c.env];
  if (!v)
    throw new ActionError("missing-env", `s3.${field}: environment variable ${c.env} is not set or not allowed`, {
      retryable: false,
      hint: "set it in the daemon's environment and list it under env_allowlist in daemon.yaml",
    });
  return v;
}

function s3Location(s3: z.infer<typeof S3Destination>): S3Location {
  const region = s3.region ?? "us-east-1";
  return {
    endpoint: s3.endpoint ?? `https://s3.${region}.amazonaws.com`,
    region,
    bucket: s3.bucket,
    prefix: normalizePrefix(s3.prefix),
    forcePathStyle: s3.force_path_style ?? false,
  };
}

function asActionError(e: unknown): unknown {
  if (!(e instanceof S3Error)) return e;
  return new ActionError(e.code, e.message, { retryable: e.retryable, ...(e.hint ? { hint: e.hint } : {}) });
}

/** `<origin>/<bucket>/<prefix>` must be under one of the daemon's `actions.backup.s3` entries, when it has some. */
function requireAllowedS3(location: S3Location, allowed: readonly string[] | undefined): void {
  if (!allowed) return;
  const dest = `${new URL(location.endpoint).origin}/${location.bucket}/${location.prefix}`;
  const norm = (e: string) => {
    const u = new URL(e);
    return `${u.origin}${u.pathname.replace(/\/+$/, "")}/`;
  };
  if (allowed.some((e) => dest.startsWith(norm(e)))) return;
  throw new ActionError("s3-destination-not-allowed", `the S3 destination ${dest} is not one the daemon allows (${allowed.join(", ") || "none"})`, {
    retryable: false,
    hint: "an administrator can add it to actions.backup.s3 in the daemon config",
  });
}

async function backupToS3(input: z.infer<typeof BackupWith>, s3: z.infer<typeof S3Destination>, ctx: ActionContext) {
  const location = s3Location(s3);
  requireAllowedS3(location, ctx.settings.backupS3);
  const creds: S3Credentials = {
    accessKeyId: await credential(s3.access_key_id, "access_key_id", ctx),
    secretAccessKey: await credential(s3.secret_access_key, "secret_access_key", ctx),
    ...(s3.session_token ? { sessionToken: await credential(s3.session_token, "session_token", ctx) } : {}),
  };
  const client = createS3Client(location, creds, { signal: ctx.signal, clock: ctx.clock });
  const built = buildBackup({
    libraryRoot: ctx.libraryRoot,
    libraryName: ctx.libraryName,
    stateDir: ctx.stateDir,
    now: ctx.now(),
    excludeState: [resolve(ctx.stateDir, "backups")],
  });
  const key = location.prefix + built.name;
  let parts: number;
  try {
    ({ parts } = await client.putObject(key, built.zip, {
      [S3_META.sha256]: built.sha256,
      [S3_META.library]: ctx.libraryName,
      [S3_META.createdAt]: built.createdAt,
      [S3_META.entries]: String(built.entries),
    }));
  } catch (e) {
    throw asActionError(e);
  }
  // Retention only after the new archive is stored; a failure here leaves the backup good and says so.
  const warnings = [...built.warnings];
  const removed: string[] = [];
  try {
    const names = (await client.listObjects(location.prefix)).map((o) => o.key.slice(location.prefix.length));
    const expired = expiredBackups(backupNamesOf(ctx.libraryName, names), ctx.now(), input.keep ?? 7, input.max_age ? parseDuration(input.max_age) : undefined);
    for (const n of expired) {
      if (n === built.name) continue;
      await client.deleteObject(location.prefix + n);
      removed.push(client.url(location.prefix + n));
    }
  } catch (e) {
    warnings.push(`the backup is stored, but retention failed: ${(e as Error).message}`);
  }
  const url = client.url(key);
  ctx.log(
    "info",
    `backup ${url} at ${new URL(location.endpoint).origin} (${built.entries} files, ${built.zip.length} bytes in ${parts} part(s), sha256 ${built.sha256}); removed ${removed.length} old archive(s)${built.credentialsLeftOut ? `; ${built.credentialsLeftOut} credential file(s) of the state left out` : ""}`,
  );
  return {
    outputs: {
      url,
      key,
      sha256: built.sha256,
      bytes: built.zip.length,
      entries: built.entries,
      parts,
      credentials_left_out: built.credentialsLeftOut,
      removed,
    },
    warnings,
  };
}

export const backupAction = defineAction({
  name: "backup",
  description: "snapshot the library, owned exported files and daemon state into a checksummed zip, in a folder or an S3 bucket",
  with: BackupWith,
  // A backup holds the library and the exported files: trigger data must not pick where it lands.
  literalFields: ["dir", "s3"],
  literalReason: "trigger data must not pick where files are written",
  literalHint:
    "write the folder literally; an administrator can restrict backups further with actions.backup.dirs in the daemon config (an s3 destination is written literally too)",
  run: async (input, ctx) => {
    if (input.s3) return backupToS3(input, input.s3, ctx);
    const backupsRoot = resolve(ctx.stateDir, "backups");
    const dir = input.dir ? resolve(ctx.libraryRoot, input.dir) : resolve(backupsRoot, ctx.libraryName);
    if (input.dir && ctx.settings.backupDirs) requireAllowedFolder(dir, [backupsRoot, ...ctx.settings.backupDirs], "the backup dir", "actions.backup.dirs");
    const made = createBackup({
      libraryRoot: ctx.libraryRoot,
      libraryName: ctx.libraryName,
      stateDir: ctx.stateDir,
      dir,
      now: ctx.now(),
      excludeState: [backupsRoot],
    });
    const removed = pruneBackups(dir, ctx.libraryName, ctx.now(), input.keep ?? 7, input.max_age ? parseDuration(input.max_age) : undefined);
    ctx.log(
      "info",
      `backup ${made.file} (${made.entries} files, ${made.bytes} bytes, sha256 ${made.sha256}); removed ${removed.length} old archive(s)${made.credentialsLeftOut ? `; ${made.credentialsLeftOut} credential file(s) of the state left out` : ""}`,
    );
    return {
      outputs: { file: made.file, sha256: made.sha256, bytes: made.bytes, entries: made.entries, credentials_left_out: made.credentialsLeftOut, removed },
      warnings: made.warnings,
    };
  },
});
