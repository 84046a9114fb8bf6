// Runs the real CLI in-process with captured output.
import { runCli } from "../../src/daemon/cli/main.ts";

export type CliResult = { code: number; out: string; err: string; json: () => any };

export async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await runCli(args, {
    out: (t) => {
      out += t.endsWith("\n") ? t : t + "\n";
    },
    err: (t) => {
      err += t.endsWith("\n") ? t : t + "\n";
    },
    color: false,
    tty: false,
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: "1", ...(opts.env ?? {}) },
  });
  return { code, out, err, json: () => JSON.parse(out) };
}
