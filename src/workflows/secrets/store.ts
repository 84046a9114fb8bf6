// The secret store: `<state>/secrets.json` (0600) holds one envelope-encrypted value per name, never
// a plaintext. `aicfg secret …`, the export (literal values for tools without env-var references)
// and workflow inputs read it; writers take a short lock file so two CLIs cannot lose each other's
// change. The file may go into backups: without the key it is ciphertext only.
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { atomicWrite } from "../../adapters/atomic.ts";
import { SecretName } from "../../library/schema.ts";
import { decryptValue, encryptValue, parseToken, rewrapValue, SecretCryptoError } from "./crypto.ts";
import { describeSource, loadKeys, loadOrCreateKeys, SecretKeyError, writeKeys, type LoadedKeys } from "./keys.ts";
import { generateKeyText, importKek } from "./crypto.ts";
import type { SecretAccess } from "../actions/types.ts";

export const STORE_FILE = "secrets.json";
const FIELD = "/value";
const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;

const StoredSecret = z.strictObject({ value: z.string().startsWith("enc:v1:"), created_at: z.string(), updated_at: z.string() });
const StoreFile = z.strictObject({ format: z.literal(1), secrets: z.record(z.string(), StoredSecret) });
type StoreFile = z.infer<typeof StoreFile>;

export type SecretInfo = { name: string; kid: string; created_at: string; updated_at: string };
export type RotateReport = { from: string[]; to: string; rewrapped: number; removedKeys: string[]; keptKeys: string[]; source: string };

export type SecretStore = {
  file: string;
  set: (name: string, value: string) => Promise<{ created: boolean; keyCreated: boolean; keySource: string }>;
  get: (name: string) => Promise<string>;
  /** Decrypts the named secrets; a missing one is an error naming it. */
  getMany: (names: Iterable<string>) => Promise<Map<string, string>>;
  has: (name: string) => boolean;
  list: () => SecretInfo[];
  remove: (name: string) => boolean;
  /** Ciphertexts per key id (G17 audit: a key may go once its count is 0). */
  audit: () => Record<string, number>;
  rotate: () => Promise<RotateReport>;
};

export function checkSecretName(name: string): string {
  const r = SecretName.safeParse(name);
  if (!r.success)
    throw new SecretKeyError("bad-secret-name", `secret name ${JSON.stringify(name)} ${r.error.issues[0]?.message ?? "is not valid"}`, {
      hint: "e.g. GITHUB_TOKEN",
    });
  return name;
}

