// `aicfg audit verify|export`: the hash-chained audit log of authorization decisions, one chain per
// org in the state folder. verify exits 1 at the first changed, removed or reordered row.
import { verifyChain, type ChainReport } from "../../tenancy/audit-chain.ts";
import { CONFIG_TENANCY_OPTION, openCliTenancyStores } from "../store-option.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION } from "../options.ts";
import { ConfigError } from "../../../library/diagnostics.ts";

const ORG = { org: { type: "string", valueName: "org", description: "one org (default: every org with an audit log)" } } as const;

export const auditVerifyCommand: Command = {
  name: "audit verify",
  summary: "check the audit log's hash chain: exit 1 naming the first changed, removed or reordered row",
  usage: "aicfg audit verify [--org ORG] [--expect-head HASH] [--state-dir DIR | --config daemon.yaml] [--json]",
  description:
    "Each row carries the hash of the row before it. Removing rows from the end leaves a valid shorter chain: keep the printed head and pass it as --expect-head next time.",
  options: {
    ...ORG,
    "expect-head": { type: "string", valueName: "hash", description: "the head hash recorded earlier (with --org): the chain must still contain it" },
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
    json: COMMON_OPTIONS.json,
  },
  positionals: false,
  examples: [
    "aicfg audit verify",
    "aicfg audit verify --org acme --json",
    "aicfg audit verify --org acme --expect-head 3f1c…",
    "aicfg audit verify --config /etc/aicfg/daemon.yaml   # the replicas' PostgreSQL store",
  ],
  run: async (args, io) => {
    const expectHead = args.values["expect-head"];
    if (typeof expectHead === "string" && typeof args.values.org !== "string")
      throw new ConfigError("usage", "--expect-head needs --org", { hint: "e.g. aicfg audit verify --org acme --expect-head HASH" });
    const results: { org: string; file: string; report: ChainReport; headFound?: boolean }[] = [];
    const st = await openCliTenancyStores(args, io);
    try {
      const orgs = typeof args.values.org === "string" ? [args.values.org] : await st.audit.orgs();
      for (const org of orgs) {
        const lines = await st.auditLines(org);
        const report = verifyChain(lines, org);
        const entry: (typeof results)[number] = { org, file: st.auditWhere(org), report };
        if (typeof expectHead === "string") entry.headFound = lines.some((l) => l.includes(`"hash":"${expectHead}"`));
        results.push(entry);
      }
    } finally {
      await st.close();
    }
    const bad = results.filter((r) => !r.report.ok || r.headFound === false);
    if (args.values.json) io.out(JSON.stringify({ ok: bad.length === 0, orgs: results }, null, 2));
    else {
      for (const r of results) {
        if (!r.report.ok) io.err(paint(io, "red", `${r.file}:${r.report.problem.line}: error: ${r.report.problem.message} (${r.report.problem.reason})`));
        else if (r.headFound === false) io.err(paint(io, "red", `${r.file}: error: the recorded head ${expectHead} is gone: rows were removed or rewritten`));
        else io.out(`${r.org}: ${r.report.rows} row(s), chain intact, head ${r.report.head}`);
      }
      if (!results.length) io.out("no audit rows yet");
      if (bad.length) io.err("hint: restore the audit file from a backup and find out who changed it; rows after the first bad one cannot be trusted either");
    }
    return bad.length ? EXIT.failure : EXIT.ok;
  },
};

export const auditExportCommand: Command = {
  name: "audit export",
  summary: "print audit rows as JSON lines (one org, or every org), oldest first",
  usage: "aicfg audit export [--org ORG] [--after SEQ] [--state-dir DIR | --config daemon.yaml]",
  options: {
    ...ORG,
    after: { type: "string", valueName: "seq", description: "only rows after this sequence number (with --org)" },
    ...STATE_OPTION,
    ...CONFIG_TENANCY_OPTION,
  },
  positionals: false,
  examples: ["aicfg audit export --org acme > acme-audit.jsonl", "aicfg audit export --org acme --after 1200"],
  run: async (args, io) => {
    const after = args.values.after === undefined ? 0 : Number(args.values.after);
    if (!Number.isInteger(after) || after < 0)
      throw new ConfigError("usage", `--after must be a sequence number (got ${JSON.stringify(args.values.after)})`, { hint: "e.g. --after 1200" });
    const st = await openCliTenancyStores(args, io);
    try {
      const orgs = typeof args.values.org === "string" ? [args.values.org] : await st.audit.orgs();
      for (const org of orgs) for (const row of await st.audit.list(org, { afterSeq: after })) io.out(JSON.stringify(row));
    } finally {
      await st.close();
    }
    return EXIT.ok;
  },
};
