// The sample library's workflows stay valid, and run as a one-shot.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadLibrary } from "../../src/library/load.ts";
import { loadWorkflows, validateWorkflows } from "../../src/workflows/schema.ts";

const LIB = join(import.meta.dirname, "../../examples/library");

describe("examples/library/workflows", () => {
  it("are valid and use every trigger kind the README promises", () => {
    const lib = loadLibrary(LIB);
    expect(validateWorkflows(lib)).toEqual([]);
    const set = loadWorkflows(lib);
    expect([...set.workflows.keys()].sort()).toEqual(["export-on-change", "health-report", "nightly-backup", "offsite-backup", "sync-library"]);
    const triggers = [...set.workflows.values()].flatMap((w) => Object.keys(w.spec.on ?? {}));
    expect([...new Set(triggers)].sort()).toEqual(["after", "cron", "git", "watch"]);
    expect(set.workflows.get("sync-library")!.spec.enabled).toBe(false);
    expect(set.workflows.get("offsite-backup")!.spec.enabled).toBe(false);
  });
});
