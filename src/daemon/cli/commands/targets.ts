// `aicfg targets [--matrix]`: every export target with its scopes and paths, or the capability
// table (agent feature x tool) that says what each tool can express.
import { homedir } from "node:os";
import { effectiveCapabilities, effectiveLocations, listAdapters } from "../../../adapters/registry.ts";
import { CAPABILITIES, type Support } from "../../../adapters/types.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint } from "../format.ts";

const CAP_LABEL: Record<(typeof CAPABILITIES)[number], string> = {
  instructions: "instr",
  "knowledge-always": "know",
  "knowledge-on-demand": "k-dem",
  "mcp-stdio": "stdio",
  "mcp-http": "http",
  "tools-allow": "allow",
  "tools-deny": "deny",
  "tool-settings": "tset",
  hooks: "hooks",
  model: "model",
  skills: "skill",
  commands: "cmds",
  ignore: "ignor",
};

export const targetsCommand: Command = {
  name: "targets",
  summary: "list export targets, their paths, scopes and limits (--matrix: what each can express)",
  usage: "aicfg targets [--matrix] [--json]",
  options: {
    matrix: { type: "boolean", short: "m", description: "print the capability table (agent feature x tool)" },
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg targets", "aicfg targets --matrix", "aicfg targets --json | jq '.[] | select(.scopes | index(\"user\"))'"],
  positionals: false,
  run: async (args, io) => {
    const adapters = listAdapters();
    const roots = { projectRoot: ".", homeDir: "~" };
    const where = (scope: "project" | "user") => (a: (typeof adapters)[number]) =>
      a.scopes.includes(scope) ? effectiveLocations(a, { scope, ...roots }).map((p) => p.replace(/^\.\//, "")) : [];
    if (args.values.json) {
      io.out(
        JSON.stringify(
          adapters.map((a) => ({
            id: a.id,
            name: a.displayName,
            description: a.description,
            scopes: a.scopes,
            paths: { project: where("project")(a), user: where("user")(a) },
            capabilities: effectiveCapabilities(a),
            limitations: a.limitations,
            importable: !!a.parse,
          })),
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    if (args.values.matrix) {
      const w = Math.max(...adapters.map((a) => a.id.length)) + 2;
      io.out(" ".repeat(w) + CAPABILITIES.map((c) => CAP_LABEL[c].padEnd(6)).join(""));
      const cell = (s: Support) => (s === "yes" ? paint(io, "green", "yes   ") : s === "partial" ? paint(io, "yellow", "part  ") : paint(io, "gray", "-     "));
      for (const a of adapters) {
        const caps = effectiveCapabilities(a);
        io.out(a.id.padEnd(w) + CAPABILITIES.map((c) => cell(caps[c])).join(""));
      }
      io.out("");
      io.out(
        paint(io, "gray", "instr=instructions know=always-on knowledge k-dem=on-demand knowledge stdio/http=MCP servers allow/deny=tool allow/deny lists"),
      );
      io.out(
        paint(
          io,
          "gray",
          "tset=tool settings (paths, commands) hooks model skill=skills cmds=commands ignor=ignore patterns; part=partially (see the export warnings)",
        ),
      );
      return EXIT.ok;
    }
    for (const a of adapters) {
      io.out(`${paint(io, "bold", a.id.padEnd(18))}${a.displayName} — ${a.description}`);
      const p = where("project")(a);
      const u = where("user")(a).map((x) => x.replace(homedir(), "~"));
      if (p.length) io.out(`${" ".repeat(18)}project: ${p.join(", ")}`);
      if (u.length) io.out(`${" ".repeat(18)}user:    ${u.join(", ")}`);
    }
    io.out(paint(io, "gray", `${adapters.length} targets. 'aicfg targets --matrix' shows what each can express; 'aicfg doctor' which are installed.`));
    return EXIT.ok;
  },
};
