// `aicfg plugin list|add|remove|new`: the plugins: list of aicfg.yaml (or, with --config, of
// daemon.yaml) and their pins in the aicfg.lock beside it. `add` pins the plugin's files (sha256 of
// each) and then loads it once to check apiVersion, engines.aicfg and setup; anything wrong undoes
// both edits. `new` scaffolds a plugin with a test that uses the test kit.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { isSeq, parseDocument, type Document } from "yaml";
import { atomicWrite } from "../../../adapters/atomic.ts";
import { adapterRegistry } from "../../../adapters/registry.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { emptyLock, LOCK_FILE, parseLock, serializeLock, type LockFile } from "../../../library/lock.ts";
import type { PluginEntry } from "../../../library/schema.ts";
import { actionRegistry } from "../../../workflows/actions/index.ts";
import { triggerRegistry } from "../../../workflows/triggers.ts";
import { loadPlugins } from "../../plugins/host.ts";
import { ensureBuiltinTriggers } from "../../triggers/builtin.ts";
import { entrySpec, locatePlugin, pluginFileHashes } from "../../plugins/resolve.ts";
import { VERSION } from "../../version.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type OptionSpec, type ParsedArgs } from "../command.ts";
import { paint } from "../format.ts";
import { LIBRARY_OPTION, libraryDir, listOption } from "../options.ts";

const TARGET_OPTIONS = {
  ...LIBRARY_OPTION,
  config: { type: "string", short: "c", valueName: "file", description: "edit daemon.yaml's plugins: instead of the library's aicfg.yaml" },
} satisfies Record<string, OptionSpec>;

/** The config file whose plugins: list the command works on. */
function configFile(args: ParsedArgs, io: CliIO): string {
  const c = args.values.config as string | undefined;
  if (c) {
    const f = resolve(io.cwd, c);
    if (!existsSync(f)) throw new ConfigError("config-not-found", `config file ${f} does not exist`, { hint: "give the path of your daemon.yaml" });
    return f;
  }
  return join(libraryDir(args, io), "aicfg.yaml");
}

function readEntries(file: string): { doc: Document; entries: PluginEntry[] } {
  const doc = parseDocument(readFileSync(file, "utf8"));
  if (doc.errors.length) throw new ConfigError("yaml-syntax", `${file}: ${doc.errors[0]!.message}`, { file, hint: "fix the YAML first ('aicfg validate')" });
  const raw = doc.toJS() as { plugins?: unknown } | null;
  const list = Array.isArray(raw?.plugins) ? (raw.plugins as PluginEntry[]) : [];
  return { doc, entries: list };
}

function readLockFile(dir: string): LockFile {
  const file = join(dir, LOCK_FILE);
  if (!existsSync(file)) return emptyLock();
  const { lock, diagnostics } = parseLock(readFileSync(file, "utf8"), file);
  if (!lock) throw new ConfigError(diagnostics[0]!.code, diagnostics[0]!.message, { file, hint: diagnostics[0]!.hint });
  return lock;
}

/** The spec as it goes into plugins: a path relative to the config file's folder, a package name as is. */
function specFor(given: string, cwd: string, base: string): string {
  if (!/^(\.{1,2}\/|\/)/.test(given) && !existsSync(resolve(cwd, given))) return given;
  const rel = relative(base, resolve(cwd, given)) || ".";
  return rel.startsWith("..") || rel.startsWith("/") ? resolve(cwd, given) : `./${rel}`;
}

