// API tokens at rest: `tokens.json` in the state folder (0600, atomic writes) holding only the
// SHA-256 digest of each token with its role, library scope and expiry; plus the local admin
// token the daemon keeps for the CLI on the same machine.
import { existsSync, readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { atomicWrite, ensureDirNoSymlinks } from "../../adapters/atomic.ts";
import { ConfigError } from "../../library/diagnostics.ts";
import { Slug } from "../../library/schema.ts";
import { systemClock, type Clock } from "../clock.ts";
import { checkTokenShape, generateToken, tokenDigest, tokenHint } from "./token-format.ts";

const ROLES = ["viewer", "editor", "admin"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const TokenRecord = z.strictObject({
  /** Public id used by `token list` / `token revoke` (not secret, not derived from the token). */
  id: z.string().regex(/^tok_[0-9a-f]{12}$/),
  name: z.string().max(100),
  /** sha256(token) in hex. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  hint: z.string(),
  role: Role,
  /** The org the token belongs to (absent: the default org; an unscoped admin of it is the server admin). */
  org: Slug.optional(),
  library: Slug.optional(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().optional(),
});
export type TokenRecord = z.infer<typeof TokenRecord>;

const TokenFile = z.strictObject({ version: z.literal(1), tokens: z.array(TokenRecord) });
type TokenFile = z.infer<typeof TokenFile>;

/** A token record as lists show it: everything but the digest. */
export function tokenView(t: TokenRecord): Omit<TokenRecord, "digest"> {
  const { digest: _digest, ...view } = t;
  return view;
}

export const TOKENS_FILE = "tokens.json";
export const LOCAL_ADMIN_FILE = "local-admin.token";
export const LOCAL_ADMIN_NAME = "local-admin";

/** The outcome of checking a presented token. */
export type TokenCheck = { ok: true; token: TokenRecord } | { ok: false; reason: "not-a-token" | "bad-checksum" | "unknown" | "expired"; token?: TokenRecord };

type CreateTokenOptions = { role: Role; org?: string; library?: string; expiresAt?: Date; name?: string };
/** A file store answers at once, a database store with a promise: callers await either. */
type Awaitable<T> = T | Promise<T>;

/**
 * What the API, the CLI and the daemon need of an API token store. Implemented by the file store
 * (tokens.json, one machine) and the PostgreSQL store (every replica shares it; tokens/pg-token-store.ts);
 * test/daemon/auth/token-conformance.ts runs against both. Only digests are stored, never a token.
 */
export type TokenStore = {
  readonly kind: "file" | "postgres";
  /** Where the tokens are, for messages (a file, or "the PostgreSQL store"; never a URL). */
  readonly where: string;
  list: () => Awaitable<TokenRecord[]>;
  /** One token's record by its public id (e.g. to ask whether a session's token is still there). */
  get: (id: string) => Awaitable<TokenRecord | undefined>;
  create: (opts: CreateTokenOptions) => Awaitable<{ token: string; record: TokenRecord }>;
  /** Stores (the digest of) a token made elsewhere, e.g. handed in as a credential; must be well-formed. */
  adopt: (token: string, opts: { role: Role; name: string }) => Awaitable<TokenRecord>;
  revoke: (id: string) => Awaitable<boolean>;
  /** Checks a presented token (expiry against `now`, else the store's clock). Shape and checksum are checked first, without reading the store. */
  verify: (token: string, now?: Date) => Awaitable<TokenCheck>;
  /** How many times the store was read (lets tests prove a bad checksum never reaches it). */
  reads: () => number;
};

/** The file store answers synchronously (the CLI and tests use it so). */
export type FileTokenStore = Omit<TokenStore, "kind" | "list" | "get" | "create" | "adopt" | "revoke" | "verify"> & {
  readonly kind: "file";
  file: string;
  list: () => TokenRecord[];
  get: (id: string) => TokenRecord | undefined;
  create: (opts: CreateTokenOptions) => { token: string; record: TokenRecord };
  adopt: (token: string, opts: { role: Role; name: string }) => TokenRecord;
  revoke: (id: string) => boolean;
  verify: (token: string, now?: Date) => TokenCheck;
};

/** The record of a new token (not yet stored): a random token, its public id, digest and hint. */
export function newTokenRecord(opts: CreateTokenOptions, now: Date): { token: string; record: TokenRecord } {
  if (opts.library !== undefined) {
    const r = Slug.safeParse(opts.library);
    if (!r.success)
      throw new ConfigError("usage", `library name ${JSON.stringify(opts.library)} is not valid`, { hint: "use the library's name from its aicfg.yaml" });
  }
  const token = generateToken();
  const record: TokenRecord = {
    id: "tok_" + tokenDigest(token + ":id").slice(0, 12),
    name: opts.name ?? "",
    digest: tokenDigest(token),
    hint: tokenHint(token),
    role: opts.role,
    createdAt: now.toISOString(),
  };
  if (opts.org !== undefined && opts.org !== "default") {
    if (!Slug.safeParse(opts.org).success)
      throw new ConfigError("usage", `org name ${JSON.stringify(opts.org)} is not valid`, { hint: "see the orgs with 'aicfg org list'" });
    record.org = opts.org;
  }
  if (opts.library !== undefined) record.library = opts.library;
  if (opts.expiresAt) record.expiresAt = opts.expiresAt.toISOString();
  return { token, record };
}

/** The record of an adopted token (checked to be well-formed). */
export function adoptedTokenRecord(token: string, opts: { role: Role; name: string }, now: Date): TokenRecord {
  const shape = checkTokenShape(token);
  if (shape !== "ok")
    throw new ConfigError("token-invalid", `the token to adopt is not an aicfg token (${shape})`, { hint: "generate one with 'aicfg token create'" });
  return {
    id: "tok_" + tokenDigest(token + ":id").slice(0, 12),
    name: opts.name,
    digest: tokenDigest(token),
    hint: tokenHint(token),
    role: opts.role,
    createdAt: now.toISOString(),
  };
}

/** The verdict on a presented token given the stored record found by its digest. */
export function judgeToken(rec: TokenRecord | undefined, now: Date): TokenCheck {
  if (!rec) return { ok: false, reason: "unknown" };
  if (rec.expiresAt && Date.parse(rec.expiresAt) <= now.getTime()) return { ok: false, reason: "expired", token: rec };
  return { ok: true, token: rec };
}

/** `clock` stamps createdAt and is what expiry is checked against when verify gets no time. */
export function openTokenStore(stateDir: string, clock: Clock = systemClock): FileTokenStore {
  const file = join(stateDir, TOKENS_FILE);
  let cache: { key: string; data: TokenFile; byDigest: Map<string, TokenRecord> } | undefined;
  let reads = 0;

  const load = (): { data: TokenFile; byDigest: Map<string, TokenRecord> } => {
    let key = "absent";
    try {
      const st = statSync(file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      /* no file yet: no tokens */
    }
    if (cache && cache.key === key) return cache;
    reads++;
    const data = key === "absent" ? { version: 1 as const, tokens: [] } : parseTokenFile(file);
    if (key !== "absent") assertPrivateFile(file, statSync(file));
    cache = { key, data, byDigest: new Map(data.tokens.map((t) => [t.digest, t])) };
    return cache;
  };
  const save = (data: TokenFile): void => {
    ensureDirNoSymlinks(stateDir, stateDir, 0o700);
    atomicWrite(file, JSON.stringify(data, null, 1) + "\n", 0o600);
    cache = undefined;
  };

  return {
    kind: "file",
    where: file,
    file,
    list: () => load().data.tokens.map((t) => ({ ...t })),
    get: (id) => {
      const t = load().data.tokens.find((x) => x.id === id);
      return t ? { ...t } : undefined;
    },
    create: (opts) => {
      const made = newTokenRecord(opts, new Date(clock.now()));
      const data = load().data;
      save({ version: 1, tokens: [...data.tokens, made.record] });
      return made;
    },
    adopt: (token, opts) => {
      const record = adoptedTokenRecord(token, opts, new Date());
      const data = load().data;
      save({ version: 1, tokens: [...data.tokens.filter((t) => t.digest !== record.digest), record] });
      return record;
    },
    revoke: (id) => {
      const data = load().data;
      const rest = data.tokens.filter((t) => t.id !== id);
      if (rest.length === data.tokens.length) return false;
      save({ version: 1, tokens: rest });
      return true;
    },
    verify: (token, now = new Date(clock.now())) => {
      const shape = checkTokenShape(token);
      if (shape !== "ok") return { ok: false, reason: shape };
      return judgeToken(load().byDigest.get(tokenDigest(token)), now);
    },
    reads: () => reads,
  };
}

function parseTokenFile(file: string): TokenFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError("tokens-corrupt", `the token store ${file} is not valid JSON: ${(e as Error).message}`, {
      file,
      hint: "move it away and create new tokens with 'aicfg token create' (tokens cannot be recovered from it anyway)",
    });
  }
  const parsed = TokenFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError("tokens-corrupt", `the token store ${file} has an unexpected shape at ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      file,
      hint: "move it away and create new tokens with 'aicfg token create'",
    });
  }
  return parsed.data;
}

/**
 * Token files must be the daemon user's alone (G19): a group- or world-readable `local-admin.token`
 * is admin access for every local user, and a `tokens.json` someone else owns can be rewritten to
 * add a token. Refused rather than fixed: the mode says someone copied or created it carelessly.
 * POSIX only (Windows has no mode bits; its ACLs are the user profile's).
 */
function assertPrivateFile(file: string, st: Stats): void {
  if (process.platform === "win32") return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new ConfigError("insecure-file", `${file} is owned by uid ${st.uid}, not by the user running aicfg (uid ${uid})`, {
      file,
      hint: `the token files must belong to the daemon's user: chown ${uid} ${file} && chmod 600 ${file}`,
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new ConfigError("insecure-file", `${file} has mode 0${(st.mode & 0o777).toString(8)}: users other than its owner can access it`, {
      file,
      hint: `token files must be private: chmod 600 ${file}`,
    });
  }
}

/**
 * The admin token the daemon keeps for the CLI on the same machine: `local-admin.token` (0600)
 * in the state folder. Reused while it is still valid in the store; otherwise a new one replaces it.
 */
export async function ensureLocalAdminToken(stateDir: string, store: TokenStore = openTokenStore(stateDir)): Promise<string> {
  const file = join(stateDir, LOCAL_ADMIN_FILE);
  let existing: string | undefined;
  if (existsSync(file)) {
    assertPrivateFile(file, statSync(file));
    existing = readFileSync(file, "utf8").trim();
    const check = await store.verify(existing);
    if (check.ok && check.token.role === "admin" && check.token.library === undefined && check.token.org === undefined) return existing;
  }
  // A shared (database) store holds every replica's local admin token: replace only this machine's own.
  const mine = (t: TokenRecord) => store.kind === "file" || (existing !== undefined && t.digest === tokenDigest(existing));
  for (const old of (await store.list()).filter((t) => t.name === LOCAL_ADMIN_NAME && mine(t))) await store.revoke(old.id);
  const { token } = await store.create({ role: "admin", name: LOCAL_ADMIN_NAME });
  ensureDirNoSymlinks(stateDir, stateDir, 0o700);
  atomicWrite(file, token + "\n", 0o600);
  return token;
}

/** Reads the local admin token for the CLI; undefined when the daemon has not created one. */
export function readLocalAdminToken(stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, LOCAL_ADMIN_FILE), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Parses `90d`, `12h`, `30m`, `1y` or an ISO date into an absolute expiry. */
export function parseExpiry(text: string, now: Date = new Date(systemClock.now())): Date {
  const m = /^(\d{1,5})([mhdwy])$/.exec(text.trim());
  if (m) {
    const n = Number(m[1]);
    if (n === 0) throw new ConfigError("usage", `--expires ${text} is zero`, { hint: "use e.g. 90d, 12h or an ISO date" });
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 }[m[2] as "m" | "h" | "d" | "w" | "y"];
    return new Date(now.getTime() + n * unitMs);
  }
  const t = Date.parse(text);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(text)) {
    if (t <= now.getTime()) throw new ConfigError("usage", `--expires ${text} is in the past`, { hint: "give a future date or a duration like 90d" });
    return new Date(t);
  }
  throw new ConfigError("usage", `--expires ${JSON.stringify(text)} is not a duration or a date`, {
    hint: "use a number with m, h, d, w or y (e.g. 90d), or an ISO date like 2027-01-31",
  });
}
