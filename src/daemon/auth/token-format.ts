// The API token format (security-rules §4, G13): `aicfg_` + 43 base62 chars of 256 random bits +
// a 6-char base62 CRC32 of them, so leaked tokens are recognisable and typos are rejected offline.
import { createHash, randomBytes } from "node:crypto";

const TOKEN_PREFIX = "aicfg_";
const BODY_LEN = 43;
const CRC_LEN = 6;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Matches issued tokens (for secret scanners and the log scrubber). */
export const TOKEN_PATTERN = /aicfg_[0-9A-Za-z]{49}(?![0-9A-Za-z])/g;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the one zlib and GitHub's token checksum use). */
export function crc32(data: string | Uint8Array): number {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function base62(value: bigint, width: number): string {
  let out = "";
  let v = value;
  while (v > 0n) {
    out = ALPHABET[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, "0");
}

/** A new random token; shown to the user once, never stored. */
export function generateToken(): string {
  const body = base62(BigInt("0x" + randomBytes(32).toString("hex")), BODY_LEN);
  return TOKEN_PREFIX + body + base62(BigInt(crc32(body)), CRC_LEN);
}

export type TokenShape = "ok" | "not-a-token" | "bad-checksum";

/** Checks prefix, length, alphabet and checksum without any store lookup. */
export function checkTokenShape(token: string): TokenShape {
  if (!token.startsWith(TOKEN_PREFIX) || token.length !== TOKEN_PREFIX.length + BODY_LEN + CRC_LEN) return "not-a-token";
  const rest = token.slice(TOKEN_PREFIX.length);
  if (!/^[0-9A-Za-z]+$/.test(rest)) return "not-a-token";
  const body = rest.slice(0, BODY_LEN);
  return base62(BigInt(crc32(body)), CRC_LEN) === rest.slice(BODY_LEN) ? "ok" : "bad-checksum";
}

/** The only form in which a token is stored: its SHA-256 digest (high entropy needs no slow KDF). */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A short, non-secret label for lists and logs: the prefix and the first 4 random characters. */
export function tokenHint(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 4) + "…";
}
