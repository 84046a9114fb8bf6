// Maps the universal tool policy (allow / deny / trusted), per-tool settings and hook matchers to
// the `tools`, `allowedTools` and `toolsSettings` of Q CLI / Kiro CLI agent JSON, and back.
import { unsupported, isBuiltin, parseMcpRef } from "../common.ts";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent } from "../../library/model.ts";
import { BUILTIN_TOOLS, ToolRef, type BuiltinTool, type ToolSettings } from "../../library/schema.ts";
import { nativeToUniversal, type AgentDialect } from "./dialect.ts";

export type ToolLists = { tools: string[]; allowedTools: string[]; warnings: Diagnostic[] };

/**
 * `tools` and `allowedTools` for one agent.
 * - allow absent (or `*`) and no deny → `["*"]`.
 * - The tools have no deny list, so a deny is expressed by listing what stays: with allow absent,
 *   every built-in the tool has minus the denied ones, plus `@server` for each of the agent's
 *   servers not denied; with an explicit allow, the allow list minus the denied entries.
 * - `allowedTools` may not hold a bare `*` (docs/agent-format.md), so trusting `*` lists the tools.
 * `extraTrusted` are `@server/tool` entries from the servers' autoApprove lists.
 */
export function mapToolPolicy(agent: ResolvedAgent, d: AgentDialect, serverNames: readonly string[], extraTrusted: readonly string[]): ToolLists {
  const warnings: Diagnostic[] = [];
  const deny = agent.tools.deny ?? [];
  const denyAll = deny.includes("*");
  const deniedServers = new Set(deny.flatMap((r) => (r.startsWith("@") && !r.includes("/") ? [r.slice(1)] : [])));
  const missing = new Set<BuiltinTool>();

  const isDenied = (ref: string): boolean => {
    if (denyAll) return true;
    if (deny.includes(ref)) return true;
    const p = parseMcpRef(ref);
    return p !== undefined && deniedServers.has(p.server);
  };
  const native = (ref: string): string | undefined => {
    if (ref === "*") return "*";
    if (isBuiltin(ref)) {
      const n = d.builtins[ref];
      if (n === undefined) missing.add(ref);
      return n;
    }
    return ref;
  };
  const everything = (): string[] => {
    const out: string[] = [];
    for (const b of BUILTIN_TOOLS) if (d.builtins[b] !== undefined && !isDenied(b)) out.push(d.builtins[b]!);
    for (const s of serverNames) if (!isDenied(`@${s}`)) out.push(`@${s}`);
    return out;
  };
  const push = (list: string[], v: string | undefined) => {
    if (v !== undefined && !list.includes(v)) list.push(v);
  };

  const allow = agent.tools.allow;
  let tools: string[] = [];
  if (denyAll) tools = [];
  else if (allow === undefined || allow.includes("*")) {
    // Denying a built-in the tool does not have changes nothing: `*` stays exact.
    const effective = deny.filter((r) => !(isBuiltin(r) && d.builtins[r] === undefined));
    tools = effective.length === 0 ? ["*"] : everything();
  } else for (const ref of allow) if (!isDenied(ref)) push(tools, native(ref));

  // Denying one tool of a server whose other tools stay visible has no equivalent.
  for (const ref of deny) {
    const p = parseMcpRef(ref);
    if (!p?.tool || denyAll || deniedServers.has(p.server)) continue;
    if (tools.includes("*") || tools.includes(`@${p.server}`)) {
      warnings.push(
        unsupported(
          d.displayName,
          agent,
          `tools.deny '${ref}' while the rest of @${p.server} stays allowed`,
          `${d.displayName} can only hide a whole server: list the wanted @${p.server}/<tool> entries in tools.allow instead`,
        ),
      );
    }
  }

  const allowedTools: string[] = [];
  for (const ref of agent.tools.trusted ?? []) {
    if (ref === "*") {
      for (const t of tools.includes("*") ? everything() : tools) push(allowedTools, t);
    } else if (!isDenied(ref)) push(allowedTools, native(ref));
  }
  for (const ref of extraTrusted) if (!isDenied(ref)) push(allowedTools, ref);

  if (missing.size) {
    const names = [...missing].sort();
    warnings.push(
      unsupported(
        d.displayName,
        agent,
        `the built-in tool${names.length > 1 ? "s" : ""} ${names.join(", ")}`,
        `${d.displayName} has no such tool${names.length > 1 ? "s" : ""}; an MCP server can provide ${names.length > 1 ? "them" : "it"}`,
      ),
    );
  }
  return { tools, allowedTools, warnings };
}

