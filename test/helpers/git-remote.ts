// A team layer's git remote for tests: a bare repository on disk and clones of it, one per team member,
// each with its own identity, pushing to main.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { writeTree } from "./fixtures.ts";

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Creates `<root>/<name>.git` (bare, branch main) with a first commit of `files`, pushed from a clone `<root>/<first>`. */
export function bareRemote(root: string, name: string, first: string, files: Record<string, string>): { remote: string; firstClone: string } {
  const remote = join(root, `${name}.git`);
  git(root, "init", "-q", "--bare", "--initial-branch=main", remote);
  const firstClone = cloneAs(root, remote, first);
  writeTree(firstClone, files);
  git(firstClone, "add", "-A");
  git(firstClone, "commit", "-q", "-m", "first");
  git(firstClone, "push", "-q", "origin", "HEAD:main");
  return { remote, firstClone };
}

/** A clone of `remote` at `<root>/<member>` that commits as that member. */
export function cloneAs(root: string, remote: string, member: string): string {
  const c = join(root, member);
  git(root, "clone", "-q", remote, c);
  git(c, "config", "user.email", `${member}@example.com`);
  git(c, "config", "user.name", member);
  return c;
}

/** Pulls (rebasing onto what the other members pushed), writes `files`, commits and pushes; returns the new commit. */
export function commitPush(clone: string, files: Record<string, string>, msg: string): string {
  git(clone, "pull", "-q", "--rebase", "origin", "main");
  writeTree(clone, files);
  git(clone, "add", "-A");
  git(clone, "commit", "-q", "-m", msg);
  git(clone, "push", "-q", "origin", "HEAD:main");
  return git(clone, "rev-parse", "HEAD");
}
