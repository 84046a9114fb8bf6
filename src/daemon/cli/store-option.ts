// Which run store the read-only commands (`aicfg runs`, `aicfg logs`) read: the state folder's
// files by default, or, with `--config daemon.yaml`, the store that config names, so the run
// history of replicas on PostgreSQL is readable from any machine that has the config.
import { readPgUrl, resolveDaemonConfig } from "../config.ts";
import { openFileStore } from "../store/file-store.ts";
import { openPgStore } from "../store/pg/pg-store.ts";
import type { RunStore } from "../store/types.ts";
import { openTokenStore, type TokenStore } from "../auth/token-store.ts";
import { systemClock } from "../clock.ts";
import { auditFile, openFileAuditStore, openFileTenancyStore } from "../tenancy/file-store.ts";
import type { AuditStore, TenancyStore } from "../tenancy/types.ts";
import { existsSync, readFileSync } from "node:fs";
import type { CliIO, OptionSpec, ParsedArgs } from "./command.ts";
import { stateDir } from "./options.ts";

export const CONFIG_STORE_OPTION = {
  config: { type: "string", short: "c", valueName: "file", description: "read the run store this daemon.yaml names (its state_dir, or its PostgreSQL store)" },
} satisfies Record<string, OptionSpec>;

/** The store to read, and where it is (for messages; never the database URL). */
export async function openReadStore(args: ParsedArgs, io: CliIO): Promise<{ store: RunStore; where: string }> {
  if (typeof args.values.config !== "string") {
    const dir = stateDir(args, io);
    return { store: openFileStore(dir), where: dir };
  }
  const config = resolveDaemonConfig({ config: args.values.config }, io.cwd, io.env);
  if (config.store?.kind === "postgres") {
    const store = await openPgStore({ url: readPgUrl(config.store.urlFrom, io.env), instance: `cli-${process.pid}`, retries: 1 });
    return { store, where: `the PostgreSQL store of ${config.file}` };
  }
  const dir = typeof args.values["state-dir"] === "string" ? stateDir(args, io) : config.stateDir;
  return { store: openFileStore(dir), where: dir };
}

export const CONFIG_TENANCY_OPTION = {
  config: {
    type: "string",
    short: "c",
    valueName: "file",
    description: "use the orgs, roles, bindings and audit log of the store this daemon.yaml names (its state_dir, or the PostgreSQL store its replicas share)",
  },
} satisfies Record<string, OptionSpec>;

export type CliTenancyStores = {
  /** The state folder (the CLI's own audit log goes there). */
  dir: string;
  tenancy: TenancyStore;
  tokens: TokenStore;
  audit: AuditStore;
  /** An org's audit rows exactly as stored, oldest first (what `audit verify` checks). */
  auditLines: (org: string) => Promise<string[]>;
  /** Where an org's audit rows are, for messages (a file, or the database table; never the URL). */
  auditWhere: (org: string) => string;
  close: () => Promise<void>;
};

/** The tenancy and audit stores to use: the state folder's files, or, with `--config`, the PostgreSQL store that config names. */
export async function openCliTenancyStores(args: ParsedArgs, io: CliIO): Promise<CliTenancyStores> {
  const config = typeof args.values.config === "string" ? resolveDaemonConfig({ config: args.values.config }, io.cwd, io.env) : undefined;
  if (config?.store?.kind === "postgres") {
    const store = await openPgStore({ url: readPgUrl(config.store.urlFrom, io.env), instance: `cli-${process.pid}`, retries: 1 });
    try {
      const pg = await store.tenancyStores(systemClock);
      const dir = typeof args.values["state-dir"] === "string" ? stateDir(args, io) : config.stateDir;
      return {
        ...pg,
        dir,
        tokens: store.tokenStore(systemClock),
        auditWhere: (org) => `audit_rows(org=${org}) in the PostgreSQL store of ${config.file}`,
        close: () => store.close(),
      };
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const dir = config && typeof args.values["state-dir"] !== "string" ? config.stateDir : stateDir(args, io);
  return {
    dir,
    tokens: openTokenStore(dir),
    tenancy: openFileTenancyStore(dir),
    audit: openFileAuditStore(dir),
    auditLines: async (org) => {
      const file = auditFile(dir, org);
      return existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
    },
    auditWhere: (org) => auditFile(dir, org),
    close: async () => {},
  };
}
