// Where the secret store's key-encryption keys come from, in this order: `AICFG_SECRET_KEY` (one or
// more base64url keys separated by commas: CI, containers), else a key file: `AICFG_SECRET_KEY_FILE`,
// `$CREDENTIALS_DIRECTORY/aicfg-secret.key` (systemd LoadCredential=), else the OS keyring when
// `AICFG_SECRET_KEYRING=secret-service` (keyring.ts; account `AICFG_SECRET_KEYRING_ACCOUNT`, default
// `default`), else `<state>/secret.key`.
// The first key encrypts, every key decrypts. A key file must be a regular file of ours that nobody
// else can read (G19): a group- or world-readable one is refused, not fixed. New key files are
// created 0600 at open time (never chmod after), through a temp file and a rename.
import { existsSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { atomicWrite } from "../../adapters/atomic.ts";
import { AicfgError } from "../../library/diagnostics.ts";
import { generateKeyText, importKek, SecretCryptoError, type Kek } from "./crypto.ts";
import { readKeyringKeys, writeKeyringKeys } from "./keyring.ts";

export class SecretKeyError extends AicfgError {}

export type KeySource =
  | { kind: "env"; name: "AICFG_SECRET_KEY" }
  | { kind: "file"; path: string }
  | { kind: "keyring"; backend: "secret-service"; account: string };

export type LoadedKeys = { source: KeySource; keyring: Kek[]; texts: string[] };

const KEY_FILE_NAME = "secret.key";

/** The key source that applies for this environment and state folder (the file may not exist yet). */
function keySource(stateDir: string, env: Record<string, string | undefined>): KeySource {
  if (env.AICFG_SECRET_KEY) return { kind: "env", name: "AICFG_SECRET_KEY" };
  if (env.AICFG_SECRET_KEY_FILE) return { kind: "file", path: env.AICFG_SECRET_KEY_FILE };
  const cred = env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, "aicfg-secret.key") : undefined;
  if (cred && existsSync(cred)) return { kind: "file", path: cred };
  const keyring = env.AICFG_SECRET_KEYRING;
  if (keyring) {
    if (keyring !== "secret-service" && keyring !== "1")
      throw new SecretKeyError("bad-keyring", `AICFG_SECRET_KEYRING=${JSON.stringify(keyring)} names no keyring aicfg knows`, {
        hint: "use AICFG_SECRET_KEYRING=secret-service (the freedesktop Secret Service through secret-tool), or unset it",
      });
    const account = env.AICFG_SECRET_KEYRING_ACCOUNT || "default";
    if (!/^[A-Za-z0-9._@-]{1,128}$/.test(account))
      throw new SecretKeyError("bad-keyring", `AICFG_SECRET_KEYRING_ACCOUNT=${JSON.stringify(account)} is not a valid account name`, {
        hint: "letters, digits, '.', '_', '@' and '-', at most 128",
      });
    return { kind: "keyring", backend: "secret-service", account };
  }
  return { kind: "file", path: join(stateDir, KEY_FILE_NAME) };
}

export function describeSource(s: KeySource): string {
  if (s.kind === "env") return "$AICFG_SECRET_KEY";
  if (s.kind === "keyring") return `the OS keyring (Secret Service, account ${s.account})`;
  return s.path;
}

/** Refuses a key file that is a link, not a regular file, readable by group or others, or owned by another user. */
function checkKeyFile(path: string): void {
  const st = lstatSync(path);
  const hint = `chmod 600 ${path} (and chown it to the user the daemon runs as)`;
  if (st.isSymbolicLink())
    throw new SecretKeyError("key-file-unsafe", `${path} is a symbolic link; the secret key must be a regular file`, {
      file: path,
      hint: "point AICFG_SECRET_KEY_FILE at the file itself",
    });
  if (!st.isFile()) throw new SecretKeyError("key-file-unsafe", `${path} is not a regular file`, { file: path });
  if ((st.mode & 0o077) !== 0) {
    throw new SecretKeyError(
      "key-file-unsafe",
      `${path} is readable or writable by others (mode ${(st.mode & 0o777).toString(8)}); refusing to use it as the secret key`,
      { file: path, hint },
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new SecretKeyError("key-file-unsafe", `${path} belongs to uid ${st.uid}, not to this user (uid ${uid})`, { file: path, hint });
}

function parseKeyTexts(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => !l.trim().startsWith("#"))
    .flatMap((l) => l.split(","))
    .map((l) => l.trim())
    .filter(Boolean);
}

async function importAll(texts: string[], where: string): Promise<Kek[]> {
  const out: Kek[] = [];
  for (const [i, t] of texts.entries()) {
    try {
      out.push(await importKek(t));
    } catch (e) {
      if (e instanceof SecretCryptoError) throw new SecretKeyError("bad-key", `${where}: key ${i + 1}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** The configured keys, or undefined when the key file does not exist yet. */
export async function loadKeys(stateDir: string, env: Record<string, string | undefined>): Promise<LoadedKeys | undefined> {
  const source = keySource(stateDir, env);
  if (source.kind === "env") {
    const texts = parseKeyTexts(env.AICFG_SECRET_KEY ?? "");
    return { source, texts, keyring: await importAll(texts, "$AICFG_SECRET_KEY") };
  }
  if (source.kind === "keyring") {
    const text = await readKeyringKeys(source.account, env);
    if (text === undefined) return undefined;
    const texts = parseKeyTexts(text);
    const where = describeSource(source);
    if (!texts.length)
      throw new SecretKeyError("bad-key", `${where} holds no key`, {
        hint: "delete the item (secret-tool clear service aicfg-secret-key account ...) to start over",
      });
    return { source, texts, keyring: await importAll(texts, where) };
  }
  if (!existsSync(source.path)) return undefined;
  checkKeyFile(source.path);
  const texts = parseKeyTexts(readFileSync(source.path, "utf8"));
  if (!texts.length) throw new SecretKeyError("bad-key", `${source.path} holds no key`, { file: source.path });
  return { source, texts, keyring: await importAll(texts, source.path) };
}

/** Writes a key file (0600 from the start), first key first. */
function writeKeyFile(path: string, texts: string[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const body = `# aicfg secret keys: the first encrypts, all decrypt. Keep this file 0600 and out of backups.\n${texts.join("\n")}\n`;
  atomicWrite(path, body, 0o600);
}

/** Writes the keys where a writable source keeps them (a key file or the OS keyring), first key first. */
export async function writeKeys(source: Exclude<KeySource, { kind: "env" }>, texts: string[], env: Record<string, string | undefined>): Promise<void> {
  if (source.kind === "file") writeKeyFile(source.path, texts);
  else await writeKeyringKeys(source.account, `${texts.join("\n")}\n`, env);
}

/** The configured keys; when none exist yet and the source is a key file or the keyring, a new key is made there. */
export async function loadOrCreateKeys(stateDir: string, env: Record<string, string | undefined>): Promise<LoadedKeys & { created: boolean }> {
  const loaded = await loadKeys(stateDir, env);
  if (loaded) return { ...loaded, created: false };
  const source = keySource(stateDir, env) as Exclude<KeySource, { kind: "env" }>;
  const texts = [generateKeyText()];
  await writeKeys(source, texts, env);
  return { source, texts, keyring: await importAll(texts, describeSource(source)), created: true };
}
