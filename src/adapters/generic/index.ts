// The long-tail adapters: one generic adapter per target definition in targets.ts.
import type { Adapter } from "../types.ts";
import { genericAdapter } from "./adapter.ts";
import { GENERIC_TARGETS } from "./targets.ts";

export const GENERIC_ADAPTERS: readonly Adapter[] = GENERIC_TARGETS.map((def) => genericAdapter(def));
