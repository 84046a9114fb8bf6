// The S3 server of the tests as its own Node process (test/helpers/s3.ts starts it): s3rver makes
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy provider, so
// this runs as `node --openssl-legacy-provider`, whatever runtime runs the tests. It serves on
// 127.0.0.1 port 0, prints {"port":N} on stdout, and stops when its stdin closes.
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

type S3rverInstance = { run: () => Promise<AddressInfo>; close: () => Promise<void>; httpServer?: { closeAllConnections?: () => void } };
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;
type AccountModule = { DUMMY_ACCOUNT: { createKeyPair: (id: string, secret: string) => void } };

const require = createRequire(import.meta.url);
const S3rver = require("@20minutes/s3rver") as S3rverCtor;
const account = require("@20minutes/s3rver/lib/models/account.js") as AccountModule;

const { S3_DIR, S3_BUCKET, S3_KEY_ID, S3_SECRET } = process.env;
if (!S3_DIR || !S3_BUCKET || !S3_KEY_ID || !S3_SECRET) throw new Error("S3_DIR, S3_BUCKET, S3_KEY_ID and S3_SECRET are required");
account.DUMMY_ACCOUNT.createKeyPair(S3_KEY_ID, S3_SECRET);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: S3_DIR, configureBuckets: [{ name: S3_BUCKET }] });
const addr = await server.run();
process.stdout.write(JSON.stringify({ port: addr.port }) + "\n");
const stop = () => {
  const closing = server.close();
  server.httpServer?.closeAllConnections?.();
  void closing.then(() => process.exit(0));
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
