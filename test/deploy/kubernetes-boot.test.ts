// The pod's start-up path, for real: the manifests are read, their volumes materialised in a temp
// folder (ConfigMap items, the Secret's keys as files, the state volume), the init container's clone
// command run against a local bare repository, and the real daemon started with exactly the
// container's args and env (the image's ENV included), paths mapped under the temp folder, on
// 0.0.0.0 and a free port. Then every probe is asked the way the kubelet asks it, the API is called
// with the Secret's admin token by the Service's and the pod's names, and SIGTERM drains within the
// grace period. Without the admin token the first boot is refused with a message naming the key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { CREDENTIAL_ADMIN_NAME } from "../../src/daemon/auth/credential-admin.ts";
import { generateToken } from "../../src/daemon/auth/token-format.ts";
import { API_URL_FILE } from "../../src/daemon/config.ts";
import { tempDir, writeTree } from "../helpers/fixtures.ts";
import { nodeBin } from "../daemon/harness.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const dir = join(repo, "deploy", "kubernetes");
const load = (file: string) => parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => (d as { toJS: () => unknown }).toJS())[0] as never;

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
};
type Probe = {
  httpGet?: { path: string; port: string; httpHeaders?: Array<{ name: string; value: string }> };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
};
type Container = {
  name: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  ports?: Array<{ name: string; containerPort: number }>;
  volumeMounts: Array<{ name: string; mountPath: string }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
};
type Volume = {
  name: string;
  configMap?: { name: string; items: Array<{ key: string; path: string }> };
  secret?: { secretName: string };
  persistentVolumeClaim?: unknown;
  emptyDir?: unknown;
};
const deployment = load("deployment.yaml") as {
  spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[]; initContainers: Container[]; volumes: Volume[] } } };
};
const configMap = load("configmap.yaml") as { data: Record<string, string> };
const secret = load("secret.yaml") as { stringData: Record<string, string> };
const pod = deployment.spec.template.spec;
const main = pod.containers.find((c) => c.name === "aicfg")!;
const init = pod.initContainers.find((c) => c.name === "clone-library")!;
const POD_IP = "10.42.0.17";

/** The runtime stage's ENV of deploy/Dockerfile: what every container of the image starts with. */
function imageEnv(): Record<string, string> {
  const text = readFileSync(join(repo, "deploy", "Dockerfile"), "utf8");
  const runtime = text.slice(text.indexOf("AS runtime"));
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtime)![1]!;
  return Object.fromEntries([...block.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One HTTP request to the daemon on 127.0.0.1 with an explicit Host (what a kubelet or a client by name sends). */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += String(d)));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

type Pod = { root: string; port: number; env: Record<string, string>; args: string[]; map: (s: string) => string };

