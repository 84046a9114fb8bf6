// The real DetectEnv: PATH lookup and a short, shell-free `--version` run. Adapters' detect()
// functions receive it (tests pass one with a fake PATH and a fake home).
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { DetectEnv } from "./types.ts";

export type FoundBinary = { name: string; path: string; version?: string; output: string };

/** The first of `names` on PATH, with the version its `--version` prints (if it runs). */
export async function findBinary(env: DetectEnv, names: readonly string[]): Promise<FoundBinary | undefined> {
  for (const name of names) {
    const path = env.which(name);
    if (!path) continue;
    const r = await env.run(path, ["--version"]);
    const output = r ? `${r.stdout}\n${r.stderr}`.trim() : "";
    const version = r && r.code === 0 ? parseVersion(output) : undefined;
    return version === undefined ? { name, path, output } : { name, path, version, output };
  }
  return undefined;
}

/** The first executable named `name` on a PATH (no shell, no `which`). */
export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export function realDetectEnv(opts: { homeDir?: string; projectRoot?: string; env?: Record<string, string | undefined> } = {}): DetectEnv {
  const env = opts.env ?? process.env;
  return {
    homeDir: opts.homeDir ?? homedir(),
    projectRoot: opts.projectRoot ?? process.cwd(),
    env,
    exists: (p) => existsSync(p),
    which: (name) => findOnPath(name, env.PATH),
    run: (file, args) =>
      new Promise((resolve) => {
        execFile(file, args, { timeout: 3000, env: { ...env } as NodeJS.ProcessEnv, windowsHide: true, shell: false }, (err, stdout, stderr) => {
          if (err && typeof (err as { code?: unknown }).code !== "number") return resolve(undefined);
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout: String(stdout), stderr: String(stderr) });
        });
      }),
  };
}

/** Pulls the first dotted version number out of a `--version` output. */
export function parseVersion(output: string): string | undefined {
  return /(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)/.exec(output)?.[1];
}
