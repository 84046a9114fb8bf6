// What a plugin imports (`ai-configurator/plugin`): the entry point and the helpers for typed
// actions and triggers. Types only for the rest: a plugin never reaches into aicfg's modules.
export { definePlugin, SUPPORTED_API_VERSIONS } from "./api.ts";
export type { Hook, HookOrder, PluginCapabilities, PluginContext, PluginDefinition } from "./api.ts";
export { ActionError, defineAction } from "../actions/types.ts";
export type { Action, ActionContext, ActionResult } from "../actions/types.ts";
export { defineTrigger } from "../triggers.ts";
export type { TriggerHandle, TriggerStartContext, TriggerType } from "../triggers.ts";
export type { PluginFs } from "./fs.ts";
/** The large-context planner built-in adapters use: wrap an adapter with it to get their on-demand knowledge handling. */
export { withLargeContext } from "../../adapters/fallback.ts";
export type { Adapter, Detection, DetectEnv, FileSource, OutputFile, ParseResult, RenderContext, RenderResult, Roots } from "../../adapters/types.ts";
export { readLibrary, type LibraryView } from "./library.ts";
export { sleep, type Clock } from "../clock.ts";
export type { ResolvedAgent } from "../../library/model.ts";
/** The zod aicfg itself uses: a plugin's `with:` schemas must come from the same instance. */
export { z } from "zod";
