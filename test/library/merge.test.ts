// The per-file 3-way merge (src/library/merge.ts) with the real git body merger: frontmatter field
// by field (scalars by value, lists as sets, maps recurse, comments and key order of the local file
// kept), the body by diff3 + insert/insert, the four policies, and the `merge:` rules of aicfg.yaml.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadLibrary } from "../../src/library/load.ts";
import { mergeFile, mergeFrontmatter, policyFor, type MergeOutcome, type MergePolicy } from "../../src/library/merge.ts";
import { splitFrontmatter } from "../../src/library/yaml-source.ts";
import { gitMergeText } from "../../src/workflows/merge-text.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";

const BASE = `---
name: reviewer
# what the agent is for
description: Reviews pull requests
model: sonnet # the fast one
tools:
  allow: [read, grep]
  deny:
    - shell
mcp:
  - github
tags: [review]
---
# Role

You review code.

## Rules

- be kind
- be brief
`;

const merge = (ours: string | null, theirs: string | null, policy: MergePolicy = "three-way", base: string | null = BASE) =>
  mergeFile({ base, ours, theirs, policy }, gitMergeText);
const clean = (r: MergeOutcome): string => {
  expect(r.status, r.status === "conflict" ? r.conflictText : "").toBe("clean");
  return r.content!;
};
const fm = (text: string) => parse(splitFrontmatter(text).frontmatter!) as Record<string, unknown>;

