// The long tail of AI tools as data: each entry says where one tool reads instructions, rules, agents
// and MCP servers, with the source of every path. `[2nd]` marks a secondary source, `[?]` a point not
// verified on a real install; both are repeated in the tool's limitations.
import type { FrontmatterMap, McpShape, TargetDefinitionInput } from "./definition.ts";

type ShapeInput = Partial<McpShape> & Pick<McpShape, "envSyntax">;

/** `mcpServers` with command/args/env and url/headers (Claude-Desktop-like, the most common shape). */
const PLAIN_MCP: ShapeInput = { urlKey: "url", envSyntax: "braces" };
/** Gemini CLI and its forks: `httpUrl` for streamable HTTP, `url` for SSE. */
const GEMINI_MCP: ShapeInput = { urlKey: "httpUrl", sseUrlKey: "url", envSyntax: "braces", extras: ["cwd", "timeout", "includeTools", "excludeTools"] };
/** Roo Code / Kilo Code `mcp.json`. Their `timeout` is in seconds, so ours (ms) is not written. */
const ROO_MCP: ShapeInput = {
  urlKey: "url",
  typeValues: { http: "streamable-http", sse: "sse" },
  envSyntax: "env-colon",
  extras: ["cwd", "disabled", "alwaysAllow"],
};
/** Windsurf / Devin / Antigravity `mcp_config.json`: remote servers take `serverUrl`. */
const SERVER_URL_MCP: ShapeInput = { urlKey: "serverUrl", envSyntax: "env-colon", extras: ["disabled"] };

/** No frontmatter: every file is always on. */
const NONE: FrontmatterMap = {};
const TRIGGER = {
  always: { trigger: "always_on" },
  onDemand: { trigger: "model_decision", description: { from: "description" } },
  glob: { trigger: "glob", globs: { from: "globs", as: "comma" } },
} satisfies Record<string, FrontmatterMap>;

