// A REAL receiving AF_UNIX/SOCK_DGRAM socket bound by python3 (Node cannot bind one), with
// SO_PASSCRED so each datagram's sender PID is recorded as systemd would see it.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

// Prints {"bound": <CLOCK_MONOTONIC usec>} once bound, then one JSON line per datagram with the
// text, the SCM_CREDENTIALS pid and the monotonic time of receipt. BARRIER=1 datagrams (sent by
// systemd-notify to wait for the manager) are answered by closing the passed fd, as systemd does.
const RECEIVER = `
import socket, sys, os, struct, time, json
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
if not addr.startswith("@"): os.chmod(addr, 0o777)
print(json.dumps({"bound": time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}), flush=True)
while True:
    data, anc, flags, _ = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(64))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack("%di" % (len(payload) // 4), payload[: len(payload) // 4 * 4]):
                os.close(fd)
    if data == b"BARRIER=1":
        continue
    print(json.dumps({"text": data.decode(), "pid": pid, "mono": time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}), flush=True)
`;

type Datagram = { text: string; pid: number; mono: number };

export type Receiver = {
  address: string;
  boundAt: number;
  received: Datagram[];
  /** Resolves once `count` datagrams have arrived in total. */
  waitFor: (count: number) => Promise<Datagram[]>;
  close: () => void;
};

const children: ChildProcess[] = [];

/** Kills every receiver still running. */
export function stopReceivers(): void {
  for (const c of children) c.kill();
}

export async function startReceiver(address: string): Promise<Receiver> {
  const child = spawn("python3", ["-c", RECEIVER, address], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const received: Datagram[] = [];
  const waiters: Array<{ count: number; resolve: (d: Datagram[]) => void }> = [];
  let onBound: (mono: number) => void = () => {};
  const bound = new Promise<number>((r) => (onBound = r));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const msg = JSON.parse(line) as { bound?: number } & Datagram;
    if (msg.bound !== undefined) return onBound(msg.bound);
    received.push({ text: msg.text, pid: msg.pid, mono: msg.mono });
    for (const w of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(received.slice());
    }
  });
  const boundAt = await bound;
  return {
    address,
    boundAt,
    received,
    waitFor: (count) => (received.length >= count ? Promise.resolve(received.slice()) : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => child.kill(),
  };
}
