// G21 under attack: while another process keeps swapping a folder of the export tree for a symbolic
// link to a foreign folder, writes and deletes below the export root never land outside it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { atomicWrite, unlinkBeneath } from "../../src/adapters/atomic.ts";
import { cli } from "../cli/helpers.ts";
import { writeLibrary } from "../daemon/lib-fixture.ts";
import { tempDir } from "../helpers/fixtures.ts";

// Runs in a child process: swaps `rules` for a link to `foreign` and back, as fast as it can.
const SWAPPER = `
const { renameSync, symlinkSync, unlinkSync, lstatSync, writeFileSync } = require("node:fs");
const [rules, real, foreign, stop] = process.argv.slice(1);
const { existsSync } = require("node:fs");
let swaps = 0;
writeFileSync(1, "ready\\n");
while (!existsSync(stop)) {
  try { renameSync(rules, real); symlinkSync(foreign, rules); swaps++; } catch {}
  try { if (lstatSync(rules).isSymbolicLink()) unlinkSync(rules); renameSync(real, rules); } catch {}
}
writeFileSync(1, "swaps " + swaps + "\\n");
`;

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("aicfg-race-");
});
afterEach(() => dir.cleanup());

/** The swapper runs until the file `stop` exists; `done` resolves with the number of swaps it made. */
function startSwapper(rules: string, foreign: string, stop: string): Promise<{ done: Promise<number> }> {
  const child = spawn("node", ["-e", SWAPPER, rules, rules + ".real", foreign, stop], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.startsWith("ready\n")) resolve({ done: new Promise((r) => child.on("close", () => r(Number(/swaps (\d+)/.exec(out)?.[1] ?? 0)))) });
    });
  });
}

describe.skipIf(process.platform !== "linux")("writes below the export root while a folder is swapped for a symlink", () => {
  it("never write or delete outside the root (600 writes against a swapping loop)", async () => {
    const root = join(dir.path, "project");
    const rules = join(root, ".cursor", "rules");
    const foreign = join(dir.path, "foreign");
    mkdirSync(rules, { recursive: true });
    mkdirSync(foreign);
    writeFileSync(join(foreign, "victim.mdc"), "not ours\n");
    const stop = join(dir.path, "stop");
    const swapper = await startSwapper(rules, foreign, stop);
    let written = 0;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      try {
        atomicWrite(join(rules, `r${i % 20}.mdc`), `rule ${i}\n`, 0o644, { root, syncDir: false });
        written++;
      } catch (e) {
        expect((e as { code?: string }).code).toMatch(/^(symlink-parent|symlink-target|not-a-directory|ENOENT|EEXIST)$/);
        refused++;
      }
      if (i % 3 === 0) {
        try {
          unlinkBeneath(root, join(rules, "victim.mdc"));
        } catch {
          refused++;
        }
      }
    }
    writeFileSync(stop, "");
    const swaps = await swapper.done;
    expect(swaps).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(0);
    expect(written + refused).toBeGreaterThanOrEqual(600);
    expect(readdirSync(foreign)).toEqual(["victim.mdc"]);
    expect(existsSync(join(foreign, "victim.mdc"))).toBe(true);
  });

  it("the export's batched apply (aicfg export, rules rewritten each round) never writes into the foreign folder", async () => {
    const lib = join(dir.path, "lib");
    const root = join(dir.path, "project");
    const state = join(dir.path, "state");
    const foreign = join(dir.path, "foreign");
    writeLibrary(lib);
    mkdirSync(foreign);
    writeFileSync(join(foreign, "victim.mdc"), "not ours\n");
    const args = ["export", "--library", lib, "--target", "cursor", "--root", root, "--state-dir", state, "--json", "--no-cache"];
    expect((await cli(args)).code).toBe(0);
    const rules = join(root, ".cursor", "rules");
    expect(readdirSync(rules).length).toBeGreaterThan(0);
    const stop = join(dir.path, "stop");
    const swapper = await startSwapper(rules, foreign, stop);
    for (let i = 0; i < 15; i++) {
      writeFileSync(
        join(lib, "agents", "reviewer.md"),
        `---\ndescription: Reviews code\nknowledge: [style.md]\n---\nReview every change carefully (round ${i}).\n`,
      );
      writeFileSync(join(lib, "knowledge", "style.md"), `# Style\n\nRound ${i}: use short sentences.\n`);
      // Rounds that met the link mid-write fail that target (reported, exit non-zero): allowed.
      await cli(args);
    }
    writeFileSync(stop, "");
    expect(await swapper.done).toBeGreaterThan(0);
    expect(readdirSync(foreign)).toEqual(["victim.mdc"]);
  });

  it("refuses a link in place of a folder with the folder named, and writes nothing", () => {
    const root = join(dir.path, "project");
    const foreign = join(dir.path, "foreign");
    mkdirSync(join(root, ".cursor"), { recursive: true });
    mkdirSync(foreign);
    symlinkSync(foreign, join(root, ".cursor", "rules"));
    expect(() => atomicWrite(join(root, ".cursor", "rules", "a.mdc"), "x", 0o644, { root })).toThrow(
      /\.cursor\/rules is a symbolic link; refusing to write below it/,
    );
    expect(() => atomicWrite(join(dir.path, "elsewhere", "a.mdc"), "x", 0o644, { root })).toThrow(/outside the export root/);
    expect(() => unlinkBeneath(root, join(root, ".cursor", "rules", "victim.mdc"))).toThrow(/symbolic link/);
    expect(readdirSync(foreign)).toEqual([]);
  });
});
