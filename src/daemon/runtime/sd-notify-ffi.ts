// Sends one AF_UNIX datagram to the systemd notification socket by calling libc's socket(2),
// sendto(2) and close(2) through the FFI built into each runtime (node:ffi on Node >= 26.1,
// bun:ffi on Bun, Deno.dlopen on Deno): no native addon, no child process, and the datagram
// carries our own PID, so the unit can keep NotifyAccess=main. Also reads CLOCK_MONOTONIC.

/** The libc calls the notifier needs, bound for the current runtime. */
export type LibcDatagram = {
  runtime: "node" | "bun" | "deno";
  /** Sends `payload` to the AF_UNIX/SOCK_DGRAM socket at `address` (`@name` = abstract). Throws on failure. */
  sendDatagram: (address: string, payload: Uint8Array) => void;
  /** CLOCK_MONOTONIC in microseconds (the clock systemd's MONOTONIC_USEC= is read against). */
  monotonicUsec: () => bigint;
};

import { builtinModules } from "node:module";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const CLOCK_MONOTONIC = 1;
/** sizeof(struct sockaddr_un) on Linux: sa_family_t (2 bytes) + sun_path[108]. */
const SUN_PATH_MAX = 108;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  11: "EAGAIN",
  13: "EACCES",
  20: "ENOTDIR",
  22: "EINVAL",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  97: "EAFNOSUPPORT",
  105: "ENOBUFS",
  111: "ECONNREFUSED",
};

