// The list of adapters. A new AI tool is one new folder under adapters/ and one line here.
import type { Adapter } from "./types.ts";
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

export function getAdapter(id: string): Adapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}
