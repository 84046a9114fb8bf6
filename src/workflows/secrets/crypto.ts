// Envelope encryption of secret values with WebCrypto AES-256-GCM (globalThis.crypto.subtle: the same
// on Node, Bun and Deno, no dependency). Each value gets its own random data key (DEK); the DEK is
// wrapped by a key-encryption key (KEK) of the keyring. Both layers use a fresh random 96-bit nonce
// and bind the ciphertext to where it belongs through the AAD, so a value copied to another record
// or field, or a one-bit flip, fails to decrypt instead of giving garbage (security-rules G16).
//
//   enc:v1:<kid>:a256gcm:<b64url(nonce || wrapped DEK || tag)>:<b64url(nonce || ciphertext || tag)>
//   AAD of the wrap  = "aicfg/v1|dek|<record>|<field>|<kid>"
//   AAD of the value = "aicfg/v1|value|<record>|<field>"
//
// Rotation re-wraps only the DEK (the value ciphertext stays as it is), so it is cheap and never
// needs the plaintext value.

const PREFIX = "enc:v1:";
const ALG = "a256gcm";
const NONCE_BYTES = 12;
const KEY_BYTES = 32;
const KID = /^[a-f0-9]{16}$/;

/** One key-encryption key: its id (derived from the key bytes) and the key itself. */
export type Kek = { kid: string; key: CryptoKey };
/** The first key encrypts; every key decrypts (the order is the rotation mechanism, as in Kubernetes). */
export type Keyring = readonly Kek[];

export class SecretCryptoError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SecretCryptoError";
    this.code = code;
  }
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
const enc = new TextEncoder();

export function toB64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new SecretCryptoError("bad-encoding", "not base64url");
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A new random 256-bit key, as the base64url text a key file or AICFG_SECRET_KEY holds. */
export function generateKeyText(): string {
  return toB64url(globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
}

/** The key id: the first 64 bits of SHA-256 over a label and the key, so the same key has the same id everywhere. */
export async function importKek(keyText: string): Promise<Kek> {
  let raw: Uint8Array;
  try {
    raw = fromB64url(keyText.trim());
  } catch {
    throw new SecretCryptoError(
      "bad-key",
      "a secret key must be 32 random bytes in base64url (make one with 'aicfg secret rotate' or 'openssl rand -base64 32 | tr +/ -_')",
    );
  }
  if (raw.length !== KEY_BYTES)
    throw new SecretCryptoError("bad-key", `a secret key must be ${KEY_BYTES} bytes, got ${raw.length} (base64url of 32 random bytes)`);
  const digest = new Uint8Array(await subtle().digest("SHA-256", concat(enc.encode("aicfg-kek-id/v1|"), raw) as BufferSource));
  const kid = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = await subtle().importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { kid, key };
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function seal(key: CryptoKey, plain: Uint8Array, aad: string): Promise<Uint8Array> {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: nonce, additionalData: enc.encode(aad) }, key, plain as BufferSource));
  return concat(nonce, ct);
}

async function open(key: CryptoKey, sealed: Uint8Array, aad: string, what: string): Promise<Uint8Array> {
  if (sealed.length < NONCE_BYTES + 16) throw new SecretCryptoError("corrupt", `${what}: the ciphertext is too short`);
  try {
    const pt = await subtle().decrypt({ name: "AES-GCM", iv: sealed.slice(0, NONCE_BYTES), additionalData: enc.encode(aad) }, key, sealed.slice(NONCE_BYTES));
    return new Uint8Array(pt);
  } catch {
    // GCM gives one answer for a wrong key, a moved ciphertext and a flipped bit: the tag does not match.
    throw new SecretCryptoError("decrypt-failed", `${what}: the ciphertext does not authenticate (wrong key, tampered, or copied from another record)`);
  }
}

const wrapAad = (record: string, field: string, kid: string): string => `aicfg/v1|dek|${record}|${field}|${kid}`;
const valueAad = (record: string, field: string): string => `aicfg/v1|value|${record}|${field}`;

export type ParsedToken = { kid: string; alg: string; wrapped: Uint8Array; data: Uint8Array };

/** Splits `enc:v1:<kid>:<alg>:<wrapped>:<data>`; throws `bad-format` for anything else. */
export function parseToken(token: string): ParsedToken {
  const parts = token.startsWith(PREFIX) ? token.slice(PREFIX.length).split(":") : [];
  if (parts.length !== 4 || !KID.test(parts[0]!) || parts[1] !== ALG) throw new SecretCryptoError("bad-format", `not an enc:v1:<kid>:${ALG}:… value`);
  return { kid: parts[0]!, alg: parts[1]!, wrapped: fromB64url(parts[2]!), data: fromB64url(parts[3]!) };
}

/** Encrypts `plain` for `record`/`field` under a new DEK wrapped by the keyring's first key. */
export async function encryptValue(keyring: Keyring, record: string, field: string, plain: string): Promise<string> {
  const kek = keyring[0];
  if (!kek) throw new SecretCryptoError("no-key", "no secret key to encrypt with");
  const dekRaw = globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const dek = await subtle().importKey("raw", dekRaw, { name: "AES-GCM" }, false, ["encrypt"]);
  const data = await seal(dek, enc.encode(plain), valueAad(record, field));
  const wrapped = await seal(kek.key, dekRaw, wrapAad(record, field, kek.kid));
  dekRaw.fill(0);
  return `${PREFIX}${kek.kid}:${ALG}:${toB64url(wrapped)}:${toB64url(data)}`;
}

async function unwrapDek(keyring: Keyring, record: string, field: string, t: ParsedToken): Promise<Uint8Array> {
  const kek = keyring.find((k) => k.kid === t.kid);
  if (!kek) {
    throw new SecretCryptoError(
      "unknown-key",
      `${record}: encrypted with key ${t.kid}, which is not among the configured keys (${keyring.map((k) => k.kid).join(", ") || "none"})`,
    );
  }
  return open(kek.key, t.wrapped, wrapAad(record, field, t.kid), record);
}

export async function decryptValue(keyring: Keyring, record: string, field: string, token: string): Promise<string> {
  const t = parseToken(token);
  const dekRaw = await unwrapDek(keyring, record, field, t);
  const dek = await subtle().importKey("raw", dekRaw as BufferSource, { name: "AES-GCM" }, false, ["decrypt"]);
  dekRaw.fill(0);
  return new TextDecoder("utf-8", { fatal: true }).decode(await open(dek, t.data, valueAad(record, field), record));
}

/** Wraps the value's DEK with the keyring's first key; the value ciphertext is kept byte for byte. */
export async function rewrapValue(keyring: Keyring, record: string, field: string, token: string): Promise<string> {
  const kek = keyring[0];
  if (!kek) throw new SecretCryptoError("no-key", "no secret key to encrypt with");
  const t = parseToken(token);
  if (t.kid === kek.kid) return token;
  const dekRaw = await unwrapDek(keyring, record, field, t);
  const wrapped = await seal(kek.key, dekRaw, wrapAad(record, field, kek.kid));
  dekRaw.fill(0);
  return `${PREFIX}${kek.kid}:${ALG}:${toB64url(wrapped)}:${toB64url(t.data)}`;
}
