// Git trigger: new commits on watched branches of a library's repository. Polls local branch refs
// (cheap, no network) and accepts push notifications from the webhook route through
// `notifyGitPush`, which feeds the same trigger. A commit id already seen on a branch never fires
// twice, so a push notification followed by the sync that pulls it makes one run, not two.
import { parseDuration } from "../../workflows/duration.ts";
import { checkRefName, git } from "../../workflows/git.ts";
import type { z } from "zod";
import type { GitOn } from "../../workflows/schema.ts";
import type { Clock } from "../clock.ts";
import type { RunStore } from "../store/types.ts";
import { sha256 } from "../../library/hash.ts";

const DEFAULT_GIT_POLL = "60s";
const REMEMBER = 50;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A push from the webhook route; `delivery` and `actor` go with the runs it starts. */
export type GitPush = { library: string; branch: string; after: string; before?: string; delivery?: string; actor?: string; redelivery?: boolean };
/** `redelivery`: a delivery processed again, so its commit fires even though it is known. */
type PushOptions = { delivery?: string; actor?: string; redelivery?: boolean };

export type GitTriggerOptions = {
  library: string;
  workflow: string;
  root: string;
  spec: z.infer<typeof GitOn>;
  clock: Clock;
  store: RunStore;
  /** Returns the id of the run it queued, if any. */
  fire: (e: { branch: string; before?: string; after: string; source: "poll" | "push"; delivery?: string; actor?: string }) => Promise<string | undefined>;
  log: (level: "info" | "warn" | "error", message: string) => void;
};

export type GitTriggerHandle = {
  library: string;
  workflow: string;
  branches: readonly string[];
  /** Polls once now (tests and the first check at start). */
  check: () => Promise<void>;
  /** A push reported by a webhook: the queued run id (or "" when none was queued), undefined when the commit was already known. */
  push: (branch: string, after: string, before?: string, o?: PushOptions) => Promise<string | undefined>;
  stop: () => void;
};

export async function startGitTrigger(o: GitTriggerOptions): Promise<GitTriggerHandle> {
  const branches = o.spec.branches.map((b) => checkRefName(b, "branch"));
  const key = `git:${o.library}/${o.workflow}`;
  const fingerprint = sha256(JSON.stringify(branches)).slice(0, 16);
  const wm = await o.store.getWatermark(key);
  // Per branch: the commit ids seen, newest last (stored as "sha sha sha").
  const seen: Record<string, string[]> = {};
  if (wm && wm.fingerprint === fingerprint) for (const [b, list] of Object.entries(wm.lastSeen ?? {})) seen[b] = list.split(" ").filter(Boolean);
  const firstRun = !wm || wm.fingerprint !== fingerprint;
  let stopped = false;
  let cancel: () => void = () => {};
  let warned = false;
  let chain: Promise<unknown> = Promise.resolve();

  const save = () =>
    o.store.setWatermark(key, { fingerprint, lastSeen: Object.fromEntries(Object.entries(seen).map(([b, l]) => [b, l.join(" ")])), updatedAt: o.clock.now() });
  const remember = (branch: string, sha: string) => {
    const list = (seen[branch] ??= []);
    if (!list.includes(sha)) list.push(sha);
    if (list.length > REMEMBER) list.splice(0, list.length - REMEMBER);
  };
  const current = (branch: string) => seen[branch]?.[seen[branch]!.length - 1];

  const pollOnce = async (initial: boolean) => {
    let changed = false;
    for (const b of branches) {
      const r = await git(["rev-parse", "--verify", "--quiet", `refs/heads/${b}^{commit}`], { cwd: o.root, timeoutMs: 10_000 });
      const sha = r.stdout.trim();
      if (r.code !== 0 || !SHA.test(sha)) {
        if (!warned) o.log("warn", `${o.workflow}: branch '${b}' not found in ${o.root}${r.stderr ? `: ${r.stderr.trim().split("\n")[0]}` : ""}`);
        warned = true;
        continue;
      }
      if (seen[b]?.includes(sha)) continue;
      const before = current(b);
      remember(b, sha);
      changed = true;
      if (!initial) await o.fire({ branch: b, after: sha, ...(before ? { before } : {}), source: "poll" });
    }
    if (changed) await save();
  };

  const intervalMs = parseDuration(o.spec.poll ?? DEFAULT_GIT_POLL);
  // The next poll is planned when one starts, and polls run one after another: a slow git never
  // drops a poll, and at most one waits behind the one in progress.
  let queued = false;
  const loop = () => {
    if (stopped) return;
    cancel = o.clock.setTimer(intervalMs, () => {
      loop();
      if (queued) return;
      queued = true;
      chain = chain
        .then(() => {
          queued = false;
          return stopped ? undefined : pollOnce(false);
        })
        .catch((e: unknown) => o.log("error", `${o.workflow}: git poll failed: ${(e as Error).message}`));
    });
  };
  // First look: remember the current commits without firing (unless we knew older ones).
  await pollOnce(firstRun);
  loop();

  return {
    library: o.library,
    workflow: o.workflow,
    branches,
    check: () => {
      chain = chain.then(() => pollOnce(false));
      return chain.then(() => undefined);
    },
    push: async (branch, after, before, p = {}) => {
      if (!branches.includes(branch) || !SHA.test(after)) return undefined;
      if (seen[branch]?.includes(after) && !p.redelivery) return undefined;
      const known = current(branch);
      const prev = before && SHA.test(before) ? before : known !== after ? known : undefined;
      remember(branch, after);
      await save();
      const from = { ...(p.delivery ? { delivery: p.delivery } : {}), ...(p.actor ? { actor: p.actor } : {}) };
      try {
        return (await o.fire({ branch, after, ...(prev ? { before: prev } : {}), source: "push", ...from })) ?? "";
      } catch (e) {
        // The run was not queued: forget the commit, so GitHub's redelivery (or the next poll) fires it.
        seen[branch] = (seen[branch] ?? []).filter((s) => s !== after);
        await save().catch(() => {});
        throw e;
      }
    },
    stop: () => {
      stopped = true;
      cancel();
    },
  };
}

export type GitTriggerRegistry = { triggers: Set<GitTriggerHandle> };

export function createGitTriggerRegistry(): GitTriggerRegistry {
  return { triggers: new Set() };
}

/**
 * Feeds a push (from the webhook route) to every git trigger of that library watching the branch.
 * Returns the workflows that fired and whether the commit was already known to all of them.
 */
export async function notifyGitPush(registry: GitTriggerRegistry, ev: GitPush): Promise<GitPushResult> {
  const branch = checkRefName(ev.branch.replace(/^refs\/heads\//, ""), "branch");
  const fired: string[] = [];
  const runIds: string[] = [];
  let watching = 0;
  for (const t of registry.triggers) {
    if (t.library !== ev.library || !t.branches.includes(branch)) continue;
    watching++;
    const runId = await t.push(branch, ev.after, ev.before, {
      ...(ev.delivery ? { delivery: ev.delivery } : {}),
      ...(ev.actor ? { actor: ev.actor } : {}),
      ...(ev.redelivery ? { redelivery: true } : {}),
    });
    if (runId === undefined) continue;
    fired.push(t.workflow);
    if (runId) runIds.push(runId);
  }
  return { fired, runIds, duplicate: watching > 0 && fired.length === 0 };
}

/** Workflows that fired, the runs they queued, and whether every watching trigger knew the commit already. */
export type GitPushResult = { fired: string[]; runIds: string[]; duplicate: boolean };
