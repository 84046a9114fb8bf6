import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderReadme } from "../src/daemon/readme-sections.ts";
import { COMMANDS, loadAllCommands } from "../src/daemon/cli/commands/index.ts";
import { listAdapters } from "../src/adapters/registry.ts";

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

describe("README", () => {
  it("has generated sections that match the code (run 'npm run docs' when this fails)", async () => {
    expect(await renderReadme(readme)).toBe(readme);
  });
  it("documents every command and every target", async () => {
    for (const c of await loadAllCommands()) expect(readme).toContain(`### \`aicfg ${c.name}\``);
    for (const a of listAdapters()) expect(readme).toContain(`| \`${a.id}\` |`);
  });
  it("lists each command under the name its module gives it", async () => {
    const loaded = await loadAllCommands();
    expect(loaded.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
  });
  it("keeps the two set-up commands near the top", () => {
    const head = readme.split("\n").slice(0, 40).join("\n");
    expect(head).toContain("npm ci && npm start");
    expect(head).toContain("npm ci && npm run test:all");
  });
});
