// can() against a brute-force reference over random bindings and paths (team-scale design §3.5.3):
// the reference walks every ancestor of the resource segment by segment and asks whether some
// binding sits exactly there with the action, so prefix-of-a-name mistakes (org/acme vs
// org/acme2, lib/a vs lib/ab) and upward inheritance would both show up as differences.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILTIN_ROLES, can, canWithin, checkScope, type Action, type Grant } from "../../../src/daemon/tenancy/policy.ts";

const ORGS = ["acme", "acme2", "beta"];
const LIBS = ["a", "ab", "platform"];
const WFS = ["sync", "sync2"];
const ACTIONS = ["view", "run", "update", "manage-members", "view-audit"] as const satisfies readonly Action[];

const scopeArb = fc.oneof(
  fc.constantFrom(...ORGS).map((o) => `org/${o}`),
  fc.tuple(fc.constantFrom(...ORGS), fc.constantFrom(...LIBS)).map(([o, l]) => `org/${o}/lib/${l}`),
  fc.tuple(fc.constantFrom(...ORGS), fc.constantFrom(...LIBS), fc.constantFrom(...WFS)).map(([o, l, w]) => `org/${o}/lib/${l}/workflows/${w}`),
);
const grantArb = fc.record({
  scope: scopeArb,
  actions: fc.subarray([...ACTIONS], { minLength: 0 }).map((a) => new Set<Action>(a)),
  ruleId: fc.string({ minLength: 1, maxLength: 4 }),
});
const resourceArb = fc.oneof(
  scopeArb,
  fc.tuple(scopeArb, fc.constantFrom("runs/r1", "agents/x")).map(([s, k]) => `${s}/${k}`),
);

function reference(grants: readonly Grant[], action: Action, resource: string): boolean {
  const segs = resource.split("/");
  const ancestors = segs.map((_, i) => segs.slice(0, i + 1).join("/"));
  return grants.some((g) => g.actions.has(action) && ancestors.includes(g.scope));
}

describe("can()", () => {
  it("equals the brute-force reference, and a denial names the default rule", () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 6 }), fc.constantFrom(...ACTIONS), resourceArb, (grants, action, resource) => {
        const d = can(grants, action, resource);
        expect(d.allow).toBe(reference(grants, action, resource));
        if (d.allow) expect(grants.some((g) => g.ruleId === d.ruleId)).toBe(true);
        else expect(d.ruleId).toBe("default-deny");
      }),
      { numRuns: 2000 },
    );
  });

  it("canWithin() also finds grants below the resource, never in another org", () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 6 }), fc.constantFrom(...ACTIONS), fc.constantFrom(...ORGS), (grants, action, org) => {
        const want = grants.some((g) => g.actions.has(action) && (g.scope === `org/${org}` || g.scope.startsWith(`org/${org}/`)));
        expect(canWithin(grants, action, `org/${org}`).allow).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });

  it("no grants, no access; built-in roles nest viewer ⊂ editor ⊂ admin", () => {
    expect(can([], "view", "org/acme").allow).toBe(false);
    for (const a of BUILTIN_ROLES.viewer) expect(BUILTIN_ROLES.editor).toContain(a);
    for (const a of BUILTIN_ROLES.editor) expect(BUILTIN_ROLES.admin).toContain(a);
    expect(BUILTIN_ROLES.editor).not.toContain("run-commands");
    expect(BUILTIN_ROLES.editor).not.toContain("manage-members");
  });

  it("scopes: inside the binding's org only, no wildcards, no traversal, only org/library/workflow levels", () => {
    expect(checkScope("acme", "org/acme").ok).toBe(true);
    expect(checkScope("acme", "org/acme/lib/platform/workflows/sync").ok).toBe(true);
    for (const bad of [
      "org/acme2",
      "org/beta",
      "org/*",
      "org/acme/lib/**",
      "org/acme/",
      "org/acme/lib/../..",
      "org/acme/lib/a/agents/x",
      "/org/acme",
      "org/ACME",
    ])
      expect(checkScope("acme", bad).ok, bad).toBe(false);
  });
});
