// `aicfg secret set|get|list|rm|rotate`: the encrypted secret store of the state folder
// (workflows/secrets/store.ts). A value is read from stdin, a file or an environment variable,
// never from the command line (where `ps` and shell history would show it).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../../../library/diagnostics.ts";
import { openSecretStore } from "../../../workflows/secrets/store.ts";
import { COMMON_OPTIONS, EXIT, type CliIO, type Command, type ParsedArgs } from "../command.ts";
import { paint } from "../format.ts";
import { STATE_OPTION, stateDir } from "../options.ts";

const store = (args: ParsedArgs, io: CliIO) => openSecretStore(stateDir(args, io), io.env);

function oneName(args: ParsedArgs, usage: string): string {
  const name = args.positionals[0];
  if (!name || args.positionals.length > 1) throw new ConfigError("usage", `name one secret: ${usage}`);
  return name;
}

/** The value to store: --from-env VAR, --from-file PATH, else all of stdin (one trailing newline dropped). */
function readValue(args: ParsedArgs, io: CliIO): string {
  const fromEnv = args.values["from-env"];
  const fromFile = args.values["from-file"];
  if (fromEnv !== undefined && fromFile !== undefined) throw new ConfigError("usage", "give --from-env or --from-file, not both");
  if (typeof fromEnv === "string") {
    const v = io.env[fromEnv];
    if (v === undefined) throw new ConfigError("usage", `--from-env ${fromEnv}: the variable is not set`);
    return v;
  }
  const raw = typeof fromFile === "string" ? readFileSync(resolve(io.cwd, fromFile), "utf8") : readFileSync(0, "utf8");
  return raw.replace(/\r?\n$/, "");
}

export const secretSetCommand: Command = {
  name: "secret set",
  summary: "store a secret, encrypted (AES-256-GCM), for { secret: NAME } in MCP env/headers and workflow inputs",
  usage: "aicfg secret set NAME [--from-env VAR | --from-file PATH] [--state-dir DIR]   (else the value is read from stdin)",
  description:
    "The key comes from $AICFG_SECRET_KEY, else a key file ($AICFG_SECRET_KEY_FILE or $CREDENTIALS_DIRECTORY/aicfg-secret.key), else the OS keyring when AICFG_SECRET_KEYRING=secret-service (the freedesktop Secret Service through secret-tool; account $AICFG_SECRET_KEYRING_ACCOUNT, default 'default'), else <state>/secret.key (made 0600 on first use). Exports write ${NAME} where the tool reads environment variables; otherwise the value only in user scope, in a 0600 file.",
  options: {
    "from-env": { type: "string", valueName: "var", description: "take the value from this environment variable" },
    "from-file": { type: "string", valueName: "path", description: "take the value from this file (one trailing newline dropped)" },
    ...STATE_OPTION,
    json: COMMON_OPTIONS.json,
  },
  examples: ['printf %s "$GITHUB_TOKEN" | aicfg secret set GITHUB_TOKEN', "aicfg secret set SLACK_WEBHOOK --from-env SLACK_WEBHOOK"],
  run: async (args, io) => {
    const name = oneName(args, "aicfg secret set NAME");
    const s = store(args, io);
    const r = await s.set(name, readValue(args, io));
    if (args.values.json) io.out(JSON.stringify({ name, created: r.created, keyCreated: r.keyCreated }));
    else {
      io.out(paint(io, "green", `${r.created ? "stored" : "updated"} secret ${name}`));
      if (r.keyCreated)
        io.err(
          paint(
            io,
            "yellow",
            r.keySource.startsWith("the OS keyring")
              ? `made a new secret key in ${r.keySource}: keep a copy somewhere safe; backups leave it out`
              : `made a new secret key in ${r.keySource} (0600): keep a copy somewhere safe; backups leave it out`,
          ),
        );
    }
    return EXIT.ok;
  },
};

export const secretGetCommand: Command = {
  name: "secret get",
  summary: "print a secret's value (decrypted) on stdout",
  usage: "aicfg secret get NAME [--state-dir DIR]",
  options: { ...STATE_OPTION },
  examples: ['export GITHUB_TOKEN="$(aicfg secret get GITHUB_TOKEN)"'],
  run: async (args, io) => {
    io.out(await store(args, io).get(oneName(args, "aicfg secret get NAME")));
    return EXIT.ok;
  },
};

export const secretListCommand: Command = {
  name: "secret list",
  summary: "list the secrets (names, key id, dates; never values) and how many use each key",
  usage: "aicfg secret list [--state-dir DIR] [--json]",
  options: { ...STATE_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg secret list"],
  run: async (args, io) => {
    const s = store(args, io);
    const items = s.list();
    const keys = s.audit();
    if (args.values.json) {
      io.out(JSON.stringify({ secrets: items, keys }, null, 2));
      return EXIT.ok;
    }
    if (!items.length) io.out(paint(io, "gray", "no secrets"));
    for (const i of items) io.out(`${i.name.padEnd(32)} key ${i.kid}  updated ${i.updated_at}`);
    if (Object.keys(keys).length)
      io.err(
        paint(
          io,
          "gray",
          `per key: ${Object.entries(keys)
            .map(([k, n]) => `${k} ${n}`)
            .join(", ")}`,
        ),
      );
    return EXIT.ok;
  },
};

export const secretRmCommand: Command = {
  name: "secret rm",
  summary: "delete a secret",
  usage: "aicfg secret rm NAME [--state-dir DIR]",
  options: { ...STATE_OPTION },
  examples: ["aicfg secret rm OLD_TOKEN"],
  run: async (args, io) => {
    const name = oneName(args, "aicfg secret rm NAME");
    if (!store(args, io).remove(name)) {
      io.err(paint(io, "red", `error: no secret named ${name}`));
      return EXIT.failure;
    }
    io.out(paint(io, "green", `deleted secret ${name}`));
    return EXIT.ok;
  },
};

export const secretRotateCommand: Command = {
  name: "secret rotate",
  summary: "re-wrap every secret with a new key; the old key stays readable until all are done",
  usage: "aicfg secret rotate [--state-dir DIR] [--json]",
  description:
    "With a key file (or the OS keyring), a new key is put first in it, every record's data key is re-wrapped to it, and then the keys no record uses are dropped. With $AICFG_SECRET_KEY, put the new key first (NEW,OLD), run rotate, then remove OLD from the variable.",
  options: { ...STATE_OPTION, json: COMMON_OPTIONS.json },
  positionals: false,
  examples: ["aicfg secret rotate", 'AICFG_SECRET_KEY="$NEW,$OLD" aicfg secret rotate'],
  run: async (args, io) => {
    const r = await store(args, io).rotate();
    if (args.values.json) io.out(JSON.stringify(r, null, 2));
    else {
      io.out(paint(io, "green", `re-wrapped ${r.rewrapped} secret(s) to key ${r.to} (${r.source})`));
      if (r.removedKeys.length)
        io.err(
          paint(
            io,
            "gray",
            `no secret uses key(s) ${r.removedKeys.join(", ")} any more${r.source === "$AICFG_SECRET_KEY" ? ": remove them from AICFG_SECRET_KEY" : `; removed from ${r.source.startsWith("the OS keyring") ? "the OS keyring" : "the key file"}`}`,
          ),
        );
    }
    return EXIT.ok;
  },
};
