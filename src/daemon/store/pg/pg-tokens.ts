// The API token store on PostgreSQL: the same contract as tokens.json (auth/token-store.ts), shared
// by every replica. Only the SHA-256 digest of a token is stored (with its public id, role, scopes
// and expiry); a presented token is looked up by its digest on every request, so a token created on
// one replica is accepted by all, and a revocation on one is refused by all from the next request.
// Shape and checksum are checked before the database is asked. All SQL is in sql.ts.
import { adoptedTokenRecord, judgeToken, newTokenRecord, TokenRecord, type TokenStore } from "../../auth/token-store.ts";
import { checkTokenShape, tokenDigest } from "../../auth/token-format.ts";
import type { Clock } from "../../clock.ts";
import * as sql from "./sql.ts";
import type { Query } from "./sql.ts";

type Exec = <R extends Record<string, unknown>>(query: Query) => Promise<R[]>;

export function openPgTokenStore(exec: Exec, clock: Clock): TokenStore {
  let reads = 0;
  const now = () => new Date(clock.now());
  const records = async (query: Query): Promise<TokenRecord[]> => {
    reads++;
    return (await exec<{ record: unknown }>(query)).map((r) => TokenRecord.parse(r.record));
  };
  return {
    kind: "postgres",
    where: "the PostgreSQL store",
    list: () => records(sql.listTokens()),
    get: async (id) => (await records(sql.tokenById(id)))[0],
    create: async (opts) => {
      const made = newTokenRecord(opts, now());
      await exec(sql.insertToken(made.record));
      return made;
    },
    adopt: async (token, opts) => {
      const record = adoptedTokenRecord(token, opts, now());
      await exec(sql.upsertToken(record));
      return record;
    },
    revoke: async (id) => (await exec(sql.revokeToken(id))).length === 1,
    verify: async (token, at = now()) => {
      const shape = checkTokenShape(token);
      if (shape !== "ok") return { ok: false, reason: shape };
      const [rec] = await records(sql.tokenByDigest(tokenDigest(token)));
      return judgeToken(rec, at);
    },
    reads: () => reads,
  };
}
