// One conformance suite, every adapter: deterministic render, paths only inside the declared
// locations, secrets only in secret files, unsupported features warned, parse(render(x)) where the
// tool can be read back, detection that never throws.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { join } from "node:path";
import { listAdapters } from "../../src/adapters/registry.ts";
import { CAPABILITIES, type OutputFile, type Roots } from "../../src/adapters/types.ts";
import { isInside } from "../../src/library/paths.ts";
import { realDetectEnv } from "../../src/adapters/detect-env.ts";
import { agentArb } from "../helpers/arbitraries.ts";
import { memorySource, minimalAgent, realisticAgent, renderContext, tempDir } from "../helpers/fixtures.ts";
import type { ResolvedAgent } from "../../src/library/model.ts";

let dir: { path: string; cleanup: () => void };
let agents: ResolvedAgent[];
const SECRET = "canary-secret-7f3a9c";
beforeAll(() => {
  dir = tempDir("aicfg-conf-");
  const real = realisticAgent(join(dir.path, "lib", "knowledge"));
  real.mcpServers.vault = { command: "vault-mcp", env: { VAULT_TOKEN: SECRET } };
  agents = [real, minimalAgent()];
});
afterAll(() => dir.cleanup());

const bytes = (f: OutputFile): string =>
  f.kind === "file" ? (typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("latin1")) : f.kind === "md-section" ? f.content : JSON.stringify(f.kind === "json-keys" ? f.entries : f.tables);

describe.each(listAdapters().map((a) => [a.id, a] as const))("adapter %s", (_id, adapter) => {
  const rootsFor = (scope: "project" | "user"): Roots => ({ scope, projectRoot: join(dir.path, "project"), homeDir: join(dir.path, "home") });

  it("declares every capability, a scope and its limitations", () => {
    expect(Object.keys(adapter.capabilities).sort()).toEqual([...CAPABILITIES].sort());
    expect(adapter.scopes.length).toBeGreaterThan(0);
    expect(Array.isArray(adapter.limitations)).toBe(true);
    expect(adapter.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
  });

  for (const scope of ["project", "user"] as const) {
    it(`renders deterministically inside its declared locations (${scope} scope)`, () => {
      if (!adapter.scopes.includes(scope)) return;
      const roots = rootsFor(scope);
      const ctx = renderContext(roots);
      const a = adapter.render(agents, ctx);
      const b = adapter.render(agents, ctx);
      expect(a.files.map(bytes)).toEqual(b.files.map(bytes));
      expect(a.files.map((f) => f.path)).toEqual(b.files.map((f) => f.path));
      expect(a.files.length).toBeGreaterThan(0);
      const scopeRoot = scope === "project" ? roots.projectRoot : roots.homeDir;
      const locations = adapter.locations(roots);
      for (const f of a.files) {
        expect(f.path.startsWith("/"), f.path).toBe(true);
        expect(f.path.split("/")).not.toContain("..");
        expect(isInside(scopeRoot, f.path), `${f.path} outside ${scopeRoot}`).toBe(true);
        expect(locations.some((l) => f.path === l || isInside(l, f.path)), `${f.path} outside declared locations ${locations.join(", ")}`).toBe(true);
      }
    });

    it(`writes a literal secret only into files marked secret (${scope} scope)`, () => {
      if (!adapter.scopes.includes(scope)) return;
      const r = adapter.render(agents, renderContext(rootsFor(scope)));
      for (const f of r.files) {
        if (bytes(f).includes(SECRET)) expect((f as { secret?: boolean }).secret, `${f.path} holds a secret but is not marked secret`).toBe(true);
      }
      for (const w of r.warnings) expect(JSON.stringify(w)).not.toContain(SECRET);
    });
  }

  it("warns about every feature it cannot express instead of dropping it silently", () => {
    const scope = adapter.scopes[0]!;
    const r = adapter.render([agents[0]!], renderContext(rootsFor(scope)));
    const uses: Partial<Record<(typeof CAPABILITIES)[number], boolean>> = {
      hooks: true,
      "tools-deny": true,
      "tool-settings": true,
      "mcp-stdio": true,
      "mcp-http": true,
      "knowledge-on-demand": true,
    };
    const cannot = Object.entries(uses).filter(([cap]) => adapter.capabilities[cap as keyof typeof adapter.capabilities] === "no");
    if (cannot.length) expect(r.warnings.filter((w) => w.code === "unsupported-feature").length).toBeGreaterThan(0);
  });

  it("renders nothing for no agents without failing", () => {
    const r = adapter.render([], renderContext(rootsFor(adapter.scopes[0]!)));
    expect(r.warnings.filter((w) => w.severity === "error")).toEqual([]);
  });

  it("keeps name, description and instructions through parse(render(x)) when it can be read back", () => {
    if (!adapter.parse) return;
    const scope = adapter.scopes.includes("project") ? "project" : "user";
    const roots = rootsFor(scope);
    const root = scope === "project" ? roots.projectRoot : roots.homeDir;
    fc.assert(
      fc.property(agentArb({ withHttp: false }), (agent) => {
        const r = adapter.render([agent], renderContext(roots));
        const parsed = adapter.parse!(memorySource(root, r.files), roots);
        const back = parsed.agents.find((x) => x.spec.name === agent.name);
        expect(back, `agent ${agent.name} not read back`).toBeDefined();
        expect(back!.spec.description).toBe(agent.description);
        expect(back!.instructions.trim()).toBe(agent.instructions.trim());
      }),
      { numRuns: 25 },
    );
  });

  it("detects nothing on an empty PATH and an empty home, without throwing", async () => {
    const home = join(dir.path, "empty-home");
    const d = await adapter.detect(realDetectEnv({ homeDir: home, projectRoot: join(dir.path, "empty-project"), env: { PATH: join(dir.path, "no-bin") } }));
    expect(d.installed).toBe(false);
    expect(d.nextSteps.length + d.notes.length).toBeGreaterThan(0);
  });
});
