// The dashboard's static files (script, stylesheet, icon), read once. They sit beside this module in
// src/; the compiled build (dist/, which tsc fills with .js only) reads them from the src/ folder the
// package ships too.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function assetText(name: "app.js" | "app.css" | "icon.svg"): string {
  const here = new URL(`./assets/${name}`, import.meta.url);
  const shipped = new URL(`../../../src/daemon/ui/assets/${name}`, import.meta.url);
  return readFileSync(existsSync(fileURLToPath(here)) ? here : shipped, "utf8");
}
