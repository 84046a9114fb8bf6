// A real ActionContext for calling one action directly in tests.
import type { ActionContext, ActionSettings, TriggerInfo } from "../../src/workflows/actions/types.ts";

export function actionContext(libraryRoot: string, stateDir: string, over: Partial<Omit<ActionContext, "settings">> & { settings?: Partial<ActionSettings>; trigger?: TriggerInfo } = {}): ActionContext & { logs: string[] } {
  const logs: string[] = [];
  const { settings, ...rest } = over;
  return {
    libraryRoot,
    libraryName: "lib",
    stateDir,
    signal: new AbortController().signal,
    trigger: { kind: "manual" },
    run: { id: "run-1", workflow: "w", startedAt: Date.parse("2026-06-01T10:00:00Z") },
    attempt: 1,
    maxAttempts: 1,
    now: () => Date.parse("2026-06-01T10:00:00Z"),
    log: (level, message) => logs.push(`${level}: ${message}`),
    steps: () => [],
    status: () => "success",
    settings: { shell: { enabled: true }, git: { allowFileRemotes: true }, env: {}, ...settings },
    logs,
    ...rest,
  };
}
