// Renders one upload bundle per agent for Claude.ai Projects, which have no API: the project
// instructions, the knowledge files, a README checklist of the manual steps, a ZIP of the same
// content and a Claude skill ZIP. Documented limits are enforced with clear warnings.
import { basename, join } from "node:path";
import { readFileSync } from "node:fs";
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { Zip, type ZipInputFile } from "fflate";
import type { Diagnostic } from "../../library/diagnostics.ts";
import type { ResolvedAgent, ResolvedKnowledge } from "../../library/model.ts";
import { limitExceeded, renderFrontmatter, unsupported } from "../common.ts";
import { sha256 } from "../../library/hash.ts";
import { portableRef } from "../refs.ts";
import type { OutputFile, RenderContext, RenderResult, Roots } from "../types.ts";

export const TARGET = "claude-projects";

/** Project files: 30 MB per file (support.claude.com 8241126). Decimal MB, the stricter reading. */
const MAX_FILE_BYTES = 30_000_000;
/**
 * The context budget of a project: Claude's 200k-token window at roughly 4 bytes of English text
 * per token. Beyond it claude.ai switches the project to RAG (support 11473015), which still works.
 */
const CONTEXT_BYTES = 800_000;
/** RAG raises the capacity "up to 10x" (support 11473015); beyond that uploads are refused. */
const RAG_BYTES = 10 * CONTEXT_BYTES;
const SKILL_DESCRIPTION_MAX = 200;

/**
 * DOS timestamps in a ZIP are local time and fflate fills them with the local-time getters, so a
 * Date built from local fields gives the same bytes in every time zone.
 */
const ZIP_MTIME = new Date(1980, 0, 1, 12, 0, 0);

/** Text formats whose library frontmatter is taken off before upload. */
const TEXT_KNOWLEDGE = /\.(md|markdown|mdx|txt)$/i;
/** Types the project upload accepts (support 8241126) plus Markdown, which is plain text. */
const ACCEPTED = /\.(pdf|docx|csv|txt|html?|odt|rtf|epub|json|xlsx|md|markdown|png|jpe?g|gif|webp)$/i;

export function bundleRoot(roots: Roots): string {
  // Project scope: next to the code, where a team finds it; user scope: a visible folder in the
  // home directory rather than a hidden state folder, because people upload these files by hand.
  return roots.scope === "project" ? join(roots.projectRoot, "claude-projects") : join(roots.homeDir, "aicfg-bundles", "claude-projects");
}

/** `k`: the library file uploaded as it is; `files`: how many library files a merged part holds. */
type Upload = { name: string; bytes: Uint8Array; k?: ResolvedKnowledge; files?: number };

/**
 * Past this many files the text knowledge is merged into upload parts (in path order, each file
 * under a `# knowledge/<path>` heading): a person uploads the files of a project by hand, and the
 * ZIPs and the skill's reference list stay as short. Binary files stay as they are.
 */
const UPLOAD_PARTS = 20;
/** A part stays well below the 30 MB a project file may hold. */
const PART_MAX_BYTES = 25_000_000;

/** One ZIP entry, compressed once: the project ZIP and the skill ZIP hold the same knowledge. */
type Packed = { size: number; crc: number; data: Uint8Array<ArrayBuffer> };
function pack(bytes: Uint8Array, previous?: ReadonlyMap<string, Uint8Array>): Packed {
  // Deflate is most of a bundle's cost: bytes packed before in this process (the parts an edit left as
  // they were, on the daemon's next export) are not compressed again, nor, in a new process, an entry
  // the bundle's ZIP on disk already holds deflated (checked by inflating it: it must give these bytes).
  const key = sha256(bytes);
  const hit = packedSeen.get(key);
  if (hit && hit.size === bytes.length) return hit;
  const crc = crc32(bytes) >>> 0;
  const p: Packed = { size: bytes.length, crc, data: reusedDeflate(previous?.get(`${crc}:${bytes.length}`), bytes) ?? deflateRawSync(bytes, { level: 6 }) };
  packedSeen.set(key, p);
  packedBytes += p.data.length;
  // Bounded: the oldest go first once the compressed bytes kept pass PACKED_MAX_BYTES.
  for (const [k, old] of packedSeen) {
    if (packedBytes <= PACKED_MAX_BYTES) break;
    packedSeen.delete(k);
    packedBytes -= old.data.length;
  }
  return p;
}
const packedSeen = new Map<string, Packed>();

