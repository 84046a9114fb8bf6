// The list of adapters. A new AI tool is one new folder under adapters/ and one line here.
import type { Adapter } from "./types.ts";

const ADAPTERS: readonly Adapter[] = [
];

export function listAdapters(): readonly Adapter[] {
  return ADAPTERS;
}

export function getAdapter(id: string): Adapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}