class DatagramSendError extends Error {
  readonly errno: number;
  readonly errnoName: string;
  constructor(op: string, address: string, errno: number) {
    const name = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${op} to the notify socket ${address} failed: ${name}`);
    this.name = "DatagramSendError";
    this.errno = errno;
    this.errnoName = name;
  }
}

/**
 * Encodes a NOTIFY_SOCKET value as a `struct sockaddr_un` and its length. A leading `@` selects
 * the abstract namespace (first byte of sun_path NUL, no terminator), as sd_notify(3) does.
 */
export function encodeSockaddrUn(address: string): { addr: Uint8Array; length: number } {
  const abstract = address.startsWith("@");
  const name = new TextEncoder().encode(abstract ? address.slice(1) : address);
  // sun_path holds a file path plus its NUL terminator, or a leading NUL plus the abstract name.
  const pathBytes = name.length + 1;
  if (!abstract && (address.length === 0 || !address.startsWith("/"))) {
    throw new Error(`NOTIFY_SOCKET ${JSON.stringify(address)} is neither an absolute path nor an abstract '@' name`);
  }
  if (abstract && name.length === 0) throw new Error("NOTIFY_SOCKET '@' names no abstract socket");
  if (name.includes(0)) throw new Error("NOTIFY_SOCKET contains a NUL byte");
  if (pathBytes > SUN_PATH_MAX) throw new Error(`NOTIFY_SOCKET is ${pathBytes} bytes, longer than the ${SUN_PATH_MAX} a unix socket address holds`);
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, abstract ? 3 : 2);
  return { addr, length: abstract ? 2 + 1 + name.length : 2 + name.length + 1 };
}

/** The four libc functions, called with plain numbers; each runtime's binding adapts its FFI to this. */
type RawLibc = {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number) => number;
  close: (fd: number) => number;
  clockGettime: (clock: number, ts: Uint8Array) => number;
  errno: () => number;
};

function bind(runtime: LibcDatagram["runtime"], libc: RawLibc): LibcDatagram {
  return {
    runtime,
    sendDatagram(address, payload) {
      const { addr, length } = encodeSockaddrUn(address);
      const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) throw new DatagramSendError("socket()", address, libc.errno());
      try {
        const sent = libc.sendto(fd, payload, payload.length, MSG_NOSIGNAL, addr, length);
        if (sent < 0) throw new DatagramSendError("sendto()", address, libc.errno());
      } finally {
        libc.close(fd);
      }
    },
    monotonicUsec() {
      const ts = new Uint8Array(16);
      if (libc.clockGettime(CLOCK_MONOTONIC, ts) !== 0) throw new Error(`clock_gettime(CLOCK_MONOTONIC) failed: errno ${libc.errno()}`);
      const view = new DataView(ts.buffer);
      return view.getBigInt64(0, true) * 1_000_000n + view.getBigInt64(8, true) / 1000n;
    },
  };
}

// Minimal structural views of each runtime's FFI (the runtimes' own type packages are not
// dependencies of this project), kept to exactly what is called below.
type NodeFfi = {
  dlopen: (path: string | null, defs: Record<string, { arguments: string[]; return: string }>) => { functions: Record<string, (...a: unknown[]) => unknown> };
  getInt32: (pointer: bigint, offset?: number) => number;
};
type BunFfi = {
  dlopen: (path: string, defs: Record<string, { args: string[]; returns: string }>) => { symbols: Record<string, (...a: unknown[]) => unknown> };
  read: { i32: (pointer: unknown, offset?: number) => number };
};
type DenoFfi = {
  dlopen: (path: string, defs: Record<string, { parameters: string[]; result: string }>) => { symbols: Record<string, (...a: unknown[]) => unknown> };
  UnsafePointerView: new (pointer: unknown) => { getInt32: (offset?: number) => number };
  permissions: { querySync: (d: { name: "ffi" }) => { state: string } };
};

/** libc's file name under glibc, then musl (Alpine), tried in order. */
function libcCandidates(): string[] {
  const arch = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch;
  return ["libc.so.6", `libc.musl-${arch}.so.1`];
}

function firstLoadable<T>(open: (path: string) => T): T {
  let last: unknown;
  for (const candidate of libcCandidates()) {
    try {
      return open(candidate);
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

function loadNode(): LibcDatagram | undefined {
  if (!builtinModules.includes("node:ffi")) return undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  let ffi: NodeFfi | undefined;
  try {
    // Absent before Node 26.1 and when started with --no-experimental-ffi; denied under --permission without --allow-ffi.
    ffi = getBuiltin?.("node:ffi") as NodeFfi | undefined;
  } catch {
    return undefined;
  }
  if (!ffi || typeof ffi.dlopen !== "function") return undefined;
  let fns: Record<string, (...a: unknown[]) => unknown>;
  try {
    // `null` resolves the symbols from the process image: node links libc dynamically.
    fns = ffi.dlopen(null, {
      socket: { arguments: ["i32", "i32", "i32"], return: "i32" },
      sendto: { arguments: ["i32", "buffer", "u64", "i32", "buffer", "u32"], return: "i64" },
      close: { arguments: ["i32"], return: "i32" },
      clock_gettime: { arguments: ["i32", "buffer"], return: "i32" },
      __errno_location: { arguments: [], return: "pointer" },
    }).functions;
  } catch {
    return undefined;
  }
  const f = fns as {
    socket: (a: number, b: number, c: number) => number;
    sendto: (a: number, b: Uint8Array, c: bigint, d: number, e: Uint8Array, g: number) => bigint;
    close: (a: number) => number;
    clock_gettime: (a: number, b: Uint8Array) => number;
    __errno_location: () => bigint;
  };
  return bind("node", {
    socket: (d, t, p) => f.socket(d, t, p),
    sendto: (fd, buf, len, flags, addr, addrlen) => Number(f.sendto(fd, buf, BigInt(len), flags, addr, addrlen)),
    close: (fd) => f.close(fd),
    clockGettime: (c, ts) => f.clock_gettime(c, ts),
    errno: () => ffi.getInt32(f.__errno_location()),
  });
}

async function loadBun(): Promise<LibcDatagram | undefined> {
  let ffi: BunFfi;
  try {
    const specifier = "bun:ffi";
    ffi = (await import(specifier)) as BunFfi;
  } catch {
    return undefined;
  }
  try {
    const { symbols } = firstLoadable((path) =>
      ffi.dlopen(path, {
        socket: { args: ["i32", "i32", "i32"], returns: "i32" },
        sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: "i64" },
        close: { args: ["i32"], returns: "i32" },
        clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
        __errno_location: { args: [], returns: "ptr" },
      }),
    );
    const f = symbols as {
      socket: (a: number, b: number, c: number) => number;
      sendto: (a: number, b: Uint8Array, c: number, d: number, e: Uint8Array, g: number) => number | bigint;
      close: (a: number) => number;
      clock_gettime: (a: number, b: Uint8Array) => number;
      __errno_location: () => unknown;
    };
    return bind("bun", {
      socket: (d, t, p) => f.socket(d, t, p),
      sendto: (fd, buf, len, flags, addr, addrlen) => Number(f.sendto(fd, buf, len, flags, addr, addrlen)),
      close: (fd) => f.close(fd),
      clockGettime: (c, ts) => f.clock_gettime(c, ts),
      errno: () => ffi.read.i32(f.__errno_location(), 0),
    });
  } catch {
    return undefined;
  }
}

function loadDeno(deno: DenoFfi): LibcDatagram | undefined {
  try {
    // Query first: an ungranted permission would otherwise prompt on a terminal.
    if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
    const { symbols } = firstLoadable((path) =>
      deno.dlopen(path, {
        socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
        sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
        close: { parameters: ["i32"], result: "i32" },
        clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
        __errno_location: { parameters: [], result: "pointer" },
      }),
    );
    const f = symbols as {
      socket: (a: number, b: number, c: number) => number;
      sendto: (a: number, b: Uint8Array, c: bigint, d: number, e: Uint8Array, g: number) => number | bigint;
      close: (a: number) => number;
      clock_gettime: (a: number, b: Uint8Array) => number;
      __errno_location: () => unknown;
    };
    return bind("deno", {
      socket: (d, t, p) => f.socket(d, t, p),
      sendto: (fd, buf, len, flags, addr, addrlen) => Number(f.sendto(fd, buf, BigInt(len), flags, addr, addrlen)),
      close: (fd) => f.close(fd),
      clockGettime: (c, ts) => f.clock_gettime(c, ts),
      errno: () => new deno.UnsafePointerView(f.__errno_location()).getInt32(0),
    });
  } catch {
    return undefined;
  }
}

export function currentRuntime(): LibcDatagram["runtime"] {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) return "deno";
  if ((process.versions as Record<string, string | undefined>).bun !== undefined) return "bun";
  return "node";
}

/**
 * Whether this runtime offers a built-in FFI to reach libc, answered without loading it (Node
 * prints an ExperimentalWarning when node:ffi is loaded). Decides the unit's NotifyAccess=.
 */
export function hasBuiltinFfi(): boolean {
  if (process.platform !== "linux") return false;
  const runtime = currentRuntime();
  if (runtime === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;
    return deno.permissions.querySync({ name: "ffi" }).state === "granted";
  }
  if (runtime === "bun") return true;
  // Listed from Node 26.1 on, and not when started with --no-experimental-ffi.
  return builtinModules.includes("node:ffi");
}

let cached: Promise<LibcDatagram | undefined> | undefined;

/**
 * Binds libc through the running runtime's FFI, or resolves `undefined` when this runtime cannot
 * (Node before 26.1, FFI disabled, Deno without --allow-ffi, a non-Linux libc). Loaded once.
 */
export function loadLibcDatagram(): Promise<LibcDatagram | undefined> {
  if (process.platform !== "linux") return Promise.resolve(undefined);
  cached ??= (async () => {
    const runtime = currentRuntime();
    if (runtime === "deno") return loadDeno((globalThis as unknown as { Deno: DenoFfi }).Deno);
    if (runtime === "bun") return loadBun();
    return loadNode();
  })();
  return cached;
}
