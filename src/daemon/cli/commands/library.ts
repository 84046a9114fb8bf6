// `aicfg library add|remove|update|status|outdated` and `aicfg sync [--frozen]`: the git layers of a library
// (aicfg.yaml `layers:`), pinned in aicfg.lock. The git work is in workflows/layers.ts; this file parses flags,
// edits aicfg.yaml (keeping its comments and key order) and prints what happened.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import { atomicWrite } from "../../../adapters/atomic.ts";
import { AicfgError, ConfigError } from "../../../library/diagnostics.ts";
import { MANIFEST_FILE } from "../../../library/load.ts";
import { LOCK_FILE } from "../../../library/lock.ts";
import { LayerSpec } from "../../../library/schema.ts";
import {
  adoptLayerFiles,
  checkLayers,
  layerStatus,
  readLayerSpecs,
  readLock,
  updateLayers,
  writeLock,
  type LayerContext,
  type LayerReport,
} from "../../../workflows/layers.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type ParsedArgs } from "../command.ts";
import { paint } from "../format.ts";
import { LIBRARY_OPTION, STATE_OPTION, libraryDir, stateDir } from "../options.ts";

const short = (c: string | undefined): string => (c ? c.slice(0, 12) : "-");

function context(args: ParsedArgs, io: CliIO): LayerContext {
  return { libraryRoot: libraryDir(args, io), stateDir: stateDir(args, io), env: io.env };
}

function describe(r: LayerReport): string {
  const files = r.files ? ` (+${r.files.added.length} ~${r.files.changed.length} -${r.files.removed.length} files)` : "";
  switch (r.status) {
    case "added":
      return `added at ${short(r.upstream)}${files}`;
    case "updated":
      return `${short(r.locked)} -> ${short(r.upstream)}${files}`;
    case "outdated":
      return `outdated: locked ${short(r.locked)}, upstream ${short(r.upstream)}`;
    case "rewritten":
      return `history rewritten: ${r.message ?? ""}`;
    case "up-to-date":
      return `up to date at ${short(r.locked ?? r.upstream)}`;
    default:
      return `${r.status}${r.message ? `: ${r.message}` : ""}`;
  }
}

const COLOR: Partial<Record<LayerReport["status"], "green" | "yellow" | "red">> = {
  added: "green",
  updated: "green",
  outdated: "yellow",
  "not-locked": "yellow",
  "lock-mismatch": "yellow",
  rewritten: "red",
  damaged: "red",
};

function printReports(io: CliIO, reports: readonly LayerReport[]): void {
  if (!reports.length) io.out("no git layers in aicfg.yaml (add one with 'aicfg library add NAME URL --ref REF')");
  const width = Math.max(4, ...reports.map((r) => r.name.length));
  for (const r of reports) {
    const line = `${r.name.padEnd(width)}  ${r.ref.padEnd(12)}  ${describe(r)}`;
    const color = COLOR[r.status];
    io.out(color ? paint(io, color, line) : line);
    if (r.offline)
      io.err(
        paint(
          io,
          "yellow",
          `${r.name}: offline, ${r.url} is unreachable (${r.offline.reason}); using the last fetch${r.offline.lastFetch ? ` from ${r.offline.lastFetch}` : ""}`,
        ),
      );
    if (r.message && r.status !== "rewritten" && !describe(r).includes(r.message)) io.err(`${r.name}: ${r.message}`);
    for (const m of r.merges ?? []) {
      if (m.result === "conflict")
        io.err(
          paint(
            io,
            "red",
            `${r.name}: ${m.path}: conflict (${[m.fields?.length ? `fields ${m.fields.join(", ")}` : "", m.bodyConflicts ? `${m.bodyConflicts} body hunk(s)` : ""].filter(Boolean).join(", ") || "whole file"}); the local file stays active, markers in ${m.conflictFile}`,
          ),
        );
      else io.out(`${r.name}: ${m.path}: ${m.result === "merged" ? "merged upstream changes" : "kept the local file"} (${m.decidedBy})`);
      if (m.note) io.err(`${r.name}: ${m.path}: ${m.note}`);
    }
  }
}

/** After an update that left conflicts: where they are and how to close them. */
function printConflictHint(io: CliIO, conflicts: number): void {
  if (conflicts) io.err(`hint: ${conflicts} adopted file(s) in conflict: 'aicfg status' lists them, 'aicfg resolve FILE --ours|--theirs|--edited' closes one`);
}

function printJson(io: CliIO, value: Record<string, unknown>): void {
  io.out(JSON.stringify(value, null, 2));
}

