// The admin token handed to the daemon as the credential `admin-token` ($CREDENTIALS_DIRECTORY, as
// systemd's LoadCredential= and the Kubernetes Secret mount give it). It makes a first boot on a
// non-loopback address possible (the bind is refused until an admin token exists) without anyone
// running `aicfg token create` inside a container that cannot start yet. The token stays valid only
// while the credential holds it: replaced, it replaces the stored one; removed, it is revoked.
import { ConfigError } from "../../library/diagnostics.ts";
import { readCredential } from "../runtime/sd-notify.ts";
import { checkTokenShape, tokenDigest } from "./token-format.ts";
import type { TokenStore } from "./token-store.ts";

const ADMIN_TOKEN_CREDENTIAL = "admin-token";
/** The name of the token record the credential maintains (shown by `aicfg token list`). */
export const CREDENTIAL_ADMIN_NAME = "credential:admin-token";

export type CredentialAdminOutcome = "absent" | "unchanged" | "adopted" | "revoked";

/** Brings the token store in line with the `admin-token` credential; returns what it did. */
export async function syncCredentialAdminToken(env: Record<string, string | undefined>, store: TokenStore): Promise<CredentialAdminOutcome> {
  const token = readCredential(env, ADMIN_TOKEN_CREDENTIAL)?.trim();
  const previous = (await store.list()).filter((t) => t.name === CREDENTIAL_ADMIN_NAME);
  if (!token) {
    for (const t of previous) await store.revoke(t.id);
    return previous.length ? "revoked" : "absent";
  }
  const shape = checkTokenShape(token);
  if (shape !== "ok") {
    throw new ConfigError(
      "credential-invalid",
      `the ${ADMIN_TOKEN_CREDENTIAL} credential in ${env.CREDENTIALS_DIRECTORY} is not an aicfg token (${shape === "bad-checksum" ? "its checksum does not match: a typo or a truncated copy" : "expected aicfg_ and 49 letters or digits"})`,
      {
        hint: 'generate one with: aicfg token create --role admin --state-dir "$(mktemp -d)" (it prints a well-formed token), and store that',
      },
    );
  }
  const digest = tokenDigest(token);
  if (previous.length === 1 && previous[0]!.digest === digest && previous[0]!.role === "admin") return "unchanged";
  for (const t of previous) await store.revoke(t.id);
  await store.adopt(token, { role: "admin", name: CREDENTIAL_ADMIN_NAME });
  return "adopted";
}
