// Generates the README's command reference and target table from the code (commands and
// adapters), so the documentation cannot drift from what the tool does. `npm run docs` rewrites
// the marked sections; a test fails when they are stale.
import { homedir } from "node:os";
import { effectiveLocations, listAdapters } from "../adapters/registry.ts";
import { loadAllCommands } from "./cli/commands/index.ts";

async function commandReference(): Promise<string> {
  const out: string[] = [];
  for (const c of await loadAllCommands()) {
    out.push(`### \`aicfg ${c.name}\``, "", c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + ".", "", "```", c.usage, "```");
    if (c.description) out.push("", c.description.replace(/\n/g, " "));
    const opts = Object.entries(c.options);
    if (opts.length) {
      out.push("", "| option | meaning |", "|---|---|");
      for (const [name, o] of opts) {
        const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
        out.push(`| \`${flag}\` | ${o.description.replace(/\|/g, "\\|")}${o.multiple ? " (repeatable)" : ""} |`);
      }
    }
    if (c.examples.length) out.push("", "Examples:", "", "```sh", ...c.examples, "```");
    out.push("");
  }
  return out.join("\n");
}

function targetTable(): string {
  const roots = { projectRoot: "<project>", homeDir: "~" };
  const out = ["| target | tool | project scope | user scope | known limitations |", "|---|---|---|---|---|"];
  const cell = (xs: string[]) => (xs.length ? xs.map((x) => `\`${x.replace(/^<project>\//, "").replace(homedir(), "~")}\``).join("<br>") : "—");
  for (const a of listAdapters()) {
    const p = a.scopes.includes("project") ? effectiveLocations(a, { scope: "project", ...roots }) : [];
    const u = a.scopes.includes("user") ? effectiveLocations(a, { scope: "user", ...roots }) : [];
    const lim = a.limitations.map((l) => l.replace(/\|/g, "\\|").replace(/\n/g, " ")).join("<br>") || "—";
    out.push(`| \`${a.id}\` | ${a.displayName} | ${cell(p)} | ${cell(u)} | ${lim} |`);
  }
  return out.join("\n") + "\n";
}

const README_SECTIONS: Record<string, () => string | Promise<string>> = {
  commands: commandReference,
  targets: targetTable,
};

/** Replaces `<!-- generated:NAME -->…<!-- /generated:NAME -->` blocks in a README text. */
export async function renderReadme(text: string): Promise<string> {
  let out = text;
  for (const [name, gen] of Object.entries(README_SECTIONS)) {
    const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    const body = await gen();
    out = out.replace(re, (_m, a: string, b: string) => `${a}${body}${b}`);
  }
  return out;
}
