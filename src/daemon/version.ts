// The version reported by `aicfg --version`, build info metrics and the API.
export const VERSION = "0.1.0";

export function runtimeName(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun) return "bun";
  if (g.Deno) return "deno";
  return "node";
}
