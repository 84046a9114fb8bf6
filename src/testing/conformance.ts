// The adapter conformance suite (ARCHITECTURE.md, "one conformance suite, many implementations"):
// `describeAdapterConformance(adapter)` generates, for one adapter, only the cases that apply to it
// (one group per declared scope, a round-trip where it has a parser that reads that scope back, a
// budget case where it always loads what an agent says) and runs them through the real planner and
// writer into temporary project and home folders, then reads back from disk what was written.
// Built-in adapters run it in test/adapters/conformance.test.ts; a plugin's adapter runs the same
// function from the test kit (`ai-configurator/testing`).
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { budgetWarning, measureBudget, VARIOUS_WINDOW } from "../adapters/budget.ts";
import { realDetectEnv } from "../adapters/detect-env.ts";
import { folderSource } from "../adapters/import/file-source.ts";
import { loadManifest, saveManifest } from "../adapters/manifest.ts";
import { applyPlan, planExport, type ApplyResult, type ExportPlan } from "../adapters/plan.ts";
import { getJsonPath, getTomlTable, parseJsonText, parseTomlText } from "../adapters/shared-files.ts";
import { CAPABILITIES, type Adapter, type OutputFile, type Roots } from "../adapters/types.ts";
import type { ResolvedAgent } from "../library/model.ts";
import type { ExportScope } from "../library/schema.ts";
import { isInside } from "../library/paths.ts";
import { agentArb } from "./arbitraries.ts";
import { minimalAgent, realisticAgent, renderContext, tempDir } from "./fixtures.ts";

export type ConformanceOptions = {
  /** fast-check runs of the parse(render(x)) property per scope (default 15). */
  numRuns?: number;
};

const SECRET = "canary-secret-7f3a9c";
const NOW = "2000-01-01T00:00:00.000Z";
/** Keys a user already has in a shared file before the first export; they must survive it. */
const USER_JSON = { userSetting: { keep: [1, 2, 3] } };
const USER_TOML = '# my own settings\nmodel = "my-model"\n\n[user_table]\nkeep = true\n';

type Export = { roots: Roots; root: string; stateDir: string; plan: ExportPlan; applied: ApplyResult };

/** Renders and writes one adapter's output with the real planner, writer and ownership manifest. */
function exportTo(adapter: Adapter, agents: readonly ResolvedAgent[], roots: Roots, stateDir: string): Export {
  const root = roots.scope === "project" ? roots.projectRoot : roots.homeDir;
  const rendered = adapter.render(agents, renderContext(roots));
  const manifest = loadManifest(stateDir);
  const plan = planExport([{ target: adapter.id, scope: roots.scope, root, files: rendered.files, prune: true }], manifest, { force: false, now: NOW });
  const applied = applyPlan(plan, manifest, stateDir, NOW);
  saveManifest(stateDir, manifest);
  return { roots, root, stateDir, plan, applied };
}

/** Every regular file under a folder (absolute paths, sorted); symlinks are listed, never followed. */
function walk(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (lstatSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function snapshot(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, readFileSync(p).toString("base64")]));
}

function textOf(f: OutputFile): string {
  if (f.kind === "file") return typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("latin1");
  if (f.kind === "md-section") return f.content;
  return JSON.stringify(f.kind === "json-keys" ? f.entries : f.tables);
}

/** Seeds each shared JSON/TOML file the adapter will merge into with keys of the user's own. */
function seedSharedFiles(files: readonly OutputFile[]): string[] {
  const seeded: string[] = [];
  for (const f of files) {
    if (f.kind !== "json-keys" && f.kind !== "toml-tables") continue;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.kind === "json-keys" ? JSON.stringify(USER_JSON, null, 2) + "\n" : USER_TOML);
    seeded.push(f.path);
  }
  return seeded;
}

