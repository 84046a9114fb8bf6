// Where exports and backups write is decided by the workflow file and the daemon config, never by
// trigger data (issue 10 item 8): `${{ }}` in export `root`/`scope`/`state_dir` and backup `dir` is
// a validation error with file:line:col; the daemon config's actions.export.roots and
// actions.backup.dirs are an allowlist checked at run time (symlinks resolved); the engine refuses a
// templated literal field even in a workflow that bypassed validation.
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveDaemonConfig } from "../../src/daemon/config.ts";
import { backupAction } from "../../src/workflows/actions/backup.ts";
import { exportAction } from "../../src/workflows/actions/export.ts";
import { ActionError } from "../../src/workflows/actions/types.ts";
import { compileValue } from "../../src/workflows/expr.ts";
import { compileWorkflowText } from "../../src/workflows/schema.ts";
import { startHarness, type Harness } from "../daemon/harness.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { actionContext } from "./action-context.ts";

let dir: ReturnType<typeof tempDir>;
let lib: string;
let state: string;
let h: Harness | undefined;
beforeEach(() => {
  dir = tempDir("aicfg-roots-");
  lib = join(dir.path, "lib");
  state = join(dir.path, "state");
  writeLibrary(lib);
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  dir.cleanup();
});

async function refusal(p: Promise<unknown>): Promise<ActionError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ActionError);
  return e as ActionError;
}

describe("validation: where files are written is literal", () => {
  const wf = [
    "name: aim",
    "inputs:",
    "  where: { type: string }",
    "steps:",
    "  - uses: export",
    "    with:",
    "      targets: [claude-code]",
    '      root: "${{ inputs.where }}"',
    '      scope: "${{ inputs.where }}"',
    '      state_dir: "x/${{ inputs.where }}"',
    "  - uses: backup",
    "    with:",
    '      dir: "${{ inputs.where }}/backups"',
    "",
  ].join("\n");

  it("an expression in export root, scope, state_dir or backup dir is an error at its line and column, with a hint", () => {
    const { workflow, diagnostics } = compileWorkflowText(wf, "/lib/workflows/aim.yaml", "lib");
    expect(workflow).toBe(undefined);
    const errs = diagnostics.filter((d) => d.code === "template-in-literal-field");
    expect(errs.map((d) => [d.message, d.line, d.col])).toEqual([
      ["with.root: export does not allow ${{ }} here; trigger data must not pick where files are written", 8, 13],
      ["with.scope: export does not allow ${{ }} here; trigger data must not pick where files are written", 9, 14],
      ["with.state_dir: export does not allow ${{ }} here; trigger data must not pick where files are written", 10, 18],
      ["with.dir: backup does not allow ${{ }} here; trigger data must not pick where files are written", 13, 12],
    ]);
    for (const d of errs) {
      expect(d.file).toBe("/lib/workflows/aim.yaml");
      expect(d.hint).toMatch(/write the folder literally; an administrator can restrict .* with actions\.(export\.roots|backup\.dirs) in the daemon config/);
    }
  });

  it("expressions stay allowed where they do not pick a folder (targets, agents)", () => {
    const ok = 'name: ok\ninputs:\n  who: { type: string }\nsteps:\n  - uses: export\n    with:\n      agents: ["${{ inputs.who }}"]\n      root: ../project\n';
    const { workflow, diagnostics } = compileWorkflowText(ok, "/lib/workflows/ok.yaml", "lib");
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(workflow?.name).toBe("ok");
  });
});

