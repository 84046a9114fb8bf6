// The JSON Schema entries of the files this layer's users write: workflow files and daemon.yaml.
// The schema generator registers them (registerJsonSchema) so `schemas/workflow.json` and
// `schemas/daemon.json` come from the same zod schemas the loaders use.
import { WorkflowSpec } from "../workflows/schema.ts";
import { DaemonConfigSpec } from "./config.ts";
import type { SchemaEntry } from "./json-schemas.ts";

export const DAEMON_SCHEMA_ENTRIES: readonly SchemaEntry[] = [
  {
    file: "workflow.json",
    title: "AI Configurator workflow (workflows/<name>.yaml)",
    description: "A workflow the daemon runs: triggers (watch, cron, git, after, manual), concurrency, timeout and steps using the built-in actions.",
    schema: WorkflowSpec,
  },
  {
    file: "daemon.json",
    title: "AI Configurator daemon configuration (daemon.yaml)",
    description: "Libraries to serve, the state folder, the API listen address, enabled actions, retention and recovery.",
    schema: DaemonConfigSpec,
  },
];
