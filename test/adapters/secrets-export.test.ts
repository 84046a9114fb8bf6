// What an export writes for `{ secret: NAME }` (src/adapters/secrets.ts): the tool's own env-var
// reference where it has one, the decrypted value only in user scope and only in a 0600 file, and in
// project scope for a tool without references nothing at all (a warning instead).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportLibrary } from "../../src/adapters/export.ts";
import { loadLibrary } from "../../src/library/load.ts";
import { resolveAll } from "../../src/library/resolve.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

const VALUE = "s3cr3t-value-for-the-export-test";

let dir: ReturnType<typeof tempDir>;
let lib: string;
beforeEach(() => {
  dir = tempDir("aicfg-secret-export-");
  lib = join(dir.path, "lib");
  writeTree(lib, {
    "aicfg.yaml": "name: lib\ntargets: [claude-code, cursor, codex, zed]\n",
    "mcp/github.yaml": 'command: gh-mcp\nenv:\n  GITHUB_TOKEN: { secret: GITHUB_TOKEN }\n  API_KEY: { secret: GITHUB_TOKEN }\n  PLAIN: "${HOME}"\n',
    "agents/dev.md": "---\ndescription: Develops\nmcp: [github]\n---\nDevelop.\n",
  });
});
afterEach(() => dir.cleanup());

const run = (scope: "project" | "user", targets: string[], secrets?: Map<string, string>) =>
  exportLibrary({
    library: lib,
    scope,
    root: join(dir.path, scope === "project" ? "project" : "home"),
    stateDir: join(dir.path, "state"),
    targets,
    ...(secrets ? { secrets } : {}),
  });

describe("secret references in exports", () => {
  it("keeps the reference in the model and validates the name", () => {
    const l = loadLibrary(lib);
    expect(l.mcp.get("github")!.server.env).toEqual({ GITHUB_TOKEN: "${GITHUB_TOKEN}", API_KEY: "${GITHUB_TOKEN}", PLAIN: "${HOME}" });
    expect(l.mcp.get("github")!.secrets).toEqual({ "env.GITHUB_TOKEN": "GITHUB_TOKEN", "env.API_KEY": "GITHUB_TOKEN" });
    expect(resolveAll(l).agents[0]!.secretRefs).toEqual({ github: { "env.GITHUB_TOKEN": "GITHUB_TOKEN", "env.API_KEY": "GITHUB_TOKEN" } });
    writeTree(lib, { "mcp/bad.yaml": 'command: x\nenv:\n  K: { secret: "no-dashes" }\n' });
    const bad = loadLibrary(lib).diagnostics.find((d) => d.file?.endsWith("bad.yaml"));
    expect(bad?.message).toContain("environment-variable name");
  });

  it("writes each tool's env-var reference in project scope: Claude Code ${VAR}, Cursor ${env:VAR}, Codex env_vars", () => {
    const r = run("project", ["claude-code", "cursor", "codex"], new Map([["GITHUB_TOKEN", VALUE]]));
    expect(r.errors).toEqual([]);
    const project = join(dir.path, "project");
    const claude = JSON.parse(readFileSync(join(project, ".mcp.json"), "utf8")) as { mcpServers: Record<string, { env: Record<string, string> }> };
    expect(claude.mcpServers.github!.env).toEqual({ API_KEY: "${GITHUB_TOKEN}", GITHUB_TOKEN: "${GITHUB_TOKEN}", PLAIN: "${HOME}" });
    const cursor = JSON.parse(readFileSync(join(project, ".cursor", "mcp.json"), "utf8")) as { mcpServers: Record<string, { env: Record<string, string> }> };
    expect(cursor.mcpServers.github!.env.GITHUB_TOKEN).toBe("${env:GITHUB_TOKEN}");
    const codex = readFileSync(join(project, ".codex", "config.toml"), "utf8");
    expect(codex).toContain("GITHUB_TOKEN");
    expect(codex).toMatch(/env_vars = \[[^\]]*"GITHUB_TOKEN"/);
    // Codex cannot pass ${GITHUB_TOKEN} under another name: in project scope that key is left out, never written literally.
    expect(codex).not.toContain("API_KEY");
    expect(r.warnings.some((w) => w.code === "secret-skipped" && w.message.includes("env.API_KEY"))).toBe(true);
    for (const f of [".mcp.json", ".cursor/mcp.json", ".codex/config.toml"]) expect(readFileSync(join(project, f), "utf8")).not.toContain(VALUE);
  });

  it("leaves a secret out of a project file of a tool without references, with a warning", () => {
    const r = run("project", ["zed"], new Map([["GITHUB_TOKEN", VALUE]]));
    const zed = readFileSync(join(dir.path, "project", ".zed", "settings.json"), "utf8");
    expect(zed).not.toContain(VALUE);
    expect(zed).not.toContain('GITHUB_TOKEN"');
    const skipped = r.warnings.filter((w) => w.code === "secret-skipped");
    expect(skipped.map((w) => w.message.match(/env\.\w+/)![0]).sort()).toEqual(["env.API_KEY", "env.GITHUB_TOKEN"]);
    expect(skipped[0]!.hint).toContain("--scope user");
  });

  it("writes the value into a user-scope file of a tool without references, mode 0600", () => {
    const r = run("user", ["zed"], new Map([["GITHUB_TOKEN", VALUE]]));
    expect(r.errors).toEqual([]);
    const file = join(dir.path, "home", ".config", "zed", "settings.json");
    const zed = JSON.parse(readFileSync(file, "utf8")) as { context_servers: Record<string, { env: Record<string, string> }> };
    expect(zed.context_servers.github!.env.GITHUB_TOKEN).toBe(VALUE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Nothing about the value reaches the state folder (no plaintext, and it is not part of the cache fingerprint).
    expect(readFileSync(join(dir.path, "state", "exports.json"), "utf8")).not.toContain(VALUE);
  });

  it("warns and leaves the key out when the secret cannot be read", () => {
    const r = run("user", ["zed"]);
    const zed = readFileSync(join(dir.path, "home", ".config", "zed", "settings.json"), "utf8");
    expect(zed).not.toContain("${GITHUB_TOKEN}");
    expect(r.warnings.some((w) => w.code === "secret-unavailable" && w.hint?.includes("aicfg secret set GITHUB_TOKEN"))).toBe(true);
  });
});