/** Deflated data an earlier export wrote, when it inflates to exactly `bytes` (whatever the file on disk holds). */
function reusedDeflate(data: Uint8Array | undefined, bytes: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  if (!data) return undefined;
  try {
    const back = inflateRawSync(data, { maxOutputLength: Math.max(1, bytes.length) });
    return back.length === bytes.length && Buffer.compare(back, bytes) === 0 ? new Uint8Array(data) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The deflated entries of a ZIP this target wrote before (by `crc:size`), read from its central
 * directory; empty when the file is absent or not such a ZIP (it is only read, never trusted: see reusedDeflate).
 */
function previousEntries(file: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return out;
  }
  const eocd = buf.length - 22; // no archive comment: fflate writes none
  if (eocd < 0 || buf.readUInt32LE(eocd) !== 0x06054b50) return out;
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) return out;
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const packedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const local = buf.readUInt32LE(at + 42);
    at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    if (method !== 8 || local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) continue;
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + packedSize > buf.length) continue;
    out.set(`${crc}:${size}`, buf.subarray(start, start + packedSize));
  }
  return out;
}
let packedBytes = 0;
const PACKED_MAX_BYTES = 256 * 1024 * 1024;
type ZipContent = Record<string, Packed>;

export function renderClaudeProjects(agents: readonly ResolvedAgent[], ctx: RenderContext): RenderResult {
  const files: OutputFile[] = [];
  const warnings: Diagnostic[] = [];
  const root = bundleRoot(ctx);
  for (const agent of [...agents].sort((a, b) => a.name.localeCompare(b.name))) {
    files.push(...renderBundle(agent, ctx, join(root, agent.name), warnings));
  }
  return { files, warnings };
}

function renderBundle(agent: ResolvedAgent, ctx: RenderContext, dir: string, warnings: Diagnostic[]): OutputFile[] {
  const leftOut = unsupportedParts(agent, warnings);
  const uploads = knowledgeUploads(agent, ctx, warnings);
  const instructions = agent.instructions.endsWith("\n") || agent.instructions === "" ? agent.instructions : agent.instructions + "\n";
  const enc = new TextEncoder();
  const instructionBytes = enc.encode(instructions);
  const total = instructionBytes.length + uploads.reduce((n, u) => n + u.bytes.length, 0);
  if (total > RAG_BYTES) {
    warnings.push(
      limitExceeded(
        TARGET,
        agent,
        `instructions and knowledge are ${total} bytes, over the ${RAG_BYTES} bytes (about 2 million tokens) a project holds even with RAG`,
        "split the knowledge across several agents or projects",
      ),
    );
  } else if (total > CONTEXT_BYTES) {
    warnings.push({
      severity: "warning",
      code: "context-budget",
      message: `${TARGET}: agent '${agent.name}': instructions and knowledge are ${total} bytes, over the about ${CONTEXT_BYTES} bytes (200k tokens) of Claude's context; claude.ai will search the knowledge (RAG) instead of reading all of it`,
      file: agent.sourceFile,
      hint: "this works, but answers may miss parts of the knowledge; trim it to stay in context",
    });
  }

  const skillName = agent.name.replace(/_/g, "-");
  // The source is named relative to the README, so the bundle reads the same after the tree moves.
  const source = portableRef(agent.sourceFile, ctx, { file: join(dir, "README.md") });
  const readme = readmeText(agent, source, uploads, instructions, total, leftOut, skillName);
  const previous = previousEntries(join(dir, `${agent.name}.zip`));
  const packed = new Map(uploads.map((u) => [u, pack(u.bytes, previous)]));
  const zipContent: ZipContent = { "README.md": pack(enc.encode(readme)), "instructions.md": pack(instructionBytes) };
  for (const u of uploads) zipContent[`knowledge/${u.name}`] = packed.get(u)!;

  const out: OutputFile[] = [
    { kind: "file", path: join(dir, "README.md"), content: readme, agent: agent.name },
    { kind: "file", path: join(dir, "instructions.md"), content: instructions, agent: agent.name, alwaysLoaded: true },
    ...uploads.map((u): OutputFile => ({ kind: "file", path: join(dir, "knowledge", u.name), content: u.bytes, agent: agent.name })),
    { kind: "file", path: join(dir, `${agent.name}.zip`), content: zip(zipContent), agent: agent.name },
    {
      kind: "file",
      path: join(dir, `${agent.name}-skill.zip`),
      content: skillZip(agent, skillName, instructions, uploads, packed, warnings),
      agent: agent.name,
    },
  ];
  return out;
}

