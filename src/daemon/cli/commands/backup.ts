// `aicfg backup verify` and `aicfg restore`: check a backup archive's checksums, and restore one (a
// file, or an object of an S3 bucket) into a new folder (never over the live library or the home folder).
import { resolve } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";
import { sha256 } from "../../../library/hash.ts";
import { S3_META } from "../../../workflows/actions/backup.ts";
import { ARCHIVE_LIMITS, backupTime, restoreArchive, restoreBackup, verifyBackup } from "../../../workflows/backup-archive.ts";
import { createS3Client, normalizePrefix, parseS3Url, type S3Client, type S3Credentials } from "../../../workflows/s3.ts";
import { openSecretStore } from "../../../workflows/secrets/store.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type OptionSpec, type ParsedArgs } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION, stateDir } from "../options.ts";

export const backupVerifyCommand: Command = {
  name: "backup verify",
  summary: "check a backup archive: its own checksum and every file's",
  usage: "aicfg backup verify <archive.zip> [--json]",
  options: { json: COMMON_OPTIONS.json },
  examples: ["aicfg backup verify ~/.local/state/aicfg/backups/team/aicfg-backup-team-20261124T020000Z.zip"],
  run: async (args, io) => {
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1) throw new ConfigError("usage", "name one archive: aicfg backup verify <archive.zip>");
    const r = verifyBackup(resolve(io.cwd, file));
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            ok: r.ok,
            problems: r.problems,
            entries: r.manifest?.entries.length ?? 0,
            created_at: r.manifest?.created_at ?? null,
            library: r.manifest?.library ?? null,
          },
          null,
          2,
        ),
      );
    } else if (r.ok) {
      io.out(paint(io, "green", `ok: ${r.manifest!.entries.length} file(s) from ${r.manifest!.library.name}, made ${r.manifest!.created_at}`));
    } else {
      for (const p of r.problems) io.err(paint(io, "red", `error: ${p}`));
    }
    return r.ok ? EXIT.ok : EXIT.failure;
  },
};

const S3_OPTIONS = {
  from: { type: "string", valueName: "s3-url", description: "restore from S3: s3://BUCKET/PREFIX (the latest backup) or s3://BUCKET/PREFIX/OBJECT.zip" },
  list: { type: "boolean", description: "with --from: list the backups under the prefix, newest first, instead of restoring" },
  "library-name": { type: "string", valueName: "name", description: "with --from: only backups of this library (needed when the prefix holds several)" },
  endpoint: { type: "string", valueName: "url", description: "S3 endpoint (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS for the region)" },
  region: { type: "string", valueName: "region", description: "signing region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)" },
  "path-style": { type: "boolean", description: "address the bucket as <endpoint>/<bucket> (MinIO and most self-hosted servers)" },
  "access-key-secret": {
    type: "string",
    valueName: "name",
    description: "read the access key id from this secret of the store (default: $AWS_ACCESS_KEY_ID)",
  },
  "secret-key-secret": {
    type: "string",
    valueName: "name",
    description: "read the secret access key from this secret of the store (default: $AWS_SECRET_ACCESS_KEY)",
  },
  "session-token-secret": { type: "string", valueName: "name", description: "read a session token from this secret (default: $AWS_SESSION_TOKEN)" },
  ...STATE_OPTION,
} satisfies Record<string, OptionSpec>;

/** `aicfg-backup-<library>-<stamp>.zip` directly under the prefix. */
const ARCHIVE_NAME = /^aicfg-backup-(.+)-(\d{8}T\d{6}Z)\.zip$/;
/** Room for the zip's own overhead above the expanded-size limit. */
const MAX_DOWNLOAD_BYTES = ARCHIVE_LIMITS.maxTotalBytes + 64 * 1024 * 1024;

type Listed = { url: string; key: string; library: string; created_at: string; bytes: number; last_modified: string };

