// Byte-exact comparison of two exported trees (an incremental export against a cold one).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";

/** Every file under a folder (relative path -> bytes), without the committed ownership manifest (it records times). */
function exportedTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (relative(root, p) !== join(".aicfg", "exports.json")) out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** The two folders hold the same files with the same bytes. */
export function expectSameTree(a: string, b: string): void {
  const x = exportedTree(a);
  const y = exportedTree(b);
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
  const differing = [...x].filter(([p, bytes]) => !bytes.equals(y.get(p)!)).map(([p]) => p);
  expect(differing).toEqual([]);
}

/** A target's own part of an exported text file: its marked section of a shared file (AGENTS.md), else the whole file. */
export function targetText(path: string, target: string): string {
  const text = readFileSync(path, "utf8");
  for (const [begin, end] of [
    [`<!-- aicfg:begin ${target} `, `<!-- aicfg:end ${target} -->`],
    [`# aicfg:begin ${target} `, `# aicfg:end ${target}`],
  ] as const) {
    const at = text.indexOf(begin);
    if (at >= 0) return text.slice(at, text.indexOf(end, at));
  }
  return text;
}
