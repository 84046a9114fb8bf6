// `aicfg explain <agent>`: the effective agent after layering, and which layer each field came from.
import { stringify as stringifyYaml } from "yaml";
import { loadLibrary } from "../../../library/load.ts";
import { resolveAgent } from "../../../library/resolve.ts";
import { hasErrors } from "../../../library/diagnostics.ts";
import { ConfigError } from "../../../library/diagnostics.ts";
import { COMMON_OPTIONS, EXIT, type Command } from "../command.ts";
import { paint, printDiagnostics } from "../format.ts";
import { LIBRARY_OPTION, libraryDir } from "../options.ts";

export const explainCommand: Command = {
  name: "explain",
  summary: "show an agent's effective definition and the layer each field came from",
  usage: "aicfg explain <agent> [--library DIR] [--json]",
  options: { ...LIBRARY_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg explain code-reviewer", "aicfg explain code-reviewer --library ~/me --json"],
  run: async (args, io) => {
    const name = args.positionals[0];
    if (!name) throw new ConfigError("usage", "which agent? e.g. 'aicfg explain code-reviewer'", { hint: "list agents with 'aicfg list'" });
    const lib = loadLibrary(libraryDir(args, io));
    const { agent, diagnostics } = resolveAgent(lib, name);
    if (!agent) {
      // Thrown, so the CLI prints it as text or, with --json, as a JSON error object.
      const first = diagnostics.find((d) => d.severity === "error") ?? diagnostics[0];
      const known = [...lib.agents.keys()].sort();
      throw new ConfigError(first?.code ?? "agent-not-found", first?.message ?? `no agent named '${name}'`, {
        hint: known.length ? `known agents: ${known.join(", ")}` : (first?.hint ?? "create one with 'aicfg new agent NAME'"),
        diagnostics,
        ...(first?.file ? { file: first.file } : {}),
        ...(first?.line !== undefined ? { line: first.line } : {}),
        ...(first?.col !== undefined ? { col: first.col } : {}),
      });
    }
    const layers = (lib.agents.get(name) ?? []).map((s) => ({ layer: s.layer, file: s.file }));
    if (args.values.json) {
      io.out(JSON.stringify({ agent, layers, diagnostics }, null, 2));
      return hasErrors(diagnostics) ? EXIT.failure : EXIT.ok;
    }
    io.out(`${paint(io, "bold", agent.name)} — ${agent.description}`);
    io.out(`Defined in: ${layers.map((l) => `${l.layer} (${l.file})`).join(" <- ")}`);
    io.out("");
    const fields: [string, unknown][] = [
      ["description", agent.description],
      ["model", agent.model],
      ["targets", agent.targets],
      ["knowledge", agent.knowledge.map((k) => `${k.path} [${k.mode}, layer ${k.layer}]`)],
      ["mcp", Object.keys(agent.mcpServers)],
      ["tools", agent.tools],
      ["toolSettings", agent.toolSettings],
      ["hooks", agent.hooks],
      ["tags", agent.tags],
      ["extensions", agent.extensions],
      ["instructions", `${agent.instructions.split("\n").length - 1} line(s)`],
    ];
    const labelWidth = Math.max(8, ...Object.values(agent.provenance).map((v) => v.length + 3));
    for (const [field, value] of fields) {
      const empty =
        value === undefined ||
        (Array.isArray(value) && !value.length) ||
        (typeof value === "object" && value !== null && !Array.isArray(value) && !Object.keys(value).length);
      if (empty) continue;
      const from = agent.provenance[field] ?? (field === "knowledge" ? (agent.provenance.knowledge ?? "defaults") : "-");
      const text = typeof value === "string" ? value : stringifyYaml(value, { lineWidth: 0 }).trimEnd();
      const lines = text.split("\n");
      io.out(`${paint(io, "cyan", field.padEnd(13))}${paint(io, "gray", `[${from}]`.padEnd(labelWidth))}${lines[0]}`);
      for (const l of lines.slice(1)) io.out(" ".repeat(13 + labelWidth) + l);
    }
    printDiagnostics(io, diagnostics);
    return hasErrors(diagnostics) ? EXIT.failure : EXIT.ok;
  },
};