/** outdated and sync --frozen answer 0/1/2 like rulesync: an error is 2, never mistaken for "out of date". */
async function withErrorCode2(io: CliIO, json: boolean, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof AicfgError)) throw e;
    if (json) printJson(io, { ok: false, error: e.toJSON() });
    else {
      const where = e.file ? `${e.file}${e.line !== undefined ? `:${e.line}:${e.col ?? 1}` : ""}  ` : "";
      io.err(paint(io, "red", `${where}error: ${e.message}`));
      if (e.hint) io.err(`hint: ${e.hint}`);
    }
    return 2;
  }
}

const needsAttention = (r: LayerReport): boolean => r.status !== "up-to-date";

export const libraryAddCommand: Command = {
  name: "library add",
  summary: "add a git layer (an org or team library in its own repository) and pin it in aicfg.lock",
  usage: "aicfg library add NAME URL [--ref REF] [--path DIR] [--library DIR] [--json]",
  description:
    "Appends { name, url, ref, path } to `layers:` in aicfg.yaml (comments and order kept), fetches the repository\n" +
    "into a mirror under the state folder, checks out the commit the ref names and pins it in aicfg.lock.\n" +
    "Layers are listed lowest first: add the org layer before the team layer. The library itself stays on top.",
  options: {
    ...LIBRARY_OPTION,
    ref: { type: "string", valueName: "ref", description: "branch, tag or full commit id (default main)" },
    path: { type: "string", valueName: "dir", description: "the folder inside the repository that holds the library" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: [
    "aicfg library add org https://git.example.com/platform/ai-library.git --ref v3 --path library",
    "aicfg library add team git@git.example.com:team/agents.git --ref main",
  ],
  run: async (args, io) => {
    const [name, url, ...extra] = args.positionals;
    if (!name || !url || extra.length)
      throw new ConfigError("usage", "library add takes a NAME and a URL", {
        hint: "aicfg library add team https://git.example.com/team/agents.git --ref main",
      });
    const spec = { name, url, ref: (args.values.ref as string | undefined) ?? "main", ...(args.values.path ? { path: String(args.values.path) } : {}) };
    const checked = LayerSpec.safeParse(spec);
    if (!checked.success) {
      const i = checked.error.issues[0]!;
      throw new ConfigError("usage", `layer ${i.path.map(String).join(".")}: ${i.message}`, {
        hint: "url: https://, ssh://, git@host:path, file:// or a local path; ref: a branch, tag or commit id",
      });
    }
    const ctx = context(args, io);
    const file = join(ctx.libraryRoot, MANIFEST_FILE);
    if (readLayerSpecs(ctx.libraryRoot).some((l) => l.name === name))
      throw new ConfigError("usage", `aicfg.yaml already has a layer named '${name}'`, {
        file,
        hint: `change it there, or 'aicfg library remove ${name}' first`,
      });
    const before = readFileSync(file, "utf8");
    const doc = parseDocument(before);
    const layers = doc.get("layers");
    if (layers === undefined || layers === null) doc.set("layers", doc.createNode([checked.data]));
    else if (isSeq(layers)) layers.add(doc.createNode(checked.data));
    else throw new ConfigError("invalid-type", "layers in aicfg.yaml is not a list", { file });
    atomicWrite(file, doc.toString());
    try {
      const result = await updateLayers(ctx, { names: [name], mode: "install" });
      if (args.values.json) printJson(io, { ok: true, reports: result.reports });
      else
        printReports(
          io,
          result.reports.filter((r) => r.name === name),
        );
      return EXIT.ok;
    } catch (e) {
      atomicWrite(file, before); // a layer that cannot be fetched is not left behind in aicfg.yaml
      throw e;
    }
  },
};

export const libraryRemoveCommand: Command = {
  name: "library remove",
  summary: "remove a git layer from aicfg.yaml and aicfg.lock",
  usage: "aicfg library remove NAME [--library DIR] [--json]",
  options: { ...LIBRARY_OPTION, ...STATE_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg library remove team"],
  run: async (args, io) => {
    const [name, ...extra] = args.positionals;
    if (!name || extra.length) throw new ConfigError("usage", "library remove takes one NAME", { hint: "aicfg library remove team" });
    const ctx = context(args, io);
    const file = join(ctx.libraryRoot, MANIFEST_FILE);
    const specs = readLayerSpecs(ctx.libraryRoot);
    if (!specs.some((l) => l.name === name))
      throw new ConfigError("layer-unknown", `aicfg.yaml has no layer named '${name}'`, {
        file,
        hint: specs.length ? `layers: ${specs.map((s) => s.name).join(", ")}` : "there are no layers",
      });
    const doc = parseDocument(readFileSync(file, "utf8"));
    const layers = doc.get("layers");
    if (!isSeq(layers)) throw new ConfigError("invalid-type", "layers in aicfg.yaml is not a list", { file });
    const index = layers.items.findIndex((it) => isMap(it) && it.get("name") === name);
    layers.items.splice(index, 1);
    if (!layers.items.length) doc.delete("layers");
    const lock = readLock(ctx.libraryRoot);
    const remaining = specs.filter((s) => s.name !== name);
    // aicfg.yaml first: a crash in between leaves a stale lock entry, which update removes and --frozen reports.
    atomicWrite(file, doc.toString());
    if (name in lock.layers) {
      delete lock.layers[name];
      writeLock(ctx.libraryRoot, lock, remaining);
    }
    if (args.values.json) printJson(io, { ok: true, removed: name });
    else io.out(`removed layer ${name}`);
    return EXIT.ok;
  },
};

export const libraryUpdateCommand: Command = {
  name: "library update",
  summary: "move git layers to what their refs name now and rewrite aicfg.lock",
  usage: "aicfg library update [NAME...] [--accept-rewrite] [--library DIR] [--json]",
  description:
    "Fetches each layer (or only the named ones), checks out the commit its ref names and pins it in aicfg.lock,\n" +
    "written last: a crash at any point leaves the previous pin active. When upstream history was rewritten (the\n" +
    "locked commit is not an ancestor of the new one) the layer keeps its pin and the command exits 3 unless\n" +
    "--accept-rewrite. Offline, it works from the last fetch and says so.",
  options: {
    ...LIBRARY_OPTION,
    "accept-rewrite": { type: "boolean", description: "pin a layer whose upstream history was rewritten (force-pushed)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg library update", "aicfg library update team", "aicfg library update team --accept-rewrite"],
  run: async (args, io) => {
    const ctx = context(args, io);
    const result = await updateLayers(ctx, { names: args.positionals, mode: "update", acceptRewrite: args.values["accept-rewrite"] === true });
    const rewritten = result.reports.filter((r) => r.status === "rewritten");
    const code = rewritten.length || result.conflicts ? EXIT.drift : EXIT.ok;
    if (args.values.json) printJson(io, { ok: code === EXIT.ok, lockWritten: result.lockWritten, conflicts: result.conflicts, reports: result.reports });
    else {
      printReports(io, result.reports);
      if (rewritten.length)
        io.err(`hint: look at the new history first; 'aicfg library update ${rewritten.map((r) => r.name).join(" ")} --accept-rewrite' pins it`);
      printConflictHint(io, result.conflicts);
      io.out(result.lockWritten ? `wrote ${LOCK_FILE}` : `${LOCK_FILE} unchanged`);
    }
    return code;
  },
};

export const libraryAdoptCommand: Command = {
  name: "library adopt",
  summary: "copy files of a git layer into the library to edit them; every update 3-way merges upstream changes into them",
  usage: "aicfg library adopt LAYER FILE... [--keep-local] [--library DIR] [--json]",
  description:
    "Copies each FILE (relative to the layer's folder) at the layer's pinned commit into the library, at the same\n" +
    "path, and records it in aicfg.lock as an adopted copy. From then on 'aicfg library update' (and the daemon's\n" +
    "sync step with layers: update) merges upstream's changes into your edited copy: field by field in the\n" +
    "frontmatter, diff3 in the body, the merge: policies of aicfg.yaml per path. A conflict keeps your file active\n" +
    "and writes FILE.conflict.md ('aicfg status', 'aicfg resolve'). To override a few fields instead, write an\n" +
    "agent of the same name with only those fields (an overlay): no copy, no merge.",
  options: {
    ...LIBRARY_OPTION,
    "keep-local": { type: "boolean", description: "a library file already at that path is adopted as it is (the pinned version is its merge base)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg library adopt team agents/reviewer.md", "aicfg library adopt org policies/security.md --keep-local"],
  run: async (args, io) => {
    const [layer, ...files] = args.positionals;
    if (!layer || !files.length)
      throw new ConfigError("usage", "library adopt takes a LAYER and at least one FILE", { hint: "aicfg library adopt team agents/reviewer.md" });
    const results = await adoptLayerFiles(context(args, io), layer, files, { keepLocal: args.values["keep-local"] === true });
    if (args.values.json) printJson(io, { ok: true, adopted: results });
    else
      for (const r of results)
        io.out(
          `${r.path}: ${r.written ? "copied from" : "adopted as it is, base"} ${layer}@${short(r.commit)}; 'aicfg library update' merges upstream changes into it`,
        );
    return EXIT.ok;
  },
};

export const libraryStatusCommand: Command = {
  name: "library status",
  summary: "show each git layer's pin, its checkout and the last fetch (no network)",
  usage: "aicfg library status [--library DIR] [--json]",
  options: { ...LIBRARY_OPTION, ...STATE_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg library status", "aicfg library status --json"],
  run: async (args, io) => {
    const { reports } = layerStatus(context(args, io));
    if (args.values.json) {
      printJson(io, { ok: !reports.some((r) => r.status !== "up-to-date"), reports });
      return EXIT.ok;
    }
    if (!reports.length) io.out("no git layers in aicfg.yaml");
    const width = Math.max(4, ...reports.map((r) => r.name.length));
    for (const r of reports) {
      const state = r.status === "up-to-date" ? (r.checkout ? "checked out" : "not checked out") : r.status;
      const line = `${r.name.padEnd(width)}  ${r.ref.padEnd(12)}  ${short(r.locked).padEnd(12)}  ${state}  last fetch: ${r.lastFetch ?? "never"}  ${r.url}`;
      io.out(COLOR[r.status] ? paint(io, COLOR[r.status]!, line) : line);
      if (r.message) io.err(`${r.name}: ${r.message}`);
    }
    return EXIT.ok;
  },
};

export const libraryOutdatedCommand: Command = {
  name: "library outdated",
  summary: "list git layers whose ref moved upstream since they were locked (exit 1 if any)",
  usage: "aicfg library outdated [NAME...] [--library DIR] [--json]",
  description:
    "Fetches (offline: uses the last fetch and says so) and compares with aicfg.lock; writes no lock.\nExit 0: nothing to update; 1: some layer is outdated, rewritten or not locked; 2: an error.",
  options: { ...LIBRARY_OPTION, ...STATE_OPTION, json: COMMON_OPTIONS.json },
  examples: ["aicfg library outdated"],
  run: async (args, io) =>
    withErrorCode2(io, args.values.json === true, async () => {
      const reports = await checkLayers(context(args, io), { names: args.positionals });
      const outdated = reports.filter(needsAttention);
      if (args.values.json) printJson(io, { ok: outdated.length === 0, reports });
      else {
        printReports(io, outdated);
        if (!outdated.length && reports.length) io.out("every layer is up to date");
        for (const r of reports.filter((x) => x.offline && !needsAttention(x)))
          io.err(
            paint(
              io,
              "yellow",
              `${r.name}: offline (${r.offline!.reason}); compared with the last fetch${r.offline!.lastFetch ? ` from ${r.offline!.lastFetch}` : ""}`,
            ),
          );
      }
      return outdated.length ? 1 : 0;
    }),
};

export const syncCommand: Command = {
  name: "sync",
  summary: "check out every git layer at its pin, locking new ones (--frozen: check only, for CI)",
  usage: "aicfg sync [--frozen | --update] [--library DIR] [--json]",
  description:
    "Without flags: layers already in aicfg.lock are checked out at their pinned commits (fetched only if the\n" +
    "mirror lacks them); layers new to aicfg.yaml are fetched and locked. --update moves every layer like\n" +
    "'aicfg library update'. --frozen (CI) writes nothing to aicfg.lock: exit 0 when the lock covers aicfg.yaml,\n" +
    "every ref still names the locked commit and every checkout matches the locked sha256; 1 when the lock is\n" +
    "out of date; 2 on an error.",
  options: {
    ...LIBRARY_OPTION,
    frozen: { type: "boolean", description: "check that aicfg.lock is complete and current; change nothing (CI)" },
    update: { type: "boolean", description: "move every layer to what its ref names now" },
    "accept-rewrite": { type: "boolean", description: "with --update: pin a layer whose upstream history was rewritten" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ["aicfg sync", "aicfg sync --frozen    # in CI", "aicfg sync --update"],
  positionals: false,
  run: async (args, io) => {
    const json = args.values.json === true;
    if (args.values.frozen && args.values.update) throw new ConfigError("usage", "--frozen and --update exclude each other", { hint: "use one of them" });
    const ctx = context(args, io);
    if (args.values.frozen) {
      return withErrorCode2(io, json, async () => {
        const reports = await checkLayers(ctx, { verify: true });
        const stale = reports.filter(needsAttention);
        if (json) printJson(io, { ok: stale.length === 0, frozen: true, reports });
        else {
          printReports(io, reports);
          io.out(
            stale.length
              ? paint(
                  io,
                  "red",
                  `${LOCK_FILE} is out of date for ${stale.map((r) => r.name).join(", ")}: run 'aicfg sync --update' (or 'aicfg library update') and commit ${LOCK_FILE}`,
                )
              : `${LOCK_FILE} is up to date`,
          );
        }
        return stale.length ? 1 : 0;
      });
    }
    const result = await updateLayers(ctx, { mode: args.values.update ? "update" : "install", acceptRewrite: args.values["accept-rewrite"] === true });
    const rewritten = result.reports.some((r) => r.status === "rewritten");
    if (json) printJson(io, { ok: !rewritten && !result.conflicts, lockWritten: result.lockWritten, conflicts: result.conflicts, reports: result.reports });
    else {
      printReports(io, result.reports);
      printConflictHint(io, result.conflicts);
      if (result.lockWritten) io.out(`wrote ${LOCK_FILE}`);
    }
    return rewritten || result.conflicts ? EXIT.drift : EXIT.ok;
  },
};
