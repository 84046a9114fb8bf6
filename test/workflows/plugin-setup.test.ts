// setupPlugins: the order setup and hooks run in (plugin order, then listing order; a hook's own
// order first), stop hooks in reverse, clashing ids, async setup refused, and the plugin object check.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { adapterRegistry } from "../../src/adapters/registry.ts";
import { actionRegistry } from "../../src/workflows/actions/index.ts";
import { definePlugin, type PluginDefinition } from "../../src/workflows/plugins/api.ts";
import { checkPluginDefinition } from "../../src/workflows/plugins/check.ts";
import { setupPlugins } from "../../src/workflows/plugins/setup.ts";

const host = { version: "0.1.0", runtime: "node" as const };
const plugin = (name: string, events: string[], o: Partial<PluginDefinition> = {}, hooks?: (ctx: Parameters<PluginDefinition["setup"]>[0]) => void) =>
  definePlugin({
    apiVersion: "aicfg/v1",
    name,
    version: "1.0.0",
    ...o,
    setup(ctx) {
      events.push(`setup ${name}`);
      ctx.onStart(() => {
        events.push(`start ${name}`);
      });
      ctx.onStop(() => {
        events.push(`stop ${name}`);
      });
      hooks?.(ctx);
    },
  });

describe("setupPlugins", () => {
  it("sets up pre, then normal, then post plugins, each group as listed; hooks follow, a hook's own order first; stops in reverse", async () => {
    const ev: string[] = [];
    const r = setupPlugins(
      [
        { def: plugin("b", ev), spec: "b" },
        { def: plugin("late", ev, { order: "post" }), spec: "late" },
        { def: plugin("a", ev, {}, (ctx) => ctx.onStart({ order: "pre", handler: () => void ev.push("start a (pre hook)") })), spec: "a" },
        { def: plugin("early", ev, { order: "pre" }), spec: "early" },
      ],
      host,
    );
    expect(ev.splice(0)).toEqual(["setup early", "setup b", "setup a", "setup late"]);
    expect(await r.start()).toEqual([]);
    expect(ev.splice(0)).toEqual(["start a (pre hook)", "start early", "start b", "start a", "start late"]);
    await r.stop();
    expect(ev).toEqual(["stop late", "stop a", "stop b", "stop early"]);
  });

  it("refuses a clashing id and an async setup, taking out what the plugin registered", () => {
    const action = { name: "twice", description: "x", with: z.object({}), run: async () => ({ outputs: {} }) };
    const r = setupPlugins(
      [
        { def: plugin("one", [], {}, (ctx) => ctx.actions.register(action)), spec: "one" },
        { def: plugin("two", [], {}, (ctx) => ctx.actions.register({ ...action, name: "two-own" }) ?? ctx.actions.register(action)), spec: "two" },
        { def: plugin("clash-builtin", [], {}, (ctx) => ctx.adapters.register({ ...adapterRegistry.get("cursor")! })), spec: "clash-builtin" },
        { def: { ...plugin("async", []), setup: async () => {} } as unknown as PluginDefinition, spec: "async" },
      ],
      host,
    );
    expect(r.loaded.map((l) => l.name)).toEqual(["one"]);
    expect(r.failed.map((f) => [f.name, f.code])).toEqual([
      ["two", "plugin-duplicate-id"],
      ["clash-builtin", "plugin-duplicate-id"],
      ["async", "plugin-setup-async"],
    ]);
    expect(r.failed[0]!.error).toBe("setup failed: two: action 'twice' is already registered by one");
    expect(r.failed[1]!.error).toContain("adapter 'cursor' is already registered by aicfg");
    expect(actionRegistry.get("two-own")).toBeUndefined();
    expect(actionRegistry.ownerOf("twice")).toBe("one");
    return r.stop().then(() => expect(actionRegistry.get("twice")).toBeUndefined());
  });
});

describe("checkPluginDefinition", () => {
  const text = 'export default definePlugin({\n  name: "x",\n  apiVersion: "aicfg/v0",\n});\n';
  it("names the file, the field and its line", () => {
    expect(() => checkPluginDefinition({ apiVersion: "aicfg/v0", name: "x", version: "1.0.0", setup() {} }, "/p/x.ts", text)).toThrow(
      expect.objectContaining({ code: "plugin-api-version", file: "/p/x.ts", line: 3, col: 3, hint: expect.stringContaining('set apiVersion: "aicfg/v1"') }),
    );
    expect(() => checkPluginDefinition({ apiVersion: "aicfg/v1", name: "Bad Name", version: "1.0.0", setup() {} }, "/p/x.ts", text)).toThrow(
      expect.objectContaining({ code: "plugin-invalid", message: "/p/x.ts: name: must be an npm-style package name", line: 2 }),
    );
    expect(() => checkPluginDefinition(undefined, "/p/x.ts")).toThrow(/export default: the module does not export a plugin/);
  });
});
