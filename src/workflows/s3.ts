// A small S3 client for backups: SigV4-signed requests over fetch (aws4fetch), against AWS or any
// S3-compatible server (MinIO, Ceph, R2, ...). Just what backups need: PutObject (one request up to
// MULTIPART_THRESHOLD, multipart above it), GetObject, ListObjectsV2 with pagination and DeleteObject.
// Payloads are signed (x-amz-content-sha256 is the body's digest) and carry Content-MD5, so the
// server rejects a body damaged on the way. Errors name the operation, bucket and key, never a
// credential; the step's `retry:` retries the ones worth retrying (network, 5xx, 429).
import { createHash } from "node:crypto";
import { AwsV4Signer } from "aws4fetch";
import { AicfgError } from "../library/diagnostics.ts";
import { systemClock, timeoutSignal, type Clock } from "./clock.ts";

export type S3Location = {
  /** `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`, ... (no path). */
  endpoint: string;
  region: string;
  bucket: string;
  /** `""` or a folder-like prefix ending in `/`. */
  prefix: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO and most self-hosted servers need it). */
  forcePathStyle: boolean;
};

export type S3Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

type S3Object = { key: string; size: number; lastModified: string };

/** One PUT up to this size; multipart above it (S3 takes 5 GiB in one PUT, but a failure then resends everything). */
const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
/** Part size of a multipart upload (S3's minimum is 5 MiB, except the last part; at most 10,000 parts). */
const PART_BYTES = 16 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 300_000;

export class S3Error extends AicfgError {
  readonly status: number | undefined;
  readonly s3Code: string | undefined;
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: { hint?: string; status?: number; s3Code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(code, message, { ...(opts.hint ? { hint: opts.hint } : {}), ...(opts.cause === undefined ? {} : { cause: opts.cause }) });
    this.status = opts.status;
    this.s3Code = opts.s3Code;
    this.retryable = opts.retryable ?? false;
  }
}

/** Normalizes a prefix to `""` or `a/b/` (no leading slash, one trailing slash). */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  return p ? `${p}/` : "";
}

/** `s3://bucket/prefix/...` -> bucket and the rest (the key or prefix, without a leading slash). */
export function parseS3Url(url: string): { bucket: string; path: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m || !isBucketName(m[1]!)) {
    throw new S3Error("bad-s3-url", `${JSON.stringify(url)} is not an s3:// URL with a bucket name`, { hint: "e.g. s3://team-backups/aicfg/team/" });
  }
  return { bucket: m[1]!, path: m[2] ?? "" };
}

/** S3's bucket naming rules (3-63 chars, lower-case letters, digits, '.', '-'; starts and ends with a letter or digit). */
export function isBucketName(s: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) && !s.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(s);
}

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e as "amp"];
  });
}

/** The text of the first `<tag>` element (S3's XML answers are flat enough for this). */
function xmlTag(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? xmlText(m[1]!) : undefined;
}

function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);
}

const hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const md5 = (data: Uint8Array) => createHash("md5").update(data).digest("base64");
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { code?: string }).code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ECONNRESET") return "connection reset";
  if (code) return `${code}${cause?.message ? ` (${cause.message})` : ""}`;
  // Deno and Bun say it in words.
  const text = `${(e as Error).message} ${cause?.message ?? ""}`;
  if (/connection refused|ECONNREFUSED/i.test(text)) return "connection refused";
  if (/dns error|failed to lookup|name or service not known|ENOTFOUND/i.test(text)) return "host not found";
  return cause?.message ?? (e as Error).message;
}

export type S3ClientOptions = {
  signal?: AbortSignal;
  clock?: Clock;
  /** Per request (default 5 min). */
  timeoutMs?: number;
  multipartThreshold?: number;
  partBytes?: number;
};

export type S3Client = {
  location: S3Location;
  /** `s3://bucket/key` for messages. */
  url: (key: string) => string;
  putObject: (key: string, body: Uint8Array, meta: Record<string, string>) => Promise<{ parts: number }>;
  getObject: (key: string, maxBytes: number) => Promise<{ body: Uint8Array; meta: Record<string, string> }>;
  /** Every object under `prefix`, following continuation tokens. */
  listObjects: (prefix: string, pageSize?: number) => Promise<S3Object[]>;
  deleteObject: (key: string) => Promise<void>;
};

