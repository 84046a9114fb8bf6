// The body merger: real `git merge-file --diff3` output parsed into hunks, the insert/insert rule
// resolving only hunks whose base is empty, and markers longer than any line of the inputs.
import { describe, expect, it } from "vitest";
import { gitMergeText, isInsertInsert, markerSize, parseDiff3, runDiff3 } from "../../src/workflows/merge-text.ts";

const BASE = "# Title\n\nintro\n\n## A\n\n- one\n- two\n\n## B\n\nend\n";

describe("git merge-file --diff3 + insert/insert", () => {
  it("a clean merge passes through", async () => {
    expect(await gitMergeText(BASE, BASE.replace("intro", "intro!"), BASE.replace("end", "end!"), { union: false })).toEqual({
      text: BASE.replace("intro", "intro!").replace("end", "end!"),
      conflicts: 0,
    });
  });

  it("two different insertions at one place: both kept, upstream first", async () => {
    const r = await gitMergeText(BASE, BASE.replace("- two\n", "- two\n- mine\n"), BASE.replace("- two\n", "- two\n- theirs a\n- theirs b\n"), {
      union: false,
    });
    expect(r).toEqual({ text: BASE.replace("- two\n", "- two\n- theirs a\n- theirs b\n- mine\n"), conflicts: 0 });
  });

  it("insertions at one place that share a line stay a conflict (concatenating would duplicate it)", async () => {
    const r = await gitMergeText(BASE, BASE.replace("- two\n", "- two\n- shared\n- mine\n"), BASE.replace("- two\n", "- two\n- theirs\n- shared\n"), {
      union: false,
    });
    expect(r.conflicts).toBe(1);
    expect(r.text).toContain("<<<<<<< local\n");
  });

  it("an edit against an edit is a conflict; the diff3 parts carry ours, base and theirs", async () => {
    const { parts } = await runDiff3(BASE, BASE.replace("- one", "- uno"), BASE.replace("- one", "- eins"));
    const hunks = parts.filter((p) => p.kind === "conflict");
    expect(hunks).toEqual([{ kind: "conflict", hunk: { ours: ["- uno"], base: ["- one"], theirs: ["- eins"] } }]);
    expect(isInsertInsert({ ours: ["- uno"], base: ["- one"], theirs: ["- eins"] })).toBe(false);
  });

  it("a setext heading underline of seven '=' is content, not a marker: markers grow past it", async () => {
    const base = "Title\n=======\n\ntext\n";
    expect(markerSize(base)).toBe(8);
    const r = await gitMergeText(base, base.replace("text", "mine"), base.replace("text", "theirs"), { union: false });
    expect(r.conflicts).toBe(1);
    expect(r.text.startsWith("Title\n=======\n\n<<<<<<<< local\nmine\n|||||||| base\ntext\n========\ntheirs\n>>>>>>>> upstream\n")).toBe(true);
    expect(parseDiff3(r.text, 8).filter((p) => p.kind === "conflict")).toHaveLength(1);
  });

  it("union keeps both sides of every hunk, upstream first", async () => {
    const r = await gitMergeText(BASE, BASE.replace("end", "local end"), BASE.replace("end", "upstream end"), { union: true });
    expect(r).toEqual({ text: BASE.replace("end", "upstream end\nlocal end"), conflicts: 0 });
  });
});
