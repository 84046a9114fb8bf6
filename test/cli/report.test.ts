// `aicfg report` through the real CLI: Markdown on stdout, a standalone HTML file with --out, JSON,
// usage errors; library strings escaped in both formats.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { cli } from "./helpers.ts";

let dir: { path: string; cleanup: () => void } | undefined;
afterEach(() => {
  dir?.cleanup();
  dir = undefined;
});

const XSS = `<img src=x onerror=alert(1)>`;

function library(): { lib: string; args: string[] } {
  dir = tempDir("aicfg-report-");
  const lib = join(dir.path, "lib");
  writeTree(lib, {
    "aicfg.yaml": "name: acme\ntargets: [claude-code, q-cli]\n",
    "agents/reviewer.md": `---\ndisplayName: ${JSON.stringify(`Rev | ${XSS}`)}\ndescription: ${JSON.stringify(`Reviews ${XSS}`)}\ntools: { allow: [read, glob] }\n---\nReview.\n`,
    "knowledge/a.md": "# A\n",
  });
  return { lib, args: ["--library", lib, "--state-dir", join(dir.path, "state"), "--root", join(dir.path, "project")] };
}

describe("aicfg report", () => {
  it("prints Markdown with the matrix, sizes and budgets, escaping library strings", async () => {
    const { args } = library();
    const r = await cli(["report", ...args]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("# Library report: acme");
    expect(r.out).toContain("| Agent | claude-code | q-cli |");
    expect(r.out).toMatch(/\| Rev \\\| \\<img src=x onerror=alert\\\(1\\\)\\> \| stale \| stale, 1 unsupported \|/);
    expect(r.out).not.toContain(XSS);
    expect(r.out).toContain("## Always-loaded context per agent per tool");
    expect(r.out).toMatch(/\| claude-code \| reviewer \| [\d,]+ \| [\d,]+ tokens \| 200,000 tokens per total \|/);
  });

  it("writes a standalone HTML report with --out (charts inline, no script, its own CSP)", async () => {
    const { args } = library();
    const out = join(dir!.path, "artifacts", "report.html");
    const r = await cli(["report", ...args, "--format", "html", "--out", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toContain(`report written to ${out}`);
    const html = readFileSync(out, "utf8");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html.match(/<svg class="chart"/g)!.length).toBeGreaterThanOrEqual(4);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(XSS);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("prints the analytics as JSON and refuses an unknown format", async () => {
    const { args } = library();
    const j = await cli(["report", ...args, "--json"]);
    expect(j.code).toBe(0);
    const a = j.json() as { library: string; matrix: { agent: string; target: string; status: string }[] };
    expect(a.library).toBe("acme");
    expect(a.matrix.map((c) => `${c.agent}/${c.target}:${c.status}`)).toEqual(["reviewer/claude-code:stale", "reviewer/q-cli:stale"]);
    const bad = await cli(["report", ...args, "--format", "pdf", "--out", join(dir!.path, "x.pdf")]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--format "pdf" is not md or html');
    expect(existsSync(join(dir!.path, "x.pdf"))).toBe(false);
  });
});