describe("export: actions.export.roots is an allowlist", () => {
  it("without an allowlist a literal root is used as written", async () => {
    const out = await exportAction.run({ targets: ["claude-code"], root: "../anywhere" }, actionContext(lib, state));
    expect(Number(out.outputs.written)).toBeGreaterThan(0);
    expect(existsSync(join(dir.path, "anywhere", ".claude", "agents", "writer.md"))).toBe(true);
  });

  it("a literal root outside the allowlist is refused and nothing is written", async () => {
    const allowed = join(dir.path, "project");
    const ctx = actionContext(lib, state, { settings: { exportRoots: [allowed] } });
    const e = await refusal(exportAction.run({ targets: ["claude-code"], root: "../elsewhere" }, ctx));
    expect(e.code).toBe("write-root-not-allowed");
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(`the export root (project scope) ${join(dir.path, "elsewhere")} is not inside an allowed folder (${allowed})`);
    expect(e.hint).toContain("actions.export.roots");
    expect(existsSync(join(dir.path, "elsewhere"))).toBe(false);
    expect(existsSync(state)).toBe(false);
    // The library's own export root (aicfg.yaml export.root: ../project) and a folder under it are fine.
    const out = await exportAction.run({ targets: ["claude-code"] }, ctx);
    expect(Number(out.outputs.written)).toBeGreaterThan(0);
    expect(existsSync(join(allowed, ".claude", "agents", "writer.md"))).toBe(true);
    await exportAction.run({ targets: ["claude-code"], root: "../project/sub" }, ctx);
    expect(existsSync(join(allowed, "sub", ".claude", "agents", "writer.md"))).toBe(true);
  });

  it("a user-scope export into a home folder outside the allowlist is refused", async () => {
    const ctx = actionContext(lib, state, { settings: { exportRoots: [join(dir.path, "project")] } });
    const e = await refusal(exportAction.run({ targets: ["claude-code"], scope: "user", root: "../home" }, ctx));
    expect(e.message).toContain("the export root (user scope)");
    expect(existsSync(join(dir.path, "home"))).toBe(false);
  });

  it("a symlink inside an allowed root that points elsewhere does not pass", async () => {
    const allowed = join(dir.path, "project");
    const victim = join(dir.path, "victim");
    mkdirSync(allowed, { recursive: true });
    mkdirSync(victim);
    symlinkSync(victim, join(allowed, "link"));
    const ctx = actionContext(lib, state, { settings: { exportRoots: [allowed] } });
    const e = await refusal(exportAction.run({ targets: ["claude-code"], root: "../project/link" }, ctx));
    expect(e.message).toContain(join(allowed, "link"));
    expect(readdirSync(victim)).toEqual([]);
  });

  it("state_dir must be the daemon's state folder or inside an allowed root", async () => {
    const ctx = actionContext(lib, state, { settings: { exportRoots: [join(dir.path, "project")] } });
    const e = await refusal(exportAction.run({ targets: ["claude-code"], state_dir: "../manifests" }, ctx));
    expect(e.message).toContain("the export's state_dir");
    expect(existsSync(join(dir.path, "manifests"))).toBe(false);
    expect(existsSync(join(dir.path, "project", ".claude"))).toBe(false);
  });
});

describe("backup: actions.backup.dirs is an allowlist", () => {
  it("a literal dir outside the allowlist is refused; the state folder and listed dirs are fine", async () => {
    const vault = join(dir.path, "vault");
    const ctx = actionContext(lib, state, { settings: { backupDirs: [vault] } });
    const e = await refusal(backupAction.run({ dir: "../loot" }, ctx));
    expect(e.code).toBe("write-root-not-allowed");
    expect(existsSync(join(dir.path, "loot"))).toBe(false);
    const made = await backupAction.run({ dir: "../vault/daily" }, ctx);
    expect(String(made.outputs.file).startsWith(join(vault, "daily") + "/")).toBe(true);
    const dflt = await backupAction.run({}, ctx);
    expect(String(dflt.outputs.file).startsWith(join(state, "backups", "lib") + "/")).toBe(true);
  });
});

describe("daemon config", () => {
  it("actions.export.roots and actions.backup.dirs resolve against the file, ~/ against HOME", () => {
    const cfgDir = join(dir.path, "etc");
    mkdirSync(cfgDir);
    const file = join(cfgDir, "daemon.yaml");
    writeFileSync(file, 'libraries: [../lib]\nactions:\n  export:\n    roots: [../project, ~/work, /srv/x]\n  backup:\n    dirs: ["~"]\n');
    const c = resolveDaemonConfig({ config: file }, "/", { HOME: "/home/u" });
    expect(c.exportRoots).toEqual([join(dir.path, "project"), "/home/u/work", "/srv/x"]);
    expect(c.backupDirs).toEqual(["/home/u"]);
    const none = resolveDaemonConfig({ libraries: [lib] }, "/", {});
    expect(none.exportRoots).toBe(undefined);
    expect(none.backupDirs).toBe(undefined);
  });
});

describe("engine", () => {
  it("refuses a templated root even in a workflow that skipped validation, and writes nothing", async () => {
    h = await startHarness({
      exp: "name: exp\ninputs:\n  where: { type: string }\nsteps:\n  - uses: export\n    with:\n      targets: [claude-code]\n      root: ../project\n",
    });
    const wf = h.d.getWorkflow("lib", "exp")!.workflow;
    wf.steps[0]!.with = compileValue({ targets: ["claude-code"], root: "${{ inputs.where }}" });
    const outside = join(h.base, "outside");
    const run = await h.d.waitForRun(await h.d.triggerRun("lib", "exp", { inputs: { where: outside } }));
    expect(run.status).toBe("failure");
    expect(run.steps[0]!.error).toBe("with.root: export takes only a literal value here, not an expression");
    expect(existsSync(outside)).toBe(false);
  });
});
