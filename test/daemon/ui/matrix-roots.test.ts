// The matrix and the diff compare with where the library's export workflows write: a real
// `aicfg daemon` child process on a copy of the sample library (examples/library), whose
// export-on-change workflow exports everything at start-up to `.aicfg-state/sandbox` (its step's
// `root:`). After that export every cell is fresh; a hand edit of an exported file is drift, and
// the diff shows the edit against that root.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDashboardDaemon, type DashboardDaemon } from "../../helpers/dashboard-daemon.ts";

let d: DashboardDaemon;
let cookie = "";

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(d.base + path, { headers: { cookie } });
  return { status: res.status, text: await res.text() };
}

const cells = (page: string, status: string) => (page.match(new RegExp(`class="cell cell-${status}"`, "g")) ?? []).length;

beforeAll(async () => {
  d = await startDashboardDaemon();
  await d.exported();
  // Sign in as an OIDC front end would: the credential in Authorization on the sign-in POST.
  const res = await fetch(`${d.base}/ui/login`, {
    method: "POST",
    redirect: "manual",
    headers: { authorization: `Bearer ${d.tokens.viewer}`, "content-type": "application/x-www-form-urlencoded" },
    body: "next=%2Fui",
  });
  expect(res.status).toBe(303);
  cookie = /aicfg_session=[^;]+/.exec(res.headers.getSetCookie().join("\n"))![0];
}, 90_000);

afterAll(async () => {
  await d?.stop();
}, 30_000);

describe("the matrix compares with the export workflows' root", () => {
  it("after the initial export every cell is fresh, against the sandbox of export-on-change", async () => {
    const page = await get(`/ui/libraries/${d.library}/matrix`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<code>${d.sandbox}</code>`);
    expect(page.text).toMatch(/written by export-on-change\/[a-z0-9-]+/);
    expect(cells(page.text, "fresh")).toBeGreaterThanOrEqual(12);
    expect(cells(page.text, "stale")).toBe(0);
    expect(cells(page.text, "drift")).toBe(0);
    // Health counts the same states.
    const health = await get(`/ui/libraries/${d.library}/health`);
    expect(health.text).toContain(d.sandbox);
  });

  it("a hand edit of an exported file is drift, and its diff shows the edit", async () => {
    const agents = join(d.dir, ".aicfg-state", "sandbox", ".claude", "agents");
    const file = readdirSync(agents).find((f) => f === "code-reviewer.md")!;
    expect(file).toBeDefined();
    writeFileSync(join(agents, file), `${readFileSync(join(agents, file), "utf8")}\nEdited by hand.\n`);
    const page = await get(`/ui/libraries/${d.library}/matrix`);
    expect(cells(page.text, "drift")).toBe(1);
    expect(page.text).toMatch(/class="cell cell-drift"><a href="\/ui\/libraries\/acme-engineering\/diff\/code-reviewer\/claude-code"/);
    const diff = await get(`/ui/libraries/${d.library}/diff/code-reviewer/claude-code`);
    expect(diff.status).toBe(200);
    expect(diff.text).toContain("Edited by hand.");
    expect(diff.text).toContain(`On disk under <code>${d.sandbox}</code>`);
    expect(diff.text).toMatch(/<span class="status">drift<\/span>/);
  });
});
