// Every user-written file kind's schema, registered in one place for generation and the staleness test.
import { generateJsonSchemas, registerJsonSchema } from "./json-schemas.ts";
import { DAEMON_SCHEMA_ENTRIES } from "./schema-entries.ts";

export function generateAllSchemas(): Record<string, string> {
  for (const e of DAEMON_SCHEMA_ENTRIES) registerJsonSchema(e);
  return generateJsonSchemas();
}
