// One-shot commands (`aicfg export`, `aicfg validate`) load the plugins of the library's aicfg.yaml
// the way the daemon does, so a plugin's adapter is a target and its actions and triggers are known
// to workflow validation. A plugin that does not load is reported on stderr; the command goes on.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { sha256 } from "../../library/hash.ts";
import { LOCK_FILE } from "../../library/lock.ts";
import type { PluginEntry } from "../../library/schema.ts";
import type { CliIO } from "./command.ts";
import { paint } from "./format.ts";

export type CliPlugins = { failed: number; stop: () => Promise<void> };

function entriesOf(root: string): PluginEntry[] {
  const file = join(root, "aicfg.yaml");
  if (!existsSync(file)) return [];
  try {
    const raw = parse(readFileSync(file, "utf8")) as { plugins?: unknown } | null;
    return Array.isArray(raw?.plugins) ? (raw.plugins as PluginEntry[]) : [];
  } catch {
    return []; // the library's own validation reports a broken aicfg.yaml
  }
}

/** What changes when a plugin changes: the plugins: list and the pins (for the no-op export shortcut). */
export function pluginsStamp(root: string): string | null {
  const entries = entriesOf(root);
  if (!entries.length) return null;
  const lock = join(root, LOCK_FILE);
  return sha256(JSON.stringify(entries) + (existsSync(lock) ? readFileSync(lock, "utf8") : ""));
}

export async function loadLibraryPlugins(root: string, io: CliIO, quiet = false): Promise<CliPlugins> {
  const entries = entriesOf(root);
  if (!entries.length) return { failed: 0, stop: async () => {} };
  const { loadPlugins } = await import("../plugins/host.ts");
  const host = await loadPlugins([{ configFile: join(root, "aicfg.yaml"), entries }]);
  if (!quiet) {
    for (const f of host.failed) {
      io.err(paint(io, "red", `plugin ${f.spec} not loaded: ${f.error}`));
      if (f.hint) io.err(`  ${f.hint}`);
    }
  }
  return { failed: host.failed.length, stop: host.stop };
}
