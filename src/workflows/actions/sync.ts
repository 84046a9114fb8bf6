// `sync`: pulls the library's git repository (fast-forward only, or rebase) and optionally pushes,
// resolving conflicts by policy. The repository is never left mid-merge or mid-rebase, local
// commits replaced by `keep-remote` stay reachable under refs/aicfg/backup/, and being offline is
// a warning plus a retry, not a crash.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { checkRefName, checkRemoteUrl, checkSha, firstLines, git, gitOk, identityError, identityMissing, type GitOptions } from "../git.ts";
import { readLayerSpecs, resolveLayerFolders, updateLayers } from "../layers.ts";
import { ActionError, defineAction, type ActionContext, type ActionResult } from "./types.ts";

const SyncWith = z
  .strictObject({
    layers: z
      .enum(["update", "install"])
      .optional()
      .describe(
        "instead of pulling the library's own repository, update its git layers (aicfg.yaml layers:) exactly as 'aicfg library update' (update) or 'aicfg sync' (install: lock only new layers): fetch, pin, 3-way merge adopted copies, write aicfg.lock",
      ),
    accept_rewrite: z
      .boolean()
      .optional()
      .describe("with layers: pin a layer whose upstream history was rewritten (force-pushed); default false: keep the old pin and report it"),
    on_rewrite: z
      .enum(["warn", "fail"])
      .optional()
      .describe("with layers: a rewritten upstream history is a warning (default) or fails the step (after the other layers were updated)"),
    remote: z.string().min(1).optional().describe("git remote name (default origin)"),
    branch: z.string().min(1).optional().describe("branch to sync (default: the checked-out branch)"),
    strategy: z.enum(["ff-only", "rebase"]).optional().describe("default ff-only"),
    push: z.boolean().optional().describe("push local commits after pulling (default false)"),
    on_conflict: z.enum(["keep-local", "keep-remote", "fail"]).optional().describe("default fail"),
    offline: z.enum(["warn", "fail"]).optional().describe("when the remote cannot be reached: warn (default) or fail"),
  })
  .superRefine((w, ctx) => {
    const pull = (["remote", "branch", "strategy", "push", "on_conflict"] as const).filter((k) => w[k] !== undefined);
    if (w.layers && pull.length)
      ctx.addIssue({
        code: "custom",
        path: [pull[0]!],
        message: `'${pull[0]}' is for pulling the library's own repository; a step with 'layers: ${w.layers}' updates the git layers only`,
      });
    for (const k of ["accept_rewrite", "on_rewrite"] as const)
      if (!w.layers && w[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: `'${k}' needs 'layers: update' or 'layers: install'` });
  });

const OFFLINE = [
  /could not resolve host/i,
  /failed to connect/i,
  /connection (refused|timed out|reset)/i,
  /network is unreachable/i,
  /unable to access/i,
  /could not read from remote repository/i,
  /does not appear to be a git repository/i,
  /temporary failure in name resolution/i,
];

function isOffline(stderr: string): boolean {
  return OFFLINE.some((r) => r.test(stderr));
}

async function abortInProgress(o: GitOptions): Promise<string | undefined> {
  const gitDir = (await git(["rev-parse", "--absolute-git-dir"], o)).stdout.trim();
  if (!gitDir) return undefined;
  if (existsSync(join(gitDir, "rebase-merge")) || existsSync(join(gitDir, "rebase-apply"))) {
    await git(["rebase", "--abort"], o);
    return "rebase";
  }
  if (existsSync(join(gitDir, "MERGE_HEAD"))) {
    await git(["merge", "--abort"], o);
    return "merge";
  }
  return undefined;
}

