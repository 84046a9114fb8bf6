// Zip bombs against `aicfg restore` / `backup verify`: an archive of about 1 MB that claims more
// than 1 GB is refused from its central directory before anything is inflated, nothing is written
// and memory stays flat; an entry that lies about its size cannot grow past what it declared.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/daemon/cli/main.ts";
import { sha256 } from "../../src/library/hash.ts";
import { ARCHIVE_LIMITS, BACKUP_MANIFEST, restoreBackup, verifyBackup } from "../../src/workflows/backup-archive.ts";
import { tempDir } from "../helpers/fixtures.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("aicfg-bomb-");
});
afterEach(() => dir.cleanup());

const enc = (s: string) => new TextEncoder().encode(s);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);

/**
 * Deflating 1 GB takes half a minute, so the bomb deflates one 64 MiB entry with fflate and then
 * repeats that entry's local record (the same compressed bytes, CRC and sizes) under `copies` names
 * of the same length; offsets and the end record are rewritten. Every entry stays a real, valid one.
 */
function repeatLastEntry(zip: Uint8Array, copies: number): Uint8Array {
  let eocd = zip.length - 22;
  while (u32(zip, eocd) !== 0x06054b50) eocd--;
  const count = u16(zip, eocd + 10);
  const cdSize = u32(zip, eocd + 12);
  const cdStart = u32(zip, eocd + 16);
  const central: Uint8Array[] = [];
  for (let at = cdStart, i = 0; i < count; i++) {
    const len = 46 + u16(zip, at + 28) + u16(zip, at + 30) + u16(zip, at + 32);
    central.push(zip.slice(at, at + len));
    at += len;
  }
  const last = central[central.length - 1]!;
  const localStart = u32(last, 42);
  const local = zip.slice(localStart, cdStart);
  const nameLen = u16(last, 28);
  const parts: Uint8Array[] = [zip.slice(0, cdStart)];
  const records = [...central];
  let offset = cdStart;
  for (let i = 1; i < copies; i++) {
    const suffix = enc(String(i).padStart(3, "0"));
    const l = local.slice();
    l.set(suffix, 30 + nameLen - 3);
    const c = last.slice();
    c.set(suffix, 46 + nameLen - 3);
    new DataView(c.buffer).setUint32(42, offset, true);
    parts.push(l);
    records.push(c);
    offset += l.length;
  }
  const cd = records.reduce((n, r) => n + r.length, 0);
  const end = zip.slice(eocd, eocd + 22);
  const v = new DataView(end.buffer);
  v.setUint16(8, records.length, true);
  v.setUint16(10, records.length, true);
  v.setUint32(12, cd, true);
  v.setUint32(16, offset, true);
  expect(cdSize).toBe(central.reduce((n, r) => n + r.length, 0));
  const out = new Uint8Array(offset + cd + end.length);
  let at = 0;
  for (const p of [...parts, ...records, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function writeArchive(name: string, zip: Uint8Array): string {
  const file = join(dir.path, name);
  writeFileSync(file, zip);
  writeFileSync(file + ".sha256", `${sha256(zip)}  ${name}\n`);
  return file;
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, tty: false, cwd: dir.path, env: {} } };
}

describe("restore refuses zip bombs", () => {
  it("a 1 MB archive claiming 1.15 GB is refused before inflating: nothing written, RSS flat", async () => {
    const entryBytes = 64 * 1024 * 1024;
    const copies = 18;
    const payload = new Uint8Array(entryBytes).fill(97);
    const digest = sha256(payload);
    const names = Array.from({ length: copies }, (_, i) => `library/knowledge/bomb-${String(i).padStart(3, "0")}`);
    const manifest = {
      format: 1,
      created_at: "2026-06-01T10:00:00.000Z",
      library: { name: "lib", root: "/lib" },
      entries: names.map((path) => ({ path, sha256: digest, size: entryBytes, kind: "library" })),
    };
    const manifestBytes = enc(JSON.stringify(manifest));
    const total = copies * entryBytes + manifestBytes.length;
    const one = zipSync({ [BACKUP_MANIFEST]: manifestBytes, [names[0]!]: [payload, { level: 1 }] });
    const bomb = repeatLastEntry(one, copies);
    expect(bomb.length).toBeLessThan(1.3 * 1024 * 1024);
    const file = writeArchive("bomb.zip", bomb);

    const before = process.memoryUsage().rss;
    const c = io();
    expect(await runCli(["restore", file, "--to", "out"], c.io)).toBe(1);
    const grew = process.memoryUsage().rss - before;
    expect(c.err[0]).toContain(
      `${file} failed verification: the archive would expand to ${total} bytes, over the ${ARCHIVE_LIMITS.maxTotalBytes}-byte limit (a zip bomb?)`,
    );
    expect(existsSync(join(dir.path, "out"))).toBe(false);
    expect(grew).toBeLessThan(64 * 1024 * 1024);

    const v = verifyBackup(file);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toBe(`the archive would expand to ${total} bytes, over the ${ARCHIVE_LIMITS.maxTotalBytes}-byte limit (a zip bomb?)`);
    expect(v.problems.length).toBe(1 + copies);
    expect(v.problems[copies]).toMatch(/^library\/knowledge\/bomb-017 would expand 10\d\d-fold \(\d+ -> 67108864 bytes\), over the 200:1 limit$/);
    expect(v.files).toBeUndefined();
  }, 60_000);

  it("caps the entry count, the size of one entry and the ratio of one entry", () => {
    const small = { format: 1, created_at: "x", library: { name: "x", root: "/x" }, entries: [] as unknown[] };
    const many = zipSync(
      Object.fromEntries([[BACKUP_MANIFEST, enc(JSON.stringify(small))], ...Array.from({ length: 11 }, (_, i) => [`library/f${i}.md`, enc("x")])]),
    );
    const limits = { ...ARCHIVE_LIMITS, maxEntries: 10 };
    expect(verifyBackup(writeArchive("many.zip", many), limits).problems).toEqual(["the archive has 12 entries, over the limit of 10"]);

    const big = zipSync({ [BACKUP_MANIFEST]: enc(JSON.stringify(small)), "library/big.md": new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251) });
    expect(verifyBackup(writeArchive("big.zip", big), { ...ARCHIVE_LIMITS, maxEntryBytes: 2 * 1024 * 1024 }).problems).toEqual([
      `library/big.md would expand to ${3 * 1024 * 1024} bytes, over the ${2 * 1024 * 1024}-byte limit per file`,
    ]);

    const dense = zipSync({ [BACKUP_MANIFEST]: enc(JSON.stringify(small)), "library/zeros.md": new Uint8Array(8 * 1024 * 1024) });
    const [problem] = verifyBackup(writeArchive("dense.zip", dense)).problems;
    expect(problem).toMatch(/^library\/zeros\.md would expand \d+-fold \(\d+ -> 8388608 bytes\), over the 200:1 limit$/);
    expect(() => restoreBackup(join(dir.path, "dense.zip"), join(dir.path, "out"))).toThrow("failed verification: library/zeros.md would expand");
    expect(existsSync(join(dir.path, "out"))).toBe(false);
  });

  it("an entry that declares 10 bytes but inflates to 50 MiB is cut at 10 bytes and fails its checksum", () => {
    const real = new Uint8Array(50 * 1024 * 1024).fill(98);
    const manifest = {
      format: 1,
      created_at: "x",
      library: { name: "x", root: "/x" },
      entries: [{ path: "library/liar.md", sha256: sha256(real), size: 10, kind: "library" }],
    };
    const zip = zipSync({ [BACKUP_MANIFEST]: enc(JSON.stringify(manifest)), "library/liar.md": [real, { level: 1 }] });
    let eocd = zip.length - 22;
    while (u32(zip, eocd) !== 0x06054b50) eocd--;
    let at = u32(zip, eocd + 16);
    at += 46 + u16(zip, at + 28) + u16(zip, at + 30) + u16(zip, at + 32); // skip the manifest's record
    new DataView(zip.buffer).setUint32(at + 24, 10, true); // the liar's uncompressed size
    const file = writeArchive("liar.zip", zip);
    const before = process.memoryUsage().rss;
    const v = verifyBackup(file);
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
    expect(v.problems).toEqual(["library/liar.md is corrupt (checksum mismatch)"]);
    expect(v.files!["library/liar.md"]!.length).toBe(10);
    expect(() => restoreBackup(file, join(dir.path, "out"))).toThrow("library/liar.md is corrupt (checksum mismatch)");
    expect(existsSync(join(dir.path, "out"))).toBe(false);
    expect(readFileSync(file).length).toBe(zip.length);
  });
});