async function s3Credentials(args: ParsedArgs, io: CliIO): Promise<S3Credentials> {
  const named = (opt: string) => args.values[opt] as string | undefined;
  const fromStore = ["access-key-secret", "secret-key-secret", "session-token-secret"].some((o) => named(o) !== undefined);
  const store = fromStore ? openSecretStore(stateDir(args, io), io.env) : undefined;
  const pick = async (opt: string, env: string): Promise<string | undefined> => {
    const name = named(opt);
    if (name !== undefined) return store!.get(name);
    return io.env[env] || undefined;
  };
  const accessKeyId = await pick("access-key-secret", "AWS_ACCESS_KEY_ID");
  const secretAccessKey = await pick("secret-key-secret", "AWS_SECRET_ACCESS_KEY");
  const sessionToken = await pick("session-token-secret", "AWS_SESSION_TOKEN");
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError("s3-no-credentials", `no S3 credentials: the ${accessKeyId ? "secret access key" : "access key id"} is missing`, {
      hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name secrets of the store with --access-key-secret and --secret-key-secret",
    });
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

async function listBackups(client: S3Client, prefix: string, library: string | undefined): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const o of await client.listObjects(prefix)) {
    const name = o.key.slice(prefix.length);
    const m = ARCHIVE_NAME.exec(name);
    if (!m || name.includes("/") || (library !== undefined && m[1] !== library)) continue;
    out.push({
      url: client.url(o.key),
      key: o.key,
      library: m[1]!,
      created_at: new Date(backupTime(name)).toISOString(),
      bytes: o.size,
      last_modified: o.lastModified,
    });
  }
  return out.sort((a, b) => (a.created_at === b.created_at ? b.key.localeCompare(a.key) : b.created_at.localeCompare(a.created_at)));
}

async function restoreFromS3(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length) throw new ConfigError("usage", "give an archive file or --from s3://..., not both");
  const { bucket, path } = parseS3Url(String(args.values.from));
  const region = (args.values.region as string | undefined) ?? (io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || "us-east-1");
  const endpoint =
    (args.values.endpoint as string | undefined) ?? (io.env.AWS_ENDPOINT_URL_S3 || io.env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`);
  const isObject = path.endsWith(".zip");
  const prefix = isObject ? path.slice(0, path.lastIndexOf("/") + 1) : normalizePrefix(path);
  const location = { endpoint, region, bucket, prefix, forcePathStyle: Boolean(args.values["path-style"]) };
  let client: S3Client;
  try {
    client = createS3Client(location, await s3Credentials(args, io));
  } catch (e) {
    if (e instanceof TypeError)
      throw new ConfigError("usage", `--endpoint ${JSON.stringify(endpoint)} is not a URL`, { hint: "e.g. https://s3.eu-west-1.amazonaws.com" });
    throw e;
  }
  const library = args.values["library-name"] as string | undefined;
  if (args.values.list) {
    if (isObject) throw new ConfigError("usage", "--list takes a prefix, not an object: s3://BUCKET/PREFIX");
    const backups = await listBackups(client, prefix, library);
    if (args.values.json) io.out(JSON.stringify({ ok: true, endpoint: new URL(endpoint).origin, bucket, prefix, backups }, null, 2));
    else if (!backups.length) io.out(`no backups under s3://${bucket}/${prefix}`);
    else for (const b of backups) io.out(`${b.url}  ${b.library}  ${b.created_at}  ${b.bytes} bytes`);
    return EXIT.ok;
  }
  let key = path;
  if (!isObject) {
    const backups = await listBackups(client, prefix, library);
    if (!backups.length) {
      throw new ConfigError("s3-no-backups", `no backups${library ? ` of ${library}` : ""} under s3://${bucket}/${prefix} at ${new URL(endpoint).origin}`, {
        hint: "check the bucket and prefix (aicfg restore --from s3://BUCKET/PREFIX --list)",
      });
    }
    const libs = [...new Set(backups.map((b) => b.library))];
    if (libs.length > 1) {
      throw new ConfigError("usage", `s3://${bucket}/${prefix} holds backups of several libraries: ${libs.sort().join(", ")}`, {
        hint: "pick one with --library-name NAME, or name the object",
      });
    }
    key = backups[0]!.key;
  }
  const url = client.url(key);
  const { body, meta } = await client.getObject(key, MAX_DOWNLOAD_BYTES);
  const want = meta[S3_META.sha256];
  if (!want) {
    throw new ConfigError("s3-no-checksum", `${url} has no x-amz-meta-${S3_META.sha256} metadata, so it cannot be verified: nothing was restored`, {
      hint: "it was not written by the backup action, or its metadata was replaced; restore another backup",
    });
  }
  const got = sha256(body);
  if (got !== want) {
    throw new ConfigError(
      "s3-checksum-mismatch",
      `${url}: the downloaded archive's sha256 is ${got}, but the backup stored ${want} (x-amz-meta-${S3_META.sha256}): the object was changed or damaged after the backup; nothing was restored`,
      { hint: `restore another backup (aicfg restore --from s3://${bucket}/${prefix} --list)` },
    );
  }
  const name = key.slice(key.lastIndexOf("/") + 1).replace(/\.zip$/, "");
  const dest = resolve(io.cwd, args.values.to ? String(args.values.to) : `aicfg-restore-${name}`);
  const r = restoreArchive(body, want, url, dest);
  if (args.values.json) io.out(JSON.stringify({ ok: true, from: url, sha256: got, bytes: body.length, dest: r.dest, files: r.files }, null, 2));
  else io.out(paint(io, "green", `restored ${r.files} file(s) from ${url} (${body.length} bytes, sha256 verified) into ${r.dest}`));
  return EXIT.ok;
}