describe("frontmatter, field by field", () => {
  it("takes a scalar changed on one side, keeps one changed on the other, and keeps the local comments", async () => {
    const ours = BASE.replace("model: sonnet", "model: opus");
    const theirs = BASE.replace("description: Reviews pull requests", "description: Reviews pull requests and designs");
    const out = clean(await merge(ours, theirs));
    expect(out).toContain("model: opus # the fast one");
    expect(out).toContain("# what the agent is for\ndescription: Reviews pull requests and designs\n");
    expect(out.slice(out.indexOf("---\n# Role"))).toBe(BASE.slice(BASE.indexOf("---\n# Role")));
  });

  it("the same scalar set to different values is a conflict on that field only", async () => {
    const r = await merge(
      BASE.replace("model: sonnet", "model: opus").replace("tags: [review]", "tags: [review, local]"),
      BASE.replace("model: sonnet", "model: haiku"),
    );
    expect(r.status).toBe("conflict");
    if (r.status !== "conflict") return;
    expect(r.fieldConflicts).toEqual([{ path: ["model"], base: "sonnet", ours: "opus", theirs: "haiku" }]);
    expect(r.content).toBe(BASE.replace("model: sonnet", "model: opus").replace("tags: [review]", "tags: [review, local]"));
    expect(r.conflictText).toContain("<<<<<<< local\nmodel: opus # the fast one\n||||||| base\nmodel: sonnet\n=======\nmodel: haiku\n>>>>>>> upstream\n");
    // The fields that did merge are in the conflict file as merged.
    expect(r.conflictText).toContain("tags: [review, local]");
  });

  it("the same value set on both sides is not a conflict", async () => {
    const both = BASE.replace("model: sonnet", "model: opus");
    expect(clean(await merge(both.replace("- be kind", "- be kind, always"), both))).toContain("model: opus");
  });

  it("merges lists as sets: both sides' additions, either side's removal", async () => {
    const ours = BASE.replace("allow: [read, grep]", "allow: [read, grep, glob]").replace("  - github\n", "  - github\n  - jira\n");
    const theirs = BASE.replace("allow: [read, grep]", "allow: [read, web_fetch]").replace("  - github\n", "  - github\n  - slack\n");
    const out = clean(await merge(ours, theirs));
    const v = fm(out);
    expect(v.tools).toEqual({ allow: ["read", "glob", "web_fetch"], deny: ["shell"] });
    expect(v.mcp).toEqual(["github", "jira", "slack"]);
    // The local flow style survives.
    expect(out).toContain("allow: [read, glob, web_fetch]");
  });

  it("recurses into maps: a key added on each side of tools, and an upstream-only new top-level key after its upstream neighbour", async () => {
    const ours = BASE.replace("  deny:\n    - shell\n", "  deny:\n    - shell\n  trusted: [read]\n");
    const theirs = BASE.replace("model: sonnet # the fast one\n", "model: sonnet # the fast one\n# shown in the picker\ndisplayName: Code Reviewer\n").replace(
      "allow: [read, grep]",
      "allow: [read, grep, glob]",
    );
    const out = clean(await merge(ours, theirs));
    expect(fm(out).tools).toEqual({ allow: ["read", "grep", "glob"], deny: ["shell"], trusted: ["read"] });
    expect(Object.keys(fm(out))).toEqual(["name", "description", "model", "displayName", "tools", "mcp", "tags"]);
    expect(out).toContain("# shown in the picker\ndisplayName: Code Reviewer\n");
  });

  it("keeps the local key order when upstream re-serialised its frontmatter in another order", async () => {
    const reordered = `---\ntags: [review]\nmcp:\n  - github\nmodel: sonnet\nname: reviewer\ndescription: Reviews pull requests\ntools:\n  allow: [read, grep]\n  deny: [shell]\n---\n${BASE.split("---\n")[2]}`;
    const ours = BASE.replace("model: sonnet", "model: opus");
    expect(clean(await merge(ours, reordered))).toBe(ours);
  });

  it("named list items (inline MCP servers) merge by name, field by field", async () => {
    const base = "---\ndescription: d\nmcp:\n  - name: db\n    command: db-mcp\n    args: [--ro]\n---\nbody\n";
    const ours = base.replace("args: [--ro]", "args: [--ro, --verbose]");
    const theirs = base.replace("command: db-mcp", "command: db-mcp-2");
    const out = clean(await mergeFile({ base, ours, theirs, policy: "three-way" }, gitMergeText));
    expect(fm(out).mcp).toEqual([{ name: "db", command: "db-mcp-2", args: ["--ro", "--verbose"] }]);
  });

  it("a field deleted on one side and changed on the other is a conflict; deleted and unchanged is deleted", async () => {
    const r = await merge(BASE.replace("tags: [review]\n", ""), BASE.replace("tags: [review]", "tags: [review, x]"));
    expect(r.status).toBe("conflict");
    const gone = clean(await merge(BASE.replace("tags: [review]\n", ""), BASE.replace("- be brief", "- be brief!")));
    expect(fm(gone).tags).toBeUndefined();
  });

  it("returns undefined for a frontmatter that is not YAML (the file then merges as text)", () => {
    expect(mergeFrontmatter("a: 1\n", "a: [1\n", "a: 2\n")).toBeUndefined();
  });
});

describe("body, diff3 with the insert/insert rule (real git)", () => {
  it("edits in different sections merge; two insertions at one place keep both, upstream first", async () => {
    const ours = BASE.replace("- be brief\n", "- be brief\n- local rule\n").replace("You review code.", "You review code well.");
    const theirs = BASE.replace("- be brief\n", "- be brief\n- upstream rule\n");
    const out = clean(await merge(ours, theirs));
    expect(out).toContain("You review code well.\n");
    expect(out).toContain("- be brief\n- upstream rule\n- local rule\n");
  });

  it("the same line edited differently stays a conflict, with markers only in the conflict text", async () => {
    const r = await merge(BASE.replace("- be kind", "- be kind to people"), BASE.replace("- be kind", "- be kind to code"));
    expect(r.status).toBe("conflict");
    if (r.status !== "conflict") return;
    expect(r.bodyConflicts).toBe(1);
    expect(r.content).not.toContain("<<<<<<<");
    expect(r.conflictText).toContain("<<<<<<< local\n- be kind to people\n||||||| base\n- be kind\n=======\n- be kind to code\n>>>>>>> upstream\n");
  });

  it("CRLF files merge and keep CRLF", async () => {
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    const out = clean(
      await merge(crlf(BASE.replace("model: sonnet", "model: opus")), crlf(BASE.replace("- be kind", "- be very kind")), "three-way", crlf(BASE)),
    );
    expect(out).toBe(crlf(BASE.replace("model: sonnet", "model: opus").replace("- be kind", "- be very kind")));
  });

  it("files without frontmatter merge as text", async () => {
    const base = "# Notes\n\none\n\ntwo\n";
    const out = clean(await mergeFile({ base, ours: base.replace("one", "one!"), theirs: base.replace("two", "two!"), policy: "three-way" }, gitMergeText));
    expect(out).toBe("# Notes\n\none!\n\ntwo!\n");
  });
});