const DOMAIN = /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const URL_SUFFIX = "(:[0-9]+)?([/?#].*)?$";
const SUBDOMAINS = "([A-Za-z0-9-]+\\.)+";

/** `example.com` → a regex matching http(s) URLs of exactly that host; `*.example.com` → its subdomains. */
function domainToUrlRegex(domain: string): string | undefined {
  if (!DOMAIN.test(domain)) return undefined;
  const wild = domain.startsWith("*.");
  const host = (wild ? domain.slice(2) : domain).replace(/\./g, "\\.");
  return `^https?://${wild ? SUBDOMAINS : ""}${host}${URL_SUFFIX}`;
}

/** The reverse of domainToUrlRegex; undefined for any other regex. */
function urlRegexToDomain(regex: string): string | undefined {
  const prefix = "^https?://";
  if (!regex.startsWith(prefix) || !regex.endsWith(URL_SUFFIX)) return undefined;
  let host = regex.slice(prefix.length, regex.length - URL_SUFFIX.length);
  let wild = false;
  if (host.startsWith(SUBDOMAINS)) {
    wild = true;
    host = host.slice(SUBDOMAINS.length);
  }
  if (!/^(?:[A-Za-z0-9-]|\\\.)+$/.test(host)) return undefined;
  const domain = (wild ? "*." : "") + host.replace(/\\\./g, ".");
  return domainToUrlRegex(domain) === regex ? domain : undefined;
}

type SettingsKey = keyof ToolSettings;
const SETTINGS_ORDER: readonly SettingsKey[] = ["read", "write", "shell", "aws", "web_fetch"];

/** `toolsSettings` in a fixed key order; settings the tool cannot express are warned about. */
export function mapToolSettings(agent: ResolvedAgent, d: AgentDialect): { settings: Record<string, Record<string, unknown>>; warnings: Diagnostic[] } {
  const settings: Record<string, Record<string, unknown>> = {};
  const warnings: Diagnostic[] = [];
  for (const key of SETTINGS_ORDER) {
    const s = agent.toolSettings[key];
    if (!s || Object.keys(s).length === 0) continue;
    const nativeKey = d.settingsKeys[key];
    if (nativeKey === undefined) {
      warnings.push(unsupported(d.displayName, agent, `toolSettings.${key}`, `${d.displayName} has no ${key} tool to configure`));
      continue;
    }
    const out: Record<string, unknown> = {};
    if (key === "web_fetch") {
      const wf = agent.toolSettings.web_fetch!;
      for (const [from, to] of [
        ["allowedDomains", "trusted"],
        ["deniedDomains", "blocked"],
      ] as const) {
        const list = wf[from];
        if (!list) continue;
        const regexes: string[] = [];
        for (const dom of list) {
          const re = domainToUrlRegex(dom);
          if (re === undefined)
            warnings.push(
              unsupported(d.displayName, agent, `toolSettings.web_fetch.${from} entry '${dom}'`, "use a host name such as docs.example.com or *.example.com"),
            );
          else regexes.push(re);
        }
        out[to] = regexes;
      }
    } else {
      const src = s as Record<string, unknown>;
      const fields =
        key === "shell"
          ? ["allowedCommands", "deniedCommands", "autoAllowReadonly"]
          : key === "aws"
            ? ["allowedServices", "deniedServices", "autoAllowReadonly"]
            : ["allowedPaths", "deniedPaths"];
      for (const f of fields) if (src[f] !== undefined) out[f] = src[f];
    }
    settings[nativeKey] = out;
  }
  return { settings, warnings };
}

