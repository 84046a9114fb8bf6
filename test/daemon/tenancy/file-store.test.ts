// The tenancy conformance suite on the file stores (tenancy.json and audit/<org>.jsonl).
import { readFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/daemon/clock.ts";
import { auditFile, openFileAuditStore, openFileTenancyStore, TENANCY_FILE } from "../../../src/daemon/tenancy/file-store.ts";
import { tempDir } from "../../helpers/fixtures.ts";
import { tenancyConformance } from "./conformance.ts";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

tenancyConformance("file", async () => {
  const dir = tempDir("aicfg-tenancy-");
  const clock = createManualClock(T0);
  return {
    tenancy: openFileTenancyStore(dir.path, clock),
    audit: openFileAuditStore(dir.path, clock),
    clock,
    reopen: async () => ({ tenancy: openFileTenancyStore(dir.path, clock), audit: openFileAuditStore(dir.path, clock) }),
    auditLines: async (org) => {
      const f = auditFile(dir.path, org);
      return existsSync(f) ? readFileSync(f, "utf8").split("\n") : [];
    },
    cleanup: async () => dir.cleanup(),
  };
});

describe("file tenancy store specifics", () => {
  it("files are private (0600) and a corrupt tenancy.json is an error naming the file", async () => {
    const dir = tempDir("aicfg-tenancy-");
    try {
      const clock = createManualClock(T0);
      const t = openFileTenancyStore(dir.path, clock);
      await t.createOrg("acme");
      await openFileAuditStore(dir.path, clock).append("acme", {
        actor: { kind: "cli", id: "ann" },
        action: "org.create",
        resource: "org/acme",
        decision: "allow",
        ruleId: "cli",
      });
      if (process.platform !== "win32") {
        expect(statSync(join(dir.path, TENANCY_FILE)).mode & 0o777).toBe(0o600);
        expect(statSync(auditFile(dir.path, "acme")).mode & 0o777).toBe(0o600);
      }
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(dir.path, TENANCY_FILE), "{ nope");
      await expect(t.listOrgs()).rejects.toThrow(/tenancy\.json is not valid JSON/);
    } finally {
      dir.cleanup();
    }
  });
});
