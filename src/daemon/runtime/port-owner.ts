// Who listens on a TCP port, for the "port already in use" message: on Linux, the listening
// socket's inode from /proc/net/tcp{,6}, then the process whose /proc/<pid>/fd links to it. Best
// effort: another user's processes are not readable, and other systems answer undefined.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createSecretRegistry } from "../telemetry/redact.ts";

export type PortOwner = { pid: number; command: string };

/** Inodes of the sockets listening on `port` (any address), from a /proc/net/tcp-style table. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st ... inode (10th field); st 0A is LISTEN.
    const local = f[1];
    if (!local || f[3] !== "0A" || !f[9]) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port) inodes.push(f[9]);
  }
  return inodes;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function findPortOwner(port: number, proc = "/proc"): PortOwner | undefined {
  if (process.platform !== "linux") return undefined;
  const inodes = new Set([...listeningInodes(read(`${proc}/net/tcp`), port), ...listeningInodes(read(`${proc}/net/tcp6`), port)]);
  inodes.delete("0");
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(target)) {
        // A command line can carry a token: scrub the known shapes before it reaches a terminal or journal.
        const command = createSecretRegistry().scrub(
          read(`${proc}/${pid}/cmdline`).split("\0").filter(Boolean).join(" ") || read(`${proc}/${pid}/comm`).trim(),
        );
        return { pid: Number(pid), command: command.length > 200 ? command.slice(0, 199) + "…" : command };
      }
    }
  }
  return undefined;
}
