// Benchmark (not a test): `node bench/s3-backup.ts [--mb 96]`. Against a real S3 API on loopback
// (s3rver in a Node child, as in the tests), uploads an incompressible archive-sized body as one PUT
// and as a multipart upload (16 MiB parts, the backup action's choice above 64 MiB), then downloads
// and checks its sha256 as `aicfg restore --from s3://` does, and prints MB/s for each and the peak
// RSS of this process. s3rver writes to disk and is slower than a real object store: the figures
// are an upper bound on the client's own cost, not a promise about AWS.
import { parseArgs } from "node:util";
import { sha256 } from "../src/library/hash.ts";
import { createS3Client } from "../src/workflows/s3.ts";
import { startS3 } from "../test/helpers/s3.ts";

const { values } = parseArgs({ options: { mb: { type: "string", default: "96" } } });
const bytes = Number(values.mb) * 1024 * 1024;
const body = new Uint8Array(bytes);
for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, Math.min(i + 65536, body.length)));
const digest = sha256(body);

const s3 = await startS3();
try {
  const loc = { endpoint: s3.endpoint, region: "us-east-1", bucket: s3.bucket, prefix: "", forcePathStyle: true };
  const creds = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  const mbps = (ms: number) => (bytes / 1024 / 1024 / (ms / 1000)).toFixed(1);
  const time = async (label: string, fn: () => Promise<string>) => {
    const t = performance.now();
    const note = await fn();
    const ms = performance.now() - t;
    process.stdout.write(`${label.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${mbps(ms).padStart(7)} MB/s  ${note}\n`);
  };
  process.stdout.write(`body: ${values.mb} MiB of random bytes, sha256 ${digest.slice(0, 16)}…\n`);
  await time("PutObject, one request", async () => {
    const r = await createS3Client(loc, creds, { multipartThreshold: Number.MAX_SAFE_INTEGER }).putObject("single.zip", body, { "aicfg-sha256": digest });
    return `${r.parts} part`;
  });
  await time("multipart upload, 16 MiB parts", async () => {
    const r = await createS3Client(loc, creds, { multipartThreshold: 0 }).putObject("multi.zip", body, { "aicfg-sha256": digest });
    return `${r.parts} parts`;
  });
  await time("GetObject + sha256 check", async () => {
    const got = await createS3Client(loc, creds).getObject("multi.zip", bytes);
    if (sha256(got.body) !== got.meta["aicfg-sha256"]) throw new Error("checksum mismatch");
    return "sha256 verified";
  });
  process.stdout.write(`peak RSS of the client process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
} finally {
  await s3.stop();
}