/** Lays the pod out under a temp folder the way the kubelet would, and runs the init container. */
function preparePod(root: string, port: number, secretValues: Record<string, string>): Pod {
  // Every absolute path a container sees, mapped under root; the port mapped to a free one.
  const mounts = [...new Set([...main.volumeMounts, ...init.volumeMounts].map((m) => m.mountPath))].sort((a, b) => b.length - a.length);
  // One pass, longest mount first, whole path components only (root itself may sit under /tmp).
  const mountRe = new RegExp(`(?<![\\w./-])(${mounts.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?![\\w.-])`, "g");
  const map = (s: string) =>
    s
      .replace(mountRe, (m) => join(root, m))
      .split(":7411")
      .join(`:${port}`);
  const gitEnv = {
    GIT_AUTHOR_NAME: "aicfg test",
    GIT_AUTHOR_EMAIL: "test@example.invalid",
    GIT_COMMITTER_NAME: "aicfg test",
    GIT_COMMITTER_EMAIL: "test@example.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
  // The team library, in a bare repository the ConfigMap's library-repo points at.
  const work = join(root, "src-library");
  writeTree(work, {
    "aicfg.yaml": "name: team\ntargets: [claude-code]\n",
    "agents/reviewer.md": "---\ndescription: Reviews pull requests\n---\nReview carefully.\n",
  });
  const git = (args: string[], cwd: string) => {
    const r = spawnSync("git", args, { cwd, env: { ...process.env, ...gitEnv }, encoding: "utf8" });
    expect(r.status, `git ${args.join(" ")}: ${r.stderr}`).toBe(0);
  };
  git(["init", "-q", "-b", "main"], work);
  git(["add", "."], work);
  git(["commit", "-q", "-m", "team library"], work);
  git(["clone", "-q", "--bare", work, join(root, "library.git")], root);
  const data: Record<string, string> = { ...configMap.data, "library-repo": join(root, "library.git") };

  // The state and tmp volumes exist (empty) before any container starts.
  for (const v of pod.volumes) {
    if (v.persistentVolumeClaim || v.emptyDir)
      for (const m of [...main.volumeMounts, ...init.volumeMounts].filter((x) => x.name === v.name)) mkdirSync(join(root, m.mountPath), { recursive: true });
  }
  const resolveEnv = (c: Container): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) out[e.name] = map(e.value);
      else if (e.valueFrom?.configMapKeyRef) out[e.name] = data[e.valueFrom.configMapKeyRef.key]!;
      else if (e.valueFrom?.secretKeyRef) out[e.name] = secretValues[e.valueFrom.secretKeyRef.key]!;
      else if (e.valueFrom?.fieldRef?.fieldPath === "status.podIP") out[e.name] = POD_IP;
      else throw new Error(`the test does not know how to provide ${e.name}`);
    }
    return out;
  };
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...Object.fromEntries(Object.entries(imageEnv()).map(([k, v]) => [k, map(v)])), ...gitEnv };

  // The init container, its command as written (only the paths mapped).
  const cmd = init.command!.map(map);
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, env: { ...base, ...resolveEnv(init) }, encoding: "utf8" });
  expect(r.status, `init container: ${r.stderr}`).toBe(0);

  // Then the main container's volumes: ConfigMap items and the Secret's keys as files (0440).
  for (const m of main.volumeMounts) {
    const v = pod.volumes.find((x) => x.name === m.name)!;
    const target = join(root, m.mountPath);
    if (v.configMap) {
      mkdirSync(target, { recursive: true });
      for (const item of v.configMap.items) writeFileSync(join(target, item.path), map(data[item.key]!));
    } else if (v.secret) {
      mkdirSync(target, { recursive: true });
      for (const [key, value] of Object.entries(secretValues)) {
        writeFileSync(join(target, key), value);
        chmodSync(join(target, key), 0o440);
      }
    }
  }
  return { root, port, env: { ...base, ...resolveEnv(main) }, args: main.args!.map(map), map };
}

function startDaemon(p: Pod): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  // The image's ENTRYPOINT is `node /app/bin/aicfg.js`; here the repository's launcher.
  const child = spawn(nodeBin(), [join(repo, "bin", "aicfg.js"), ...p.args], { cwd: p.root, env: p.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += String(d)));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** A probe's headers as the kubelet sends them (the Host names the container port, mapped here). */
const headersOf = (probe: Probe, p: Pod) => Object.fromEntries((probe.httpGet!.httpHeaders ?? []).map((h) => [h.name, p.map(h.value)]));

