// Goal G06: the installed Hono is at least 4.13.18, the first release with the body-limit and
// header fixes the body caps rely on (CVE-2025-59139, CVE-2026-44456, GHSA-39q9-qp46-w8xg).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

function atLeast(version: string, floor: string): boolean {
  const a = version.split("-")[0]!.split(".").map(Number);
  const b = floor.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  return true;
}

it("the hono the API runs on is >= 4.13.18", () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../../node_modules/hono/package.json"), "utf8")) as { version: string };
  expect(atLeast(pkg.version, "4.13.18"), `hono ${pkg.version}`).toBe(true);
  expect(atLeast("4.13.17", "4.13.18")).toBe(false);
  expect(atLeast("4.14.0", "4.13.18")).toBe(true);
});
