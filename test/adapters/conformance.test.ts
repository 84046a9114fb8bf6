// Runs the adapter conformance suite of the test kit (src/testing/conformance.ts) over every built-in adapter.
import { listAdapters } from "../../src/adapters/registry.ts";
import { describeAdapterConformance } from "../../src/testing/index.ts";

for (const adapter of listAdapters()) describeAdapterConformance(adapter);
