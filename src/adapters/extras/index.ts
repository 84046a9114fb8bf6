// Library skills, commands and ignore patterns for every tool that has a native place for them:
// the entry points the export pipeline and `aicfg targets --matrix` call, and the data behind them.
export { extrasCapabilities, extrasLocations, renderExtras, SKILL_DESCRIPTION_MAX, SKILL_NAME_MAX, type ExtrasFeature } from "./render.ts";
export { translatePlaceholders, type Translation } from "./format.ts";
export { EXTRAS_TARGETS, extrasTarget, type CommandField, type CommandFormat, type ExtrasLayout, type ExtrasTarget } from "./table.ts";
