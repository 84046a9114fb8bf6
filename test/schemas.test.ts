import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { parse as parseYaml } from "yaml";
import { generateAllSchemas } from "../src/daemon/schemas-all.ts";
import { splitFrontmatter } from "../src/library/yaml-source.ts";

const dir = fileURLToPath(new URL("../schemas/", import.meta.url));

describe("generated JSON Schemas", () => {
  it("are up to date with the zod schemas (run 'npm run schemas' when this fails)", () => {
    const generated = generateAllSchemas();
    const onDisk = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => [f, readFileSync(dir + f, "utf8")]),
    );
    expect(Object.keys(onDisk).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, text] of Object.entries(generated)) expect(onDisk[file], file).toBe(text);
  });

  it("accept the sample library's files and reject a typo", () => {
    const ajv = new (Ajv2020 as unknown as typeof import("ajv").default)({ strict: false, allErrors: true });
    const agent = ajv.compile(JSON.parse(readFileSync(dir + "agent.json", "utf8")));
    const lib = ajv.compile(JSON.parse(readFileSync(dir + "library.json", "utf8")));
    const mcp = ajv.compile(JSON.parse(readFileSync(dir + "mcp-server.json", "utf8")));
    const ex = fileURLToPath(new URL("../examples/library/", import.meta.url));
    for (const f of readdirSync(ex + "agents")) {
      const fm = parseYaml(splitFrontmatter(readFileSync(ex + "agents/" + f, "utf8")).frontmatter!);
      expect(agent(fm), `${f}: ${JSON.stringify(agent.errors)}`).toBe(true);
    }
    expect(lib(parseYaml(readFileSync(ex + "aicfg.yaml", "utf8")))).toBe(true);
    for (const f of readdirSync(ex + "mcp")) expect(mcp(parseYaml(readFileSync(ex + "mcp/" + f, "utf8"))), f).toBe(true);
    expect(agent({ description: "x", descriptoin: "typo" })).toBe(false);
    expect(agent({ name: "../evil", description: "x" })).toBe(false);
  });
});
