// CI dependency audit (security goal G31): every dependency pinned to an exact version, then
// `npm audit` against the registry (all dependencies, then production only); when the registry's
// audit endpoint cannot be reached, the lockfile is checked against the advisory snapshot committed
// in security/advisories.json, and the output says so (never a silent pass). Fails on high/critical.
//
//   node scripts/audit.ts            audit (online when possible, else the snapshot)
//   node scripts/audit.ts --offline  audit against the snapshot only
//   node scripts/audit.ts --refresh  add what `npm audit --json` reports to the snapshot (online only)
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Severity = "info" | "low" | "moderate" | "high" | "critical";
export type Advisory = { package: string; vulnerable: string; id: string; severity: Severity; title: string; url?: string };
export type Snapshot = { generated_at: string; source: string; advisories: Advisory[] };
export type Finding = Advisory & { version: string; path: string };
type Lockfile = { packages: Record<string, { version?: string; name?: string; dev?: boolean; link?: boolean }> };

const FAILING: Severity[] = ["high", "critical"];
const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** Dependencies in package.json that are not pinned to one exact version (`^1.2.3`, `~1`, `*`, `latest`, git URLs). */
export function unpinned(pkg: {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}): string[] {
  const out: string[] = [];
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"] as const) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) if (!EXACT.test(spec)) out.push(`${field}.${name}: ${JSON.stringify(spec)}`);
  }
  return out;
}

// A version comparator for the range grammar the snapshot uses (npm audit's `range` fields):
// comparator sets joined by `||`, each a space-separated list of `<`, `<=`, `>`, `>=`, `=` versions.
// The project has no `semver` dependency; this covers exactly that grammar and refuses anything else.
type Version = { nums: [number, number, number]; pre: string[] };

function parseVersion(v: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split(".") : [] };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.nums[i] !== b.nums[i]) return a.nums[i]! - b.nums[i]!;
  if (!a.pre.length || !b.pre.length) return (b.pre.length ? 1 : 0) - (a.pre.length ? 1 : 0);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** True when `version` satisfies `range` (see the grammar above). `*` matches every version. */
export function inRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split("||").some((set) => {
    const parts = set.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 1 && parts[0] === "*") return true;
    if (!parts.length) throw new Error(`empty comparator set in range ${JSON.stringify(range)}`);
    return parts.every((c) => {
      const m = /^(<=|>=|<|>|=)?(.+)$/.exec(c)!;
      const d = compare(v, parseVersion(m[2]!));
      switch (m[1] ?? "=") {
        case "<":
          return d < 0;
        case "<=":
          return d <= 0;
        case ">":
          return d > 0;
        case ">=":
          return d >= 0;
        default:
          return d === 0;
      }
    });
  });
}

/** Every installed package of the lockfile that an advisory of the snapshot covers. */
export function checkLockfile(lock: Lockfile, snapshot: Snapshot, o: { omitDev?: boolean } = {}): Finding[] {
  const byName = new Map<string, Advisory[]>();
  for (const a of snapshot.advisories) byName.set(a.package, [...(byName.get(a.package) ?? []), a]);
  const out: Finding[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.link || !entry.version || (o.omitDev && entry.dev)) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    for (const a of byName.get(name) ?? []) if (inRange(entry.version, a.vulnerable)) out.push({ ...a, version: entry.version, path });
  }
  return out.sort((a, b) => a.package.localeCompare(b.package) || a.path.localeCompare(b.path));
}

type AuditReport = {
  vulnerabilities?: Record<string, { via: (string | { source?: number; name: string; title: string; url: string; severity: Severity; range: string })[] }>;
};
type NpmAudit = { ok: true; report: AuditReport } | { ok: false; why: string };

