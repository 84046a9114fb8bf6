// `aicfg new agent <name> [--from TEMPLATE] [--set key=value]`: a new agent file from a template.
// Placeholders without a --set value are asked for on a terminal (the default shown, Enter takes
// it) and filled with that default elsewhere (pipes, CI, --json), saying which.
import { lstatSync, readFileSync, rmSync } from "node:fs";
import { relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { loadLibrary, readAgentFile } from "../../../library/load.ts";
import { ConfigError, type Diagnostic } from "../../../library/diagnostics.ts";
import { Slug } from "../../../library/schema.ts";
import { safeName } from "../../../library/paths.ts";
import { writeLibraryFile } from "../../../adapters/library-writer.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { printDiagnostics } from "../format.ts";
import { LIBRARY_OPTION, libraryDir } from "../options.ts";

const DEFAULT_TEMPLATE = `---
description: "{{description}}"
---
# Role

You are {{role}}. {{description}}.
`;

export const newCommand: Command = {
  name: "new agent",
  summary: "create an agent from a template ({{placeholders}} filled from --set, asked for, or defaulted)",
  usage: "aicfg new agent <name> [--from TEMPLATE] [--set key=value]... [--library DIR] [--force]",
  description:
    "Placeholders: {{name}} is the agent name; every other {{key}} takes --set key=value. On a terminal aicfg asks for each missing value " +
    "(Enter keeps the default shown); otherwise (a pipe, CI, --json) it uses the defaults and says which, so you can edit the file after.",
  options: {
    ...LIBRARY_OPTION,
    from: { type: "string", valueName: "template", description: "a template from templates/ (default: a minimal agent)" },
    set: { type: "string", multiple: true, valueName: "key=value", description: "a placeholder value" },
    force: { type: "boolean", description: "replace an existing agent file" },
    json: COMMON_OPTIONS.json,
  },
  examples: [
    'aicfg new agent api-helper --set description="Answers questions about our API" --set role="an API expert"',
    "aicfg new agent qa --from basic-assistant --set description='Tests releases' --set role='a QA engineer'",
  ],
  run: async (args, io) => {
    const name = args.positionals[0];
    if (!name || !Slug.safeParse(name).success) {
      throw new ConfigError("usage", name ? `'${name}' is not a valid agent name` : "which name? e.g. 'aicfg new agent code-reviewer'", {
        hint: "use a lowercase slug such as code-reviewer",
      });
    }
    safeName(name, "agent name");
    const dir = libraryDir(args, io);
    const lib = loadLibrary(dir);
    let template = DEFAULT_TEMPLATE;
    const from = args.values.from as string | undefined;
    if (from) {
      const t = lib.templates.get(from);
      if (!t)
        throw new ConfigError("template-not-found", `no template named '${from}'`, {
          hint: lib.templates.size ? `templates: ${[...lib.templates.keys()].sort().join(", ")}` : "add templates/<name>.md to the library",
        });
      template = readFileSync(t.file, "utf8");
    }
    const values: Record<string, string> = { name };
    for (const kv of (args.values.set as string[] | undefined) ?? []) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new ConfigError("usage", `--set takes key=value, not '${kv}'`);
      values[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const missing = [...new Set([...template.matchAll(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g)].map((m) => m[1]!))].filter((k) => values[k] === undefined);
    const defaults = Object.fromEntries(missing.map((k) => [k, placeholderDefault(k, name)]));
    const interactive = missing.length > 0 && io.tty && !args.values.json && process.stdin.isTTY === true;
    const defaulted: Record<string, string> = {};
    if (interactive) {
      io.err(`The template '${from ?? "default"}' needs ${missing.length} value(s); press Enter to keep the default in brackets.`);
      Object.assign(values, await promptValues(missing, defaults, process.stdin, process.stderr));
    } else {
      Object.assign(values, defaults);
      Object.assign(defaulted, defaults);
    }
    // Values are inserted as YAML-safe text: quotes and newlines are escaped inside the frontmatter.
    const [fm, ...rest] = template.split(/^---\s*$/m).slice(1);
    const fill = (s: string, yaml: boolean) =>
      s.replace(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g, (_m, k: string) => (yaml ? JSON.stringify(values[k]).slice(1, -1) : values[k]!));
    const text = fm === undefined ? fill(template, false) : `---${fill(fm, true)}---${fill(rest.join("---"), false)}`;
    const outcome = writeLibraryFile(dir, `agents/${name}.md`, text, args.values.force === true);
    if (outcome.action === "skipped") throw new ConfigError("exists", `agents/${name}.md ${outcome.reason}`, { file: outcome.path });
    const ds: Diagnostic[] = [];
    const src = readAgentFile(outcome.path, lstatSync(outcome.path), lib.manifest.name, ds);
    if (!src) {
      if (outcome.action === "created") rmSync(outcome.path);
      const message = "the template produced an invalid agent; nothing was written";
      if (args.values.json)
        io.out(
          JSON.stringify(
            { ok: false, error: { code: "invalid-agent", message, hint: "fix the template or the --set values", details: { diagnostics: ds } } },
            null,
            2,
          ),
        );
      else {
        printDiagnostics(io, ds);
        io.err("The template produced an invalid agent; nothing was written. Fix the template or the --set values.");
      }
      return EXIT.failure;
    }
    const shown = relative(io.cwd, outcome.path) || outcome.path;
    if (args.values.json) io.out(JSON.stringify({ ok: true, path: outcome.path, name, defaults: defaulted }, null, 2));
    else {
      const used = Object.entries(defaulted);
      if (used.length) {
        io.err(`Used defaults (not a terminal, so nothing was asked): ${used.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}.`);
        io.err(`Edit ${shown}, or pass ${used.map(([k]) => `--set ${k}=...`).join(" ")} with --force to replace it.`);
      }
      io.out(`Created ${shown}. Edit it, then run 'aicfg validate' and 'aicfg export'.`);
    }
    return EXIT.ok;
  },
};

/** The value a placeholder gets when nobody says otherwise: readable, valid, and easy to spot and edit. */
export function placeholderDefault(key: string, agentName: string): string {
  const words = agentName.replace(/-/g, " ");
  if (key === "description") return `${words.charAt(0).toUpperCase()}${words.slice(1)} agent`;
  if (key === "role") return `the ${words} agent`;
  return `<${key}>`;
}

/**
 * Asks for each key on `output`, reading answers from `input`; an empty answer keeps the default.
 * Takes the streams so a test can drive it; the command passes the terminal's stdin and stderr.
 */
export async function promptValues(
  keys: readonly string[],
  defaults: Record<string, string>,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<Record<string, string>> {
  // Lines are read through the interface's iterator, which buffers them: answers typed (or piped)
  // ahead of their question are kept, and an input that ends early (Ctrl-D) keeps the defaults.
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const answers: Record<string, string> = {};
  let ended = false;
  try {
    for (const key of keys) {
      const fallback = defaults[key] ?? "";
      if (!ended) {
        output.write(`${key} [${fallback}]: `);
        const next = await lines.next();
        ended = next.done === true;
        const answer = ended ? "" : String(next.value).trim();
        answers[key] = answer === "" ? fallback : answer;
        if (ended) output.write("\n");
      } else answers[key] = fallback;
    }
  } finally {
    rl.close();
  }
  return answers;
}
