import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The sample plugins import the package by name (`ai-configurator/plugin`, `/testing`), as a
// plugin outside this repo does; Node, Bun and Deno resolve that by self-reference, vite by these.
const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "ai-configurator/plugin": src("workflows/plugins/index.ts"),
      "ai-configurator/testing": src("testing/index.ts"),
    },
  },
  test: {
    include: ["test/**/*.test.ts", "examples/plugins/**/*.test.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
