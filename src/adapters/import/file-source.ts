// A FileSource over a real folder, for adapters' parse(): reads never follow symlinks out of it.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveInside } from "../../library/paths.ts";
import type { FileSource } from "../types.ts";

export function folderSource(root: string): FileSource {
  return {
    root,
    read: (rel) => {
      try {
        const p = resolveInside(root, rel);
        if (!lstatSync(p).isFile()) return undefined;
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    },
    list: (relDir) => {
      try {
        const dir = relDir ? resolveInside(root, relDir) : root;
        return readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => (relDir ? `${relDir.replace(/\/$/, "")}/${e.name}` : e.name))
          .sort();
      } catch {
        return [];
      }
    },
  };
}

export function listRecursive(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith(".")) continue;
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, `${prefix}${n}/`);
      else if (st.isFile()) out.push(`${prefix}${n}`);
    }
  };
  walk(dir, "");
  return out;
}
