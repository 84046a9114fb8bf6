// The audit log's hash chain (team-scale design §3.4): row n carries the hash of row n-1, and its
// own hash is sha256 over the canonical JSON (sorted keys, no spaces) of every other field, so a
// changed, removed, inserted or reordered row breaks verification from that row on. Rows hold ids
// and names only: credentials never reach a row (the inputs have no field for them).
import { sha256, stableStringify } from "../../library/hash.ts";
import { AuditRow, type AuditInput } from "./types.ts";

const GENESIS_HASH = "0".repeat(64);

/** The hash of a row: over everything but the hash itself. */
function rowHash(row: Omit<AuditRow, "hash">): string {
  const { hash: _drop, ...rest } = row as AuditRow;
  return sha256(stableStringify(rest));
}

/** The next row after `prev` (undefined for the first row of an org). */
export function chainRow(prev: Pick<AuditRow, "seq" | "hash"> | undefined, org: string, ts: Date, input: AuditInput): AuditRow {
  const body: Omit<AuditRow, "hash"> = { ...input, seq: (prev?.seq ?? 0) + 1, ts: ts.toISOString(), org, prevHash: prev?.hash ?? GENESIS_HASH };
  return { ...body, hash: rowHash(body) };
}

type ChainProblem = {
  /** 1-based line (or position) of the first bad row. */
  line: number;
  seq?: number;
  reason: "unreadable" | "changed" | "out-of-order" | "broken-link" | "wrong-org";
  message: string;
};

export type ChainReport = { ok: true; rows: number; head: string } | { ok: false; rows: number; problem: ChainProblem };

/**
 * Checks one org's rows in the order they are stored. A changed row fails its own hash; a removed
 * or reordered row fails the sequence (seq must count 1, 2, 3 …) and the link to the previous hash.
 * Removing rows from the end leaves a valid shorter chain: compare `head` with a recorded one.
 */
export function verifyChain(lines: readonly string[], org?: string): ChainReport {
  let prev: AuditRow | undefined;
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (!text.trim()) continue;
    n++;
    let row: AuditRow;
    try {
      row = AuditRow.parse(JSON.parse(text));
    } catch {
      return { ok: false, rows: n, problem: { line: i + 1, reason: "unreadable", message: `line ${i + 1} is not an audit row` } };
    }
    const where = { line: i + 1, seq: row.seq };
    if (org !== undefined && row.org !== org)
      return { ok: false, rows: n, problem: { ...where, reason: "wrong-org", message: `line ${i + 1} belongs to org ${row.org}, not ${org}` } };
    if (rowHash(row) !== row.hash)
      return { ok: false, rows: n, problem: { ...where, reason: "changed", message: `row ${row.seq} (line ${i + 1}) was changed after it was written` } };
    const expectSeq = (prev?.seq ?? 0) + 1;
    if (row.seq !== expectSeq)
      return {
        ok: false,
        rows: n,
        problem: {
          ...where,
          reason: "out-of-order",
          message: `line ${i + 1} holds row ${row.seq} where row ${expectSeq} belongs: rows were removed or reordered`,
        },
      };
    if (row.prevHash !== (prev?.hash ?? GENESIS_HASH))
      return { ok: false, rows: n, problem: { ...where, reason: "broken-link", message: `row ${row.seq} (line ${i + 1}) does not follow the row before it` } };
    prev = row;
  }
  return { ok: true, rows: n, head: prev?.hash ?? GENESIS_HASH };
}
