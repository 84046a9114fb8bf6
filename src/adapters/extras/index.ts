// Library skills, commands and ignore patterns for every tool that has a native place for them:
// the entry points the export pipeline and `aicfg targets --matrix` call, and the data behind them.
export { extrasCapabilities, extrasLocations, renderExtras } from "./render.ts";
export { translatePlaceholders } from "./format.ts";
export { EXTRAS_TARGETS } from "./table.ts";
