// Runs the adapter conformance suite (conformance.ts) over every built-in adapter.
import { listAdapters } from "../../src/adapters/registry.ts";
import { describeAdapterConformance } from "./conformance.ts";

for (const adapter of listAdapters()) describeAdapterConformance(adapter);
