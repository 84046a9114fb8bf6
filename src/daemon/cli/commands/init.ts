// `aicfg init [DIR]`: a new, valid library skeleton with one example agent.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeLibraryFile, type WriteOutcome } from "../../../adapters/library-writer.ts";
import { listAdapters } from "../../../adapters/registry.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { listOption } from "../options.ts";

export const initCommand: Command = {
  name: "init",
  summary: "create a new library (aicfg.yaml, agents/, knowledge/, mcp/, templates/)",
  usage: "aicfg init [DIR] [--name NAME] [--targets ids]",
  options: {
    name: { type: "string", description: "library name (default: the folder name)" },
    targets: { type: "string", valueName: "ids", description: "default targets (default: claude-code,kiro-cli)" },
    scope: { type: "string", valueName: "user|project", description: "where exports go: your home's tool folders (user, default) or a project" },
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg init my-library", "aicfg init . --targets claude-code,cursor,copilot"],
  run: async (args, io) => {
    const dir = resolve(io.cwd, args.positionals[0] ?? ".");
    const targets = listOption(args.values.targets) ?? ["claude-code", "kiro-cli"];
    const known = new Set(listAdapters().map((a) => a.id));
    const unknown = targets.filter((t) => !known.has(t));
    if (unknown.length) throw new ConfigError("usage", `unknown target(s): ${unknown.join(", ")}`, { hint: "list them with 'aicfg targets'" });
    const name = (args.values.name as string | undefined) ?? dir.split("/").pop() ?? "library";
    const scope = (args.values.scope as string | undefined) ?? "user";
    if (scope !== "user" && scope !== "project") throw new ConfigError("usage", `--scope must be 'user' or 'project', not '${scope}'`);
    const files: [string, string][] = [
      [
        "aicfg.yaml",
        `name: ${JSON.stringify(name)}\ntargets: [${targets.join(", ")}]\nexport:\n  scope: ${scope}${scope === "project" ? "\n  root: ..   # the project this library lives in" : ""}\n`,
      ],
      [
        "agents/assistant.md",
        "---\ndescription: A helpful assistant that follows the team's policies\nknowledge:\n  - policies.md\n---\n# Role\n\nYou are a helpful assistant for this team. Follow the policies in your knowledge files.\n",
      ],
      ["knowledge/policies.md", "# Policies\n\n- Write down the team's rules here; every agent that lists this file gets them.\n"],
      ["mcp/fetch.yaml", "description: Fetch web pages as markdown\ncommand: uvx\nargs: [mcp-server-fetch]\n"],
      ["templates/assistant.md", '---\ndescription: "{{description}}"\n---\n# Role\n\nYou are {{role}}.\n'],
      [
        "workflows/export-on-change.yaml",
        "# What `aicfg daemon` (or `aicfg service install`) runs for this library: export at start-up and\n" +
          "# whenever an agent, knowledge file or MCP server changes.\n" +
          "name: export-on-change\ndescription: Validate and export when the library changes\non:\n" +
          '  watch:\n    paths: ["agents/**", "knowledge/**", "mcp/**", "skills/**", "commands/**", "aicfg.yaml"]\n    debounce: 300ms\n    initial: true\n' +
          "concurrency: { group: export, overlap: buffer_one }\nsteps:\n  - uses: validate\n  - uses: export\n    retry: { attempts: 3, backoff: exponential, delay: 1s }\n",
      ],
    ];
    // Checked before anything is written: an existing library gets no sample files added to it.
    if (existsSync(join(dir, "aicfg.yaml"))) throw new ConfigError("exists", `${dir} already has an aicfg.yaml`, { hint: "edit it, or choose another folder" });
    const written: WriteOutcome[] = files.map(([rel, content]) => writeLibraryFile(dir, rel, content));
    if (written[0]!.action === "skipped") throw new ConfigError("exists", `${dir} already has an aicfg.yaml`, { hint: "edit it, or choose another folder" });
    if (args.values.json) io.out(JSON.stringify({ ok: true, library: dir, files: written }, null, 2));
    else {
      for (const w of written) io.out(`  ${w.action.padEnd(8)} ${w.path}`);
      io.out(`Library '${name}' created (exports to ${scope === "user" ? "your home's tool folders" : "the project above it"}).`);
      io.out(
        `Next: aicfg export --library ${args.positionals[0] ?? "."} --dry-run, then 'aicfg service install --library ${args.positionals[0] ?? "."}' to keep it exported.`,
      );
    }
    return EXIT.ok;
  },
};