/** Runs `npm audit --json`; `ok: false` when the audit endpoint could not answer (offline, blocked, 4xx/5xx). */
function npmAudit(cwd: string, omitDev: boolean): NpmAudit {
  const r = spawnSync("npm", ["audit", "--json", ...(omitDev ? ["--omit=dev"] : [])], { cwd, encoding: "utf8", timeout: 120_000 });
  if (r.error) return { ok: false, why: `npm could not run: ${r.error.message}` };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return { ok: false, why: `npm audit printed no JSON (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-1)[0] ?? ""}` };
  }
  if (json.error || json.message || !json.vulnerabilities) {
    const err = (json.error ?? {}) as { summary?: string };
    return { ok: false, why: String(json.message ?? err.summary ?? "npm audit returned an error") };
  }
  return { ok: true, report: json as AuditReport };
}

function fromNpm(report: AuditReport): Advisory[] {
  const out: Advisory[] = [];
  for (const v of Object.values(report.vulnerabilities ?? {})) {
    for (const via of v.via) {
      if (typeof via === "string") continue;
      const id = via.url?.split("/").pop() ?? String(via.source);
      out.push({ package: via.name, vulnerable: via.range, id, severity: via.severity, title: via.title, url: via.url });
    }
  }
  return out;
}

function line(f: { package: string; severity: Severity; id: string; title: string }, extra: string): string {
  return `  ${f.severity.padEnd(8)} ${f.package}${extra}  ${f.id}  ${f.title}`;
}

function main(argv: string[]): number {
  const root = join(import.meta.dirname, "..");
  const snapshotFile = join(root, "security", "advisories.json");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Parameters<typeof unpinned>[0];
  const loose = unpinned(pkg);
  if (loose.length) {
    console.log(`FAIL: dependencies must be pinned to exact versions:\n${loose.map((l) => "  " + l).join("\n")}`);
    return 1;
  }
  console.log("pinned: every dependency in package.json names one exact version");
  const snapshot = JSON.parse(readFileSync(snapshotFile, "utf8")) as Snapshot;

  if (argv.includes("--refresh")) {
    const r = npmAudit(root, false);
    if (!r.ok) {
      console.log(`FAIL: cannot refresh the snapshot: the registry's audit endpoint was unreachable (${r.why})`);
      return 1;
    }
    const known = new Set(snapshot.advisories.map((a) => `${a.package}\u0000${a.id}`));
    const added = fromNpm(r.report).filter((a) => !known.has(`${a.package}\u0000${a.id}`));
    const next: Snapshot = { generated_at: new Date().toISOString().slice(0, 10), source: snapshot.source, advisories: [...snapshot.advisories, ...added] };
    writeFileSync(snapshotFile, JSON.stringify(next, null, 2) + "\n");
    console.log(`refreshed ${snapshotFile}: ${added.length} advisory(ies) added`);
    return 0;
  }

  let failing = 0;
  for (const omitDev of [false, true]) {
    const scope = omitDev ? "production dependencies" : "all dependencies";
    const r: NpmAudit = argv.includes("--offline") ? { ok: false, why: "--offline given" } : npmAudit(root, omitDev);
    let findings: { package: string; severity: Severity; id: string; title: string; where: string }[];
    if (r.ok) {
      console.log(`mode: online (npm audit against the registry), ${scope}`);
      findings = fromNpm(r.report).map((a) => ({ ...a, where: ` ${a.vulnerable}` }));
    } else {
      console.log(
        `mode: OFFLINE snapshot from ${snapshot.generated_at} (${snapshot.advisories.length} advisories), ${scope}: the registry's audit endpoint was unreachable (${r.why})`,
      );
      const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
      findings = checkLockfile(lock, snapshot, { omitDev }).map((f) => ({ ...f, where: `@${f.version} (${f.path})` }));
    }
    const bad = findings.filter((f) => FAILING.includes(f.severity));
    for (const f of findings) console.log(line(f, f.where));
    console.log(`${scope}: ${findings.length} finding(s), ${bad.length} high or critical`);
    failing += bad.length;
  }
  if (failing) {
    console.log("FAIL: high or critical advisories affect installed packages: upgrade them (and pin the fixed version)");
    return 1;
  }
  console.log("ok: no high or critical advisory affects an installed package");
  return 0;
}

if (process.argv[1] === import.meta.filename) process.exitCode = main(process.argv.slice(2));
