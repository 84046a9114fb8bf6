// The envelope encryption of secrets (G16): known-answer fixtures made on Node decrypt here on
// every runtime (this file runs on Node, Bun and Deno), a value moved to another record or field or
// a flipped bit fails to decrypt instead of giving garbage, a wrong key is named, and a re-wrap keeps
// the value's ciphertext while moving it to the new key.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptValue, encryptValue, fromB64url, generateKeyText, importKek, parseToken, rewrapValue, toB64url } from "../../src/workflows/secrets/crypto.ts";

type Kat = { keys: string[]; kids: string[]; cases: { record: string; field: string; plain: string; key: number; token: string }[] };
const kat = JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/secrets/known-answer.json"), "utf8")) as Kat;
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

async function ring(...texts: string[]) {
  return Promise.all(texts.map((t) => importKek(t)));
}

describe(`secret crypto on ${runtime}`, () => {
  it("derives the fixture key ids and decrypts every known-answer token made on Node", async () => {
    const keys = await ring(...kat.keys);
    expect(keys.map((k) => k.kid)).toEqual(kat.kids);
    for (const c of kat.cases) {
      expect(parseToken(c.token).kid).toBe(kat.kids[c.key]);
      expect(await decryptValue(keys, c.record, c.field, c.token)).toBe(c.plain);
    }
  });

  it("refuses a token moved to another record or field (AAD binding)", async () => {
    const keys = await ring(...kat.keys);
    const c = kat.cases[0]!;
    await expect(decryptValue(keys, "SOMETHING_ELSE", c.field, c.token)).rejects.toMatchObject({ code: "decrypt-failed" });
    await expect(decryptValue(keys, c.record, "/other", c.token)).rejects.toMatchObject({ code: "decrypt-failed" });
    // Swap the value parts of two records encrypted under the same key: each fails, neither shows the other's value.
    const a = kat.cases[0]!.token.split(":");
    const b = kat.cases[1]!.token.split(":");
    const swapped = [...a.slice(0, 5), b[5]].join(":");
    await expect(decryptValue(keys, kat.cases[0]!.record, "/value", swapped)).rejects.toMatchObject({ code: "decrypt-failed" });
  });

  it("fails on every single-bit flip of the ciphertext, never returning garbage", async () => {
    const keys = await ring(...kat.keys);
    const c = kat.cases[1]!;
    const parts = c.token.split(":");
    for (const index of [4, 5]) {
      const bytes = fromB64url(parts[index]!);
      for (const bit of [0, 7, 8 * 12, 8 * (bytes.length - 1)]) {
        const flipped = bytes.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const bad = parts.map((p, i) => (i === index ? toB64url(flipped) : p)).join(":");
        await expect(decryptValue(keys, c.record, c.field, bad)).rejects.toMatchObject({ code: "decrypt-failed" });
      }
    }
  });

  it("names the missing key when a token's key is not configured", async () => {
    const other = await ring(generateKeyText());
    await expect(decryptValue(other, kat.cases[0]!.record, "/value", kat.cases[0]!.token)).rejects.toMatchObject({
      code: "unknown-key",
      message: expect.stringContaining(kat.kids[0]!),
    });
    await expect(decryptValue(other, "X", "/value", "enc:v1:nothex:a256gcm:AA:AA")).rejects.toMatchObject({ code: "bad-format" });
  });

  it("uses a fresh nonce and data key per encryption", async () => {
    const keys = await ring(generateKeyText());
    const a = await encryptValue(keys, "N", "/value", "same plaintext");
    const b = await encryptValue(keys, "N", "/value", "same plaintext");
    expect(a).not.toBe(b);
    expect(await decryptValue(keys, "N", "/value", a)).toBe("same plaintext");
  });

  it("re-wraps to the first key without touching the value ciphertext; the old key then no longer opens it", async () => {
    const [old] = await ring(kat.keys[0]!);
    const fresh = await importKek(generateKeyText());
    const c = kat.cases[0]!;
    const next = await rewrapValue([fresh, old!], c.record, c.field, c.token);
    expect(parseToken(next).kid).toBe(fresh.kid);
    expect(next.split(":")[5]).toBe(c.token.split(":")[5]);
    expect(await decryptValue([fresh], c.record, c.field, next)).toBe(c.plain);
    await expect(decryptValue([old!], c.record, c.field, next)).rejects.toMatchObject({ code: "unknown-key" });
    expect(await rewrapValue([fresh], c.record, c.field, next)).toBe(next);
  });

  it("rejects keys that are not 32 bytes of base64url", async () => {
    await expect(importKek("short")).rejects.toMatchObject({ code: "bad-key" });
    await expect(importKek("not base64url!")).rejects.toMatchObject({ code: "bad-key" });
  });
});