describe("the pod's first boot", () => {
  let tmp: { path: string; cleanup: () => void };
  let p: Pod;
  let daemon: ReturnType<typeof startDaemon>;
  const adminToken = generateToken();
  beforeAll(async () => {
    tmp = tempDir("aicfg-k8s-");
    // The Secret as an operator fills it: secret.yaml's keys, admin-token generated as it says.
    p = preparePod(tmp.path, await freePort(), { ...secret.stringData, "admin-token": adminToken });
    daemon = startDaemon(p);
    // The startup probe: GET with its Host header until it answers, within period × failureThreshold.
    const probe = main.startupProbe!;
    const deadline = Date.now() + probe.periodSeconds! * probe.failureThreshold! * 1000;
    for (;;) {
      const r = await get(p.port, probe.httpGet!.path, headersOf(probe, p)).catch(() => undefined);
      if (r?.status === 200) break;
      const code = await Promise.race([daemon.exited, new Promise((res) => setTimeout(() => res("running"), 200))]);
      if (code !== "running") throw new Error(`the daemon exited (${String(code)}) before its startup probe passed:\n${daemon.stderr()}`);
      if (Date.now() > deadline) throw new Error(`startup probe failed for ${probe.periodSeconds! * probe.failureThreshold!} s:\n${daemon.stderr()}`);
    }
  }, 150_000);
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill("SIGKILL");
      await daemon.exited;
    }
    tmp?.cleanup();
  });

  it("listens on 0.0.0.0, as daemon.yaml says", () => {
    expect(configMap.data["daemon.yaml"]).toContain("listen: 0.0.0.0:7411");
    expect(readFileSync(join(p.root, "etc/aicfg/daemon.yaml"), "utf8")).toContain(`listen: 0.0.0.0:${p.port}`);
    expect(readFileSync(join(p.root, "var/lib/aicfg", API_URL_FILE), "utf8").trim()).toBe(`http://0.0.0.0:${p.port}`);
  });

  it("answers the liveness probe and the readiness probe's own command", () => {
    return (async () => {
      const live = await get(p.port, main.livenessProbe!.httpGet!.path, headersOf(main.livenessProbe!, p));
      expect(live.status).toBe(200);
      const cmd = main.readinessProbe!.exec!.command.map(p.map);
      expect(cmd[0]).toBe("node");
      const r = spawnSync(nodeBin(), cmd.slice(1), { encoding: "utf8", timeout: 10_000 });
      expect(r.status, `readiness probe: ${r.stderr}`).toBe(0);
    })();
  });

  it("serves /v1 with the Secret's admin token by the Service's and the pod's names, and refuses without it", async () => {
    for (const host of [`aicfg.aicfg.svc.cluster.local:${p.port}`, `aicfg:${p.port}`, `${POD_IP}:${p.port}`]) {
      const ok = await get(p.port, "/v1/libraries", { Host: host, Authorization: `Bearer ${adminToken}` });
      expect(ok.status, `${host}: ${ok.body}`).toBe(200);
      expect(JSON.stringify(JSON.parse(ok.body))).toContain('"team"');
      const anonymous = await get(p.port, "/v1/libraries", { Host: host });
      expect(anonymous.status, host).toBe(401);
    }
    // The Secret's token is the one admin token besides the daemon's own local one.
    const tokens = await get(p.port, "/v1/tokens", { Host: `aicfg:${p.port}`, Authorization: `Bearer ${adminToken}` });
    expect(tokens.status).toBe(200);
    const list = (JSON.parse(tokens.body) as { items: Array<{ name: string; role: string }> }).items;
    expect(
      list
        .filter((t) => t.role === "admin")
        .map((t) => t.name)
        .sort(),
    ).toEqual([CREDENTIAL_ADMIN_NAME, "local-admin"]);
    const metrics = await get(p.port, "/metrics", { Host: `${POD_IP}:${p.port}`, Authorization: `Bearer ${adminToken}` });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("# TYPE");
    const stranger = await get(p.port, "/v1/libraries", { Host: `evil.example:${p.port}`, Authorization: `Bearer ${adminToken}` });
    expect(stranger.status).toBe(421);
  });

  it("drains on SIGTERM and exits 0 within terminationGracePeriodSeconds", async () => {
    const started = Date.now();
    // process.kill, not child.kill: under Deno the latter reports the signal instead of the exit code.
    process.kill(daemon.child.pid!, "SIGTERM");
    const code = await daemon.exited;
    expect(code, daemon.stderr()).toBe(0);
    expect(Date.now() - started).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
  }, 60_000);
});

describe("a first boot without the admin token", () => {
  it("is refused at once with a message that names the Secret key to fill", async () => {
    const tmp = tempDir("aicfg-k8s-");
    try {
      const p = preparePod(tmp.path, await freePort(), { ...secret.stringData });
      expect(secret.stringData["admin-token"]).toBe("");
      const d = startDaemon(p);
      const code = await d.exited;
      expect(code).toBe(1);
      expect(d.stderr()).toContain("refusing to listen on 0.0.0.0: it is not a loopback address and no admin token exists");
      expect(d.stderr()).toContain("the Secret key admin-token");
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  it("a malformed token in the Secret is refused with a precise error, not adopted", async () => {
    const tmp = tempDir("aicfg-k8s-");
    try {
      const good = generateToken();
      const p = preparePod(tmp.path, await freePort(), { ...secret.stringData, "admin-token": good.slice(0, -1) + (good.endsWith("x") ? "y" : "x") });
      const d = startDaemon(p);
      expect(await d.exited).toBe(1);
      expect(d.stderr()).toMatch(/the admin-token credential in \S+ is not an aicfg token \((its checksum does not match|expected aicfg_)/);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);
});
