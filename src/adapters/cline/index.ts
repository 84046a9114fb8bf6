// Cline: workspace rules in .clinerules/*.md (conditional ones with `paths:` frontmatter) and global
// rules in ~/Documents/Cline/Rules. Described as data and rendered by the generic adapter.
import type { Adapter } from "../types.ts";
import { genericAdapter } from "../generic/adapter.ts";
import type { TargetDefinitionInput } from "../generic/definition.ts";

const CLINE_TARGET: TargetDefinitionInput = {
  id: "cline",
  displayName: "Cline",
  description: "Cline (VS Code extension and CLI): .clinerules/*.md, conditional rules with paths: frontmatter, ~/Documents/Cline/Rules",
  scopes: {
    project: { rules: { dir: ".clinerules", frontmatter: { always: {}, glob: { paths: { from: "globs" } } } } },
    user: { rules: { dir: "Documents/Cline/Rules", frontmatter: { always: {}, glob: { paths: { from: "globs" } } } } },
  },
  mcpHint:
    "Cline keeps MCP servers in cline_mcp_settings.json inside the editor's global storage (globalStorage/saoudrizwan.claude-dev/settings/), whose location differs per editor and OS and is not verified, so aicfg does not write it; add the servers in Cline's MCP panel",
  detect: {
    binaries: ["cline"],
    configDirs: ["Documents/Cline", ".cline"],
    projectMarkers: [".clinerules"],
    vscodeExtensions: ["saoudrizwan.claude-dev"],
    install: "install the Cline extension from the VS Code marketplace (saoudrizwan.claude-dev) or the cline CLI",
  },
  limitations: [
    "every rule is always on unless it has file globs (paths:); on-demand knowledge without applyTo is an index in the agent's rule that points to the library's files",
    "MCP servers are not written: cline_mcp_settings.json lives in the editor's global storage [?]",
    "agents are not separate personas in Cline: each agent's instructions become an always-on rule",
    "on Linux Cline may use ~/Cline/Rules when ~/Documents does not exist [?]",
  ],
  sources: ["https://docs.cline.bot/customization/cline-rules", "https://docs.cline.bot/customization/conditional-rules", "tool-formats.md §10"],
};

export const clineAdapter: Adapter = genericAdapter(CLINE_TARGET);