export const syncAction = defineAction({
  name: "sync",
  description: "git pull (ff-only or rebase) and optional push of the library, with a conflict policy",
  with: SyncWith,
  run: async (input, ctx: ActionContext) => {
    if (input.layers) return syncLayers(input, ctx);
    const o: GitOptions = { cwd: ctx.libraryRoot, signal: ctx.signal, allowFile: ctx.settings.git.allowFileRemotes };
    const remote = checkRefName(input.remote ?? "origin", "remote");
    const strategy = input.strategy ?? "ff-only";
    const onConflict = input.on_conflict ?? "fail";
    const warnings: string[] = [];

    const inside = await git(["rev-parse", "--is-inside-work-tree"], o);
    if (inside.code !== 0 || inside.stdout.trim() !== "true") {
      throw new ActionError("not-a-repository", `${ctx.libraryRoot} is not a git repository`, {
        retryable: false,
        hint: "run 'git init' in the library, or remove the sync step",
      });
    }
    const leftover = await abortInProgress(o);
    if (leftover) warnings.push(`aborted a ${leftover} that was left in progress`);
    const branch = checkRefName(input.branch ?? (await gitOk(["symbolic-ref", "--short", "HEAD"], o, "finding the current branch")), "branch");
    const url = await gitOk(["remote", "get-url", remote], o, `reading the URL of remote '${remote}'`);
    checkRemoteUrl(url, ctx.settings.git.allowFileRemotes);
    const before = checkSha(await gitOk(["rev-parse", "--verify", "HEAD^{commit}"], o, "reading HEAD"));

    const fetched = await git(["fetch", "--no-tags", "--", remote, `refs/heads/${branch}`], o);
    if (fetched.code !== 0) {
      if (isOffline(fetched.stderr)) {
        const msg = `remote '${remote}' is unreachable: ${firstLines(fetched.stderr, 1)}`;
        if (ctx.attempt < ctx.maxAttempts || input.offline === "fail") throw new ActionError("offline", msg, { retryable: true });
        ctx.log("warn", msg);
        return { outputs: { offline: true, before, after: before, pulled: 0, pushed: false, conflict: false }, warnings: [msg] };
      }
      throw new ActionError("fetch-failed", `git fetch failed: ${firstLines(fetched.stderr)}`, { retryable: false });
    }
    const remoteSha = checkSha(await gitOk(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], o, "reading the fetched commit"));
    const base = await git(["merge-base", "HEAD", remoteSha], o);
    const mergeBase = base.code === 0 ? base.stdout.trim() : "";
    let conflict = false;
    let resolution: string | undefined;
    let backupRef: string | undefined;

    try {
      if (mergeBase === remoteSha) {
        // Remote has nothing new.
      } else if (mergeBase === before) {
        await gitOk(["merge", "--ff-only", remoteSha], o, "fast-forward");
      } else if (strategy === "rebase") {
        const r = await git(["rebase", "--autostash", remoteSha], o);
        if (r.code !== 0) {
          await abortInProgress(o);
          // Rebasing rewrites local commits: without an identity git fails, and that is not a conflict.
          if (identityMissing(r.stderr)) throw identityError(`rebasing local ${branch} onto ${remote}/${branch}`, ctx.libraryRoot);
          conflict = true;
          if (onConflict === "fail")
            throw new ActionError("conflict", `rebase onto ${remote}/${branch} conflicts: ${firstLines(r.stdout + r.stderr)}`, {
              retryable: false,
              hint: "resolve it by hand, or set on_conflict: keep-local or keep-remote",
            });
          // In a rebase, "ours" is the upstream being rebased onto and "theirs" the local commits.
          const side = onConflict === "keep-remote" ? "ours" : "theirs";
          const r2 = await git(["rebase", "--autostash", "-X", side, remoteSha], o);
          if (r2.code !== 0) {
            await abortInProgress(o);
            throw new ActionError("conflict", `rebase with on_conflict ${onConflict} still conflicts: ${firstLines(r2.stdout + r2.stderr)}`, {
              retryable: false,
            });
          }
          resolution = onConflict;
        }
      } else {
        conflict = true;
        if (onConflict === "fail") {
          throw new ActionError("diverged", `local ${branch} and ${remote}/${branch} have diverged; a fast-forward is not possible`, {
            retryable: false,
            hint: "use strategy: rebase, or on_conflict: keep-local / keep-remote",
          });
        }
        if (onConflict === "keep-remote") {
          backupRef = `refs/aicfg/backup/${branch}-${ctx.now()}`;
          await gitOk(["update-ref", backupRef, before], o, "saving local commits");
          await gitOk(["reset", "--keep", remoteSha, "--"], o, "moving to the remote commit");
          warnings.push(`local commits replaced by ${remote}/${branch}; they are kept under ${backupRef}`);
        } else {
          warnings.push(`local ${branch} diverged from ${remote}/${branch}; kept local`);
        }
        resolution = onConflict;
      }
    } finally {
      const aborted = await abortInProgress(o);
      if (aborted) warnings.push(`aborted an unfinished ${aborted}`);
    }

    const after = checkSha(await gitOk(["rev-parse", "--verify", "HEAD^{commit}"], o, "reading HEAD"));
    const count = await git(["rev-list", "--count", `${before}..${after}`], o);
    let pushed = false;
    if (input.push) {
      const ahead = await git(["rev-list", "--count", `${remoteSha}..${after}`], o);
      if (ahead.stdout.trim() !== "0") {
        const p = await git(["push", "--porcelain", "--", remote, `${after}:refs/heads/${branch}`], o);
        if (p.code !== 0) {
          if (isOffline(p.stderr)) throw new ActionError("offline", `push to '${remote}' failed: ${firstLines(p.stderr, 1)}`, { retryable: true });
          throw new ActionError("push-failed", `git push failed: ${firstLines(p.stderr)}`, {
            retryable: true,
            hint: "the remote moved; the next sync will rebase and push again",
          });
        }
        pushed = true;
      }
    }
    for (const w of warnings) ctx.log("warn", w);
    return {
      outputs: {
        offline: false,
        before,
        after,
        remote: remoteSha,
        pulled: Number(count.stdout.trim() || 0),
        pushed,
        conflict,
        resolution: resolution ?? null,
        backup_ref: backupRef ?? null,
        changed: before !== after,
      },
      warnings,
    };
  },
});

