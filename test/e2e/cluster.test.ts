// The cluster proof as a test: three daemon processes on one PostgreSQL, a per-second schedule, one
// full fault cycle (kill -9 of the replica holding a run, SIGSTOP past the lease, every database
// connection terminated) with two replicas' clocks 90 s off. Bar: every slot exactly one ledger row
// and one successful run, no gap, no duplicate, takeover within lease + 2 s, the paused replica's
// late completion refused by the fence, and the skew gauge showing each replica's offset. The
// 10-minute version is `npm run bench:cluster`.
import { describe, expect, it } from "vitest";
import { runClusterScenario } from "./cluster-scenario.ts";

const LEASE_MS = 3000;

describe("cluster: 3 replicas on PostgreSQL", () => {
  it("runs every slot exactly once through kill -9, SIGSTOP past the lease, dropped connections and ±90 s clocks", async () => {
    const lines: string[] = [];
    const r = await runClusterScenario({ durationMs: 26_000, leaseMs: LEASE_MS, cycleMs: 60_000, log: (l) => lines.push(l) });
    const summary = JSON.stringify({ ...r, log: lines }, null, 1);
    expect(r.slots, summary).toBeGreaterThanOrEqual(18);
    expect(r.ledgerRows, summary).toBe(r.slots);
    expect(r.completedRuns, summary).toBe(r.slots);
    expect(r.gaps, summary).toBe(0);
    expect(r.duplicates, summary).toBe(0);
    expect(r.incomplete, summary).toEqual([]);
    // One kill, one pause, and connections terminated, each hitting a run in flight.
    expect(r.kills.length, summary).toBe(1);
    expect(r.pauses.length, summary).toBe(1);
    expect(r.connectionKills, summary).toBeGreaterThan(0);
    // The runs the faults hit were taken over and finished by another replica under a raised fence.
    for (const v of r.victims) {
      expect([v.runId, v.status], summary).toEqual([v.runId, "success"]);
      expect(v.attempt, summary).toBeGreaterThanOrEqual(2);
      expect(v.owner, summary).not.toBe(v.faultedReplica);
    }
    // The paused replica noticed on waking that the run was no longer its own.
    expect(
      r.pauses.every((p) => p.fencedLogged),
      summary,
    ).toBe(true);
    expect(r.takeovers, summary).toBeGreaterThanOrEqual(2);
    expect(r.maxTakeoverMs, summary).toBeLessThanOrEqual(LEASE_MS + 2000);
    // process clock minus database clock, per replica (relative to this test's own clock)
    expect(Math.abs(r.skewGauges.a!), summary).toBeLessThan(2);
    expect(Math.abs(r.skewGauges.b! - 90), summary).toBeLessThan(2);
    expect(Math.abs(r.skewGauges.c! + 90), summary).toBeLessThan(2);
    expect(r.readyz, summary).toEqual({ a: 200, b: 200, c: 200 });
  }, 120_000);
});
