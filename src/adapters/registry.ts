// The list of adapters. A new AI tool is one new folder under adapters/ and one line here.
import type { Adapter, Roots } from "./types.ts";
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

const ADAPTERS: readonly Adapter[] = [
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

export function listAdapters(): readonly Adapter[] {
  return ADAPTERS;
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
  return ADAPTERS.find((a) => a.id === id);
}
