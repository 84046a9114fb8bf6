// GET /v1/libraries/:library/conflicts lists the open merge conflicts of one library from the
// daemon's state folder (a real conflict made by a real upstream merge), without absolute paths.
import { afterEach, expect, it } from "vitest";
import { applyLayerUpdate } from "../../../src/workflows/layer-merge.ts";
import { setupApi, type Harness } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

it("lists a library's open conflicts to a viewer, and only that library's", async () => {
  h = await setupApi();
  const team = h.deps.libraries().find((l) => l.name === "team")!;
  const base = "---\ndescription: Reviews the team's changes\ntags: [quality]\nmcp: [fetch]\n---\n";
  const r = await applyLayerUpdate({
    libraryRoot: team.root,
    library: "team",
    stateDir: h.stateDir,
    path: "agents/reviewer.md",
    base: base.replace("quality", "q0").replace("Reviews the team's changes", "Reviews"),
    theirs: base.replace("Reviews the team's changes", "Reviews upstream"),
    now: 0,
  });
  expect(r.outcome.status).toBe("conflict");
  const res = await h.call("GET", "/v1/libraries/team/conflicts", { token: h.tokens.viewer });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { library: string; items: Record<string, unknown>[] };
  expect(body.library).toBe("team");
  expect(body.items).toEqual([
    expect.objectContaining({
      path: "agents/reviewer.md",
      conflictFile: "agents/reviewer.md.conflict.md",
      fields: ["description"],
      bodyConflicts: 0,
      policy: "three-way",
    }),
  ]);
  expect(JSON.stringify(body)).not.toContain(team.root);
  const other = (await (await h.call("GET", "/v1/libraries/other/conflicts", { token: h.tokens.viewer })).json()) as { items: unknown[] };
  expect(other.items).toEqual([]);
});