export const restoreCommand: Command = {
  name: "restore",
  summary: "restore a backup archive (a file, or from S3) into a new folder (library/, exports/, state/)",
  usage:
    "aicfg restore <archive.zip> [--to DIR] [--json]\n       aicfg restore --from s3://BUCKET/PREFIX[/OBJECT.zip] [--list] [--endpoint URL] [--region R] [--path-style] [--to DIR] [--json]",
  description:
    "The archive is verified first: from S3, its sha256 against the one the backup stored as object metadata, then every file against the manifest inside. The target folder must not exist or be empty; copy what you need from it afterwards. S3 credentials come from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY ($AWS_SESSION_TOKEN), or from secrets of the store (--access-key-secret, --secret-key-secret).",
  options: {
    to: { type: "string", valueName: "dir", description: "where to restore (default ./aicfg-restore-<archive name>)" },
    ...S3_OPTIONS,
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg restore aicfg-backup-team-20261124T020000Z.zip",
    "aicfg restore backup.zip --to /tmp/restored",
    "aicfg restore --from s3://team-backups/aicfg/team/ --list",
    "aicfg restore --from s3://team-backups/aicfg/team/ --to /tmp/restored",
    "aicfg restore --from s3://backups/aicfg/ --endpoint http://minio.internal:9000 --path-style --access-key-secret S3_KEY_ID --secret-key-secret S3_SECRET",
  ],
  run: async (args, io) => {
    if (args.values.from !== undefined) return restoreFromS3(args, io);
    for (const o of Object.keys(S3_OPTIONS))
      if (o !== "state-dir" && args.values[o] !== undefined) throw new ConfigError("usage", `--${o} needs --from s3://...`);
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1)
      throw new ConfigError("usage", "name one archive: aicfg restore <archive.zip>, or restore from S3 with --from s3://BUCKET/PREFIX");
    const base = file
      .split("/")
      .pop()!
      .replace(/\.zip$/, "");
    const dest = resolve(io.cwd, args.values.to ? String(args.values.to) : `aicfg-restore-${base}`);
    const r = restoreBackup(resolve(io.cwd, file), dest);
    if (args.values.json) io.out(JSON.stringify({ ok: true, dest: r.dest, files: r.files }, null, 2));
    else io.out(paint(io, "green", `restored ${r.files} file(s) into ${r.dest}`));
    return EXIT.ok;
  },
};