export const GENERIC_TARGETS: readonly TargetDefinitionInput[] = [
  {
    id: "aider",
    displayName: "Aider",
    description: "Aider (aider.chat): CONVENTIONS.md conventions file",
    scopes: { project: { instructions: { file: "CONVENTIONS.md" } } },
    detect: { binaries: ["aider"], configDirs: [".aider.conf.yml"], install: "install Aider: https://aider.chat/docs/install.html" },
    limitations: [
      "Aider reads CONVENTIONS.md only when .aider.conf.yml lists it (`read: CONVENTIONS.md`) or it is passed with --read; aicfg does not edit that YAML file",
      "one conventions file for all agents; no MCP, models, tool permissions or on-demand knowledge",
    ],
    sources: ["https://aider.chat/docs/usage/conventions.html", "https://aider.chat/docs/config/aider_conf.html"],
  },
  {
    id: "amp",
    displayName: "Amp",
    description: "Sourcegraph Amp: AGENTS.md and amp.mcpServers in .amp/settings.json",
    scopes: {
      project: { instructions: { file: "AGENTS.md" }, mcp: { file: ".amp/settings.json", key: ["amp.mcpServers"], shape: PLAIN_MCP } },
      user: { instructions: { file: ".config/amp/AGENTS.md" }, mcp: { file: ".config/amp/settings.json", key: ["amp.mcpServers"], shape: PLAIN_MCP } },
    },
    detect: { binaries: ["amp"], configDirs: [".config/amp"], install: "install Amp: https://ampcode.com/manual" },
    limitations: [
      "AGENTS.md is also written by the agents-md, codex, opencode, factory-droid and rovodev targets (each in its own section): enable one of them per project",
      "${VAR} expansion in amp.mcpServers is assumed [?]",
    ],
    sources: ["https://ampcode.com/manual#agents-md", "https://ampcode.com/manual#mcp", "dyoshikawa/rulesync: src/constants/amp-paths.ts [2nd]"],
  },
  {
    id: "goose",
    displayName: "Goose",
    description: "Block Goose: .goosehints context file",
    scopes: { project: { instructions: { file: ".goosehints" } }, user: { instructions: { file: ".config/goose/.goosehints" } } },
    detect: { binaries: ["goose"], configDirs: [".config/goose"], install: "install Goose: https://block.github.io/goose/docs/getting-started/installation" },
    limitations: ["MCP servers are Goose extensions in config.yaml (YAML), which aicfg does not write", "one hints file for all agents"],
    sources: ["https://block.github.io/goose/docs/guides/using-goosehints", "dyoshikawa/rulesync: src/constants/goose-paths.ts [2nd]"],
  },
  {
    id: "junie",
    displayName: "JetBrains Junie",
    description: "JetBrains Junie: .junie/guidelines.md and .junie/mcp/mcp.json",
    scopes: {
      project: { instructions: { file: ".junie/guidelines.md" }, mcp: { file: ".junie/mcp/mcp.json", shape: PLAIN_MCP } },
      user: { mcp: { file: ".junie/mcp/mcp.json", shape: PLAIN_MCP } },
    },
    detect: {
      binaries: ["junie"],
      configDirs: [".junie"],
      projectMarkers: [".junie"],
      install: "install the Junie plugin in a JetBrains IDE: https://www.jetbrains.com/junie/",
    },
    limitations: ["newer Junie releases also read AGENTS.md and .junie/AGENTS.md [2nd]", "${VAR} expansion in mcp.json is assumed [?]"],
    sources: [
      "https://www.jetbrains.com/help/junie/customize-guidelines.html",
      "https://www.jetbrains.com/help/junie/model-context-protocol-mcp.html",
      "dyoshikawa/rulesync: src/constants/junie-paths.ts [2nd]",
    ],
  },
  {
    id: "opencode",
    displayName: "OpenCode",
    description: "OpenCode (sst): AGENTS.md, .opencode/agents/*.md subagents and the mcp key of opencode.json",
    scopes: {
      project: {
        instructions: { file: "AGENTS.md" },
        agents: {
          dir: ".opencode/agents",
          frontmatter: { description: { from: "description" }, mode: "subagent" },
          modelKey: "model",
          modelPattern: "^[^/\\s]+/\\S+$",
        },
        mcp: {
          file: "opencode.json",
          key: ["mcp"],
          shape: {
            typeValues: { stdio: "local", http: "remote", sse: "remote" },
            commandArray: true,
            envKey: "environment",
            envSyntax: "curly-env",
            extras: ["enabled"],
          },
        },
      },
      user: {
        instructions: { file: ".config/opencode/AGENTS.md" },
        agents: {
          dir: ".config/opencode/agents",
          frontmatter: { description: { from: "description" }, mode: "subagent" },
          modelKey: "model",
          modelPattern: "^[^/\\s]+/\\S+$",
        },
        mcp: {
          file: ".config/opencode/opencode.json",
          key: ["mcp"],
          shape: {
            typeValues: { stdio: "local", http: "remote", sse: "remote" },
            commandArray: true,
            envKey: "environment",
            envSyntax: "curly-env",
            extras: ["enabled"],
          },
        },
      },
    },
    detect: { binaries: ["opencode"], configDirs: [".config/opencode"], install: "install OpenCode: https://opencode.ai/docs/" },
    limitations: [
      "model ids must be provider/model (e.g. anthropic/claude-sonnet-4); others are left out with a warning: give one under model: {opencode: ...}",
      "older OpenCode releases read .opencode/agent/ (singular) [2nd]",
      "AGENTS.md is shared with other targets (each in its own section): enable one of them per project",
    ],
    sources: [
      "https://opencode.ai/docs/rules/",
      "https://opencode.ai/docs/agents/",
      "https://opencode.ai/docs/mcp-servers/",
      "dyoshikawa/rulesync: src/constants/opencode-paths.ts [2nd]",
    ],
  },
  {
    id: "roo",
    displayName: "Roo Code",
    description: "Roo Code (VS Code): .roo/rules/*.md and .roo/mcp.json",
    scopes: {
      project: { rules: { dir: ".roo/rules", frontmatter: { always: NONE } }, mcp: { file: ".roo/mcp.json", shape: ROO_MCP } },
      user: { rules: { dir: ".roo/rules", frontmatter: { always: NONE } } },
    },
    detect: {
      configDirs: [".roo"],
      projectMarkers: [".roo"],
      vscodeExtensions: ["RooVeterinaryInc.roo-cline"],
      install: "install the Roo Code extension from the VS Code marketplace",
    },
    notes: ["Roo Code reached end of life (final release 3.54.0, 2026-05-15); Zoo Code continues it and reads the same .roo/ files [2nd]"],
    limitations: [
      "every rule file is always on: no on-demand or glob-scoped rules",
      "user-scope MCP lives in VS Code global storage and is not written",
      "MCP timeout is in seconds in Roo and is not written",
    ],
    sources: [
      "https://docs.roocode.com/features/custom-instructions",
      "https://docs.roocode.com/features/mcp/using-mcp-in-roo",
      "dyoshikawa/rulesync: docs/reference/supported-tools.md [2nd]",
    ],
  },
  {
    id: "kilo-code",
    displayName: "Kilo Code",
    description: "Kilo Code (VS Code): .kilocode/rules/*.md and .kilocode/mcp.json",
    scopes: {
      project: { rules: { dir: ".kilocode/rules", frontmatter: { always: NONE } }, mcp: { file: ".kilocode/mcp.json", shape: ROO_MCP } },
      user: { rules: { dir: ".kilocode/rules", frontmatter: { always: NONE } } },
    },
    detect: {
      binaries: ["kilo"],
      configDirs: [".kilocode"],
      projectMarkers: [".kilocode"],
      vscodeExtensions: ["kilocode.kilo-code"],
      install: "install the Kilo Code extension from the VS Code marketplace",
    },
    limitations: [
      "every rule file is always on",
      "2026 Kilo releases built on OpenCode read .kilo/ and AGENTS.md instead [2nd]; use the opencode-like layout there",
    ],
    sources: [
      "https://kilocode.ai/docs/advanced-usage/custom-rules",
      "https://kilocode.ai/docs/features/mcp/using-mcp-in-kilo-code",
      "dyoshikawa/rulesync: src/constants/kilo-paths.ts [2nd]",
    ],
  },
  {
    id: "zed",
    displayName: "Zed",
    description: "Zed editor agent: .rules and context_servers in .zed/settings.json",
    scopes: {
      project: {
        instructions: { file: ".rules" },
        mcp: { file: ".zed/settings.json", key: ["context_servers"], shape: { urlKey: "url", envSyntax: "literal" } },
      },
      user: {
        instructions: { file: ".config/zed/AGENTS.md" },
        mcp: { file: ".config/zed/settings.json", key: ["context_servers"], shape: { urlKey: "url", envSyntax: "literal" } },
      },
    },
    detect: { binaries: ["zed", "zeditor"], configDirs: [".config/zed"], install: "install Zed: https://zed.dev/download" },
    limitations: [
      "Zed uses only the first rules file it finds (.rules, .cursorrules, ..., AGENTS.md, CLAUDE.md, GEMINI.md)",
      "MCP values are literal: ${VAR} references are written as-is",
      "user settings are %APPDATA%\\Zed on Windows",
    ],
    sources: ["https://zed.dev/docs/ai/rules", "https://zed.dev/docs/ai/mcp", "dyoshikawa/rulesync: src/constants/zed-paths.ts [2nd]"],
  },
  {
    id: "warp",
    displayName: "Warp",
    description: "Warp terminal agent: WARP.md project rules",
    scopes: { project: { instructions: { file: "WARP.md" } } },
    detect: { binaries: ["warp-terminal", "warp"], configDirs: [".warp"], install: "install Warp: https://www.warp.dev/download" },
    limitations: ["global rules and MCP servers live in Warp Drive (app UI), not in files", "Warp also reads AGENTS.md"],
    sources: ["https://docs.warp.dev/knowledge-and-collaboration/rules", "dyoshikawa/rulesync: src/constants/warp-paths.ts [2nd]"],
  },
  {
    id: "continue",
    displayName: "Continue",
    description: "Continue (VS Code / JetBrains / cn CLI): .continue/rules/*.md with name, description, globs, alwaysApply",
    scopes: {
      project: {
        rules: {
          dir: ".continue/rules",
          agentAs: "onDemand",
          frontmatter: {
            always: { name: { from: "name" }, alwaysApply: true },
            onDemand: { name: { from: "name" }, description: { from: "description" }, alwaysApply: false },
            glob: { name: { from: "name" }, globs: { from: "globs" }, alwaysApply: false },
          },
        },
      },
      user: {
        rules: {
          dir: ".continue/rules",
          agentAs: "onDemand",
          frontmatter: {
            always: { name: { from: "name" }, alwaysApply: true },
            onDemand: { name: { from: "name" }, description: { from: "description" }, alwaysApply: false },
            glob: { name: { from: "name" }, globs: { from: "globs" }, alwaysApply: false },
          },
        },
      },
    },
    detect: { binaries: ["cn"], configDirs: [".continue"], vscodeExtensions: ["Continue.continue"], install: "install Continue: https://docs.continue.dev/" },
    limitations: ["MCP servers are YAML blocks in .continue/mcpServers/, which aicfg does not write"],
    sources: ["https://docs.continue.dev/customize/deep-dives/rules", "dyoshikawa/rulesync: src/constants/continue-paths.ts [2nd]"],
  },
  {
    id: "qwen-code",
    displayName: "Qwen Code",
    description: "Qwen Code CLI (Gemini CLI fork): QWEN.md, .qwen/agents/*.md and mcpServers in .qwen/settings.json",
    scopes: {
      project: {
        instructions: { file: "QWEN.md" },
        agents: { dir: ".qwen/agents", frontmatter: { name: { from: "name" }, description: { from: "description" } } },
        mcp: { file: ".qwen/settings.json", shape: GEMINI_MCP },
      },
      user: {
        instructions: { file: ".qwen/QWEN.md" },
        agents: { dir: ".qwen/agents", frontmatter: { name: { from: "name" }, description: { from: "description" } } },
        mcp: { file: ".qwen/settings.json", shape: GEMINI_MCP },
      },
    },
    detect: { binaries: ["qwen"], configDirs: [".qwen"], install: "install Qwen Code: npm install -g @qwen-code/qwen-code" },
    limitations: ["subagent tool lists are not written: subagents inherit every tool"],
    sources: ["https://github.com/QwenLM/qwen-code (docs: memory files, subagents, MCP)", "dyoshikawa/rulesync: src/constants/qwencode-paths.ts [2nd]"],
  },
  {
    id: "trae",
    displayName: "Trae",
    description: "Trae IDE: .trae/rules/project_rules.md",
    scopes: { project: { instructions: { file: ".trae/rules/project_rules.md" } } },
    detect: { binaries: ["trae"], configDirs: [".trae"], projectMarkers: [".trae"], install: "install Trae: https://www.trae.ai/" },
    limitations: ["user rules and MCP servers are managed in the Trae UI [?]"],
    sources: ["https://docs.trae.ai/ide/rules-for-ai"],
  },
  {
    id: "jetbrains-ai",
    displayName: "JetBrains AI Assistant",
    description: "JetBrains AI Assistant project rules: .aiassistant/rules/*.md",
    scopes: { project: { rules: { dir: ".aiassistant/rules", frontmatter: { always: NONE } } } },
    detect: {
      configDirs: [".config/JetBrains"],
      projectMarkers: [".aiassistant"],
      install: "enable AI Assistant in a JetBrains IDE: https://www.jetbrains.com/ai-assistant/",
    },
    limitations: [
      "the rule type (always, manual, by model decision, by file patterns) is chosen in the IDE; new files start as the IDE's default type [?]",
      "MCP servers are configured in the IDE settings",
    ],
    sources: ["https://www.jetbrains.com/help/ai-assistant/configure-project-rules.html", "dyoshikawa/rulesync: src/constants/aiassistant-paths.ts [2nd]"],
  },
  {
    id: "augment",
    displayName: "Augment Code",
    description: "Augment Code: .augment/rules/*.md with type always_apply / agent_requested",
    scopes: {
      project: {
        rules: {
          dir: ".augment/rules",
          agentAs: "onDemand",
          frontmatter: { always: { type: "always_apply" }, onDemand: { type: "agent_requested", description: { from: "description" } } },
        },
      },
      user: {
        rules: {
          dir: ".augment/rules",
          agentAs: "onDemand",
          frontmatter: { always: { type: "always_apply" }, onDemand: { type: "agent_requested", description: { from: "description" } } },
        },
      },
    },
    detect: {
      binaries: ["auggie"],
      configDirs: [".augment"],
      vscodeExtensions: ["augment.vscode-augment"],
      install: "install Augment Code: https://www.augmentcode.com/",
    },
    limitations: ["no glob-scoped rules", "MCP servers are configured in the Augment settings panel"],
    sources: ["https://docs.augmentcode.com/setup-augment/guidelines", "dyoshikawa/rulesync: docs/reference/file-formats.md (augmentcode type) [2nd]"],
  },
  {
    id: "antigravity",
    displayName: "Google Antigravity",
    description: "Google Antigravity (IDE and agy CLI): .agents/rules/*.md with trigger, .agents/mcp_config.json",
    scopes: {
      project: { rules: { dir: ".agents/rules", agentAs: "onDemand", frontmatter: TRIGGER }, mcp: { file: ".agents/mcp_config.json", shape: SERVER_URL_MCP } },
      user: { instructions: { file: ".gemini/GEMINI.md" }, mcp: { file: ".gemini/config/mcp_config.json", shape: SERVER_URL_MCP } },
    },
    detect: {
      binaries: ["agy", "antigravity"],
      configDirs: [".gemini/config", ".gemini/antigravity"],
      install: "install Antigravity: curl -fsSL https://antigravity.google/cli/install.sh | bash",
    },
    notes: ["Antigravity CLI replaced Gemini CLI for individual Google accounts on 2026-06-18"],
    limitations: [
      "paths settled in 2026 and are partly unverified: some sources say .agent/rules/ [?]",
      "${env:VAR} in mcp_config.json is assumed [?]",
      "~/.gemini/GEMINI.md is shared with the gemini-cli target (separate sections)",
    ],
    sources: [
      "tool-formats.md §8.3 (rulesync docs/reference/supported-tools.md; removed docs/guide/geminicli-to-antigravity-cli.md) [2nd]",
      "https://antigravity.google/docs/mcp",
    ],
  },
  {
    id: "devin",
    displayName: "Devin Desktop",
    description: "Devin Desktop (formerly Windsurf): .devin/rules/*.md with trigger, .devin/mcp_config.json",
    scopes: {
      project: { rules: { dir: ".devin/rules", agentAs: "onDemand", frontmatter: TRIGGER }, mcp: { file: ".devin/mcp_config.json", shape: SERVER_URL_MCP } },
      user: { instructions: { file: ".config/devin/AGENTS.md" }, mcp: { file: ".config/devin/mcp_config.json", shape: SERVER_URL_MCP } },
    },
    sizeLimit: { max: 12000, unit: "chars", source: "Windsurf rule limit, assumed unchanged [?]" },
    detect: { binaries: ["devin"], configDirs: [".config/devin"], projectMarkers: [".devin"], install: "install Devin Desktop: https://docs.devin.ai/" },
    notes: ["the 2026 rebrand of Windsurf; the windsurf target keeps writing .windsurf/ for older installs"],
    limitations: ["layout from a secondary source (rulesync devin-paths.ts citing docs.devin.ai) [2nd]"],
    sources: ["tool-formats.md §9", "dyoshikawa/rulesync: src/constants/devin-paths.ts [2nd]"],
  },
  {
    id: "kiro-ide",
    displayName: "Kiro IDE",
    description: "Kiro IDE steering: .kiro/steering/*.md with inclusion always / auto / fileMatch",
    scopes: {
      project: {
        rules: {
          dir: ".kiro/steering",
          agentAs: "onDemand",
          frontmatter: {
            always: { inclusion: "always" },
            onDemand: { inclusion: "auto", name: { from: "name" }, description: { from: "description" } },
            glob: { inclusion: "fileMatch", fileMatchPattern: { from: "globs" } },
          },
        },
      },
      user: {
        rules: {
          dir: ".kiro/steering",
          agentAs: "onDemand",
          frontmatter: {
            always: { inclusion: "always" },
            onDemand: { inclusion: "auto", name: { from: "name" }, description: { from: "description" } },
            glob: { inclusion: "fileMatch", fileMatchPattern: { from: "globs" } },
          },
        },
      },
    },
    detect: { binaries: ["kiro"], configDirs: [".kiro"], install: "install Kiro: https://kiro.dev/downloads/" },
    limitations: [
      "MCP servers: use the kiro-cli target, which writes .kiro/settings/mcp.json (read by the IDE too)",
      "Kiro CLI reads the same .kiro/steering/ files, so these rules also reach kiro-cli sessions (tool-formats.md §0)",
    ],
    sources: ["https://kiro.dev/docs/steering/", "dyoshikawa/rulesync: docs/reference/file-formats.md (kiro inclusion) [2nd]"],
  },
  {
    id: "claude-desktop",
    displayName: "Claude Desktop",
    description: "Claude Desktop app: local MCP servers in claude_desktop_config.json",
    scopes: {
      user: {
        mcp: {
          file: ".config/Claude/claude_desktop_config.json",
          fileByPlatform: {
            darwin: "Library/Application Support/Claude/claude_desktop_config.json",
            win32: "AppData/Roaming/Claude/claude_desktop_config.json",
          },
          shape: { envSyntax: "literal", remote: false, headers: false },
        },
      },
    },
    detect: {
      configDirs: [".config/Claude", "Library/Application Support/Claude", "AppData/Roaming/Claude"],
      install: "install Claude Desktop: https://claude.ai/download",
    },
    limitations: [
      "MCP only: instructions and knowledge go to a Claude project (claude-projects target)",
      "local (stdio) servers only; remote servers are added as connectors in the app",
      "values are literal: ${VAR} references are written as-is",
      "Linux has no official build; ~/.config/Claude is the community builds' path [?]",
    ],
    sources: ["https://modelcontextprotocol.io/quickstart/user", "tool-formats.md §4 and §11.3"],
  },
  {
    id: "firebase-studio",
    displayName: "Firebase Studio",
    description: "Firebase Studio (Project IDX): .idx/airules.md and .idx/mcp.json",
    scopes: { project: { instructions: { file: ".idx/airules.md" }, mcp: { file: ".idx/mcp.json", shape: { ...PLAIN_MCP, envSyntax: "literal" } } } },
    detect: { projectMarkers: [".idx"], install: "open the project in Firebase Studio: https://firebase.studio/" },
    limitations: ["a web IDE: detection only sees the project's .idx folder", "MCP values are literal [?]"],
    sources: ["https://firebase.google.com/docs/studio/set-up-gemini#custom-instructions", "https://firebase.google.com/docs/studio/mcp-servers"],
  },
  {
    id: "crush",
    displayName: "Crush",
    description: "Charm Crush: CRUSH.md and the mcp key of .crush.json",
    scopes: {
      project: {
        instructions: { file: "CRUSH.md" },
        mcp: {
          file: ".crush.json",
          key: ["mcp"],
          shape: { typeValues: { stdio: "stdio", http: "http", sse: "sse" }, envSyntax: "dollar", extras: ["disabled"] },
        },
      },
      user: {
        instructions: { file: ".config/crush/CRUSH.md" },
        mcp: {
          file: ".config/crush/crush.json",
          key: ["mcp"],
          shape: { typeValues: { stdio: "stdio", http: "http", sse: "sse" }, envSyntax: "dollar", extras: ["disabled"] },
        },
      },
    },
    detect: { binaries: ["crush"], configDirs: [".config/crush"], install: "install Crush: https://github.com/charmbracelet/crush#installation" },
    limitations: ["Crush MCP timeouts are in seconds and are not written"],
    sources: ["https://github.com/charmbracelet/crush (README: configuration, MCP)", "dyoshikawa/rulesync: src/constants/crush-paths.ts [2nd]"],
  },
  {
    id: "openhands",
    displayName: "OpenHands",
    description: "OpenHands: the always-loaded repository microagent .openhands/microagents/repo.md",
    scopes: { project: { instructions: { file: ".openhands/microagents/repo.md" } } },
    detect: { binaries: ["openhands"], configDirs: [".openhands"], projectMarkers: [".openhands"], install: "install OpenHands: https://docs.all-hands.dev/" },
    limitations: ["keyword-triggered microagents and MCP (config.toml) are not written", "newer releases also read AGENTS.md [?]"],
    sources: ["https://docs.all-hands.dev/usage/prompting/microagents-repo"],
  },
  {
    id: "factory-droid",
    displayName: "Factory Droid",
    description: "Factory Droid CLI: AGENTS.md, .factory/droids/*.md custom droids and .factory/mcp.json",
    scopes: {
      project: {
        instructions: { file: "AGENTS.md" },
        agents: { dir: ".factory/droids", frontmatter: { name: { from: "name" }, description: { from: "description" } }, modelKey: "model" },
        mcp: { file: ".factory/mcp.json", shape: { typeValues: { stdio: "stdio", http: "http", sse: "sse" }, envSyntax: "braces", extras: ["disabled"] } },
      },
      user: {
        instructions: { file: ".factory/AGENTS.md" },
        agents: { dir: ".factory/droids", frontmatter: { name: { from: "name" }, description: { from: "description" } }, modelKey: "model" },
        mcp: { file: ".factory/mcp.json", shape: { typeValues: { stdio: "stdio", http: "http", sse: "sse" }, envSyntax: "braces", extras: ["disabled"] } },
      },
    },
    detect: { binaries: ["droid"], configDirs: [".factory"], install: "install Droid: https://docs.factory.ai/cli/getting-started/quickstart" },
    limitations: [
      "AGENTS.md is shared with other targets (each in its own section): enable one of them per project",
      "droid tool lists are not written: droids inherit every tool",
    ],
    sources: [
      "https://docs.factory.ai/cli/configuration/agents-md",
      "https://docs.factory.ai/cli/configuration/custom-droids",
      "dyoshikawa/rulesync: src/constants/factorydroid-paths.ts [2nd]",
    ],
  },
  {
    id: "tabnine",
    displayName: "Tabnine",
    description: "Tabnine agent: .tabnine/guidelines/*.md and mcpServers in .tabnine/agent/settings.json",
    scopes: {
      project: { rules: { dir: ".tabnine/guidelines", frontmatter: { always: NONE } }, mcp: { file: ".tabnine/agent/settings.json", shape: GEMINI_MCP } },
      user: { rules: { dir: ".tabnine/guidelines", frontmatter: { always: NONE } }, mcp: { file: ".tabnine/agent/settings.json", shape: GEMINI_MCP } },
    },
    detect: {
      binaries: ["tabnine"],
      configDirs: [".tabnine"],
      vscodeExtensions: ["TabNine.tabnine-vscode"],
      install: "install Tabnine: https://www.tabnine.com/install",
    },
    limitations: [
      "guidelines are always on",
      "the Tabnine CLI reads TABNINE.md, not the guidelines folder [2nd]",
      "settings.json shape follows Gemini CLI (httpUrl) [2nd]",
    ],
    sources: ["https://docs.tabnine.com/main/getting-started/tabnine-agent/guidelines", "dyoshikawa/rulesync: src/constants/tabnine-paths.ts [2nd]"],
  },
  {
    id: "rovodev",
    displayName: "Atlassian Rovo Dev CLI",
    description: "Rovo Dev CLI: AGENTS.md and ~/.rovodev/mcp.json",
    scopes: {
      project: { instructions: { file: "AGENTS.md" } },
      user: { instructions: { file: ".rovodev/AGENTS.md" }, mcp: { file: ".rovodev/mcp.json", shape: PLAIN_MCP } },
    },
    detect: {
      binaries: ["acli"],
      configDirs: [".rovodev"],
      install: "install the Atlassian CLI and run 'acli rovodev': https://support.atlassian.com/rovo/docs/install-and-run-rovo-dev-cli-on-your-device/",
    },
    limitations: [
      "AGENTS.md is shared with other targets (each in its own section): enable one of them per project",
      "paths from a secondary source [2nd]; ${VAR} expansion assumed [?]",
    ],
    sources: ["https://support.atlassian.com/rovo/docs/rovo-dev-cli-commands/", "dyoshikawa/rulesync: src/constants/rovodev-paths.ts [2nd]"],
  },
  {
    id: "codebuddy",
    displayName: "CodeBuddy Code",
    description: "Tencent CodeBuddy Code CLI: CODEBUDDY.md memory file",
    scopes: { project: { instructions: { file: "CODEBUDDY.md" } }, user: { instructions: { file: ".codebuddy/CODEBUDDY.md" } } },
    detect: { binaries: ["codebuddy"], configDirs: [".codebuddy"], install: "install CodeBuddy Code: https://www.codebuddy.ai/" },
    limitations: ["memory file only; MCP is not written", "the file names CODEBUDDY.md and ~/.codebuddy/CODEBUDDY.md are unverified [?]"],
    sources: ["dyoshikawa/rulesync: docs/reference/supported-tools.md (CodeBuddy Code: rules, project and global) [2nd]"],
  },
];
