// The adapter registry. A new built-in AI tool is one new folder under adapters/ and one line here;
// a plugin's adapter goes into the same registry through `ctx.adapters.register` (plugins).
import { createRegistry, type Registry } from "../library/registry.ts";
import type { Adapter, DetectEnv, Roots } from "./types.ts";
import { extrasCapabilities, extrasLocations } from "./extras/index.ts";
import { qCliAdapter } from "./q-cli/index.ts";
import { kiroCliAdapter } from "./kiro-cli/index.ts";
import { claudeCodeAdapter } from "./claude-code/index.ts";
import { claudeProjectsAdapter } from "./claude-projects/index.ts";
import { chatgptAdapter } from "./chatgpt/index.ts";
import { codexAdapter } from "./codex/index.ts";
import { copilotAdapter } from "./copilot/index.ts";
import { cursorAdapter } from "./cursor/index.ts";
import { geminiCliAdapter } from "./gemini-cli/index.ts";
import { windsurfAdapter } from "./windsurf/index.ts";
import { clineAdapter } from "./cline/index.ts";
import { agentsMdAdapter } from "./agents-md/index.ts";
import { GENERIC_ADAPTERS } from "./generic/index.ts";

const BUILTIN_ADAPTERS: readonly Adapter[] = [
  qCliAdapter,
  kiroCliAdapter,
  claudeCodeAdapter,
  claudeProjectsAdapter,
  chatgptAdapter,
  codexAdapter,
  copilotAdapter,
  cursorAdapter,
  geminiCliAdapter,
  windsurfAdapter,
  clineAdapter,
  agentsMdAdapter,
  ...GENERIC_ADAPTERS,
];

/** Every adapter: the built-ins (owner `aicfg`), then those plugins registered, in their order. */
export const adapterRegistry: Registry<Adapter> = createRegistry<Adapter>(
  "adapter",
  (a) => a.id,
  (register) => {
    for (const a of BUILTIN_ADAPTERS) register(a);
  },
);

export function listAdapters(): readonly Adapter[] {
  return adapterRegistry.list();
}

/** What a target can express: its adapter's own table plus library skills, commands and ignore files. */
export function effectiveCapabilities(a: Adapter): Adapter["capabilities"] {
  return { ...a.capabilities, ...extrasCapabilities(a.id) };
}

/** Everywhere a target may write for the roots: its adapter's locations plus the extras'. */
export function effectiveLocations(a: Adapter, roots: Roots): string[] {
  return [...a.locations(roots), ...extrasLocations(a.id, roots)];
}

export function getAdapter(id: string): Adapter | undefined {
  return adapterRegistry.get(id);
}

/**
 * Words that stand for a set of targets wherever a list of target ids is accepted (CLI, workflow
 * `export` action, API): `all` is every known target, `detected` the tools `aicfg doctor` finds here.
 */
export const TARGET_SELECTORS = ["all", "detected"] as const;

/** The targets whose tool is installed on this machine, as `aicfg doctor` reports them. */
export async function detectedTargets(env: DetectEnv): Promise<string[]> {
  const found = await Promise.all(
    listAdapters().map(async (a) => {
      try {
        return (await a.detect(env)).installed ? a.id : undefined;
      } catch {
        return undefined; // a detection that fails finds nothing, as in `doctor`
      }
    }),
  );
  return found.filter((id): id is string => id !== undefined);
}

/**
 * Replaces `all` and `detected` in a list of target ids by the ids they stand for, keeping the
 * order and dropping duplicates; other ids pass through (unknown ones are reported by the export).
 * Detection runs only when `detected` is asked for.
 */
export async function expandTargets(ids: readonly string[], env: () => DetectEnv): Promise<string[]> {
  const out = new Set<string>();
  for (const id of ids) {
    if (id === "all") for (const a of listAdapters()) out.add(a.id);
    else if (id === "detected") for (const t of await detectedTargets(env())) out.add(t);
    else out.add(id);
  }
  return [...out];
}
