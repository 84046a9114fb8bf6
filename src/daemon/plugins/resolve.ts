// Where a `plugins:` entry lives on disk and which files make it up: an npm name is resolved from the
// node_modules beside the config file, a path relative to that file. The files of its folder (its
// package, or the single file when it has no package.json) are what `aicfg plugin add` pins.
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConfigError } from "../../library/diagnostics.ts";
import { fileIntegrity } from "../../library/lock.ts";
import { toPosix } from "../../library/paths.ts";
import type { PluginEntry } from "../../library/schema.ts";

export type PluginLocation = {
  /** The entry as written in plugins: (the key of its pin in aicfg.lock). */
  spec: string;
  isolation: "in-process" | "process";
  grant: { write: string[]; net: boolean };
  /** The module to import. */
  entryFile: string;
  /** The folder whose files are pinned (the package folder, or the entry's folder for a lone file). */
  root: string;
  /** Relative to root: every file pinned (a lone file plugin: just itself). */
  lone: boolean;
  packageJson?: { file: string; name?: string; version?: string; engines?: Record<string, string> };
};

const SKIP = new Set(["node_modules", ".git"]);
const MAX_FILES = 10_000;

export function entrySpec(e: PluginEntry): string {
  return typeof e === "string" ? e : e.use;
}

function isPath(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/") || spec === ".";
}

function readPackageJson(file: string): PluginLocation["packageJson"] {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const engines = typeof raw.engines === "object" && raw.engines ? (raw.engines as Record<string, string>) : undefined;
  return {
    file,
    ...(typeof raw.name === "string" ? { name: raw.name } : {}),
    ...(typeof raw.version === "string" ? { version: raw.version } : {}),
    ...(engines ? { engines } : {}),
  };
}

/** The module a package folder names as its entry: exports "." (import/default), then main, then index.ts/js. */
function packageEntry(dir: string): string {
  const raw = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: unknown; main?: unknown };
  let rel: string | undefined;
  const ex = raw.exports;
  const pick = (v: unknown): string | undefined => {
    if (typeof v === "string") return v;
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return pick(o.import) ?? pick(o.default);
    }
    return undefined;
  };
  if (typeof ex === "string") rel = ex;
  else if (ex && typeof ex === "object") rel = pick((ex as Record<string, unknown>)["."] ?? ex);
  rel ??= typeof raw.main === "string" ? raw.main : undefined;
  rel ??= ["index.ts", "index.js", "src/index.ts"].find((f) => existsSync(join(dir, f)));
  if (!rel)
    throw new ConfigError("plugin-no-entry", `${join(dir, "package.json")}: no entry module (exports, main or index.ts)`, {
      hint: 'add "exports": "./index.ts"',
    });
  return resolve(dir, rel);
}

export function locatePlugin(e: PluginEntry, configFile: string): PluginLocation {
  const spec = entrySpec(e);
  const base = dirname(configFile);
  const o: Exclude<PluginEntry, string> | undefined = typeof e === "string" ? undefined : e;
  const isolation = o?.isolation ?? "in-process";
  const grant = { write: (o?.grant?.write ?? []).map((w) => resolve(base, w)), net: o?.grant?.net ?? false };
  let root: string;
  let entryFile: string;
  let lone = false;
  if (isPath(spec)) {
    const abs = resolve(base, spec);
    if (!existsSync(abs)) {
      throw new ConfigError("plugin-not-found", `${configFile}: plugins: ${spec}: ${abs} does not exist`, {
        file: configFile,
        hint: "fix the path (relative to this file), or run 'aicfg plugin new NAME' to make a plugin",
      });
    }
    if (statSync(abs).isDirectory()) {
      root = abs;
      entryFile = packageEntry(abs);
    } else {
      entryFile = abs;
      root = dirname(abs);
      lone = !existsSync(join(root, "package.json"));
    }
  } else {
    // The package folder along Node's lookup path (not `require.resolve(spec + "/package.json")`:
    // a package whose `exports` do not list ./package.json could not be found that way).
    const pkgFile = (createRequire(join(base, "aicfg.yaml")).resolve.paths(spec) ?? []).map((d) => join(d, spec, "package.json")).find((f) => existsSync(f));
    if (!pkgFile) {
      throw new ConfigError("plugin-not-found", `${configFile}: plugins: ${spec}: the package is not installed`, {
        file: configFile,
        hint: `install it next to this file (npm install ${spec}), or write a ./path`,
      });
    }
    root = dirname(pkgFile);
    entryFile = packageEntry(root);
  }
  const pj = join(root, "package.json");
  return { spec, isolation, grant, entryFile, root, lone, ...(!lone && existsSync(pj) ? { packageJson: readPackageJson(pj) } : {}) };
}

/** sha256 of every file of the plugin, by path relative to its root; links are refused (they could point anywhere). */
export function pluginFileHashes(loc: PluginLocation): Record<string, string> {
  const out: Record<string, string> = {};
  if (loc.lone) {
    out[basename(loc.entryFile)] = fileIntegrity(readFileSync(loc.entryFile));
    return out;
  }
  let count = 0;
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      if (SKIP.has(n)) continue;
      const p = join(dir, n);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) throw new ConfigError("plugin-link", `${p}: plugins may not contain symbolic links`, { hint: "replace the link by the file" });
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        if (++count > MAX_FILES)
          throw new ConfigError("plugin-too-big", `${loc.root}: more than ${MAX_FILES} files`, { hint: "publish only the plugin's own files" });
        out[toPosix(relative(loc.root, p))] = fileIntegrity(readFileSync(p));
      }
    }
  };
  walk(loc.root);
  return out;
}
