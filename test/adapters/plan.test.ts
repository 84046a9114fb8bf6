import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { applyPlan, planExport, type TargetOutput } from "../../src/adapters/plan.ts";
import { emptyManifest, loadManifest, saveManifest, type OwnedFileManifest } from "../../src/adapters/manifest.ts";
import type { OutputFile } from "../../src/adapters/types.ts";
import { runInChild, tempDir } from "../helpers/fixtures.ts";

let dir: { path: string; cleanup: () => void };
let root: string;
let state: string;
beforeEach(() => {
  dir = tempDir();
  root = join(dir.path, "project");
  state = join(dir.path, "state");
  mkdirSync(root, { recursive: true });
});
afterEach(() => dir.cleanup());

let clock = 0;
function run(files: OutputFile[], opts: { force?: boolean; target?: string; manifest?: OwnedFileManifest } = {}) {
  const manifest = opts.manifest ?? loadManifest(state);
  const outputs: TargetOutput[] = [{ target: opts.target ?? "t1", scope: "project", root, files, prune: true }];
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  const plan = planExport(outputs, manifest, { force: !!opts.force, now });
  const applied = applyPlan(plan, manifest, state, now);
  saveManifest(state, manifest);
  const actions = Object.fromEntries(plan.entries.map((e) => [e.path.slice(root.length + 1), e.action]));
  return { plan, applied, actions };
}
const file = (rel: string, content: string, extra: Partial<OutputFile> = {}): OutputFile =>
  ({ kind: "file", path: join(root, rel), content, ...extra }) as OutputFile;
const read = (rel: string) => readFileSync(join(root, rel), "utf8");

