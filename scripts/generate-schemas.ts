// Writes schemas/*.json from the zod schemas: `npm run schemas`. A test fails when they are stale.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateAllSchemas } from "../src/daemon/schemas-all.ts";

const dir = fileURLToPath(new URL("../schemas/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries(generateAllSchemas())) {
  writeFileSync(dir + file, text);
  process.stdout.write(`schemas/${file}\n`);
}
