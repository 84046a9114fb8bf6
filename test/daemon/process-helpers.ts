// Runs the real `aicfg daemon` in a child process (node running bin/aicfg.js) for crash and
// shutdown tests.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { nodeBin } from "./harness.ts";

const BIN = join(import.meta.dirname, "../../bin/aicfg.js");

export type DaemonProcess = {
  child: ChildProcess;
  ready: Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  stdout: () => string;
};

export function spawnDaemon(args: string[], env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(nodeBin(), [BIN, "daemon", "--json", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n").find((l) => l.startsWith('{"ready":'));
      if (line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then(({ code }) => reject(new Error(`daemon exited with ${code} before it was ready:\n${err}`)));
  });
  return { child, ready, exited, stderr: () => err, stdout: () => out };
}

/** A gate script: writes its pid to $PIDFILE, then waits until $GATE exists. */
const GATE_SCRIPT =
  "const fs=require('fs');fs.writeFileSync(process.env.PIDFILE,String(process.pid));const t=setInterval(()=>{if(fs.existsSync(process.env.GATE)){clearInterval(t);process.exit(0)}},5)";

export function gateWorkflow(name: string, watch: string, gate: string, pidFile: string): string {
  return [
    `name: ${name}`,
    "on:",
    `  watch: { paths: ['${watch}'], debounce: 50ms }`,
    "steps:",
    "  - id: work",
    "    uses: shell",
    "    with:",
    `      command: [${JSON.stringify(nodeBin())}, "-e", ${JSON.stringify(GATE_SCRIPT)}]`,
    `      env: { GATE: ${JSON.stringify(gate)}, PIDFILE: ${JSON.stringify(pidFile)} }`,
    "",
  ].join("\n");
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