function readStore(file: string): StoreFile {
  if (!existsSync(file)) return { format: 1, secrets: {} };
  const st = statSync(file);
  if ((st.mode & 0o077) !== 0)
    throw new SecretKeyError("store-unsafe", `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, { file, hint: `chmod 600 ${file}` });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SecretKeyError("store-corrupt", `${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  const r = StoreFile.safeParse(raw);
  if (!r.success) throw new SecretKeyError("store-corrupt", `${file} is not a secret store: ${r.error.issues[0]?.message}`, { file });
  return r.data;
}

function writeStore(file: string, data: StoreFile): void {
  atomicWrite(file, JSON.stringify(data, null, 2) + "\n", 0o600);
}

/** Holds `<file>.lock` while `fn` runs; a lock older than 30 s or of a dead process is taken over. */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (lockIsStale(lock)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new SecretKeyError("store-locked", `${lock} is held by another aicfg process`, {
          hint: "wait for it to finish, or remove the file if no aicfg runs",
        });
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, "utf8"));
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

const kidOf = (token: string): string => parseToken(token).kid;

export function openSecretStore(stateDir: string, env: Record<string, string | undefined>): SecretStore {
  const file = join(stateDir, STORE_FILE);
  const keys = async (): Promise<LoadedKeys> => {
    const k = await loadKeys(stateDir, env);
    if (!k)
      throw new SecretKeyError("no-secret-key", "no secret key is configured, so no secret can be read", {
        hint: "set AICFG_SECRET_KEY, or create one with 'aicfg secret set NAME'",
      });
    return k;
  };
  const decrypt = async (name: string, token: string): Promise<string> => {
    try {
      return await decryptValue((await keys()).keyring, name, FIELD, token);
    } catch (e) {
      // A rotation may have swapped the key file between our two reads: read both once more.
      if (!(e instanceof SecretCryptoError && e.code === "unknown-key")) throw wrap(e);
      const fresh = readStore(file).secrets[name]?.value ?? token;
      try {
        return await decryptValue((await keys()).keyring, name, FIELD, fresh);
      } catch (e2) {
        throw wrap(e2);
      }
    }
  };
  const store: SecretStore = {
    file,
    has: (name) => Object.hasOwn(readStore(file).secrets, name),
    set: async (name, value) => {
      checkSecretName(name);
      if (value.length === 0) throw new SecretKeyError("empty-secret", `secret ${name}: the value is empty`);
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      return withLock(file, async () => {
        const k = await loadOrCreateKeys(stateDir, env);
        const data = readStore(file);
        const now = new Date().toISOString();
        const prev = data.secrets[name];
        data.secrets[name] = { value: await encryptValue(k.keyring, name, FIELD, value), created_at: prev?.created_at ?? now, updated_at: now };
        writeStore(file, data);
        return { created: !prev, keyCreated: k.created, keySource: describeSource(k.source) };
      });
    },
    get: async (name) => {
      const rec = readStore(file).secrets[name];
      if (!rec)
        throw new SecretKeyError("unknown-secret", `no secret named ${name}`, { hint: "see 'aicfg secret list'; set it with 'aicfg secret set " + name + "'" });
      return decrypt(name, rec.value);
    },
    getMany: async (names) => {
      const out = new Map<string, string>();
      for (const n of names) if (!out.has(n)) out.set(n, await store.get(n));
      return out;
    },
    list: () =>
      Object.entries(readStore(file).secrets)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, r]) => ({ name, kid: kidOf(r.value), created_at: r.created_at, updated_at: r.updated_at })),
    remove: (name) => {
      const data = readStore(file);
      if (!Object.hasOwn(data.secrets, name)) return false;
      delete data.secrets[name];
      writeStore(file, data);
      return true;
    },
    audit: () => {
      const counts: Record<string, number> = {};
      for (const r of Object.values(readStore(file).secrets)) {
        const kid = kidOf(r.value);
        counts[kid] = (counts[kid] ?? 0) + 1;
      }
      return counts;
    },
    rotate: async () =>
      withLock(file, async () => {
        let k = await keys();
        const from = k.keyring.map((x) => x.kid);
        if (k.source.kind !== "env") {
          // 1. the new key goes first while the old ones stay readable; 2. every DEK is re-wrapped;
          // 3. only then are the keys that no record uses any more dropped from the file.
          const text = generateKeyText();
          const texts = [text, ...k.texts];
          await writeKeys(k.source, texts, env);
          k = { ...k, texts, keyring: [await importKek(text), ...k.keyring] };
        } else if (k.keyring.length < 2) {
          throw new SecretKeyError(
            "rotate-needs-new-key",
            "the key comes from $AICFG_SECRET_KEY: put the new key first, the old one after a comma, and run rotate again",
            {
              hint: "AICFG_SECRET_KEY=NEW,OLD aicfg secret rotate (then drop OLD from the variable)",
            },
          );
        }
        const to = k.keyring[0]!.kid;
        const data = readStore(file);
        let rewrapped = 0;
        for (const [name, rec] of Object.entries(data.secrets)) {
          const next = await rewrapValue(k.keyring, name, FIELD, rec.value).catch((e: unknown) => {
            throw wrap(e);
          });
          if (next !== rec.value) rewrapped++;
          data.secrets[name] = { ...rec, value: next };
        }
        writeStore(file, data);
        const used = new Set(Object.values(data.secrets).map((r) => kidOf(r.value)));
        used.add(to);
        const removedKeys = k.keyring.filter((x) => !used.has(x.kid)).map((x) => x.kid);
        const keptKeys = k.keyring.filter((x) => used.has(x.kid)).map((x) => x.kid);
        if (k.source.kind !== "env")
          await writeKeys(
            k.source,
            k.texts.filter((_t, i) => used.has(k.keyring[i]!.kid)),
            env,
          );
        return { from, to, rewrapped, removedKeys, keptKeys, source: describeSource(k.source) };
      }),
  };
  return store;
}

function wrap(e: unknown): unknown {
  if (e instanceof SecretCryptoError)
    return new SecretKeyError(e.code, e.message, {
      hint: e.code === "unknown-key" ? "add the key it was encrypted with to AICFG_SECRET_KEY or the key file" : undefined,
    });
  return e;
}

/**
 * Every secret of the store, decrypted, for an export that may have to write a value literally (a
 * tool without env-var references, user scope). Undefined when there is no store or no key; a
 * record that does not decrypt is left out (the export then warns for the references to it).
 * `reveal` sees each value first, so callers register it for scrubbing before it can reach a log.
 */
export async function readExportSecrets(
  stateDir: string,
  env: Record<string, string | undefined>,
  reveal?: (value: string) => void,
): Promise<Map<string, string> | undefined> {
  const file = join(stateDir, STORE_FILE);
  if (!existsSync(file)) return undefined;
  let names: string[];
  let keyring: LoadedKeys["keyring"] | undefined;
  try {
    names = Object.keys(readStore(file).secrets);
    keyring = names.length ? (await loadKeys(stateDir, env))?.keyring : undefined;
  } catch {
    return undefined;
  }
  if (!keyring) return undefined;
  const data = readStore(file);
  const out = new Map<string, string>();
  for (const name of names) {
    const rec = data.secrets[name];
    if (!rec) continue;
    try {
      const v = await decryptValue(keyring, name, FIELD, rec.value);
      reveal?.(v);
      out.set(name, v);
    } catch {
      /* left out: the export warns where it is referenced */
    }
  }
  return out;
}

/** The store as workflow steps use it (actions/types.ts SecretAccess): `reveal` registers each value for scrubbing before it is returned. */
export function secretAccess(stateDir: string, env: Record<string, string | undefined>, reveal: (value: string) => void): SecretAccess {
  const store = openSecretStore(stateDir, env);
  return {
    get: async (name) => {
      const v = await store.get(checkSecretName(name));
      reveal(v);
      return v;
    },
    all: () => readExportSecrets(stateDir, env, reveal),
  };
}
