// The layering rule of ARCHITECTURE.md as a check: imports only point down
// (library ← adapters ← workflows ← daemon ← testing, the plugin test kit). Prints each import that points up, with file:line:col,
// and exits 1 when there is one; `--json` prints the findings for machines.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { globSync } from "tinyglobby";

/** Lower index = lower layer. A module may import its own layer and the layers below it. */
const LAYERS = ["library", "adapters", "workflows", "daemon", "testing"] as const;

export type LayerViolation = { file: string; line: number; column: number; from: string; to: string; specifier: string };

function layerOf(srcDir: string, file: string): number {
  const top = relative(srcDir, file).split(sep)[0] ?? "";
  return LAYERS.indexOf(top as (typeof LAYERS)[number]);
}

// Static `import … from`, `export … from`, side-effect `import "…"` and dynamic `import("…")`.
const IMPORT = /\b(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

export function findLayerViolations(srcDir: string): LayerViolation[] {
  const found: LayerViolation[] = [];
  for (const rel of globSync("**/*.ts", { cwd: srcDir })) {
    const file = join(srcDir, rel);
    const own = layerOf(srcDir, file);
    if (own < 0) continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? "";
      if (!spec.startsWith(".")) continue;
      const target = layerOf(srcDir, resolve(dirname(file), spec));
      if (target > own) {
        const before = text.slice(0, m.index);
        const line = before.split("\n").length;
        const column = m.index - before.lastIndexOf("\n");
        found.push({ file: relative(process.cwd(), file), line, column, from: LAYERS[own]!, to: LAYERS[target]!, specifier: spec });
      }
    }
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");
  const found = findLayerViolations(srcDir);
  if (process.argv.includes("--json")) console.log(JSON.stringify(found, null, 2));
  else {
    for (const v of found) {
      console.error(
        `${v.file}:${v.line}:${v.column}  error: ${v.from}/ imports ${JSON.stringify(v.specifier)} from ${v.to}/, a higher layer  (imports only point down: ${LAYERS.join(" ← ")})`,
      );
    }
    console.log(found.length ? `layers: ${found.length} import(s) point up` : "layers: every import points down");
  }
  process.exit(found.length ? 1 : 0);
}
