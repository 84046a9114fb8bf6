// Every user-written file kind's schema, registered in one place for generation and the staleness test.
import { generateJsonSchemas } from "./json-schemas.ts";

export function generateAllSchemas(): Record<string, string> {
  return generateJsonSchemas();
}
