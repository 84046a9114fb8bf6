// deploy/Dockerfile without a container engine: lint it with dockerfile-utils (the Dockerfile
// validator of the VS Code Docker tooling) with every check raised to an error, check the
// project's own rules (multi-stage, non-root, volume, prune), that every COPY source exists and is
// let through Dockerfile.dockerignore, and run the HEALTHCHECK command against a real HTTP server.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { ValidationSeverity, validate, type ValidatorSettings } from "dockerfile-utils";
import picomatch from "picomatch";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const dockerfile = readFileSync(join(root, "deploy/Dockerfile"), "utf8");
const ERROR = ValidationSeverity.ERROR;
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ERROR,
  directiveCasing: ERROR,
  emptyContinuationLine: ERROR,
  instructionCasing: ERROR,
  instructionCmdMultiple: ERROR,
  instructionEntrypointMultiple: ERROR,
  instructionHealthcheckMultiple: ERROR,
  instructionJSONInSingleQuotes: ERROR,
  instructionWorkdirRelative: ERROR,
};

/** Instructions with continuation lines joined, comments dropped: [keyword, rest]. */
function instructions(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (!pending && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const sp = full.indexOf(" ");
    out.push([full.slice(0, sp).toUpperCase(), full.slice(sp + 1).trim()]);
  }
  return out;
}

const ins = instructions(dockerfile);
const stages = ins.reduce<Array<Array<[string, string]>>>((acc, i) => {
  if (i[0] === "FROM") acc.push([]);
  acc.at(-1)?.push(i);
  return acc;
}, []);
const runtime = stages.at(-1)!;

describe("lint", () => {
  test("dockerfile-utils finds no problem with every check set to error", () => {
    expect(validate(dockerfile, STRICT).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  test("the linter is live: it reports a known-bad Dockerfile precisely", () => {
    const bad = "FROM node\nHEALTHCHECK --interval=soon CMD true\nCMD ['node']\nworkdir app\nEXPOSE http\n";
    expect(validate(bad, STRICT).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([
      "2: time: invalid duration soon",
      "3: Instruction written as a JSON array but is using single quotes instead of double quotes",
      "4: Instructions should be written in uppercase letters",
      "4: WORKDIR paths should be absolute",
      "5: Invalid containerPort: http",
    ]);
  });
});

describe("project rules", () => {
  test("two stages: build with npm ci, build and prune; runtime copies only the results", () => {
    expect(stages.map((s) => s[0]![1])).toEqual(["${NODE_IMAGE} AS build", "${NODE_IMAGE} AS runtime"]);
    const buildRuns = stages[0]!.filter(([k]) => k === "RUN").map(([, v]) => v);
    expect(buildRuns).toEqual(["npm ci --ignore-scripts", "npm run build && npm prune --omit=dev --ignore-scripts"]);
    expect(runtime.filter(([k]) => k === "COPY").map(([, v]) => v)).toEqual([
      "--from=build /app/package.json ./package.json",
      "--from=build /app/node_modules ./node_modules",
      "--from=build /app/dist ./dist",
      "--from=build /app/bin ./bin",
    ]);
  });

  test("the runtime runs as a numeric non-root user, keeps state in a volume, stops on SIGTERM", () => {
    const last = (k: string) => runtime.filter(([kw]) => kw === k).at(-1)?.[1];
    expect(last("USER")).toBe("10001:10001");
    expect(last("VOLUME")).toBe('["/var/lib/aicfg"]');
    expect(last("EXPOSE")).toBe("7411");
    expect(last("STOPSIGNAL")).toBe("SIGTERM");
    expect(last("ENTRYPOINT")).toBe('["node", "/app/bin/aicfg.js"]');
    expect(last("CMD")).toBe('["daemon", "--config", "/etc/aicfg/daemon.yaml", "--state-dir", "/var/lib/aicfg"]');
    // The user must come after every RUN, so nothing runs as root after it.
    const userAt = runtime.findIndex(([k]) => k === "USER");
    expect(runtime.slice(userAt).some(([k]) => k === "RUN")).toBe(false);
    expect(ins.filter(([, v]) => /\bcurl\b|\bwget\b/.test(v))).toEqual([]);
  });

  test("every build-context COPY source exists and passes Dockerfile.dockerignore", () => {
    const ignore = readFileSync(join(root, "deploy/Dockerfile.dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    // Docker's rule: the last matching pattern wins; "!" re-includes.
    const included = (path: string) =>
      ignore.reduce((inc, pat) => {
        const neg = pat.startsWith("!");
        return picomatch(neg ? pat.slice(1) : pat, { dot: true })(path) ? neg : inc;
      }, true);
    const sources = stages[0]!.filter(([k, v]) => k === "COPY" && !v.startsWith("--from")).flatMap(([, v]) => v.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "bin", "src"]);
    for (const s of sources) {
      expect(existsSync(join(root, s)), s).toBe(true);
      expect(included(s === "bin" || s === "src" ? `${s}/x.ts` : s), s).toBe(true);
    }
    expect(included("node_modules/x/index.js")).toBe(false);
    expect(included(".git/config")).toBe(false);
    expect(included("test/a.test.ts")).toBe(false);
  });
});

describe("HEALTHCHECK", () => {
  const hc = runtime.find(([k]) => k === "HEALTHCHECK")![1];
  const json = hc.slice(hc.indexOf("CMD ") + 4);
  const argv = JSON.parse(json) as string[];
  let server: Server;
  let port = 0;
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/livez" ? status : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** Runs the HEALTHCHECK's node command (port swapped for the test server's) with the project's Node. */
  const probe = (targetPort: number) =>
    new Promise<number>((resolve) => {
      const node = join(root, "node_modules/.bin/node");
      const args = argv.slice(1).map((a) => a.replace("127.0.0.1:7411", `127.0.0.1:${targetPort}`));
      execFile(node, args, { timeout: 20_000 }, (err) => resolve(err ? Number((err as { code?: number }).code ?? -1) : 0));
    });

  test("is a shell-free node fetch of /livez with sane timings", () => {
    expect(hc.slice(0, hc.indexOf("CMD ")).trim()).toBe("--interval=30s --timeout=5s --start-period=60s --retries=3");
    expect(argv).toEqual(["node", "-e", "fetch('http://127.0.0.1:7411/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]);
  });

  test("exits 0 when /livez answers 200, 1 on 503, 1 when nothing listens", async () => {
    status = 200;
    expect(await probe(port)).toBe(0);
    status = 503;
    expect(await probe(port)).toBe(1);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probe(deadPort)).toBe(1);
  });
});
