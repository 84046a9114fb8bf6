// Response helpers shared by the routes: JSON passed through the secret scrubber, and the checks a
// handler adds on top of its route's role (library scope, the admin role for command-running work).
import { roleAtLeast, type Role } from "../auth/token-store.ts";
import type { SecretRegistry } from "../telemetry/redact.ts";
import { ApiError } from "./errors.ts";
import type { ApiContext } from "./route.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response whose text went through the scrubber (no registered secret leaves in a body). */
export function sendJson(secrets: SecretRegistry | undefined, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(secrets ? secrets.scrub(text) : text, { status, headers: { "content-type": JSON_TYPE, ...headers } });
}

/** Library-scoped tokens see only their library; anything else is reported as absent (no existence leak). */
export function canSeeLibrary(c: ApiContext, library: string): boolean {
  const scope = c.get("principal")?.token.library;
  return scope === undefined || scope === library;
}

export function requireLibrary(c: ApiContext, library: string, what: string): void {
  if (!canSeeLibrary(c, library)) throw new ApiError(404, "not-found", `${what} not found`);
}

/** Raises the required role inside a handler (e.g. admin for a workflow that runs commands). */
export function requireRole(c: ApiContext, role: Role, why: string): void {
  const have = c.get("principal")?.token.role;
  if (!have || !roleAtLeast(have, role)) {
    throw new ApiError(403, "forbidden", `this needs the ${role} role: ${why}`, { hint: `ask an admin for a token with --role ${role}` });
  }
}

export function actorOf(c: ApiContext): string {
  return c.get("principal")?.actor ?? "anonymous";
}