/** Knowledge files as they are uploaded: flat names (a project has no folders), library frontmatter removed. */
function knowledgeUploads(agent: ResolvedAgent, ctx: RenderContext, warnings: Diagnostic[]): Upload[] {
  const count = new Map<string, number>();
  for (const k of agent.knowledge) count.set(basename(k.path), (count.get(basename(k.path)) ?? 0) + 1);
  const out: Upload[] = [];
  for (const k of [...agent.knowledge].sort((a, b) => a.path.localeCompare(b.path))) {
    const base = basename(k.path);
    // Same file name in two folders: both keep their folder in the name, so neither replaces the other.
    const name = count.get(base)! > 1 ? k.path.split("/").join("--") : base;
    const bytes = TEXT_KNOWLEDGE.test(k.path) ? new TextEncoder().encode(ctx.readKnowledge(k.absPath)) : new Uint8Array(ctx.readBytes(k.absPath));
    if (bytes.length > MAX_FILE_BYTES) {
      warnings.push(
        limitExceeded(
          TARGET,
          agent,
          `knowledge file ${k.path} is ${bytes.length} bytes, over the ${MAX_FILE_BYTES}-byte (30 MB) limit per project file; it is left out of the bundle`,
          "split the file, or convert it to text",
        ),
      );
      continue;
    }
    if (!ACCEPTED.test(k.path)) {
      warnings.push({
        severity: "warning",
        code: "file-type",
        message: `${TARGET}: agent '${agent.name}': knowledge file ${k.path} is not a type claude.ai lists for project knowledge (PDF, DOCX, CSV, TXT, HTML, ODT, RTF, EPUB, JSON, XLSX, Markdown, images); the upload may be refused`,
        file: agent.sourceFile,
        hint: "convert it to text or PDF",
      });
    }
    out.push({ name, bytes, k });
  }
  return out.length > UPLOAD_PARTS ? mergeUploads(out) : out;
}

function mergeUploads(uploads: readonly Upload[]): Upload[] {
  const text = uploads.filter((u) => u.k && TEXT_KNOWLEDGE.test(u.k.path));
  const merged = new Set(text);
  const rest = uploads.filter((u) => !merged.has(u));
  const enc = new TextEncoder();
  const heading = (u: Upload): Uint8Array => enc.encode(`# knowledge/${u.k!.path}\n\n`);
  const total = text.reduce((n, u) => n + u.bytes.length + 64, 0);
  const per = Math.ceil(text.length / Math.max(UPLOAD_PARTS, Math.ceil(total / PART_MAX_BYTES)));
  const parts: Upload[] = [];
  for (let i = 0; i < text.length; i += per) {
    const chunks: Uint8Array[] = [];
    for (const u of text.slice(i, i + per)) {
      let end = u.bytes.length;
      while (end > 0 && (u.bytes[end - 1] === 0x0a || u.bytes[end - 1] === 0x20 || u.bytes[end - 1] === 0x0d || u.bytes[end - 1] === 0x09)) end--;
      chunks.push(...(chunks.length ? [enc.encode("\n")] : []), heading(u), u.bytes.subarray(0, end), enc.encode("\n"));
    }
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
    parts.push({ name: `knowledge-part-${String(parts.length + 1).padStart(2, "0")}.md`, bytes, files: Math.min(per, text.length - i) });
  }
  return [...parts, ...rest];
}

/** Warns about every feature a web project cannot hold; returns the README's "left out" lines. */
function unsupportedParts(agent: ResolvedAgent, warnings: Diagnostic[]): string[] {
  const lines: string[] = [];
  const servers = Object.keys(agent.mcpServers).sort();
  if (servers.length) {
    const hint = "a web project cannot start MCP servers; add remote ones as connectors in claude.ai Settings > Connectors";
    warnings.push(unsupported(TARGET, agent, `MCP servers (${servers.join(", ")})`, hint));
    lines.push(`MCP servers ${servers.join(", ")}: ${hint}.`);
  }
  const t = agent.tools;
  if ((t.allow?.length ?? 0) + (t.deny?.length ?? 0) + (t.trusted?.length ?? 0) > 0) {
    warnings.push(
      unsupported(TARGET, agent, "tool permissions (tools.allow / deny / trusted)", "claude.ai decides which tools a chat may use in its settings"),
    );
    lines.push("Tool permissions: claude.ai has no per-project tool list; turn features on or off in the chat.");
  }
  if (Object.keys(agent.toolSettings).length) {
    warnings.push(unsupported(TARGET, agent, "tool settings (allowed paths and commands)"));
    lines.push("Tool settings (allowed paths and commands): a web project has no file system or shell of yours.");
  }
  const hookCount = Object.values(agent.hooks).reduce((n, list) => n + (list?.length ?? 0), 0);
  if (hookCount) {
    warnings.push(unsupported(TARGET, agent, "hooks"));
    lines.push("Hooks: a web project runs no commands of yours.");
  }
  if (agent.model !== undefined) {
    warnings.push(unsupported(TARGET, agent, "a model choice", "pick the model in the chat's model menu"));
    lines.push("Model: pick it in the chat's model menu.");
  }
  return lines;
}

