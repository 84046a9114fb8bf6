// A real S3-compatible server for tests: @20minutes/s3rver (it checks SigV4 signatures), run by
// s3rver-child.ts as a Node child process on 127.0.0.1, port 0, storing into a temp folder, with a
// random key pair of its own.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { tempDir } from "./fixtures.ts";

const NODE = fileURLToPath(new URL("../../node_modules/node/bin/node", import.meta.url));
const CHILD = fileURLToPath(new URL("./s3rver-child.ts", import.meta.url));

export type TestS3 = {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server's storage folder (an object's bytes are in <dir>/<bucket>/<key>._S3rver_object). */
  dir: string;
  stop: () => Promise<void>;
};

export async function startS3(bucket = "backups"): Promise<TestS3> {
  const accessKeyId = "AKIA" + randomBytes(8).toString("hex").toUpperCase();
  const secretAccessKey = "s3-canary-" + randomBytes(16).toString("hex");
  const dir = tempDir("aicfg-s3rver-");
  const child = spawn(NODE, ["--openssl-legacy-provider", CHILD], {
    env: { ...process.env, S3_DIR: dir.path, S3_BUCKET: bucket, S3_KEY_ID: accessKeyId, S3_SECRET: secretAccessKey },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => reject(new Error(`the S3 server exited before listening: ${stderr}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    dir: dir.path,
    stop: async () => {
      child.stdin!.end();
      await exited;
      dir.cleanup();
    },
  };
}