/** A hook matcher in universal names (`shell`, `@server/tool`, `*`) in the tool's names. */
export function mapMatcher(matcher: string, d: AgentDialect): { value: string } | { missing: BuiltinTool } {
  if (isBuiltin(matcher)) {
    const n = d.builtins[matcher];
    return n === undefined ? { missing: matcher } : { value: n };
  }
  return { value: matcher };
}

// ---------- back to the universal model (import) ----------

export type BackResult<T> = { value: T; dropped: string[] };

/** Native tool names → universal ToolRefs; names without an equivalent are returned in `dropped`. */
export function toolsBack(list: readonly unknown[], d: AgentDialect): BackResult<string[]> {
  const names = nativeToUniversal(d);
  const value: string[] = [];
  const dropped: string[] = [];
  for (const item of list) {
    if (typeof item !== "string") {
      dropped.push(JSON.stringify(item));
      continue;
    }
    const u = item === "*" ? "*" : (names.get(item) ?? (item.startsWith("@") ? item : undefined));
    if (u !== undefined && ToolRef.safeParse(u).success) {
      if (!value.includes(u)) value.push(u);
    } else dropped.push(item);
  }
  return { value, dropped };
}

/** A native hook matcher back to universal names (unknown names pass through unchanged). */
export function matcherBack(matcher: string, d: AgentDialect): string {
  return nativeToUniversal(d).get(matcher) ?? matcher;
}

const STRING_LIST = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Native toolsSettings → universal toolSettings; unknown tools or fields land in `dropped`. */
export function settingsBack(raw: unknown, d: AgentDialect): BackResult<ToolSettings> {
  const value: Record<string, Record<string, unknown>> = {};
  const dropped: string[] = [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { value: {}, dropped: raw === undefined ? [] : ["toolsSettings"] };
  const byNative = new Map<string, SettingsKey>();
  for (const k of SETTINGS_ORDER) {
    const n = d.settingsKeys[k];
    if (n) byNative.set(n, k);
  }
  for (const [alias, u] of Object.entries(d.readAliases))
    if (SETTINGS_ORDER.includes(u as SettingsKey) && !byNative.has(alias)) byNative.set(alias, u as SettingsKey);
  for (const [nativeKey, body] of Object.entries(raw as Record<string, unknown>)) {
    const key = byNative.get(nativeKey);
    if (!key || !body || typeof body !== "object" || Array.isArray(body)) {
      dropped.push(`toolsSettings.${nativeKey}`);
      continue;
    }
    const out: Record<string, unknown> = value[key] ?? {};
    for (const [f, v] of Object.entries(body as Record<string, unknown>)) {
      const where = `toolsSettings.${nativeKey}.${f}`;
      if (key === "web_fetch") {
        const to = f === "trusted" ? "allowedDomains" : f === "blocked" ? "deniedDomains" : undefined;
        if (!to || !STRING_LIST(v)) {
          dropped.push(where);
          continue;
        }
        const domains: string[] = [];
        for (const re of v) {
          const dom = urlRegexToDomain(re);
          if (dom === undefined) dropped.push(`${where} '${re}'`);
          else domains.push(dom);
        }
        out[to] = domains;
        continue;
      }
      // `allowReadOnly` is what the original Python ai-configurator wrote (tool-formats.md §13.3).
      const field = f === "allowReadOnly" ? "autoAllowReadonly" : f;
      const lists =
        key === "shell" ? ["allowedCommands", "deniedCommands"] : key === "aws" ? ["allowedServices", "deniedServices"] : ["allowedPaths", "deniedPaths"];
      const flags = key === "shell" || key === "aws" ? ["autoAllowReadonly"] : [];
      if (lists.includes(field) && STRING_LIST(v)) out[field] = v;
      else if (flags.includes(field) && typeof v === "boolean") out[field] = v;
      else dropped.push(where);
    }
    if (Object.keys(out).length) value[key] = out;
  }
  return { value: value as ToolSettings, dropped };
}