/**
 * `layers: update|install`: the same updateLayers as `aicfg library update` / `aicfg sync` (fetch into the
 * mirrors, pin, 3-way merge of adopted copies with conflict files and records, aicfg.lock last), then the
 * daemon's copy of the library moves to the new checkouts, so a later export step exports them.
 */
async function syncLayers(input: z.infer<typeof SyncWith>, ctx: ActionContext): Promise<ActionResult> {
  const lctx = { libraryRoot: ctx.libraryRoot, stateDir: ctx.stateDir, signal: ctx.signal, now: () => new Date(ctx.now()) };
  let result: Awaited<ReturnType<typeof updateLayers>>;
  try {
    // The daemon fetches local-path and file:// layers only where its config allows file remotes, as for the library's own pull.
    const local = ctx.settings.git.allowFileRemotes ? [] : readLayerSpecs(ctx.libraryRoot).filter((l) => /^(?:\/|\.\.?\/|file:)/.test(l.url));
    if (local.length)
      throw new ActionError(
        "file-remote-refused",
        `layer(s) ${local.map((l) => `${l.name} (${l.url})`).join(", ")}: local paths and file:// URLs are off in this daemon`,
        {
          retryable: false,
          hint: "set actions.git.allow_file_remotes: true in the daemon config, or give the layer an https:// or ssh:// URL",
        },
      );
    result = await updateLayers(lctx, { mode: input.layers!, acceptRewrite: input.accept_rewrite === true });
  } catch (e) {
    if (e instanceof ActionError) throw e;
    const err = e as Error & { code?: string; hint?: string };
    const retryable = err.code === "layer-fetch-failed" || err.code === "layer-update-running";
    throw new ActionError(err.code ?? "layer-update-failed", err.message, { retryable, ...(err.hint ? { hint: err.hint } : {}), cause: e });
  }
  const warnings: string[] = [];
  for (const r of result.reports) {
    if (r.offline)
      warnings.push(
        `layer ${r.name}: offline, ${r.url} is unreachable (${r.offline.reason}); used the last fetch${r.offline.lastFetch ? ` from ${r.offline.lastFetch}` : ""}`,
      );
    if (r.status === "rewritten") warnings.push(`layer ${r.name}: ${r.message}`);
    for (const m of r.merges ?? [])
      if (m.result === "conflict")
        warnings.push(`layer ${r.name}: ${m.path} conflicts with upstream; the local file stays active, markers in ${m.conflictFile}`);
  }
  const folders = await resolveLayerFolders(lctx);
  for (const d of folders.diagnostics) warnings.push(d.message);
  ctx.gitLayersMoved?.(folders.folders);
  for (const f of result.changedFiles) ctx.library?.invalidate(f);
  for (const w of warnings) ctx.log("warn", w);
  const rewritten = result.reports.filter((r) => r.status === "rewritten").map((r) => r.name);
  if (rewritten.length && input.on_rewrite === "fail") {
    throw new ActionError("history-rewritten", `upstream history of layer(s) ${rewritten.join(", ")} was rewritten; their old pins are kept`, {
      retryable: false,
      hint: "look at the new history, then run the step with accept_rewrite: true (or 'aicfg library update NAME --accept-rewrite')",
    });
  }
  const moved = result.reports.filter((r) => r.status === "updated" || r.status === "added").map((r) => r.name);
  return {
    outputs: {
      layers: result.reports.map((r) => ({
        name: r.name,
        status: r.status,
        locked: r.locked ?? null,
        upstream: r.upstream ?? null,
        offline: r.offline !== undefined,
        merges: r.merges ?? [],
      })),
      updated: moved,
      rewritten,
      offline: result.reports.some((r) => r.offline),
      conflicts: result.conflicts,
      lock_written: result.lockWritten,
      changed: moved.length > 0 || result.changedFiles.length > 0,
    },
    warnings,
    ...(result.conflicts ? { facts: { mergeConflicts: result.conflicts } } : {}),
  };
}
