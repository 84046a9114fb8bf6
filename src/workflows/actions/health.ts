// `health`: library health as outputs (and library.stats facts for metrics): file counts and
// sizes, stale files, broken links and knowledge globs, knowledge no agent uses, and estimated
// tokens per agent (characters / 4) against each target tool's documented size limits.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { loadLibraryWithLayers } from "../layers.ts";
import type { Library, ResolvedAgent } from "../../library/model.ts";
import { readKnowledgeBody, resolveAll } from "../../library/resolve.ts";
import { Duration, parseDuration } from "../duration.ts";
import { defineAction } from "./types.ts";

/**
 * Documented instruction-size limits, in estimated tokens (characters / 4). Sources
 * (../shared/design/tool-formats.md §12): Codex AGENTS.md 32 KiB combined (`project_doc_max_bytes`,
 * developers.openai.com/codex/guides/agents-md); Copilot custom agent prompt 30,000 characters
 * (github/docs custom-agents-configuration.md); Custom GPT instructions 8,000 characters;
 * Windsurf rule file 12,000 characters (docs.windsurf.com).
 */
const TARGET_TOKEN_LIMITS: Readonly<Record<string, number>> = {
  codex: 8192,
  copilot: 7500,
  chatgpt: 2000,
  windsurf: 3000,
};

const HealthWith = z.strictObject({
  stale_after: Duration.optional().describe("files not modified for this long are reported as stale (default 180d)"),
  limits: z.record(z.string(), z.number().int().positive()).optional().describe("token limit per target id, added to the built-in table"),
});

function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

function walkFiles(root: string): { path: string; size: number; mtimeMs: number }[] {
  const out: { path: string; size: number; mtimeMs: number }[] = [];
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n === ".git" || n === "node_modules") continue;
      const p = join(dir, n);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isFile()) out.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
    }
  };
  visit(root);
  return out;
}

const LINK = /\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

function brokenLinks(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(LINK)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#") || target.startsWith("/")) continue;
    const clean = decodeURIComponentSafe(target.split("#")[0]!.split("?")[0]!);
    if (!clean) continue;
    try {
      lstatSync(resolve(dirname(file), clean));
    } catch {
      out.push(target);
    }
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function agentTokens(a: ResolvedAgent): number {
  let chars = a.instructions.length;
  for (const k of a.knowledge) {
    if (k.mode !== "always") continue;
    try {
      chars += readKnowledgeBody(k.absPath).length;
    } catch {
      /* reported as a broken reference elsewhere */
    }
  }
  return estimateTokens(chars);
}

function libraryHealth(lib: Library, now: number, opts: { staleAfterMs: number; limits: Record<string, number> }) {
  const files = walkFiles(lib.root);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const stale = files
    .filter((f) => (f.path.includes("/agents/") || f.path.includes("/knowledge/")) && now - f.mtimeMs > opts.staleAfterMs)
    .map((f) => f.path.slice(lib.root.length + 1))
    .sort();
  const resolved = resolveAll(lib);
  const brokenGlobs = resolved.diagnostics.filter((d) => d.code === "knowledge-no-match" || d.code === "knowledge-missing").map((d) => d.message);
  const used = new Set<string>();
  for (const a of resolved.agents) for (const k of a.knowledge) used.add(resolve(k.absPath));
  const unused = [...lib.knowledge.values()]
    .filter((k) => !used.has(resolve(k.absPath)))
    .map((k) => k.path)
    .sort();
  const links: { file: string; link: string }[] = [];
  for (const stack of lib.agents.values())
    for (const s of stack) for (const l of brokenLinks(s.file, s.body)) links.push({ file: s.file.slice(lib.root.length + 1), link: l });
  for (const k of lib.knowledge.values()) {
    let text = "";
    try {
      text = readFileSync(k.absPath, "utf8");
    } catch {
      continue;
    }
    for (const l of brokenLinks(k.absPath, text)) links.push({ file: "knowledge/" + k.path, link: l });
  }
  const limits = { ...TARGET_TOKEN_LIMITS, ...opts.limits };
  const tokens: Record<string, number> = {};
  const overLimit: { agent: string; target: string; tokens: number; limit: number }[] = [];
  for (const a of [...resolved.agents].sort((x, y) => x.name.localeCompare(y.name))) {
    const t = agentTokens(a);
    tokens[a.name] = t;
    for (const target of a.targets) {
      const limit = limits[target];
      if (limit !== undefined && t > limit) overLimit.push({ agent: a.name, target, tokens: t, limit });
    }
  }
  return {
    files: files.length,
    bytes,
    agents: lib.agents.size,
    knowledge_files: lib.knowledge.size,
    stale,
    broken_globs: brokenGlobs,
    broken_links: links,
    unused_knowledge: unused,
    tokens,
    over_limit: overLimit,
    problems: brokenGlobs.length + links.length + overLimit.length,
  };
}

export const healthAction = defineAction({
  name: "health",
  description: "report library health: sizes, stale files, broken links and globs, unused knowledge, tokens per agent",
  with: HealthWith,
  run: async (input, ctx) => {
    const { lib } = await loadLibraryWithLayers({ libraryRoot: ctx.libraryRoot, stateDir: ctx.stateDir, signal: ctx.signal }); // git layers at their pins
    const report = libraryHealth(lib, ctx.now(), { staleAfterMs: parseDuration(input.stale_after ?? "180d"), limits: input.limits ?? {} });
    const warnings = [
      ...report.broken_globs,
      ...report.broken_links.map((l) => `${l.file}: broken link ${l.link}`),
      ...report.over_limit.map((o) => `agent '${o.agent}' is about ${o.tokens} tokens, over the ${o.limit}-token limit of ${o.target}`),
    ];
    return { outputs: report, warnings, facts: { libraryStats: { files: report.files, bytes: report.bytes, agents: report.agents } } };
  },
});