export function createS3Client(location: S3Location, creds: S3Credentials, opts: S3ClientOptions = {}): S3Client {
  const endpoint = new URL(location.endpoint);
  if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") {
    throw new S3Error("bad-s3-endpoint", `S3 endpoint ${location.endpoint} must be an http(s) URL`, { hint: "e.g. https://s3.eu-west-1.amazonaws.com" });
  }
  const origin = endpoint.origin;
  // Only the headers are signed here (the payload hash is ours, in x-amz-content-sha256); the body goes
  // to fetch as it is, so a large archive is not copied into a Request first. No hidden retries:
  // the step's retry: policy retries, on the daemon's clock.
  const sign = async (url: string, method: string, headers: Headers): Promise<Headers> =>
    (
      await new AwsV4Signer({
        url,
        method,
        headers,
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
        service: "s3",
        region: location.region,
      }).sign()
    ).headers;
  const clock = opts.clock ?? systemClock;
  const threshold = opts.multipartThreshold ?? MULTIPART_THRESHOLD;
  const partBytes = opts.partBytes ?? PART_BYTES;
  const s3url = (key: string) => `s3://${location.bucket}/${key}`;

  const urlFor = (key: string, query: Record<string, string> = {}): string => {
    const root = endpoint.pathname.replace(/\/+$/, "");
    const base = location.forcePathStyle
      ? `${origin}${root}/${location.bucket}${key ? `/${encodeKey(key)}` : ""}`
      : `${endpoint.protocol}//${location.bucket}.${endpoint.host}${root}/${encodeKey(key)}`;
    const q = new URLSearchParams(query).toString();
    return q ? `${base}?${q}` : base;
  };

  const failure = async (res: Response, op: string, key: string | undefined): Promise<S3Error> => {
    const text = await res.text().catch(() => "");
    const code = xmlTag(text, "Code") ?? res.headers.get("x-amz-error-code") ?? undefined;
    const serverMessage = xmlTag(text, "Message");
    const what = key === undefined ? `bucket ${location.bucket}` : s3url(key);
    const at = `${op} ${what} at ${origin}`;
    const retryable = res.status >= 500 || res.status === 429 || code === "RequestTimeout" || code === "SlowDown";
    const base = { status: res.status, ...(code ? { s3Code: code } : {}), retryable };
    switch (code) {
      case "SignatureDoesNotMatch":
        return new S3Error(
          "s3-signature-mismatch",
          `${at}: the server refused the request signature (403 SignatureDoesNotMatch): the secret access key is wrong`,
          {
            ...base,
            hint: "store the right key (aicfg secret set NAME, or the environment variable), then run again",
          },
        );
      case "InvalidAccessKeyId":
        return new S3Error("s3-unknown-access-key", `${at}: the server does not know the access key id (403 InvalidAccessKeyId)`, {
          ...base,
          hint: "check the access key id and that it belongs to this endpoint",
        });
      case "AccessDenied":
        return new S3Error("s3-access-denied", `${at}: access denied (403 AccessDenied)`, {
          ...base,
          hint: "the credentials need s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket and prefix",
        });
      case "RequestTimeTooSkewed":
        return new S3Error("s3-clock-skew", `${at}: this machine's clock is too far from the server's (403 RequestTimeTooSkewed)`, {
          ...base,
          hint: "synchronise the clock (NTP)",
        });
      case "NoSuchBucket":
        return new S3Error("s3-no-such-bucket", `${op}: bucket ${location.bucket} does not exist at ${origin} (404 NoSuchBucket)`, {
          ...base,
          hint: "create the bucket, or check bucket, endpoint and force_path_style",
        });
      case "NoSuchKey":
        return new S3Error("s3-no-such-key", `${op}: there is no object ${what} at ${origin} (404 NoSuchKey)`, {
          ...base,
          hint: "list the backups with: aicfg restore --from s3://BUCKET/PREFIX --list",
        });
      case "PermanentRedirect":
      case "TemporaryRedirect":
      case "AuthorizationHeaderMalformed":
        return new S3Error("s3-wrong-region", `${at}: the bucket is in another region or needs another endpoint (${res.status} ${code})`, {
          ...base,
          hint: `set region${xmlTag(text, "Region") ? ` to ${xmlTag(text, "Region")}` : ""} and the bucket's regional endpoint`,
        });
      default:
        return new S3Error(
          "s3-request-failed",
          `${at} failed: HTTP ${res.status}${code ? ` ${code}` : ""}${serverMessage ? `: ${serverMessage.slice(0, 300)}` : ""}`,
          base,
        );
    }
  };

  const send = async (op: string, key: string | undefined, url: string, init: RequestInit, body?: Uint8Array): Promise<Response> => {
    const timeout = timeoutSignal(clock, opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    const headers = new Headers(init.headers);
    headers.set("x-amz-content-sha256", body ? hex(body) : EMPTY_SHA256);
    if (body) headers.set("content-md5", md5(body));
    let res: Response;
    try {
      // A redirect is an answer (another region or endpoint), never followed with our signed request.
      const method = init.method ?? "GET";
      res = await fetch(url, {
        method,
        headers: await sign(url, method, headers),
        ...(body ? { body: body as BufferSource } : {}),
        signal,
        redirect: "manual",
      });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? e;
      if (timeout.signal.aborted) {
        throw new S3Error("s3-timeout", `${op} at ${origin}: no answer within ${Math.round((opts.timeoutMs ?? REQUEST_TIMEOUT_MS) / 1000)} s`, {
          retryable: true,
          hint: "check the endpoint and the network; the step's retry: setting retries it",
        });
      }
      throw new S3Error("s3-unreachable", `${op}: cannot reach the S3 endpoint ${origin}: ${describeNetworkError(e)}`, {
        retryable: true,
        hint: "check s3.endpoint (scheme, host, port) and that the server is up; the step's retry: setting retries it",
        cause: e,
      });
    } finally {
      timeout.cancel();
    }
    if (!res.ok) throw await failure(res, op, key);
    return res;
  };

  const metaHeaders = (meta: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(meta).map(([k, v]) => [`x-amz-meta-${k.toLowerCase()}`, v]));

  const putMultipart = async (key: string, body: Uint8Array, meta: Record<string, string>): Promise<{ parts: number }> => {
    const init = await send(
      "CreateMultipartUpload",
      key,
      urlFor(key, { uploads: "" }),
      { method: "POST", headers: { "content-type": "application/zip", ...metaHeaders(meta) } },
      new Uint8Array(0),
    );
    const uploadId = xmlTag(await init.text(), "UploadId");
    if (!uploadId) throw new S3Error("s3-bad-answer", `CreateMultipartUpload ${s3url(key)} at ${origin}: the answer has no UploadId`);
    const etags: string[] = [];
    try {
      for (let off = 0, n = 1; off < body.length; off += partBytes, n++) {
        const part = body.subarray(off, Math.min(off + partBytes, body.length));
        const res = await send(`UploadPart ${n}`, key, urlFor(key, { partNumber: String(n), uploadId }), { method: "PUT" }, part);
        await res.arrayBuffer();
        const etag = res.headers.get("etag");
        if (!etag) throw new S3Error("s3-bad-answer", `UploadPart ${n} of ${s3url(key)} at ${origin}: the answer has no ETag`);
        etags.push(etag);
      }
      const xml =
        "<CompleteMultipartUpload>" +
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</ETag></Part>`).join("") +
        "</CompleteMultipartUpload>";
      const done = await send(
        "CompleteMultipartUpload",
        key,
        urlFor(key, { uploadId }),
        { method: "POST", headers: { "content-type": "application/xml" } },
        new TextEncoder().encode(xml),
      );
      // S3 may answer 200 and put the error in the body.
      const text = await done.text();
      if (/<Error>/.test(text)) {
        throw new S3Error("s3-request-failed", `CompleteMultipartUpload ${s3url(key)} at ${origin} failed: ${xmlTag(text, "Code") ?? "error"}`, {
          retryable: true,
        });
      }
    } catch (e) {
      // Best effort: an abandoned upload costs storage until a lifecycle rule removes it.
      await send("AbortMultipartUpload", key, urlFor(key, { uploadId }), { method: "DELETE" }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      throw e;
    }
    return { parts: etags.length };
  };

  return {
    location,
    url: s3url,
    putObject: async (key, body, meta) => {
      if (body.length > threshold) return putMultipart(key, body, meta);
      const res = await send("PutObject", key, urlFor(key), { method: "PUT", headers: { "content-type": "application/zip", ...metaHeaders(meta) } }, body);
      await res.arrayBuffer();
      return { parts: 1 };
    },
    getObject: async (key, maxBytes) => {
      const res = await send("GetObject", key, urlFor(key), { method: "GET" });
      const declared = Number(res.headers.get("content-length") ?? NaN);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await res.body?.cancel();
        throw new S3Error("s3-object-too-large", `${s3url(key)} is ${declared} bytes, over the ${maxBytes}-byte limit for a backup archive`);
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > maxBytes) throw new S3Error("s3-object-too-large", `${s3url(key)} is over the ${maxBytes}-byte limit for a backup archive`);
      const meta: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        if (k.toLowerCase().startsWith("x-amz-meta-")) meta[k.toLowerCase().slice("x-amz-meta-".length)] = v;
      });
      return { body, meta };
    },
    listObjects: async (prefix, pageSize = 1000) => {
      const out: S3Object[] = [];
      let token: string | undefined;
      for (let page = 0; ; page++) {
        const q: Record<string, string> = { "list-type": "2", prefix, "max-keys": String(pageSize) };
        if (token) q["continuation-token"] = token;
        const res = await send("ListObjectsV2", undefined, urlFor("", q), { method: "GET" });
        const xml = await res.text();
        for (const c of xmlBlocks(xml, "Contents")) {
          const key = xmlTag(c, "Key");
          if (key !== undefined) out.push({ key, size: Number(xmlTag(c, "Size") ?? 0), lastModified: xmlTag(c, "LastModified") ?? "" });
        }
        if (xmlTag(xml, "IsTruncated") !== "true") break;
        token = xmlTag(xml, "NextContinuationToken");
        if (!token) throw new S3Error("s3-bad-answer", `ListObjectsV2 of ${s3url(prefix)} at ${origin}: a truncated page without NextContinuationToken`);
        if (page > 100_000) throw new S3Error("s3-bad-answer", `ListObjectsV2 of ${s3url(prefix)} at ${origin}: too many pages`);
      }
      return out;
    },
    deleteObject: async (key) => {
      const res = await send("DeleteObject", key, urlFor(key), { method: "DELETE" });
      await res.arrayBuffer();
    },
  };
}
