// Generates the OpenAPI 3.1 document from the route definitions and their zod schemas
// (z.toJSONSchema), so the document can never disagree with what the routes validate and return.
import { z } from "zod";
import { VERSION } from "../version.ts";
import type { RouteDef } from "./route.ts";

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function parameters(where: "path" | "query", schema: z.ZodType | undefined): JsonSchema[] {
  if (!schema) return [];
  const json = schemaOf(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === "string" ? { description: s.description } : {}),
  }));
}

function security(def: RouteDef): JsonSchema[] | undefined {
  if (def.access === "public" || def.access === "signature") return [];
  if (def.access === "probe") return [{}, { bearer: [] }];
  return [{ bearer: [] }];
}

export function buildOpenApi(routes: readonly RouteDef[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const def of routes) {
    const path = def.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const op: JsonSchema = {
      operationId: `${def.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`,
      summary: def.summary,
      tags: [def.tag],
      "x-aicfg-access": def.access,
      parameters: [...parameters("path", def.params), ...parameters("query", def.query)],
      responses: Object.fromEntries(
        Object.entries(def.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema || r.contentType
              ? { content: { [r.contentType ?? "application/json"]: r.schema ? { schema: schemaOf(r.schema, "output") } : {} } }
              : {}),
          },
        ]),
      ),
    };
    if (def.body) op.requestBody = { required: true, content: { "application/json": { schema: schemaOf(def.body, "input") } } };
    const sec = security(def);
    if (sec) op.security = sec;
    (paths[path] ??= {})[def.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "aicfg daemon API",
      version: VERSION,
      description:
        "Health, metrics, workflows, runs, agents and webhooks of the aicfg daemon. Every /v1 route needs a bearer token (aicfg token create) except the GitHub webhook, which is authenticated by its signature. Errors are { error: { code, message, hint, details } }.",
    },
    servers: [{ url: "http://127.0.0.1:7411" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an aicfg_ API token" } } },
    paths,
  };
}
