// The tenancy stores' conformance suite: every implementation of TenancyStore and AuditStore runs
// these same tests. A second implementation (e.g. on PostgreSQL) plugs in with
// `tenancyConformance("postgres", factory)`, where the factory gives fresh, empty stores that share
// one manual clock, and a cleanup.
import { afterEach, describe, expect, it } from "vitest";
import { verifyChain } from "../../../src/daemon/tenancy/audit-chain.ts";
import { DEFAULT_ORG } from "../../../src/daemon/tenancy/policy.ts";
import type { AuditInput, AuditStore, TenancyStore } from "../../../src/daemon/tenancy/types.ts";
import type { ManualClock } from "../../../src/daemon/clock.ts";

export type StoreUnderTest = {
  tenancy: TenancyStore;
  audit: AuditStore;
  clock: ManualClock;
  /** Reopens the stores on the same data (what a restart or another replica sees). */
  reopen: () => Promise<{ tenancy: TenancyStore; audit: AuditStore }>;
  /** The stored rows of one org's audit as JSON lines, in stored order (what `audit verify` reads). */
  auditLines: (org: string) => Promise<string[]>;
  cleanup: () => Promise<void>;
};

const TOKEN = "token:tok_0123456789ab";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? "thrown";
  }
  return "resolved";
}

const row = (action: string, decision: "allow" | "deny" = "allow"): AuditInput => ({
  actor: { kind: "token", id: "tok_0123456789ab" },
  action,
  resource: "org/acme/lib/platform/workflows/sync",
  decision,
  ruleId: decision === "allow" ? "binding:bnd_0000000000000001" : "default-deny",
  status: decision === "allow" ? 200 : 403,
});

