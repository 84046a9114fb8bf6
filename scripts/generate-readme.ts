// Rewrites the generated sections of README.md (command reference, target table): `npm run docs`.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderReadme } from "../src/daemon/readme-sections.ts";

const file = fileURLToPath(new URL("../README.md", import.meta.url));
const before = readFileSync(file, "utf8");
const after = await renderReadme(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? "README.md is up to date\n" : "README.md updated\n");
