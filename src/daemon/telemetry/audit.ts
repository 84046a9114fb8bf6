// The append-only audit log: one JSON line per mutating API call and per run, with the actor, in
// `audit.jsonl` in the state folder (created 0600, opened O_APPEND so lines are never rewritten).
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ensureDirNoSymlinks } from "../../adapters/atomic.ts";
import type { EventBus } from "../events.ts";
import type { SecretRegistry } from "./redact.ts";
import { systemClock } from "../clock.ts";

export const AUDIT_FILE = "audit.jsonl";

export type AuditEntry = {
  /** Who: `token:<id>` (with the token's name), `github:<delivery>`, or `system:<trigger>` for runs. */
  actor: string;
  /** What, e.g. `run.trigger`, `run.cancel`, `token.create`, `workflow.disable`, `run.started`. */
  action: string;
  /** On what: a workflow `library/name`, a run id, a token id. */
  target: string;
  outcome: "ok" | "denied" | "error" | string;
  status?: number;
  requestId?: string;
  runId?: string;
  details?: Record<string, unknown>;
};

export type AuditLog = { file: string; record: (e: AuditEntry) => void; close: () => void };

export function openAuditLog(stateDir: string, secrets: SecretRegistry, now: () => Date = () => new Date(systemClock.now())): AuditLog {
  ensureDirNoSymlinks(stateDir, stateDir, 0o700);
  const file = join(stateDir, AUDIT_FILE);
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
  let open = true;
  return {
    file,
    record: (e) => {
      if (!open) return;
      const line = secrets.scrub(JSON.stringify({ ts: now().toISOString(), ...e })) + "\n";
      // One write per line: with O_APPEND each line lands whole at the end.
      writeSync(fd, line);
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Records every run start and finish from the event bus (runs not started through the API have a system actor). */
export function auditRuns(bus: EventBus, audit: AuditLog): () => void {
  return bus.subscribe((e) => {
    if (e.type === "run.started") {
      audit.record({
        actor: `system:${e.trigger}`,
        action: "run.started",
        target: `${e.library}/${e.workflow}`,
        outcome: "ok",
        runId: e.runId,
        details: { attempt: e.attempt },
      });
    } else if (e.type === "run.finished") {
      audit.record({
        actor: `system:${e.trigger}`,
        action: "run.finished",
        target: `${e.library}/${e.workflow}`,
        outcome: e.result,
        runId: e.runId,
        details: { durationMs: e.durationMs },
      });
    }
  });
}
