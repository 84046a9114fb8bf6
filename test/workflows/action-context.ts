// A real ActionContext for calling one action directly in tests: a fixed wall clock (so results never
// depend on today's date) with real timers (shell timeouts kill real processes).
import { systemClock, type Clock } from "../../src/workflows/clock.ts";
import type { ActionContext, ActionSettings, TriggerInfo } from "../../src/workflows/actions/types.ts";

export function actionContext(
  libraryRoot: string,
  stateDir: string,
  over: Partial<Omit<ActionContext, "settings">> & { settings?: Partial<ActionSettings>; trigger?: TriggerInfo } = {},
): ActionContext & { logs: string[] } {
  const logs: string[] = [];
  const { settings, ...rest } = over;
  const now = over.now ?? (() => Date.parse("2026-06-01T10:00:00Z"));
  const clock: Clock = { now, setTimer: systemClock.setTimer };
  return {
    libraryRoot,
    libraryName: "lib",
    stateDir,
    signal: new AbortController().signal,
    trigger: { kind: "manual" },
    run: { id: "run-1", workflow: "w", startedAt: Date.parse("2026-06-01T10:00:00Z") },
    attempt: 1,
    maxAttempts: 1,
    now,
    clock,
    log: (level, message) => logs.push(`${level}: ${message}`),
    steps: () => [],
    status: () => "success",
    settings: { shell: { enabled: true }, git: { allowFileRemotes: true }, env: {}, ...settings },
    logs,
    ...rest,
  };
}
