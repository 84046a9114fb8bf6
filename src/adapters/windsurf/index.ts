// Windsurf (Cascade): workspace rules in .windsurf/rules/*.md with a `trigger`, global rules and MCP
// servers under ~/.codeium/windsurf/. Described as data and rendered by the generic adapter.
import type { Adapter } from "../types.ts";
import { genericAdapter } from "../generic/adapter.ts";
import type { TargetDefinitionInput } from "../generic/definition.ts";

const WINDSURF_TARGET: TargetDefinitionInput = {
  id: "windsurf",
  displayName: "Windsurf",
  description: "Windsurf Cascade: .windsurf/rules/*.md (trigger always_on / model_decision / glob), global_rules.md and ~/.codeium/windsurf/mcp_config.json",
  scopes: {
    project: {
      rules: {
        dir: ".windsurf/rules",
        agentAs: "onDemand",
        frontmatter: {
          always: { trigger: "always_on" },
          onDemand: { trigger: "model_decision", description: { from: "description" } },
          glob: { trigger: "glob", globs: { from: "globs", as: "comma" } },
        },
      },
    },
    user: {
      instructions: { file: ".codeium/windsurf/memories/global_rules.md" },
      mcp: { file: ".codeium/windsurf/mcp_config.json", shape: { urlKey: "serverUrl", envSyntax: "env-colon", extras: ["disabled"] } },
    },
  },
  sizeLimit: { max: 12000, unit: "chars", source: "docs.windsurf.com Cascade memories & rules" },
  detect: {
    binaries: ["windsurf"],
    configDirs: [".codeium/windsurf"],
    projectMarkers: [".windsurf"],
    install: "install Windsurf: https://windsurf.com/download",
  },
  notes: ["Windsurf was rebranded Devin Desktop in 2026 [2nd]; the devin target writes its .devin/ layout"],
  limitations: [
    "MCP servers are read only from ~/.codeium/windsurf/mcp_config.json: export MCP with --scope user",
    "each rule file may hold 12,000 characters; longer files are written and reported (older docs said 6,000 per file and 12,000 in total [?])",
    "the global rules path ~/.codeium/windsurf/memories/global_rules.md comes from a secondary source [2nd]",
    "an agent becomes a model_decision rule; set extensions.windsurf.frontmatter.trigger to always_on or manual to change that",
    "import treats model_decision rules not named knowledge-* as agents and every other rule as knowledge; global_rules.md is not imported",
  ],
  sources: [
    "https://docs.windsurf.com/windsurf/cascade/memories",
    "https://docs.windsurf.com/windsurf/cascade/mcp",
    "https://userjot.com/docs/mcp-windsurf (${env:VAR} interpolation) [2nd]",
    "tool-formats.md §9",
  ],
};

export const windsurfAdapter: Adapter = genericAdapter(WINDSURF_TARGET);
