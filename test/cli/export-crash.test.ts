// Crash safety of the batched durability (issue "3 of 7"): the real CLI exports ~300 files to every
// target and is killed with SIGKILL at 15 random points of the export. Afterwards every output holds
// its complete old or complete new content (never a partial or empty one), the ownership manifest
// loads, and an export run to its end leaves exactly the new content with no drift or conflict.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest } from "../../src/adapters/manifest.ts";
import { listAdapters } from "../../src/adapters/registry.ts";
import { tempDir } from "../helpers/fixtures.ts";

const BIN = fileURLToPath(new URL("../../bin/aicfg.js", import.meta.url));
const KNOWLEDGE = 20;
const KILLS = 15;

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("aicfg-crash-");
});
afterEach(() => dir.cleanup());

function writeLibrary(root: string, version: string): void {
  mkdirSync(join(root, "agents"), { recursive: true });
  mkdirSync(join(root, "knowledge"), { recursive: true });
  writeFileSync(
    join(root, "aicfg.yaml"),
    `name: crash\ntargets: [${listAdapters()
      .map((a) => a.id)
      .join(", ")}]\nexport:\n  scope: project\n`,
  );
  writeFileSync(join(root, "agents", "project.md"), `---\ndescription: "Works on this project"\nknowledge: ["**"]\n---\nYou work on this project.\n`);
  for (let i = 0; i < KNOWLEDGE; i++) {
    const body = Array.from({ length: 40 }, (_, l) => `Line ${l} of document ${i}, ${version}: keep the module boundaries and test every change.`).join("\n");
    writeFileSync(
      join(root, "knowledge", `doc-${String(i).padStart(3, "0")}.md`),
      `---\ntitle: "Document ${i}"\ndescription: "Rules number ${i}"\n---\n# Document ${i}\n\n${body}\n`,
    );
  }
}

const args = (root: string) => ["export", "--all", "--library", root, "--root", root, "--state-dir", join(root, ".aicfg-state")];

/** Every output file below the project (not the library's own sources, not the state, not temps). */
function outputs(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(root, p);
      if (["agents", "knowledge", "aicfg.yaml", ".aicfg-state"].includes(rel)) continue;
      if (e.isDirectory()) walk(p);
      else if (!/\.tmp$/.test(e.name)) found.set(rel, readFileSync(p, "latin1"));
    }
  };
  walk(root);
  return found;
}

function runToEnd(root: string): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args(root), "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout };
}

describe("kill -9 during an export", () => {
  it(`leaves every output old or new, never partial, at ${KILLS} random kill points`, async () => {
    const root = join(dir.path, "project");
    const before = join(dir.path, "before");
    writeLibrary(root, "version A");
    expect(runToEnd(root).status).toBe(0);
    const oldContent = outputs(root);
    expect(oldContent.size).toBeGreaterThan(250);
    // Version B changes every knowledge file, so every output that carries knowledge changes.
    writeLibrary(root, "version B");
    cpSync(root, before, { recursive: true, preserveTimestamps: true });
    const started = Date.now();
    expect(runToEnd(root).status).toBe(0);
    const fullMs = Date.now() - started;
    const newContent = outputs(root);
    const changed = [...newContent].filter(([p, c]) => oldContent.get(p) !== c).length;
    expect(changed).toBeGreaterThan(250);

    let interrupted = 0;
    for (let k = 0; k < KILLS; k++) {
      rmSync(root, { recursive: true, force: true });
      cpSync(before, root, { recursive: true, preserveTimestamps: true });
      const child = spawn(process.execPath, [BIN, ...args(root)], { stdio: "ignore" });
      // Spread the kill points over the whole run: loading, rendering, writing, recording.
      const at = Math.floor(Math.random() * fullMs * 1.1);
      const exited = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, signal) => done(signal)));
      const timer = setTimeout(() => child.kill("SIGKILL"), at);
      const signal = await exited;
      clearTimeout(timer);
      if (signal === "SIGKILL") interrupted++;
      for (const [p, c] of outputs(root)) {
        const old = oldContent.get(p);
        const fresh = newContent.get(p);
        if (c !== old && c !== fresh) throw new Error(`kill ${k} at ${at} ms: ${p} is neither the old nor the new content (${c.length} bytes)`);
      }
      for (const p of oldContent.keys()) if (newContent.has(p)) expect(existsSync(join(root, p)), p).toBe(true);
      // The ownership manifest loads (a torn last log line is tolerated) ...
      expect(() => loadManifest(join(root, ".aicfg-state"))).not.toThrow();
      // ... and is consistent with the files: the export finishes with nothing foreign or drifted.
      const done = runToEnd(root);
      const j = JSON.parse(done.stdout) as { errors: unknown[] };
      expect({ status: done.status, errors: j.errors }).toEqual({ status: 0, errors: [] });
      expect(outputs(root)).toEqual(newContent);
    }
    // Most kill points must land while the export runs (not after it ended).
    expect(interrupted).toBeGreaterThanOrEqual(KILLS / 2);
    expect(statSync(before).isDirectory()).toBe(true);
  }, 600_000);
});
