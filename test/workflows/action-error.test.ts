// An ActionError from another copy of aicfg's modules (an installed aicfg runs its build while a plugin
// may import the sources) is still an ActionError to the engine: its code, hint and retryable flag count.
import { describe, expect, it } from "vitest";
import { ActionError } from "../../src/workflows/actions/types.ts";

describe("ActionError across module copies", () => {
  it("a second instance of the module makes errors the first one recognises; plain errors and look-alikes are not", async () => {
    // The query makes the module loader evaluate the file again: a second class with its own prototype.
    const second = new URL("../../src/workflows/actions/types.ts?second-copy", import.meta.url).href;
    const copy = (await import(second)) as typeof import("../../src/workflows/actions/types.ts");
    expect(copy.ActionError).not.toBe(ActionError);
    const e = new copy.ActionError("boom", "it failed", { retryable: false, hint: "do this" });
    expect(Object.getPrototypeOf(e)).not.toBe(ActionError.prototype);
    expect(e instanceof ActionError).toBe(true);
    expect(new ActionError("x", "y") instanceof copy.ActionError).toBe(true);
    expect(new Error("plain") instanceof ActionError).toBe(false);
    const lookalike = Object.assign(new Error("named"), { name: "ActionError", code: "x", retryable: false });
    expect(lookalike instanceof ActionError).toBe(false);
    expect((null as unknown as object) instanceof ActionError).toBe(false);
  });
});