describe("whole files", () => {
  it("creates, keeps unchanged, updates and deletes only what it owns", () => {
    expect(run([file("a/x.md", "one\n"), file("y.md", "y\n")]).actions).toEqual({ "a/x.md": "create", "y.md": "create" });
    expect(run([file("a/x.md", "one\n"), file("y.md", "y\n")]).actions).toEqual({ "a/x.md": "unchanged", "y.md": "unchanged" });
    expect(run([file("a/x.md", "two\n"), file("y.md", "y\n")]).actions).toEqual({ "a/x.md": "update", "y.md": "unchanged" });
    expect(read("a/x.md")).toBe("two\n");
    expect(run([file("a/x.md", "two\n")]).actions).toEqual({ "a/x.md": "unchanged", "y.md": "delete" });
    expect(existsSync(join(root, "y.md"))).toBe(false);
  });

  it("reports a hand-edited file as drift, leaves it, and overwrites only with --force after a backup", () => {
    run([file("x.md", "ours\n")]);
    writeFileSync(join(root, "x.md"), "edited by hand\n");
    const r = run([file("x.md", "ours v2\n")]);
    expect(r.actions).toEqual({ "x.md": "drift" });
    expect(read("x.md")).toBe("edited by hand\n");
    const f = run([file("x.md", "ours v2\n")], { force: true });
    expect(f.actions).toEqual({ "x.md": "update" });
    expect(read("x.md")).toBe("ours v2\n");
    expect(f.applied.backups).toHaveLength(1);
    expect(readFileSync(f.applied.backups[0]!, "utf8")).toBe("edited by hand\n");
  });

  it("never overwrites a file it did not write", () => {
    writeFileSync(join(root, "foreign.md"), "user file\n");
    expect(run([file("foreign.md", "ours\n")]).actions).toEqual({ "foreign.md": "conflict" });
    expect(read("foreign.md")).toBe("user file\n");
  });

  it("adopts an existing file whose content is already identical", () => {
    writeFileSync(join(root, "same.md"), "same\n");
    expect(run([file("same.md", "same\n")]).actions).toEqual({ "same.md": "unchanged" });
    expect(Object.values(loadManifest(state).entries).map((e) => e.path)).toEqual([join(root, "same.md")]);
  });

  it("leaves a stale file that was edited by hand", () => {
    run([file("old.md", "ours\n")]);
    writeFileSync(join(root, "old.md"), "mine now\n");
    expect(run([]).actions).toEqual({ "old.md": "drift" });
    expect(read("old.md")).toBe("mine now\n");
  });

  it("refuses to write through a symlink (the victim stays byte-identical)", () => {
    const victim = join(dir.path, "victim.txt");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(root, "link.json"));
    expect(run([file("link.json", "{}\n")]).actions).toEqual({ "link.json": "conflict" });
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("refuses to create files below a symlinked parent folder", () => {
    const elsewhere = join(dir.path, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(root, ".tool"));
    const r = run([file(".tool/agent.json", "{}\n")]);
    expect(r.applied.failed[0]!.code).toBe("symlink-parent");
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("creates secret-bearing files 0600 even under umask 000 and leaves no temp files", () => {
    // process.umask() cannot be set in worker threads (Bun's test pool), so this runs in a child.
    const atomic = new URL("../../src/adapters/atomic.ts", import.meta.url).href;
    const r = runInChild(
      `import { atomicWrite } from ${JSON.stringify(atomic)};
       import { statSync, readdirSync } from "node:fs";
       process.umask(0);
       atomicWrite(${JSON.stringify(join(root, "mcp.json"))}, "{}", 0o600);
       atomicWrite(${JSON.stringify(join(root, "plain.md"))}, "p", 0o644);
       console.log(JSON.stringify([statSync(${JSON.stringify(join(root, "mcp.json"))}).mode & 0o777, statSync(${JSON.stringify(join(root, "plain.md"))}).mode & 0o777, readdirSync(${JSON.stringify(root)}).filter((n) => n.endsWith(".tmp"))]));`,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout.trim())).toEqual([0o600, 0o644, []]);
    run([file("secret.json", '{"env":{"K":"v"}}\n', { secret: true })]);
    expect(statSync(join(root, "secret.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, "exports.json")).mode & 0o777).toBe(0o600);
  });

  it("refuses outputs outside the export root", () => {
    const plan = planExport(
      [{ target: "t", scope: "project", root, files: [{ kind: "file", path: join(dir.path, "escape.md"), content: "x" }], prune: true }],
      emptyManifest(),
      { force: false, now: "x" },
    );
    expect(plan.errors[0]!.code).toBe("outside-root");
  });
});

describe("a whole file two targets write", () => {
  const both = (targets: string[], content = "page\n") => {
    const manifest = loadManifest(state);
    const outputs: TargetOutput[] = targets.map((target) => ({ target, scope: "project", root, files: [file("idx/p.md", content)], prune: true }));
    for (const target of ["t1", "t2"].filter((t) => !targets.includes(t))) outputs.push({ target, scope: "project", root, files: [], prune: true });
    const now = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
    const plan = planExport(outputs, manifest, { force: false, now });
    applyPlan(plan, manifest, state, now);
    saveManifest(state, manifest);
    return {
      plan,
      owners: Object.values(loadManifest(state).entries)
        .map((e) => e.target)
        .sort(),
    };
  };

  it("is written once and owned by both; a target that stops writing it gives up its record, the file stays for the other", () => {
    const first = both(["t1", "t2"]);
    expect(first.plan.entries.map((e) => [e.action, e.targets])).toEqual([["create", ["t1", "t2"]]]);
    expect(first.owners).toEqual(["t1", "t2"]);
    // Unchanged for t2, no longer produced by t1 (the fast path of an unchanged file).
    const second = both(["t2"]);
    expect(second.plan.entries.map((e) => e.action)).toEqual(["unchanged"]);
    expect(second.owners).toEqual(["t2"]);
    expect(read("idx/p.md")).toBe("page\n");
    // The same when the remaining target changes the file.
    both(["t1", "t2"]);
    const third = both(["t2"], "page v2\n");
    expect(third.plan.entries.map((e) => e.action)).toEqual(["update"]);
    expect(third.owners).toEqual(["t2"]);
    expect(read("idx/p.md")).toBe("page v2\n");
  });

  it("with different content from each target is an output clash and nothing is written", () => {
    const manifest = loadManifest(state);
    const outputs: TargetOutput[] = ["t1", "t2"].map((target) => ({ target, scope: "project", root, files: [file("idx/p.md", `${target}\n`)], prune: true }));
    const plan = planExport(outputs, manifest, { force: false, now: "2026-01-01T00:00:00.000Z" });
    expect(plan.errors.map((e) => e.code)).toEqual(["output-clash"]);
    expect(plan.work).toEqual([]);
  });
});

describe("shared JSON files: only our keys change", () => {
  const userJson = '{\n  // user comment\n  "editor.fontSize": 14,\n  "mcpServers": {\n    "mine": { "command": "x" }\n  }\n}\n';
  const keys = (servers: Record<string, unknown>): OutputFile => ({
    kind: "json-keys",
    path: join(root, "mcp.json"),
    entries: Object.entries(servers).map(([k, v]) => ({ key: ["mcpServers", k], value: v })),
  });

  it("adds, updates and removes our keys and keeps every other byte", () => {
    writeFileSync(join(root, "mcp.json"), userJson);
    expect(run([keys({ fetch: { command: "uvx" } })]).actions).toEqual({ "mcp.json": "update" });
    const after = read("mcp.json");
    expect(after).toContain('// user comment\n  "editor.fontSize": 14,');
    expect(JSON.parse(after.replace("// user comment", ""))).toEqual({
      "editor.fontSize": 14,
      mcpServers: { mine: { command: "x" }, fetch: { command: "uvx" } },
    });
    run([keys({ fetch: { command: "uvx", args: ["a"] } })]);
    expect(JSON.parse(read("mcp.json").replace("// user comment", "")).mcpServers.fetch).toEqual({ command: "uvx", args: ["a"] });
    run([]);
    expect(read("mcp.json")).toBe(userJson);
  });

  it("reports a foreign key with the same name as a conflict and a hand-edited key as drift", () => {
    writeFileSync(join(root, "mcp.json"), '{ "mcpServers": { "fetch": { "command": "theirs" } } }\n');
    expect(run([keys({ fetch: { command: "uvx" } })]).actions).toEqual({ "mcp.json": "conflict" });
    writeFileSync(join(root, "mcp.json"), "{}\n");
    run([keys({ fetch: { command: "uvx" } })]);
    const edited = read("mcp.json").replace('"uvx"', '"hand"');
    writeFileSync(join(root, "mcp.json"), edited);
    const r = run([keys({ fetch: { command: "uvx2" } })]);
    expect(r.plan.entries.map((e) => e.action)).toEqual(["drift"]);
    expect(read("mcp.json")).toBe(edited);
  });

  it("leaves a file that is not valid JSON untouched", () => {
    writeFileSync(join(root, "mcp.json"), "{ broken");
    expect(run([keys({ fetch: { command: "uvx" } })]).actions).toEqual({ "mcp.json": "conflict" });
    expect(read("mcp.json")).toBe("{ broken");
  });

  it("deletes a shared file it created once nothing of ours is left", () => {
    run([keys({ fetch: { command: "uvx" } })]);
    expect(existsSync(join(root, "mcp.json"))).toBe(true);
    expect(run([]).actions).toEqual({ "mcp.json": "delete" });
    expect(existsSync(join(root, "mcp.json"))).toBe(false);
  });
});

describe("shared TOML and markdown files", () => {
  it("replaces only our [mcp_servers.x] table and keeps comments and other tables", () => {
    const user = '# my config\nmodel = "gpt-5"\n\n[mcp_servers.mine]\ncommand = "x" # keep\n\n[profiles.fast]\nmodel = "mini"\n';
    writeFileSync(join(root, "config.toml"), user);
    const out = (v: Record<string, unknown>): OutputFile => ({
      kind: "toml-tables",
      path: join(root, "config.toml"),
      tables: [{ path: ["mcp_servers", "fetch"], value: v }],
    });
    run([out({ command: "uvx", args: ["mcp-server-fetch"], env: { K: "v" } })]);
    expect(read("config.toml")).toBe(
      user.replace("\n[profiles", '\n[mcp_servers.fetch]\ncommand = "uvx"\nargs = ["mcp-server-fetch"]\n\n[mcp_servers.fetch.env]\nK = "v"\n\n[profiles'),
    );
    run([out({ command: "npx" })]);
    expect(read("config.toml")).toBe(user.replace("\n[profiles", '\n[mcp_servers.fetch]\ncommand = "npx"\n\n[profiles'));
    run([]);
    expect(read("config.toml")).toBe(user);
  });

  it("owns only its marked block in a markdown file", () => {
    writeFileSync(join(root, "CLAUDE.md"), "# My notes\n\nKeep this.\n");
    const sec = (c: string): OutputFile => ({ kind: "md-section", path: join(root, "CLAUDE.md"), content: c });
    run([sec("@/lib/a.md\n")]);
    expect(read("CLAUDE.md")).toBe(
      "# My notes\n\nKeep this.\n\n<!-- aicfg:begin t1 (generated by aicfg export; edit the library instead) -->\n@/lib/a.md\n<!-- aicfg:end t1 -->\n",
    );
    writeFileSync(join(root, "CLAUDE.md"), read("CLAUDE.md").replace("Keep this.", "Keep this, edited."));
    run([sec("@/lib/b.md\n")]);
    expect(read("CLAUDE.md")).toContain("Keep this, edited.\n\n<!-- aicfg:begin t1");
    expect(read("CLAUDE.md")).toContain("@/lib/b.md\n<!-- aicfg:end t1 -->");
    run([]);
    expect(read("CLAUDE.md")).toBe("# My notes\n\nKeep this, edited.\n");
  });
});

describe("ownership manifest", () => {
  it("records path, target and hash and survives a reload", () => {
    run([file("x.md", "x\n")], { target: "claude-code" });
    const m = loadManifest(state);
    const e = Object.values(m.entries)[0]!;
    expect(e).toMatchObject({ path: join(root, "x.md"), target: "claude-code", kind: "file", scope: "project", root });
    expect(e.hash).toBe(createHash("sha256").update("x\n").digest("hex"));
    expect(e.size).toBe(2);
    expect(lstatSync(join(state, "exports.json")).isFile()).toBe(true);
  });

  it("refuses a corrupt manifest with a hint instead of treating files as foreign silently", () => {
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, "exports.json"), "{ nope");
    expect(() => loadManifest(state)).toThrow(/not valid JSON/);
  });
});

describe("shared ignore files", () => {
  it("owns a '#'-marked block in .cursorignore and keeps the user's patterns", () => {
    writeFileSync(join(root, ".cursorignore"), "node_modules/\n");
    const sec = (c: string): OutputFile => ({ kind: "md-section", path: join(root, ".cursorignore"), content: c, comment: "hash" });
    run([sec(".env\nsecrets/**\n")]);
    expect(read(".cursorignore")).toBe(
      "node_modules/\n\n# aicfg:begin t1 (generated by aicfg export; edit the library instead)\n.env\nsecrets/**\n# aicfg:end t1\n",
    );
    run([]);
    expect(read(".cursorignore")).toBe("node_modules/\n");
  });
});