export const pluginListCommand: Command = {
  name: "plugin list",
  summary: "list the plugins of aicfg.yaml (or daemon.yaml), load each as the daemon would, and say what it provides or why it does not load",
  usage: "aicfg plugin list [--library DIR | --config daemon.yaml] [--json]",
  options: { ...TARGET_OPTIONS, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg plugin list", "aicfg plugin list --config /etc/aicfg/daemon.yaml --json"],
  run: async (args, io) => {
    const file = configFile(args, io);
    const { entries } = readEntries(file);
    ensureBuiltinTriggers();
    const builtin = {
      name: "aicfg",
      version: VERSION,
      builtin: true,
      provides: {
        adapters: adapterRegistry.entries().filter((e) => e.owner === "aicfg").length,
        actions: actionRegistry.entries().filter((e) => e.owner === "aicfg").length,
        triggers: triggerRegistry.entries().filter((e) => e.owner === "aicfg").length,
      },
    };
    const host = await loadPlugins([{ configFile: file, entries }]);
    try {
      if (args.values.json) {
        io.out(JSON.stringify({ file, builtin, loaded: host.loaded, failed: host.failed }, null, 2));
      } else {
        io.out(
          `${paint(io, "bold", "aicfg")} ${VERSION} (built in): ${builtin.provides.adapters} adapters, ${builtin.provides.actions} actions, ${builtin.provides.triggers} triggers`,
        );
        for (const p of host.loaded) {
          const what = [
            ...p.provides.adapters.map((x) => `adapter ${x}`),
            ...p.provides.actions.map((x) => `action ${x}`),
            ...p.provides.triggers.map((x) => `trigger ${x}`),
          ];
          io.out(`${paint(io, "green", "✓")} ${p.name} ${p.version} (${p.spec}): ${what.join(", ") || "registers nothing"}`);
        }
        for (const f of host.failed) {
          io.out(`${paint(io, "red", "✗")} ${f.spec}: ${f.error}`);
          if (f.hint) io.out(`    ${paint(io, "gray", f.hint)}`);
        }
        if (!entries.length) io.out(paint(io, "gray", `no plugins in ${file}: add one with 'aicfg plugin add SPEC'`));
      }
    } finally {
      await host.stop();
    }
    return host.failed.length ? EXIT.failure : EXIT.ok;
  },
};

export const pluginAddCommand: Command = {
  name: "plugin add",
  summary: "add a plugin to plugins: and pin its files (sha256) in aicfg.lock; it is loaded once to check it",
  usage: "aicfg plugin add SPEC [--isolation process [--grant-write DIR]... [--grant-net]] [--library DIR | --config daemon.yaml]",
  description:
    "SPEC is an npm package installed beside the config file (aicfg-plugin-foo) or a path (./plugins/bar.ts). In-process plugins run with aicfg's rights: add only code you reviewed. Adding one that is already listed pins its current files again (after you reviewed a change).",
  options: {
    ...TARGET_OPTIONS,
    isolation: { type: "string", valueName: "mode", description: "in-process (default) or process: run it in a child process with only the grant" },
    "grant-write": { type: "string", multiple: true, valueName: "dir", description: "with --isolation process: a folder it may write into (repeatable)" },
    "grant-net": { type: "boolean", description: "with --isolation process: it may use the network" },
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg plugin add ./plugins/aicfg-plugin-gptme", "aicfg plugin add aicfg-plugin-token-budget --isolation process --grant-write reports"],
  run: async (args, io) => {
    const given = args.positionals[0];
    if (!given || args.positionals.length > 1) throw new ConfigError("usage", "name one plugin: aicfg plugin add SPEC");
    const file = configFile(args, io);
    const base = dirname(file);
    const isolation = (args.values.isolation as string | undefined) ?? "in-process";
    if (isolation !== "in-process" && isolation !== "process") throw new ConfigError("usage", `--isolation ${isolation}: must be in-process or process`);
    const writes = listOption(args.values["grant-write"]);
    if (isolation !== "process" && (writes || args.values["grant-net"]))
      throw new ConfigError("usage", "--grant-write and --grant-net need --isolation process");
    const spec = specFor(given, io.cwd, base);
    const entry: PluginEntry =
      isolation === "process"
        ? {
            use: spec,
            isolation: "process",
            ...(writes || args.values["grant-net"]
              ? { grant: { ...(writes ? { write: writes } : {}), ...(args.values["grant-net"] ? { net: true } : {}) } }
              : {}),
          }
        : spec;
    const loc = locatePlugin(entry, file);
    const beforeYaml = readFileSync(file, "utf8");
    const lockPath = join(base, LOCK_FILE);
    const beforeLock = existsSync(lockPath) ? readFileSync(lockPath, "utf8") : undefined;
    const { doc, entries } = readEntries(file);
    const at = entries.findIndex((e) => entrySpec(e) === spec);
    const lock = readLockFile(base);
    const files = pluginFileHashes(loc);
    lock.plugins = { ...lock.plugins, [spec]: { name: loc.packageJson?.name ?? basename(spec), version: loc.packageJson?.version ?? "0.0.0", files } };
    if (!isSeq(doc.get("plugins"))) doc.set("plugins", doc.createNode([]));
    if (at >= 0) doc.setIn(["plugins", at], doc.createNode(entry));
    else doc.addIn(["plugins"], doc.createNode(entry));
    atomicWrite(lockPath, serializeLock(lock));
    atomicWrite(file, doc.toString());
    const host = await loadPlugins([{ configFile: file, entries: [entry] }]);
    await host.stop();
    const failure = host.failed[0];
    if (failure || !host.loaded[0]) {
      atomicWrite(file, beforeYaml);
      if (beforeLock === undefined)
        atomicWrite(lockPath, serializeLock({ ...lock, plugins: Object.fromEntries(Object.entries(lock.plugins).filter(([k]) => k !== spec)) }));
      else atomicWrite(lockPath, beforeLock);
      throw new ConfigError(failure?.code ?? "plugin-load-failed", `${spec} not added: ${failure?.error ?? "it did not load"}`, {
        ...(failure?.file ? { file: failure.file } : {}),
        hint: failure?.hint ?? "fix the plugin and run 'aicfg plugin add' again",
      });
    }
    const p = host.loaded[0];
    // The lock records the name and version the plugin itself states.
    lock.plugins[spec] = { name: p.name, version: p.version, files };
    atomicWrite(lockPath, serializeLock(lock));
    if (args.values.json) io.out(JSON.stringify({ spec, entry, plugin: p, files: Object.keys(files).length, file }, null, 2));
    else {
      io.out(
        paint(
          io,
          "green",
          `${at >= 0 ? "re-pinned" : "added"} ${p.name} ${p.version} (${spec}) to ${file}: ${Object.keys(files).length} file(s) pinned in ${LOCK_FILE}`,
        ),
      );
      const what = [
        ...p.provides.adapters.map((x) => `adapter ${x}`),
        ...p.provides.actions.map((x) => `action ${x}`),
        ...p.provides.triggers.map((x) => `trigger ${x}`),
      ];
      io.out(
        `provides: ${what.join(", ") || "nothing"}${isolation === "process" ? `; runs out of process, may write: ${writes?.join(", ") ?? "nothing"}` : "; runs in process with aicfg's rights"}`,
      );
    }
    return EXIT.ok;
  },
};

export const pluginRemoveCommand: Command = {
  name: "plugin remove",
  summary: "remove a plugin from plugins: and its pin from aicfg.lock",
  usage: "aicfg plugin remove SPEC [--library DIR | --config daemon.yaml]",
  options: { ...TARGET_OPTIONS, json: COMMON_OPTIONS.json },
  examples: ["aicfg plugin remove ./plugins/aicfg-plugin-gptme", "aicfg plugin remove aicfg-plugin-token-budget"],
  run: async (args, io) => {
    const given = args.positionals[0];
    if (!given || args.positionals.length > 1) throw new ConfigError("usage", "name one plugin: aicfg plugin remove SPEC");
    const file = configFile(args, io);
    const base = dirname(file);
    const { doc, entries } = readEntries(file);
    const spec = specFor(given, io.cwd, base);
    const at = entries.findIndex((e) => entrySpec(e) === spec || entrySpec(e) === given);
    if (at < 0) {
      throw new ConfigError("plugin-not-listed", `${file}: plugins: has no entry ${given}`, {
        file,
        hint: entries.length ? `listed: ${entries.map(entrySpec).join(", ")}` : "no plugins are listed",
      });
    }
    const key = entrySpec(entries[at]!);
    doc.deleteIn(["plugins", at]);
    if (entries.length === 1) doc.delete("plugins");
    atomicWrite(file, doc.toString());
    const lock = readLockFile(base);
    if (lock.plugins?.[key]) {
      delete lock.plugins[key];
      atomicWrite(join(base, LOCK_FILE), serializeLock(lock));
    }
    if (args.values.json) io.out(JSON.stringify({ removed: key, file }));
    else io.out(paint(io, "green", `removed ${key} from ${file}`));
    return EXIT.ok;
  },
};

const KINDS = ["action", "adapter", "trigger"] as const;

function scaffold(name: string, kind: (typeof KINDS)[number]): Record<string, string> {
  const id = name.replace(/^(@[^/]+\/)?aicfg-plugin-/, "");
  const body: Record<(typeof KINDS)[number], string> = {
    action: `export const ${camel(id)}Action = defineAction({
  name: "${id}",
  description: "writes a greeting file into the library",
  with: z.strictObject({ who: z.string().min(1), out: z.string().default("${id}.txt") }),
  run: async (w, ctx) => {
    const path = await ctx.fs!.writeFile(w.out, \`hello, \${w.who}\\n\`);
    return { outputs: { path } };
  },
});`,
    trigger: `export const ${camel(id)}Trigger = defineTrigger({
  id: "${id}",
  description: "fires every interval",
  with: z.strictObject({ every_ms: z.number().int().min(1000) }),
  start: ({ with: w, emit, clock, signal }) => {
    let stop = () => {};
    const tick = () => {
      stop = clock.setTimer(w.every_ms, () => {
        if (signal.aborted) return;
        void emit({ at: new Date(clock.now()).toISOString() });
        tick();
      });
    };
    tick();
    return { stop: () => stop() };
  },
});`,
    adapter: `export const ${camel(id)}Adapter: Adapter = withLargeContext({
  id: "${id}",
  displayName: "${id}",
  description: "writes each agent's instructions to ${id}/<agent>.md",
  scopes: ["project"],
  locations: (r) => [join(r.projectRoot, "${id}")],
  capabilities: {
    instructions: "yes", "knowledge-always": "no", "knowledge-on-demand": "yes", "mcp-stdio": "no", "mcp-http": "no", "tools-allow": "no",
    "tools-deny": "no", "tool-settings": "no", hooks: "no", model: "no", skills: "no", commands: "no", ignore: "no",
  },
  render: (agents, ctx) => ({
    files: [...agents].sort((a, b) => a.name.localeCompare(b.name)).map((a) => ({ kind: "file" as const, path: join(ctx.projectRoot, "${id}", \`\${a.name}.md\`), content: a.instructions, agent: a.name, alwaysLoaded: true })),
    warnings: [],
  }),
  detect: async (env) => ({ installed: false, configPaths: [], exportPaths: { project: [join(env.projectRoot, "${id}")], user: [] }, notes: [], nextSteps: [] }),
  budget: { max: 100_000, unit: "chars", per: "agent", model: "various", source: "[?] replace with the tool's documented limit" },
  largeContext: { strategies: ["index"], source: "[?] say where the tool documents how it reads files" },
  limitations: [],
});`,
  };
  const imports: Record<(typeof KINDS)[number], string> = {
    action: 'import { defineAction, definePlugin, z } from "ai-configurator/plugin";',
    trigger: 'import { defineTrigger, definePlugin, z } from "ai-configurator/plugin";',
    adapter: 'import { join } from "node:path";\nimport { definePlugin, withLargeContext, type Adapter } from "ai-configurator/plugin";',
  };
  const register = {
    action: `ctx.actions.register(${camel(id)}Action);`,
    trigger: `ctx.triggers.register(${camel(id)}Trigger);`,
    adapter: `ctx.adapters.register(${camel(id)}Adapter);`,
  }[kind];
  const tests: Record<(typeof KINDS)[number], string> = {
    action: `import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { runAction } from "ai-configurator/testing";
import { ${camel(id)}Action } from "../index.ts";

it("writes the greeting into the library", async () => {
  const r = await runAction(${camel(id)}Action, { with: { who: "team" } });
  try {
    expect(readFileSync(String(r.outputs.path), "utf8")).toBe("hello, team\\n");
  } finally {
    r.cleanup();
  }
});
`,
    trigger: `import { expect, it } from "vitest";
import { createManualClock } from "ai-configurator/testing";
import { ${camel(id)}Trigger } from "../index.ts";

it("fires once per interval on the injected clock", async () => {
  const clock = createManualClock(Date.parse("2026-01-01T00:00:00Z"));
  const fired: unknown[] = [];
  const ctrl = new AbortController();
  const h = await ${camel(id)}Trigger.start({
    with: { every_ms: 60_000 }, clock, signal: ctrl.signal, log: () => {},
    emit: async (d) => void fired.push(d),
    state: { get: async () => undefined, set: async () => {} },
  });
  await clock.advance(150_000);
  expect(fired).toEqual([{ at: "2026-01-01T00:01:00.000Z" }, { at: "2026-01-01T00:02:00.000Z" }]);
  await h.stop();
});
`,
    adapter: `import { describeAdapterConformance } from "ai-configurator/testing";
import { ${camel(id)}Adapter } from "../index.ts";

describeAdapterConformance(${camel(id)}Adapter);
`,
  };
  return {
    "package.json": `${JSON.stringify(
      {
        name,
        version: "0.1.0",
        type: "module",
        exports: "./index.ts",
        engines: { aicfg: `^${VERSION}` },
        aicfg: { kinds: [kind] },
        peerDependencies: { "ai-configurator": `^${VERSION}` },
        scripts: { test: "vitest run" },
      },
      null,
      2,
    )}\n`,
    "index.ts": `// ${name}: an aicfg plugin (${kind}). Load it with 'aicfg plugin add ./${name}'.
${imports[kind]}

${body[kind]}

export default definePlugin({
  apiVersion: "aicfg/v1",
  name: "${name}",
  version: "0.1.0",
  setup(ctx) {
    ${register}
  },
});
`,
    [`test/${id}.test.ts`]: tests[kind],
  };
}

function camel(id: string): string {
  return id.replace(/[-_.]+([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^[^a-zA-Z_]+/, "");
}

export const pluginNewCommand: Command = {
  name: "plugin new",
  summary: "scaffold a plugin (an action, adapter or trigger) with its test, using the test kit",
  usage: "aicfg plugin new NAME [--kind action|adapter|trigger] [--dir DIR]",
  options: {
    kind: { type: "string", valueName: "kind", description: "what it provides: action (default), adapter or trigger" },
    dir: { type: "string", valueName: "dir", description: "where the plugin's folder is made (default: the current folder)" },
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg plugin new aicfg-plugin-jira --kind action", "aicfg plugin new aicfg-plugin-aider --kind adapter --dir plugins"],
  run: async (args, io) => {
    const name = args.positionals[0];
    if (!name || args.positionals.length > 1) throw new ConfigError("usage", "name the plugin: aicfg plugin new NAME");
    if (!/^(?:@[a-z0-9._-]+\/)?aicfg-plugin-[a-z0-9][a-z0-9._-]*$/.test(name)) {
      throw new ConfigError("usage", `'${name}' is not a plugin package name`, { hint: "use aicfg-plugin-<name> or @scope/aicfg-plugin-<name>, lower case" });
    }
    const kind = (args.values.kind as string | undefined) ?? "action";
    if (!(KINDS as readonly string[]).includes(kind)) throw new ConfigError("usage", `--kind ${kind}: must be one of ${KINDS.join(", ")}`);
    const root = resolve(io.cwd, (args.values.dir as string | undefined) ?? ".", name.replace(/^@[^/]+\//, ""));
    if (existsSync(root)) throw new ConfigError("exists", `${root} already exists`, { hint: "pick another name or --dir; nothing was written" });
    const files = scaffold(name, kind as (typeof KINDS)[number]);
    for (const [rel, text] of Object.entries(files)) {
      const p = join(root, rel);
      atomicWrite(p, text, 0o644, { root: dirname(root) });
    }
    if (args.values.json) io.out(JSON.stringify({ root, files: Object.keys(files) }));
    else {
      io.out(paint(io, "green", `made ${root}`));
      io.out(`next: cd ${relative(io.cwd, root) || "."} && npx vitest run; then 'aicfg plugin add ${relative(io.cwd, root) || "."}' in your library`);
    }
    return EXIT.ok;
  },
};
