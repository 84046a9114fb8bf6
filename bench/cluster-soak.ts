// Cluster soak (not a test): 3 `aicfg daemon` replicas on one PostgreSQL (127.0.0.1:5432, a database
// of its own, dropped after), a per-second schedule, clocks +90 s / -90 s (libfaketime), and a fault
// cycle every --cycle-seconds: kill -9 of the replica holding a run (restarted after its lease),
// SIGSTOP past the lease then SIGCONT, every database connection terminated. Prints slots, ledger
// rows, completed runs, duplicates, gaps and the longest takeover; exits 1 when the bar is missed
// (exactly one ledger row and one completed run per slot, takeover within lease + 2 s).
//
//   npm run bench:cluster -- [--minutes 10] [--lease-ms 3000] [--cycle-seconds 30]
import { parseArgs } from "node:util";
import { runClusterScenario } from "../test/e2e/cluster-scenario.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    "lease-ms": { type: "string", default: "3000" },
    "cycle-seconds": { type: "string", default: "30" },
    quiet: { type: "boolean", default: false },
  },
});
const minutes = Number(values.minutes);
const leaseMs = Number(values["lease-ms"]);
const cycleMs = Number(values["cycle-seconds"]) * 1000;
if (!(minutes > 0) || !(leaseMs >= 500) || !(cycleMs >= leaseMs * 3)) {
  process.stderr.write("usage: --minutes N (> 0) --lease-ms N (>= 500) --cycle-seconds N (at least 3 leases)\n");
  process.exit(2);
}

console.log(`cluster soak: 3 replicas, ${minutes} min, lease ${leaseMs} ms, a fault cycle every ${cycleMs / 1000} s`);
const r = await runClusterScenario({
  durationMs: minutes * 60_000,
  leaseMs,
  cycleMs,
  ...(values.quiet ? {} : { log: (l: string) => console.log(`  ${l}`) }),
});
const bar = r.ledgerRows === r.slots && r.completedRuns === r.slots && r.duplicates === 0 && r.gaps === 0 && r.maxTakeoverMs <= leaseMs + 2000;
const rows: [string, string | number][] = [
  ["duration", `${(r.durationMs / 1000).toFixed(0)} s`],
  ["slots", r.slots],
  ["ledger rows", r.ledgerRows],
  ["completed runs", r.completedRuns],
  ["duplicates", r.duplicates],
  ["gaps", r.gaps],
  ["kill -9", r.kills.length],
  ["SIGSTOP past lease", r.pauses.length],
  ["late completions fenced (logged)", r.pauses.filter((p) => p.fencedLogged).length],
  ["connections terminated", r.connectionKills],
  ["takeovers", r.takeovers],
  ["max takeover", `${r.maxTakeoverMs} ms (bar: lease + 2 s = ${leaseMs + 2000} ms)`],
  [
    "skew gauge a / b / c",
    Object.values(r.skewGauges)
      .map((v) => (v === undefined ? "missing" : `${v.toFixed(2)} s`))
      .join(" / "),
  ],
];
for (const [k, v] of rows) console.log(`${k.padEnd(34)} ${v}`);
if (r.incomplete.length) console.log(`incomplete slots: ${JSON.stringify(r.incomplete.slice(0, 20))}`);
console.log(bar ? "bar met" : "BAR MISSED");
process.exit(bar ? 0 : 1);