export function describeAdapterConformance(adapter: Adapter, options: ConformanceOptions = {}): void {
  const numRuns = options.numRuns ?? 15;
  // Fixtures are made while the cases are collected: which cases apply is read from a render of them.
  const dir = tempDir(`aicfg-conf-${adapter.id}-`);
  afterAll(() => dir.cleanup());
  let n = 0;
  const fresh = (scope: ExportScope): Roots & { base: string } => {
    const base = join(dir.path, `run-${++n}`);
    return { base, scope, projectRoot: join(base, "project"), homeDir: join(base, "home") };
  };
  const real = realisticAgent(join(dir.path, "lib", "knowledge"));
  real.mcpServers.vault = { command: "vault-mcp", env: { VAULT_TOKEN: SECRET } };
  const agents: ResolvedAgent[] = [real, minimalAgent()];

  describe(`adapter ${adapter.id}`, () => {
    beforeEach(() => {
      expect.hasAssertions();
    });

    it("declares every capability, a scope, its limitations and a context budget with its source", () => {
      expect(Object.keys(adapter.capabilities).sort()).toEqual([...CAPABILITIES].sort());
      expect(adapter.scopes.length).toBeGreaterThan(0);
      expect(Array.isArray(adapter.limitations)).toBe(true);
      expect(adapter.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(adapter.budget.max).toBeGreaterThan(0);
      expect(["chars", "bytes", "tokens"]).toContain(adapter.budget.unit);
      expect(["file", "agent", "total"]).toContain(adapter.budget.per);
      expect(adapter.budget.source.length).toBeGreaterThan(0);
    });

    it("detects nothing on an empty PATH and an empty home, without throwing", async () => {
      const d = await adapter.detect(
        realDetectEnv({ homeDir: join(dir.path, "empty-home"), projectRoot: join(dir.path, "empty-project"), env: { PATH: join(dir.path, "no-bin") } }),
      );
      expect(d.installed).toBe(false);
      expect(d.nextSteps.length + d.notes.length).toBeGreaterThan(0);
    });

    const cannot = (["hooks", "tools-deny", "tool-settings", "mcp-stdio", "mcp-http", "knowledge-on-demand"] as const).filter(
      (c) => adapter.capabilities[c] === "no",
    );
    if (cannot.length) {
      it(`warns about what it cannot express (${cannot.join(", ")}) instead of dropping it silently`, () => {
        const r = adapter.render([real], renderContext(fresh(adapter.scopes[0]!)));
        expect(r.warnings.filter((w) => w.code === "unsupported-feature").length).toBeGreaterThan(0);
      });
    }

    for (const scope of adapter.scopes) {
      const probe = fresh(scope);
      const probeFiles = adapter.render(agents, renderContext(probe)).files;
      const shared = probeFiles.filter((f) => f.kind === "json-keys" || f.kind === "toml-tables");
      const readsBack = adapter.parse !== undefined && probeFiles.some((f) => f.kind === "file" && f.agent !== undefined);
      // Whether this scope writes MCP servers at all (Windsurf writes them in user scope only).
      const writesMcp = probeFiles.some((f) => textOf(f).includes("mcp-server-fetch"));

      describe(`${scope} scope`, () => {
        it("renders the same files for the same input, and nothing (without errors) for no agents", () => {
          const roots = fresh(scope);
          const a = adapter.render(agents, renderContext(roots));
          const b = adapter.render([...agents].reverse(), renderContext(roots));
          expect(a.files.length).toBeGreaterThan(0);
          // The order of the files may follow the agents'; what each file holds may not.
          const view = (files: readonly OutputFile[]) => files.map((f) => [f.path, f.kind, textOf(f)]).sort((x, y) => x[0]!.localeCompare(y[0]!));
          expect(view(a.files)).toEqual(view(b.files));
          expect(adapter.render([], renderContext(roots)).warnings.filter((w) => w.severity === "error")).toEqual([]);
        });

        it("writes through the planner and writer only inside its declared locations", () => {
          const roots = fresh(scope);
          const e = exportTo(adapter, agents, roots, join(roots.base, "state"));
          expect(e.plan.errors).toEqual([]);
          expect(e.applied.failed).toEqual([]);
          expect(e.applied.written.length).toBeGreaterThan(0);
          const locations = adapter.locations(roots);
          const onDisk = [...walk(roots.projectRoot), ...walk(roots.homeDir)];
          expect(onDisk.sort()).toEqual([...new Set(e.applied.written)].sort());
          for (const p of onDisk) {
            expect(isInside(e.root, p), `${p} outside the ${scope} root ${e.root}`).toBe(true);
            expect(
              locations.some((l) => p === l || isInside(l, p)),
              `${p} outside the declared locations ${locations.join(", ")}`,
            ).toBe(true);
          }
        });

        it("exports deterministically: a second export writes nothing and leaves the same bytes", () => {
          const roots = fresh(scope);
          const state = join(roots.base, "state");
          const first = exportTo(adapter, agents, roots, state);
          const before = snapshot(first.applied.written);
          const second = exportTo(adapter, agents, roots, state);
          expect(second.plan.entries.filter((x) => x.action !== "unchanged")).toEqual([]);
          expect(second.applied.written).toEqual([]);
          expect(snapshot(first.applied.written)).toEqual(before);
          // With a fresh ownership manifest the planner finds the same bytes: nothing depends on the time of a run.
          const other = exportTo(adapter, agents, roots, join(roots.base, "state-2"));
          expect(other.plan.entries.filter((x) => x.action !== "unchanged")).toEqual([]);
        });

        it("keeps a literal secret only in files written 0600, and out of its warnings", () => {
          const roots = fresh(scope);
          const rendered = adapter.render(agents, renderContext(roots));
          for (const w of rendered.warnings) expect(JSON.stringify(w)).not.toContain(SECRET);
          const e = exportTo(adapter, agents, roots, join(roots.base, "state"));
          const leaks = e.applied.written
            .filter((p) => readFileSync(p, "utf8").includes(SECRET))
            .map((p) => [p, (lstatSync(p).mode & 0o777).toString(8)])
            .filter(([, mode]) => mode !== "600");
          expect(leaks).toEqual([]);
        });

        if (shared.length) {
          it(`merges into shared files and keeps the user's keys (${[...new Set(shared.map((f) => f.path.slice(probe.base.length + 1)))].join(", ")})`, () => {
            const roots = fresh(scope);
            const rendered = adapter.render(agents, renderContext(roots));
            const seeded = seedSharedFiles(rendered.files);
            const e = exportTo(adapter, agents, roots, join(roots.base, "state"));
            expect(e.applied.failed).toEqual([]);
            for (const f of rendered.files) {
              if (f.kind === "json-keys") {
                const back = parseJsonText(readFileSync(f.path, "utf8"));
                expect(back.ok, f.path).toBe(true);
                const value = (back as { value: unknown }).value;
                expect(getJsonPath(value, ["userSetting"])).toEqual(USER_JSON.userSetting);
                for (const entry of f.entries) expect(getJsonPath(value, entry.key), `${f.path} ${entry.key.join(".")}`).toEqual(entry.value);
              } else if (f.kind === "toml-tables") {
                const back = parseTomlText(readFileSync(f.path, "utf8"));
                expect(back.ok, f.path).toBe(true);
                const value = (back as { value: Record<string, unknown> }).value;
                expect(value.model).toBe("my-model");
                expect(value.user_table).toEqual({ keep: true });
                for (const t of f.tables) expect(getTomlTable(value, t.path), `${f.path} [${t.path.join(".")}]`).toEqual(t.value);
              }
            }
            expect(seeded.length).toBeGreaterThan(0);
            // Taking every agent out again removes only our keys: the user's stay.
            const emptied = exportTo(adapter, [], roots, e.stateDir);
            expect(emptied.applied.failed).toEqual([]);
            for (const p of seeded) {
              const text = readFileSync(p, "utf8");
              if (p.endsWith(".toml")) expect((parseTomlText(text) as { value: Record<string, unknown> }).value.user_table).toEqual({ keep: true });
              else expect(getJsonPath((parseJsonText(text) as { value: unknown }).value, ["userSetting"])).toEqual(USER_JSON.userSetting);
            }
          });
        }

        if (readsBack) {
          it("reads back from disk what it wrote: parse(render(x)) keeps name, description, instructions and MCP servers", () => {
            fc.assert(
              fc.property(agentArb({ withHttp: false }), (agent) => {
                const roots = fresh(scope);
                const e = exportTo(adapter, [agent], roots, join(roots.base, "state"));
                expect(e.applied.failed).toEqual([]);
                const parsed = adapter.parse!(folderSource(e.root), roots);
                const back = parsed.agents.find((x) => x.spec.name === agent.name);
                expect(back, `agent ${agent.name} not read back`).toBeDefined();
                expect(back!.spec.description).toBe(agent.description);
                expect(back!.instructions.trim()).toBe(agent.instructions.trim());
                // With no tool list the agent sees every server, so every server it defines comes back.
                if (writesMcp && !agent.tools.allow) {
                  const servers = Object.fromEntries(Object.entries(back!.mcp).map(([k, s]) => [k, { command: s.command, args: s.args ?? [] }]));
                  expect(servers).toEqual(
                    Object.fromEntries(Object.entries(agent.mcpServers).map(([k, s]) => [k, { command: s.command, args: s.args ?? [] }])),
                  );
                }
              }),
              { numRuns },
            );
          });
        }

        // The budget: an agent whose instructions (or always-on knowledge) are over it is reported.
        const marker = "conformance-probe-7c1";
        const kdir = join(dir.path, `budget-${scope}`);
        const probeAgent = (instructions: string, knowledge: string): ResolvedAgent => {
          mkdirSync(kdir, { recursive: true });
          writeFileSync(join(kdir, "big.md"), knowledge);
          return minimalAgent({
            instructions,
            knowledge: [{ path: "big.md", absPath: join(kdir, "big.md"), mode: "always", size: knowledge.length, mtimeMs: 0, layer: "test" }],
          });
        };
        const loadedText = (files: readonly OutputFile[]): string =>
          files
            .filter((f) => (f.kind === "file" || f.kind === "md-section") && f.alwaysLoaded)
            .map(textOf)
            .join("\n");
        const probed = loadedText(adapter.render([probeAgent(`I-${marker}\n`, `K-${marker}\n`)], renderContext(probe)).files);
        const grows = probed.includes(`I-${marker}`) ? "instructions" : probed.includes(`K-${marker}`) ? "always-on knowledge" : undefined;
        if (grows === "instructions") {
          const b = adapter.budget;
          it(`reports always-loaded instructions over its budget of ${b.max} ${b.unit} per ${b.per} (${b.source})`, () => {
            const roots = fresh(scope);
            const ok = measureBudget(b, adapter.render([minimalAgent()], renderContext(roots)).files);
            expect(ok.over).toBe(false);
            expect(budgetWarning(adapter.id, ok)).toBeUndefined();
            // max + 1 distinct words: each is at least one token and at least three characters with its space.
            const big = Array.from({ length: b.max + 1 }, (_, i) => `w${i.toString(36)}`).join(" ") + "\n";
            const figures = measureBudget(b, adapter.render([probeAgent(big, "small\n")], renderContext(roots)).files);
            expect(figures.over).toBe(true);
            expect(figures.used).toBeGreaterThan(b.max);
            const w = budgetWarning(adapter.id, figures);
            expect(w?.code).toBe("limit-exceeded");
            expect(w?.message).toContain(`over its budget of ${b.max.toLocaleString("en-US")} ${b.unit}`);
            expect(w?.hint).toContain("on-demand");
          });
        }
        // Where the scope has no file for an agent's instructions (MCP servers only), there is nothing to point from.
        const carries = adapter
          .render([probeAgent(`I-${marker}\n`, `K-${marker}\n`)], renderContext(probe))
          .files.some((f) => textOf(f).includes(`I-${marker}`));
        for (const mode of carries ? (["always", "on-demand"] as const) : []) {
          it(`renders ${mode} knowledge over its budget within the budget, every file reachable from what the agent loads (${adapter.largeContext.strategies.join(", ")})`, () => {
            const roots = fresh(scope);
            const b = adapter.budget;
            // Together 1.5 times the budget (for a per-file budget: the context window all files share), in 40 files.
            const maxChars = b.per === "file" ? VARIOUS_WINDOW.max * 4 : b.unit === "tokens" ? b.max * 4 : b.max;
            const each = Math.ceil((maxChars * 1.5) / 40);
            const kroot = join(dir.path, `large-${scope}-${mode}`);
            const knowledge = Array.from({ length: 40 }, (_, i) => {
              const path = `area-${i % 4}/doc-${i}.md`;
              const text = `# Doc ${i} body-${marker}-${i}\n\n${"lorem ipsum ".repeat(Math.ceil(each / 12)).slice(0, each)}\n`;
              mkdirSync(join(kroot, `area-${i % 4}`), { recursive: true });
              writeFileSync(join(kroot, path), text);
              return { path, absPath: join(kroot, path), mode, size: text.length, mtimeMs: 0, layer: "test" };
            });
            const agent = minimalAgent({ tools: { allow: ["*"] }, knowledge });
            const r = adapter.render([agent], renderContext(roots));
            const figures = measureBudget(b, r.files);
            expect(figures.over, `${figures.used} ${b.unit} always loaded`).toBe(false);
            // What the agent reaches: what is always loaded, its own files, and every output a reached file names.
            const reached = r.files.filter((f) => ((f.kind === "file" || f.kind === "md-section") && f.alwaysLoaded) || f.agent === agent.name);
            const rel = (p: string) => p.slice((scope === "project" ? roots.projectRoot : roots.homeDir).length + 1);
            for (let grew = true; grew; ) {
              grew = false;
              const text = reached.map(textOf).join("\n");
              for (const f of r.files) {
                if (!reached.includes(f) && text.includes(rel(f.path))) {
                  reached.push(f);
                  grew = true;
                }
              }
            }
            const text = reached.map(textOf).join("\n");
            const missing = knowledge.filter(
              (k, i) =>
                !text.includes(`body-${marker}-${i}`) &&
                !text.includes(k.path) &&
                !new RegExp(`### [^\\n]*area-${i % 4}/\\n\\n(- [^\\n]*\\n)*- doc-${i}\\.md`).test(text),
            );
            expect(missing.map((k) => k.path)).toEqual([]);
            expect(r.contextPlan?.length).toBeGreaterThan(0);
          });
        }
      });
    }
  });
}
