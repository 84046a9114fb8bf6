// Detection of Amazon Q Developer CLI (binaries `q` / `qchat`, ~/.aws/amazonq/) and the helpers
// Kiro CLI detection shares: the first binary on PATH, its `--version`, and the format generation.
import { join } from "node:path";
import type { DetectEnv, Detection } from "../types.ts";
import { Q_DIALECT, type AgentDialect } from "./dialect.ts";

import { findBinary } from "../detect-env.ts";

export { findBinary } from "../detect-env.ts";

/**
 * The agent format generation from a `--version` output. Q CLI 1.x writes "amazon-q-cli"; the
 * auto-update of 2025-11-24 turned `q` into Kiro CLI, which names itself in the output.
 */
export function generationOf(output: string, version: string | undefined, kiro: boolean): string | undefined {
  if (!kiro && !/kiro/i.test(output)) return "amazon-q-cli";
  if (version === undefined) return undefined;
  const major = Number(version.split(".")[0]);
  return `kiro-cli ${major}.x`;
}

export function exportPaths(env: Pick<DetectEnv, "homeDir" | "projectRoot">, d: AgentDialect): Detection["exportPaths"] {
  return { project: [join(env.projectRoot, d.projectDir)], user: [join(env.homeDir, d.userDir)] };
}

export async function detectQ(env: DetectEnv): Promise<Detection> {
  const bin = await findBinary(env, ["q", "qchat"]);
  const configDir = join(env.homeDir, ".aws", "amazonq");
  const agentsDir = join(env.homeDir, Q_DIALECT.userDir);
  const configPaths = [configDir, agentsDir].map((path) => ({ path, exists: env.exists(path) }));
  const notes: string[] = [];
  const nextSteps: string[] = [];
  const det: Detection = { installed: bin !== undefined, configPaths, exportPaths: exportPaths(env, Q_DIALECT), notes, nextSteps };
  if (bin) {
    det.binary = bin.version === undefined ? { name: bin.name, path: bin.path } : { name: bin.name, path: bin.path, version: bin.version };
    const gen = generationOf(bin.output, bin.version, false);
    if (gen) det.generation = gen;
    if (bin.version === undefined) notes.push(`${bin.path} --version printed no version`);
    if (gen?.startsWith("kiro-cli")) {
      notes.push(`'${bin.name}' is Kiro CLI after the automatic upgrade; export to the kiro-cli target as well`);
      nextSteps.push("aicfg export --target kiro-cli");
    } else {
      notes.push(
        "Amazon Q Developer CLI is end-of-life (maintenance only since November 2025); Kiro CLI is its successor and reads the same kind of agent JSON",
      );
      nextSteps.push("install Kiro CLI (curl -fsSL https://cli.kiro.dev/install | bash) and export to the kiro-cli target too");
    }
  } else {
    if (configPaths[0]!.exists) notes.push(`${configDir} exists, but neither 'q' nor 'qchat' is on PATH`);
    nextSteps.push(
      "Amazon Q Developer CLI is end-of-life (maintenance only since November 2025); install its successor Kiro CLI instead (curl -fsSL https://cli.kiro.dev/install | bash) and export with 'aicfg export --target kiro-cli'",
    );
  }
  return det;
}
