// Where each AI tool reads library skills, commands (reusable prompts / slash commands) and ignore
// patterns, per scope, and how it wants a command written. Data only: renderExtras interprets it.
// Every entry names its source; `[2nd]` marks a secondary source, `[?]` a point not verified on a
// real install. Paths are relative to the project root (project scope) or the home folder (user scope).

/** The universal command fields a tool's command file can hold, mapped to the tool's own key. */
export type CommandField = "description" | "argument-hint" | "model";

export type CommandFormat = {
  /** Folder holding one file per command. */
  dir: string;
  /** File name is `<command name><suffix>`. */
  suffix: ".md" | ".prompt.md" | ".toml";
  /**
   * `markdown`: YAML frontmatter (only when a field is mapped) and the body.
   * `toml`: Gemini-style TOML with the body in `prompt` and the mapped fields as keys.
   */
  syntax: "markdown" | "toml";
  /** Universal field -> native key. A field not listed cannot be written to this tool. */
  fields: Partial<Record<CommandField, string>>;
  /**
   * How the universal placeholders are written. `all` replaces `$ARGUMENTS`; `positional` replaces
   * `$1`..`$9`, with `{n}` standing for the 1-based and `{i}` for the 0-based position (so the
   * plain string "${n}" means `$1`, `$2`, ...). Absent:
   * the tool cannot express it (the text is kept as written and a warning names the tool).
   */
  placeholders: { all?: string; positional?: string };
  /** Largest command file the tool loads, in characters. */
  maxChars?: number;
};

export type ExtrasLayout = {
  /** Folder holding `<skill name>/SKILL.md` and its companion files. */
  skills?: string;
  commands?: CommandFormat;
  /** A gitignore-style file; aicfg owns one marked block in it. */
  ignore?: string;
};

export type ExtrasTarget = {
  id: string;
  displayName: string;
  project?: ExtrasLayout;
  user?: ExtrasLayout;
  /** Why ignore patterns are not written although the tool has an equivalent (claude-code). */
  ignoreInstead?: string;
  /** Known limits of what is written, for `aicfg targets` and the README. */
  notes: string[];
  sources: string[];
};

/** Markdown frontmatter with all three fields, Claude-Code style. */
const CLAUDE_STYLE_FIELDS = { description: "description", "argument-hint": "argument-hint", model: "model" } as const;
const GEMINI_TOML = (dir: string): CommandFormat => ({
  dir,
  suffix: ".toml",
  syntax: "toml",
  fields: { description: "description" },
  placeholders: { all: "{{args}}" },
});
/** A plain Markdown prompt file: no frontmatter, no argument substitution. */
const PLAIN_PROMPT = (dir: string): CommandFormat => ({ dir, suffix: ".md", syntax: "markdown", fields: {}, placeholders: {} });
/** A Cascade-style workflow: `description` frontmatter, no argument substitution. */
const WORKFLOW = (dir: string, maxChars?: number): CommandFormat => ({
  dir,
  suffix: ".md",
  syntax: "markdown",
  fields: { description: "description" },
  placeholders: {},
  ...(maxChars === undefined ? {} : { maxChars }),
});

