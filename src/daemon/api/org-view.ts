// What /metrics and /v1/status show to whom. Every per-library series carries the library's org
// (`org="…"`, added here from daemon.yaml's mapping). The server admin and an unauthenticated
// probe scrape (where api.probes lets one in) see every org; a principal of one org sees only the
// series of the libraries and workflows it may view in that org, the series of its org (a quota
// refusal) and the build's, never another org's nor the server-wide aggregates that mix orgs.
import type { ApiContext } from "./route.ts";
import { canSeeLibrary, canSeeWorkflow } from "./respond.ts";

/** Series that say nothing about any org. */
const PUBLIC_FAMILIES: ReadonlySet<string> = new Set(["aicfg_build_info", "aicfg_process_start_time_seconds"]);

/** One org's view (undefined: every org). */
type OrgScope = { org: string; library: (library: string) => boolean; workflow: (library: string, workflow: string) => boolean };

/** The caller's view: undefined for the server admin and an unauthenticated probe, else its org's. */
export function orgScopeOf(c: ApiContext): OrgScope | undefined {
  const p = c.get("principal");
  if (!p || p.serverAdmin) return undefined;
  return { org: p.org, library: (l) => canSeeLibrary(c, l), workflow: (l, w) => canSeeWorkflow(c, l, w) };
}

const label = (labels: string, name: string): string | undefined => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1];

/** Prometheus text with the org label on every per-library sample, cut down to `scope` when given (HELP/TYPE kept with a kept sample). */
export function scopeMetrics(text: string, orgOf: (library: string) => string, scope: OrgScope | undefined): string {
  const out: string[] = [];
  let header: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# HELP")) header = [line];
    else if (line.startsWith("#")) header.push(line);
    if (line.startsWith("#") || !line.trim()) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?( .*)$/.exec(line);
    if (!m) continue;
    const [, name, labels = "", rest] = m as unknown as [string, string, string | undefined, string];
    const family = name.replace(/_(bucket|sum|count|total)$/, "");
    const library = label(labels, "library");
    const org = label(labels, "org");
    const libOrg = library === undefined ? undefined : orgOf(library);
    if (scope) {
      const workflow = label(labels, "workflow");
      const kept =
        library !== undefined
          ? libOrg === scope.org && scope.library(library) && (workflow === undefined || scope.workflow(library, workflow))
          : org !== undefined
            ? org === scope.org
            : PUBLIC_FAMILIES.has(name) || PUBLIC_FAMILIES.has(family);
      if (!kept) continue;
    }
    out.push(...header, libOrg !== undefined && org === undefined ? `${name}{org="${libOrg}",${labels}}${rest}` : line);
    header = [];
  }
  return out.length ? `${out.join("\n")}\n` : "";
}
