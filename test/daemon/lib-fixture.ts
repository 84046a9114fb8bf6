// A tiny library on disk for daemon and workflow tests: a manifest, two agents (one using a
// knowledge file), and whatever workflow files a test passes.
import { writeTree } from "../helpers/fixtures.ts";

export function writeLibrary(root: string, workflows: Record<string, string> = {}, extra: Record<string, string> = {}): void {
  const files: Record<string, string> = {
    "aicfg.yaml": "name: lib\ntargets: [claude-code]\nexport:\n  scope: project\n  root: ../project\n",
    "agents/reviewer.md": "---\ndescription: Reviews code\nknowledge: [style.md]\n---\nReview every change carefully.\n",
    "agents/writer.md": "---\ndescription: Writes docs\n---\nWrite clear documentation.\n",
    "knowledge/style.md": "# Style\n\nUse short sentences.\n",
    ...extra,
  };
  for (const [name, text] of Object.entries(workflows)) files[`workflows/${name}.yaml`] = text;
  writeTree(root, files);
}
