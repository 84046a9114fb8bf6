// `aicfg new agent <name> [--from TEMPLATE] [--set key=value]`: a new agent file from a template.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { loadLibrary, readAgentFile } from "../../../library/load.ts";
import { ConfigError, type Diagnostic } from "../../../library/diagnostics.ts";
import { Slug } from "../../../library/schema.ts";
import { safeName } from "../../../library/paths.ts";
import { writeLibraryFile } from "../../../adapters/library-writer.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { printDiagnostics } from "../format.ts";
import { LIBRARY_OPTION, libraryDir } from "../options.ts";
import { lstatSync, rmSync } from "node:fs";

const DEFAULT_TEMPLATE = `---
description: "{{description}}"
---
# Role

You are {{role}}. {{description}}.
`;

export const newCommand: Command = {
  name: "new agent",
  summary: "create an agent from a template ({{placeholders}} filled from --set)",
  usage: "aicfg new agent <name> [--from TEMPLATE] [--set key=value]... [--library DIR] [--force]",
  description: "Placeholders: {{name}} is the agent name; every other {{key}} needs --set key=value (or is asked for in the error).",
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
      throw new ConfigError("usage", name ? `'${name}' is not a valid agent name` : "which name? e.g. 'aicfg new agent code-reviewer'", { hint: "use a lowercase slug such as code-reviewer" });
    }
    safeName(name, "agent name");
    const dir = libraryDir(args, io);
    const lib = loadLibrary(dir);
    let template = DEFAULT_TEMPLATE;
    const from = args.values.from as string | undefined;
    if (from) {
      const t = lib.templates.get(from);
      if (!t) throw new ConfigError("template-not-found", `no template named '${from}'`, { hint: lib.templates.size ? `templates: ${[...lib.templates.keys()].sort().join(", ")}` : "add templates/<name>.md to the library" });
      template = readFileSync(t.file, "utf8");
    }
    const values: Record<string, string> = { name };
    for (const kv of (args.values.set as string[] | undefined) ?? []) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new ConfigError("usage", `--set takes key=value, not '${kv}'`);
      values[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const missing = [...new Set([...template.matchAll(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g)].map((m) => m[1]!))].filter((k) => values[k] === undefined);
    if (missing.length) {
      throw new ConfigError("usage", `the template needs values for: ${missing.join(", ")}`, { hint: missing.map((k) => `--set ${k}=...`).join(" ") });
    }
    // Values are inserted as YAML-safe text: quotes and newlines are escaped inside the frontmatter.
    const [fm, ...rest] = template.split(/^---\s*$/m).slice(1);
    const fill = (s: string, yaml: boolean) => s.replace(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g, (_m, k: string) => (yaml ? JSON.stringify(values[k]).slice(1, -1) : values[k]!));
    const text = fm === undefined ? fill(template, false) : `---${fill(fm, true)}---${fill(rest.join("---"), false)}`;
    const outcome = writeLibraryFile(dir, `agents/${name}.md`, text, args.values.force === true);
    if (outcome.action === "skipped") throw new ConfigError("exists", `agents/${name}.md ${outcome.reason}`, { file: outcome.path });
    const ds: Diagnostic[] = [];
    const src = readAgentFile(outcome.path, lstatSync(outcome.path), lib.manifest.name, ds);
    if (!src) {
      if (outcome.action === "created") rmSync(outcome.path);
      printDiagnostics(io, ds);
      io.err("The template produced an invalid agent; nothing was written. Fix the template or the --set values.");
      return EXIT.failure;
    }
    if (args.values.json) io.out(JSON.stringify({ ok: true, path: outcome.path, name }, null, 2));
    else io.out(`Created ${relative(io.cwd, outcome.path)}. Edit it, then run 'aicfg validate' and 'aicfg export'.`);
    return EXIT.ok;
  },
};
