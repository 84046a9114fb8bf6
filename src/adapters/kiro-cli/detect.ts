// Detection of Kiro CLI: the `kiro-cli` binary (or `kiro-cli-chat`), its version and agent format
// generation (2.x JSON vs 3.x, which also reads Markdown agents), and ~/.kiro/.
import { join } from "node:path";
import { exportPaths, findBinary, generationOf } from "../q-cli/detect.ts";
import type { DetectEnv, Detection } from "../types.ts";
import { KIRO_DIALECT } from "./dialect.ts";

export async function detectKiro(env: DetectEnv): Promise<Detection> {
  const bin = await findBinary(env, ["kiro-cli", "kiro-cli-chat"]);
  const configDir = join(env.homeDir, ".kiro");
  const configPaths = [configDir, join(env.homeDir, KIRO_DIALECT.userDir)].map((path) => ({ path, exists: env.exists(path) }));
  const notes: string[] = [];
  const nextSteps: string[] = [];
  const det: Detection = { installed: bin !== undefined, configPaths, exportPaths: exportPaths(env, KIRO_DIALECT), notes, nextSteps };
  if (bin) {
    det.binary = bin.version === undefined ? { name: bin.name, path: bin.path } : { name: bin.name, path: bin.path, version: bin.version };
    const gen = generationOf(bin.output, bin.version, true);
    if (gen) det.generation = gen;
    else notes.push(`${bin.path} --version printed no version`);
    const major = bin.version === undefined ? undefined : Number(bin.version.split(".")[0]);
    if (major !== undefined && major >= 3) {
      notes.push(
        "Kiro CLI 3.x still reads these JSON agents (the 2.x format); run them with 'kiro-cli --v2' if hooks in the agent file must run, since the v3 harness reads hooks from .kiro/hooks/ instead",
      );
    }
    if (!configPaths[0]!.exists) nextSteps.push("start Kiro CLI once ('kiro-cli login') so it creates ~/.kiro/");
  } else {
    if (configPaths[0]!.exists) notes.push(`${configDir} exists, but 'kiro-cli' is not on PATH`);
    const hadQ = env.exists(join(env.homeDir, ".aws", "amazonq")) || env.which("q") !== undefined;
    nextSteps.push(
      `install Kiro CLI: curl -fsSL https://cli.kiro.dev/install | bash (https://kiro.dev/docs/cli/installation)${hadQ ? "; it is the successor of the Amazon Q Developer CLI found here and takes over its login and settings" : ""}`,
    );
  }
  return det;
}
