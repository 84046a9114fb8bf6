// The layering rule (ARCHITECTURE.md: imports only point down) holds for src/, and the check that
// enforces it in CI does find an import that points up, static or dynamic, with its position.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findLayerViolations } from "../scripts/check-layers.ts";
import { tempDir } from "./helpers/fixtures.ts";

describe("layering rule", () => {
  it("src/ has no import pointing from a lower layer to a higher one", () => {
    expect(findLayerViolations(fileURLToPath(new URL("../src", import.meta.url)))).toEqual([]);
  });

  it("reports upward imports with file, line and column, and allows downward ones", () => {
    const dir = tempDir("aicfg-layers-");
    try {
      for (const layer of ["library", "adapters", "workflows", "daemon"]) mkdirSync(join(dir.path, layer));
      writeFileSync(join(dir.path, "library", "a.ts"), 'import { x } from "../library/b.ts";\n\nimport type { D } from "../daemon/d.ts";\n');
      writeFileSync(join(dir.path, "adapters", "b.ts"), 'import { y } from "../library/a.ts";\nconst w = await import("../workflows/w.ts");\n');
      writeFileSync(join(dir.path, "daemon", "d.ts"), 'export * from "../adapters/b.ts";\n');
      const found = findLayerViolations(dir.path).map((v) => ({ ...v, file: v.file.slice(v.file.lastIndexOf("/", v.file.lastIndexOf("/") - 1) + 1) }));
      expect(found).toEqual([
        { file: "adapters/b.ts", line: 2, column: 17, from: "adapters", to: "workflows", specifier: "../workflows/w.ts" },
        { file: "library/a.ts", line: 3, column: 1, from: "library", to: "daemon", specifier: "../daemon/d.ts" },
      ]);
    } finally {
      dir.cleanup();
    }
  });
});