export function tenancyConformance(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`tenancy store conformance: ${name}`, () => {
    let s: StoreUnderTest | undefined;
    const open = async () => (s = await factory());
    afterEach(async () => {
      await s?.cleanup();
      s = undefined;
    });

    it("the default org always exists and cannot be deleted", async () => {
      const { tenancy } = await open();
      expect((await tenancy.listOrgs()).map((o) => o.id)).toEqual([DEFAULT_ORG]);
      expect((await tenancy.getOrg(DEFAULT_ORG))?.id).toBe(DEFAULT_ORG);
      expect(await code(tenancy.deleteOrg(DEFAULT_ORG))).toBe("conflict");
    });

    it("creates orgs with default and given quotas, refuses duplicates and bad names, survives a reopen", async () => {
      const { tenancy, reopen } = await open();
      const acme = await tenancy.createOrg("acme", { name: "Acme", quotas: { runsPerHour: 5 } });
      expect(acme).toMatchObject({ id: "acme", name: "Acme", quotas: { runsPerHour: 5 } });
      expect(acme.quotas.requestsPerMinute).toBeGreaterThan(0);
      expect(await code(tenancy.createOrg("acme"))).toBe("conflict");
      expect(await code(tenancy.createOrg("Bad Name"))).toBe("invalid-input");
      expect(await code(tenancy.createOrg("zero", { quotas: { runsPerHour: 0 } }))).toBe("invalid-input");
      const updated = await tenancy.updateQuotas("acme", { requestsPerMinute: 7 });
      expect(updated.quotas).toEqual({ runsPerHour: 5, requestsPerMinute: 7 });
      expect(await code(tenancy.updateQuotas("nope", { runsPerHour: 1 }))).toBe("not-found");
      const again = (await reopen()).tenancy;
      expect((await again.getOrg("acme"))?.quotas).toEqual({ runsPerHour: 5, requestsPerMinute: 7 });
      expect((await again.listOrgs()).map((o) => o.id).sort()).toEqual(["acme", DEFAULT_ORG]);
    });

    it("custom roles: created per org, built-in names refused, in-use roles kept", async () => {
      const { tenancy } = await open();
      await tenancy.createOrg("acme");
      await tenancy.createOrg("beta");
      const r = await tenancy.createRole("acme", { name: "runner", actions: ["view", "run", "run"] });
      expect(r.actions).toEqual(["view", "run"]);
      expect(await code(tenancy.createRole("acme", { name: "runner", actions: ["view"] }))).toBe("conflict");
      expect(await code(tenancy.createRole("acme", { name: "admin", actions: ["view"] }))).toBe("invalid-input");
      expect(await code(tenancy.createRole("acme", { name: "x", actions: ["fly" as never] }))).toBe("invalid-input");
      expect(await code(tenancy.createRole("nope", { name: "x", actions: ["view"] }))).toBe("not-found");
      expect(await tenancy.listRoles("beta")).toEqual([]);
      expect(await code(tenancy.createBinding("beta", { subject: TOKEN, role: "runner", scope: "org/beta" }))).toBe("invalid-input");
      const b = await tenancy.createBinding("acme", { subject: TOKEN, role: "runner", scope: "org/acme/lib/platform" });
      expect(await code(tenancy.deleteRole("acme", "runner"))).toBe("conflict");
      expect(await tenancy.deleteBinding("acme", b.id)).toBe(true);
      expect(await tenancy.deleteRole("acme", "runner")).toBe(true);
      expect(await tenancy.deleteRole("acme", "runner")).toBe(false);
    });

    it("bindings: scope must be inside the binding's org; another org's id is absent", async () => {
      const { tenancy } = await open();
      await tenancy.createOrg("acme");
      await tenancy.createOrg("beta");
      expect(await code(tenancy.createBinding("acme", { subject: TOKEN, role: "viewer", scope: "org/beta" }))).toBe("invalid-input");
      expect(await code(tenancy.createBinding("acme", { subject: TOKEN, role: "viewer", scope: "org/acme2" }))).toBe("invalid-input");
      expect(await code(tenancy.createBinding("acme", { subject: TOKEN, role: "viewer", scope: "org/acme/lib/*" }))).toBe("invalid-input");
      expect(await code(tenancy.createBinding("acme", { subject: TOKEN, role: "viewer", scope: "org/acme/../beta" }))).toBe("invalid-input");
      expect(await code(tenancy.createBinding("acme", { subject: "everyone", role: "viewer", scope: "org/acme" }))).toBe("invalid-input");
      expect(await code(tenancy.createBinding("acme", { subject: TOKEN, role: "owner", scope: "org/acme" }))).toBe("invalid-input");
      const b = await tenancy.createBinding("acme", {
        subject: "group:https://idp.example|eng",
        role: "editor",
        scope: "org/acme/lib/platform/workflows/sync",
      });
      expect(b.id).toMatch(/^bnd_[0-9a-f]{16}$/);
      expect(
        await code(tenancy.createBinding("acme", { subject: "group:https://idp.example|eng", role: "editor", scope: "org/acme/lib/platform/workflows/sync" })),
      ).toBe("conflict");
      expect(await tenancy.getBinding("acme", b.id)).toEqual(b);
      expect(await tenancy.getBinding("beta", b.id)).toBeUndefined();
      expect(await tenancy.deleteBinding("beta", b.id)).toBe(false);
      expect(await tenancy.listBindings("beta")).toEqual([]);
      expect(await tenancy.listBindings("acme")).toEqual([b]);
    });

    it("users are keyed by issuer and subject, per org; groups refresh", async () => {
      const { tenancy, clock } = await open();
      await tenancy.createOrg("acme");
      await tenancy.createOrg("beta");
      const u = await tenancy.seeUser("acme", { issuer: "https://a.example", subject: "42", name: "Ann", groups: ["eng", "ops", "eng"] });
      expect(u).toMatchObject({ issuer: "https://a.example", subject: "42", name: "Ann", groups: ["eng", "ops"] });
      const other = await tenancy.seeUser("acme", { issuer: "https://b.example", subject: "42", groups: [] });
      expect(other.id).not.toBe(u.id);
      await clock.advance(1000);
      const again = await tenancy.seeUser("acme", { issuer: "https://a.example", subject: "42", name: "Ann", groups: ["ops"] });
      expect(again.id).toBe(u.id);
      expect(again.groups).toEqual(["ops"]);
      expect(again.firstSeen).toBe(u.firstSeen);
      expect(await tenancy.getUser("beta", u.id)).toBeUndefined();
      expect((await tenancy.listUsers("acme")).length).toBe(2);
      expect(await code(tenancy.seeUser("nope", { issuer: "i", subject: "s", groups: [] }))).toBe("not-found");
    });

    it("deleting an org removes its roles, bindings and users", async () => {
      const { tenancy } = await open();
      await tenancy.createOrg("acme");
      await tenancy.createRole("acme", { name: "runner", actions: ["run"] });
      await tenancy.createBinding("acme", { subject: TOKEN, role: "runner", scope: "org/acme" });
      await tenancy.seeUser("acme", { issuer: "i", subject: "s", groups: [] });
      expect(await tenancy.deleteOrg("acme")).toBe(true);
      expect(await tenancy.deleteOrg("acme")).toBe(false);
      await tenancy.createOrg("acme");
      expect(await tenancy.listRoles("acme")).toEqual([]);
      expect(await tenancy.listBindings("acme")).toEqual([]);
      expect(await tenancy.listUsers("acme")).toEqual([]);
    });

    it("concurrent writes in one process all land", async () => {
      const { tenancy } = await open();
      await tenancy.createOrg("acme");
      await Promise.all(Array.from({ length: 20 }, (_, i) => tenancy.createBinding("acme", { subject: TOKEN, role: "viewer", scope: `org/acme/lib/l${i}` })));
      expect((await tenancy.listBindings("acme")).length).toBe(20);
    });

    it("audit: one chain per org, seq counts up, the chain verifies and survives a reopen", async () => {
      const { audit, clock, reopen, auditLines } = await open();
      const a1 = await audit.append("acme", row("binding.create"));
      await clock.advance(5);
      const b1 = await audit.append("beta", row("run.trigger", "deny"));
      const a2 = await audit.append("acme", row("run.cancel", "deny"));
      expect([a1.seq, a2.seq, b1.seq]).toEqual([1, 2, 1]);
      expect(a2.prevHash).toBe(a1.hash);
      expect(a1.org).toBe("acme");
      expect(b1.decision).toBe("deny");
      const second = (await reopen()).audit;
      const a3 = await second.append("acme", row("role.create"));
      expect(a3.seq).toBe(3);
      expect(a3.prevHash).toBe(a2.hash);
      expect((await second.list("acme")).map((r) => r.action)).toEqual(["binding.create", "run.cancel", "role.create"]);
      expect((await second.list("acme", { afterSeq: 1, limit: 1 })).map((r) => r.seq)).toEqual([2]);
      expect(await second.orgs()).toEqual(["acme", "beta"]);
      const report = verifyChain(await auditLines("acme"), "acme");
      expect(report).toMatchObject({ ok: true, rows: 3, head: a3.hash });
    });

    it("audit: concurrent appends keep one unbroken chain", async () => {
      const { audit, auditLines } = await open();
      await Promise.all(Array.from({ length: 25 }, (_, i) => audit.append("acme", row(`a${i}`))));
      expect(verifyChain(await auditLines("acme"), "acme")).toMatchObject({ ok: true, rows: 25 });
    });

    it("audit: an input with fields beyond the schema (e.g. a token) is refused", async () => {
      const { audit } = await open();
      expect(await code(audit.append("acme", { ...row("x"), token: "aicfg_secret" } as never))).not.toBe("resolved");
      expect(await audit.list("acme")).toEqual([]);
    });
  });
}