export const EXTRAS_TARGETS: readonly ExtrasTarget[] = [
  {
    id: "claude-code",
    displayName: "Claude Code",
    project: {
      skills: ".claude/skills",
      commands: {
        dir: ".claude/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: CLAUDE_STYLE_FIELDS,
        placeholders: { all: "$ARGUMENTS", positional: "$ARGUMENTS[{i}]" },
      },
    },
    user: {
      skills: ".claude/skills",
      commands: {
        dir: ".claude/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: CLAUDE_STYLE_FIELDS,
        placeholders: { all: "$ARGUMENTS", positional: "$ARGUMENTS[{i}]" },
      },
    },
    ignoreInstead:
      "Claude Code has no ignore file; its equivalent is permissions.deny Read(...) rules in .claude/settings.json, and the claude-code target already owns permissions.deny there (the agents' tool denials), so aicfg does not add to it",
    notes: [
      "commands are written to .claude/commands (still read; a skill of the same name takes precedence)",
      "positional arguments become $ARGUMENTS[0], $ARGUMENTS[1], ...: Claude Code counts $N from 0 since 2026, so the universal 1-based $1 is not written as $1 [2nd][?]",
      "ignore patterns are not written: add Read(...) deny rules to .claude/settings.local.json yourself",
    ],
    sources: [
      "thevibeworks/claude-code-docs: content/en/docs/claude-code/skills.md (.claude/skills, ~/.claude/skills; name <= 64, description <= 1024)",
      "tool-formats.md §3.1, §3.5, §3.6 (legacy .claude/commands; permissions Read(...) rules)",
      "$ARGUMENTS, $ARGUMENTS[N], $N 0-based: Claude Code skills docs as quoted by several public skill guides [2nd]",
    ],
  },
  {
    id: "codex",
    displayName: "Codex CLI",
    project: { skills: ".agents/skills" },
    user: {
      skills: ".agents/skills",
      commands: {
        dir: ".codex/prompts",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", "argument-hint": "argument-hint" },
        placeholders: { all: "$ARGUMENTS", positional: "${n}" },
      },
    },
    notes: [
      "commands are custom prompts in ~/.codex/prompts (user scope only, deprecated by OpenAI in favour of skills; invoked as /prompts:<name>)",
      "a custom CODEX_HOME is not followed: prompts go to ~/.codex/prompts",
    ],
    sources: [
      "https://developers.openai.com/codex/custom-prompts ($1-$9, $ARGUMENTS, description, argument-hint; deprecated)",
      "openai/codex: docs/prompts.md",
      "tool-formats.md §5.4 (skills in .agents/skills and ~/.agents/skills)",
    ],
  },
  {
    id: "copilot",
    displayName: "GitHub Copilot",
    project: {
      skills: ".github/skills",
      commands: {
        dir: ".github/prompts",
        suffix: ".prompt.md",
        syntax: "markdown",
        fields: CLAUDE_STYLE_FIELDS,
        placeholders: { all: "${input:args}", positional: "${input:arg{n}}" },
      },
    },
    user: { skills: ".copilot/skills" },
    notes: [
      "commands are VS Code prompt files; arguments become ${input:args} / ${input:arg1} input variables, which VS Code asks for or takes from the chat input [?]",
      "user prompt files live in the VS Code profile folder, which has no fixed path: commands are exported in project scope only",
    ],
    sources: [
      "microsoft/vscode-docs: docs/copilot/customization/prompt-files.md (.github/prompts/*.prompt.md; description, argument-hint, model; ${input:name})",
      "microsoft/vscode-docs: docs/copilot/customization/agent-skills.md (.github/skills, ~/.copilot/skills) via tool-formats.md §6.4",
    ],
  },
  {
    id: "cursor",
    displayName: "Cursor",
    project: { skills: ".cursor/skills", commands: PLAIN_PROMPT(".cursor/commands"), ignore: ".cursorignore" },
    user: { skills: ".cursor/skills", commands: PLAIN_PROMPT(".cursor/commands") },
    notes: [
      "commands are plain Markdown (Cursor reads no frontmatter and substitutes no placeholders; text typed after the command is sent with it)",
      "skills folder from a secondary source [2nd]",
      "the global ignore list lives in Cursor's settings, not a file: ignore patterns are exported in project scope only",
    ],
    sources: [
      "https://cursor.com/docs/context/ignore-files (.cursorignore)",
      "Cursor 1.6 custom commands: .cursor/commands, ~/.cursor/commands (microsoft/apm PR #1046; Terry-Mathew/cursor-commands) [2nd]",
      "dyoshikawa/rulesync: src/constants/cursor-paths.ts (.cursor/skills) [2nd]",
    ],
  },
  {
    id: "gemini-cli",
    displayName: "Gemini CLI",
    project: { skills: ".gemini/skills", commands: GEMINI_TOML(".gemini/commands"), ignore: ".geminiignore" },
    user: { skills: ".gemini/skills", commands: GEMINI_TOML(".gemini/commands") },
    notes: ["commands are TOML (description, prompt); only {{args}} exists, so positional $1..$9 cannot be expressed", "the ignore file is per project only"],
    sources: [
      "google-gemini/gemini-cli: docs/cli/custom-commands.md (.gemini/commands/*.toml, {{args}}, args appended when absent)",
      "google-gemini/gemini-cli: docs/cli/skills.md, docs/cli/gemini-ignore.md",
    ],
  },
  {
    id: "kiro-cli",
    displayName: "Kiro CLI",
    project: { skills: ".kiro/skills", commands: PLAIN_PROMPT(".kiro/prompts"), ignore: ".kiroignore" },
    user: { skills: ".kiro/skills", commands: PLAIN_PROMPT(".kiro/prompts"), ignore: ".kiro/settings/kiroignore" },
    notes: [
      "commands are file prompts (@name); Kiro passes no arguments to file prompts",
      "a custom agent sees the skills only when its resources name them: add skill://.kiro/skills/**/SKILL.md to extensions.kiro-cli.resources [?]",
      "the user-scope ignore file ~/.kiro/settings/kiroignore comes from a secondary source [2nd]",
    ],
    sources: [
      "https://kiro.dev/docs/cli/chat/manage-prompts/ (.kiro/prompts, ~/.kiro/prompts; file prompts take no arguments)",
      "github/spec-kit issue #1926 ($ARGUMENTS not substituted in Kiro file prompts) [2nd]",
      "tool-formats.md §2.2 (skills, .kiroignore; rulesync src/constants/kiro-paths.ts [2nd])",
    ],
  },
  {
    id: "kiro-ide",
    displayName: "Kiro IDE",
    project: { skills: ".kiro/skills", commands: PLAIN_PROMPT(".kiro/prompts"), ignore: ".kiroignore" },
    user: { skills: ".kiro/skills", commands: PLAIN_PROMPT(".kiro/prompts"), ignore: ".kiro/settings/kiroignore" },
    notes: ["shares .kiro/skills, .kiro/prompts and .kiroignore with the kiro-cli target (same files; the ignore file gets one block per target)"],
    sources: [
      "dyoshikawa/rulesync: docs/reference/supported-tools.md (Kiro CLI and IDE share prompts, skills, .kiroignore) [2nd]",
      "https://kiro.dev/docs (Agent Skills, Kiroignore)",
    ],
  },
  {
    id: "q-cli",
    displayName: "Amazon Q Developer CLI",
    project: { commands: PLAIN_PROMPT(".amazonq/prompts") },
    user: { commands: PLAIN_PROMPT(".aws/amazonq/prompts") },
    notes: ["commands are file prompts (@name) without arguments; Q CLI has no skills and no ignore file"],
    sources: [
      "aws/amazon-q-developer-cli: prompts (workspace .amazonq/prompts, global ~/.aws/amazonq/prompts) via the Kiro CLI prompt docs, which kept the design [?]",
    ],
  },
  {
    id: "windsurf",
    displayName: "Windsurf",
    project: { skills: ".windsurf/skills", commands: WORKFLOW(".windsurf/workflows", 12_000), ignore: ".codeiumignore" },
    user: { skills: ".codeium/windsurf/skills", commands: WORKFLOW(".codeium/windsurf/global_workflows", 12_000), ignore: ".codeium/.codeiumignore" },
    notes: [
      "commands are Cascade workflows (/name); workflows take no arguments",
      "a workflow file holds at most 12,000 characters [?]",
      "user-scope folders (skills, global_workflows, ~/.codeium/.codeiumignore) come from secondary sources [2nd]",
    ],
    sources: [
      "https://docs.windsurf.com/windsurf/cascade/workflows (.windsurf/workflows, /name, manual only)",
      "https://docs.windsurf.com/windsurf/cascade/skills",
      "https://docs.windsurf.com/context-awareness/windsurf-ignore (.codeiumignore)",
      "git.lambwire.net/john/claude-engineering-plugin: docs/specs/windsurf.md (global_workflows, ~/.codeium/windsurf/skills) [2nd]",
    ],
  },
  {
    id: "devin",
    displayName: "Devin Desktop",
    project: { skills: ".devin/skills", ignore: ".devinignore" },
    notes: ["project scope only; paths from a secondary source [2nd]"],
    sources: ["tool-formats.md §9 (rulesync src/constants/devin-paths.ts, citing docs.devin.ai) [2nd]"],
  },
  {
    id: "cline",
    displayName: "Cline",
    project: { skills: ".cline/skills", commands: PLAIN_PROMPT(".clinerules/workflows"), ignore: ".clineignore" },
    user: { commands: PLAIN_PROMPT("Documents/Cline/Workflows") },
    notes: [
      "commands are Cline workflows (/name.md); workflows take no arguments",
      "skills folder from a secondary source [2nd]; the global workflows folder is assumed to sit next to ~/Documents/Cline/Rules [?]",
    ],
    sources: [
      "https://docs.cline.bot/features/slash-commands/workflows (.clinerules/workflows)",
      "https://docs.cline.bot/features/clineignore (.clineignore)",
      "tool-formats.md §10 (rulesync: .cline/skills) [2nd]",
    ],
  },
  {
    id: "antigravity",
    displayName: "Google Antigravity",
    project: { skills: ".agents/skills", commands: WORKFLOW(".agents/workflows") },
    user: { skills: ".gemini/config/skills", commands: WORKFLOW(".gemini/antigravity/global_workflows") },
    notes: ["commands are workflows (/name) without arguments; all paths from secondary sources, settled in 2026 [2nd][?]"],
    sources: [
      "dyoshikawa/rulesync: docs/reference/supported-tools.md (Antigravity .agents/workflows, ~/.gemini/antigravity/global_workflows, ~/.gemini/config/skills) [2nd]",
      "https://antigravity.google/docs/skills",
    ],
  },
  {
    id: "opencode",
    displayName: "OpenCode",
    project: {
      commands: {
        dir: ".opencode/command",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", model: "model" },
        placeholders: { all: "$ARGUMENTS", positional: "${n}" },
      },
    },
    user: {
      commands: {
        dir: ".config/opencode/command",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", model: "model" },
        placeholders: { all: "$ARGUMENTS", positional: "${n}" },
      },
    },
    notes: ["argument-hint has no OpenCode equivalent", "model ids are OpenCode's provider/model form"],
    sources: [
      "https://opencode.ai/docs/commands/ ($ARGUMENTS, $1.., description, agent, model)",
      "learnopencode.com 5.4 (.opencode/command, ~/.config/opencode/command) [2nd]",
    ],
  },
  {
    id: "qwen-code",
    displayName: "Qwen Code",
    project: { skills: ".qwen/skills", commands: GEMINI_TOML(".qwen/commands"), ignore: ".qwenignore" },
    user: { skills: ".qwen/skills", commands: GEMINI_TOML(".qwen/commands") },
    notes: ["a Gemini CLI fork: TOML commands with {{args}} only [2nd]"],
    sources: [
      "QwenLM/qwen-code: packages/core/src/services/fileDiscoveryService.ts (.qwenignore)",
      "dyoshikawa/rulesync: src/constants/qwencode-paths.ts [2nd]",
    ],
  },
  {
    id: "factory-droid",
    displayName: "Factory Droid",
    project: {
      skills: ".factory/skills",
      commands: {
        dir: ".factory/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", "argument-hint": "argument-hint" },
        placeholders: { all: "$ARGUMENTS" },
      },
    },
    user: {
      skills: ".factory/skills",
      commands: {
        dir: ".factory/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", "argument-hint": "argument-hint" },
        placeholders: { all: "$ARGUMENTS" },
      },
    },
    notes: ["Droid documents $ARGUMENTS only; skills folder from a secondary source [2nd]"],
    sources: [
      "https://docs.factory.ai/cli/configuration/custom-slash-commands (.factory/commands, ~/.factory/commands, description, argument-hint, $ARGUMENTS)",
      "dyoshikawa/rulesync: src/constants/factorydroid-paths.ts [2nd]",
    ],
  },
  {
    id: "augment",
    displayName: "Augment Code",
    project: {
      commands: { dir: ".augment/commands", suffix: ".md", syntax: "markdown", fields: CLAUDE_STYLE_FIELDS, placeholders: {} },
      ignore: ".augmentignore",
    },
    user: { commands: { dir: ".augment/commands", suffix: ".md", syntax: "markdown", fields: CLAUDE_STYLE_FIELDS, placeholders: {} } },
    notes: ["no argument substitution is documented for Augment commands [?]"],
    sources: [
      "https://docs.augmentcode.com/using-augment/custom-commands (.augment/commands, ~/.augment/commands)",
      "https://docs.augmentcode.com/setup-augment/workspace-indexing (.augmentignore)",
    ],
  },
  {
    id: "roo",
    displayName: "Roo Code",
    project: {
      commands: {
        dir: ".roo/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", "argument-hint": "argument-hint" },
        placeholders: {},
      },
      ignore: ".rooignore",
    },
    user: {
      commands: {
        dir: ".roo/commands",
        suffix: ".md",
        syntax: "markdown",
        fields: { description: "description", "argument-hint": "argument-hint" },
        placeholders: {},
      },
    },
    notes: ["Roo Code reached end of life in 2026 (Zoo Code reads the same .roo tree) [2nd]"],
    sources: ["https://docs.roocode.com/features/slash-commands", "https://docs.roocode.com/features/rooignore"],
  },
  {
    id: "kilo-code",
    displayName: "Kilo Code",
    project: { commands: PLAIN_PROMPT(".kilocode/workflows"), ignore: ".kilocodeignore" },
    notes: ["commands are workflows without arguments; project scope only [2nd]"],
    sources: ["dyoshikawa/rulesync: src/constants/kilo-paths.ts [2nd]", "https://kilocode.ai/docs"],
  },
  {
    id: "aider",
    displayName: "Aider",
    project: { ignore: ".aiderignore" },
    notes: ["only ignore patterns: Aider has no skills or reusable commands"],
    sources: ["https://aider.chat/docs/config/options.html (--aiderignore, default .aiderignore)"],
  },
  {
    id: "jetbrains-ai",
    displayName: "JetBrains AI Assistant",
    project: { ignore: ".aiignore" },
    notes: ["shares .aiignore with the junie target (one block per target)"],
    sources: [
      "https://www.jetbrains.com/help/ai-assistant/disable-ai-assistant.html (.aiignore)",
      "dyoshikawa/rulesync: src/constants/aiassistant-paths.ts [2nd]",
    ],
  },
  {
    id: "junie",
    displayName: "JetBrains Junie",
    project: { ignore: ".aiignore" },
    notes: ["shares .aiignore with the jetbrains-ai target (one block per target) [2nd]"],
    sources: ["dyoshikawa/rulesync: src/constants/junie-paths.ts [2nd]"],
  },
  {
    id: "firebase-studio",
    displayName: "Firebase Studio",
    project: { ignore: ".aiexclude" },
    notes: [".aiexclude uses gitignore syntax with small differences (for example, an empty file excludes nothing) [?]"],
    sources: [
      "https://firebase.google.com/docs/studio/set-up-gemini (.aiexclude)",
      "https://developers.google.com/gemini-code-assist/docs/create-aiexclude-file",
    ],
  },
];

export function extrasTarget(id: string): ExtrasTarget | undefined {
  return EXTRAS_TARGETS.find((t) => t.id === id);
}