describe("policies", () => {
  const ours = BASE.replace("- be kind", "- be kind to people");
  const theirs = BASE.replace("- be kind", "- be kind to code");

  it("three-way reports the conflict, upstream-wins and local-wins take that whole file", async () => {
    expect((await merge(ours, theirs, "three-way")).status).toBe("conflict");
    expect(await merge(ours, theirs, "upstream-wins")).toEqual({ status: "clean", content: theirs, decidedBy: "upstream-wins", dropped: "local" });
    expect(await merge(ours, theirs, "local-wins")).toEqual({ status: "clean", content: ours, decidedBy: "local-wins", dropped: "upstream" });
  });

  it("union keeps both sides of a conflicting hunk, upstream first", async () => {
    const out = clean(await merge(ours, theirs, "union"));
    expect(out).toContain("- be kind to code\n- be kind to people\n- be brief\n");
  });

  it("deletions: upstream deleted an edited file -> kept; deleted locally and changed upstream -> conflict", async () => {
    const kept = await merge(ours, null);
    expect(kept).toMatchObject({ status: "clean", content: ours });
    expect((await mergeFile({ base: BASE, ours: BASE, theirs: null, policy: "three-way" }, gitMergeText)).status === "clean").toBe(true);
    expect((await mergeFile({ base: BASE, ours: null, theirs, policy: "three-way" }, gitMergeText)).status).toBe("conflict");
  });

  it("the first matching glob decides; no match is three-way", () => {
    const rules = [
      { path: "policies/**", policy: "upstream-wins" as const },
      { path: "agents/*.md", policy: "union" as const },
      { path: "**", policy: "local-wins" as const },
    ];
    expect(policyFor("policies/security/secrets.md", rules)).toEqual({ policy: "upstream-wins", rule: 0 });
    expect(policyFor("agents/reviewer.md", rules)).toEqual({ policy: "union", rule: 1 });
    expect(policyFor("knowledge/a.md", rules)).toEqual({ policy: "local-wins", rule: 2 });
    expect(policyFor("knowledge/a.md", [])).toEqual({ policy: "three-way", rule: undefined });
  });

  it("a bad merge rule in aicfg.yaml is reported at file:line:col", () => {
    const dir = tempDir();
    try {
      writeTree(dir.path, { "aicfg.yaml": 'name: t\nmerge:\n  - path: "policies/**"\n    policy: theirs\n  - path: ../outside/**\n    policy: union\n' });
      const d = loadLibrary(dir.path).diagnostics.filter((x) => x.severity === "error");
      expect(d.map((x) => [x.line, x.col, x.code])).toEqual([
        [4, 13, "invalid-value"],
        [5, 11, "invalid-value"],
      ]);
      expect(d[0]!.hint).toBe("expected one of: three-way, upstream-wins, local-wins, union");
      expect(d[1]!.message).toContain("without a leading '/' or '..'");
      expect(d[0]!.file).toBe(`${dir.path}/aicfg.yaml`);
    } finally {
      dir.cleanup();
    }
  });
});