function readmeText(
  agent: ResolvedAgent,
  source: string,
  uploads: Upload[],
  instructions: string,
  total: number,
  leftOut: string[],
  skillName: string,
): string {
  const chars = [...instructions].length;
  let s = `# Claude.ai project: ${agent.name}\n\n`;
  s += `Upload bundle written by \`aicfg export\` from ${source}. These files are rewritten on every\n`;
  s += "export: edit the library, not this folder.\n\n";
  s += "Claude.ai projects have no API, so these steps are done by hand. Repeat them when an export changes a file here.\n\n";
  s += "## Steps\n\n";
  s += "1. Open https://claude.ai/projects and create a project (or open the one made before).\n";
  s += `2. Name: ${agent.name}\n`;
  s += `3. Description: ${agent.description.replace(/\s*\n\s*/g, " ")}\n`;
  s += "   (people see the description; Claude does not)\n";
  s += `4. Paste the whole of instructions.md (${chars} characters) into the project instructions.\n`;
  if (uploads.length) {
    s += `5. Add these ${uploads.length} files to the project knowledge (remove files an earlier export added that are no longer listed):\n`;
    const parts = uploads.filter((u) => !u.k);
    if (parts.length)
      s += `   (the ${parts.reduce((n, u) => n + u.files!, 0)} library files are merged into ${parts.length} parts, each file under a \`# knowledge/<path>\` heading)\n`;
    for (const u of uploads) s += `   - [ ] knowledge/${u.name} (${u.bytes.length} bytes)\n`;
  } else s += "5. There are no knowledge files to upload.\n";
  s += `6. Optional: to use this agent as a skill in any chat, upload ${agent.name}-skill.zip (skill '${skillName}') in\n`;
  s += "   Customize > Skills (https://claude.ai/customize/skills); skills need code execution to be turned on.\n\n";
  s += `${agent.name}.zip holds README.md, instructions.md and knowledge/ for passing the bundle on.\n\n`;
  s += "## Size\n\n";
  s += `Instructions and knowledge: ${total} bytes, about ${Math.ceil(total / 4)} tokens. A project keeps about 200,000 tokens\n`;
  s += "in context and searches the rest (RAG, up to 10 times more).\n";
  if (leftOut.length) {
    s += "\n## Left out\n\n";
    for (const line of leftOut) s += `- ${line}\n`;
  }
  return s;
}

/**
 * A claude.ai custom skill: a ZIP whose root is the skill folder, `<name>/SKILL.md` plus the
 * knowledge under `references/` (support 12512198). The description is cut to claude.ai's 200
 * characters (the Agent Skills spec allows 1024) with a warning, so the skill still uploads.
 */
function skillZip(
  agent: ResolvedAgent,
  skillName: string,
  instructions: string,
  uploads: Upload[],
  packed: ReadonlyMap<Upload, Packed>,
  warnings: Diagnostic[],
): Uint8Array {
  let description = agent.description.replace(/\s*\n\s*/g, " ").trim();
  if ([...description].length > SKILL_DESCRIPTION_MAX) {
    description =
      [...description]
        .slice(0, SKILL_DESCRIPTION_MAX - 1)
        .join("")
        .trimEnd() + "…";
    warnings.push(
      limitExceeded(
        TARGET,
        agent,
        `the description is longer than the ${SKILL_DESCRIPTION_MAX} characters claude.ai allows for a skill; the skill's description is cut to "${description}"`,
        "write a shorter description (the first sentence should say when to use the agent)",
      ),
    );
  }
  let body = instructions;
  if (uploads.length) {
    const merged = uploads.some((u) => !u.k) ? " (merged parts: search them, each library file is under a `# knowledge/<path>` heading)" : "";
    body += `${body ? "\n" : ""}## Reference files\n\nRead these files of this skill when the task needs them${merged}:\n\n`;
    for (const u of uploads) body += `- references/${u.name}\n`;
  }
  const content: ZipContent = { [`${skillName}/SKILL.md`]: pack(new TextEncoder().encode(renderFrontmatter({ name: skillName, description }, body))) };
  for (const u of uploads) content[`${skillName}/references/${u.name}`] = packed.get(u)!;
  return zip(content);
}

/**
 * A ZIP of already deflated entries, in name order. fflate writes the container (headers, central
 * directory); node:zlib deflates, natively and once per file for both ZIPs of a bundle.
 */
function zip(content: ZipContent): Uint8Array {
  const chunks: Uint8Array[] = [];
  let failure: Error | undefined;
  const archive = new Zip((err, chunk) => {
    if (err) failure = err;
    else chunks.push(chunk);
  });
  for (const name of Object.keys(content).sort()) {
    const p = content[name]!;
    const entry: ZipInputFile = { filename: name, size: p.size, crc: p.crc, compression: 8, mtime: ZIP_MTIME };
    archive.add(entry);
    entry.ondata!(null, p.data, true);
  }
  archive.end();
  if (failure) throw failure;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}
