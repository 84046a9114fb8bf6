// `store:` in daemon.yaml: file (default) or postgres, with the URL from exactly one of url, url_env
// and url_file (read when the store opens, so the config never holds it), and precise errors.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readPgUrl, resolveDaemonConfig } from "../../src/daemon/config.ts";
import { ConfigError } from "../../src/library/diagnostics.ts";
import { tempDir } from "../helpers/fixtures.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const configWith = (store: string) => {
  const file = join(dir.path, "daemon.yaml");
  writeFileSync(file, `libraries: [lib]\nstate_dir: state\n${store}\n`);
  return () => resolveDaemonConfig({ config: file }, dir.path, {});
};

describe("daemon.yaml store:", () => {
  it("defaults to the file store", () => {
    expect(configWith("")().store).toBe(undefined);
    expect(configWith("store: { kind: file }")().store).toBe(undefined);
  });

  it("reads a postgres store with its lease and where the URL comes from", () => {
    expect(configWith("store: { kind: postgres, url_env: PG_URL, lease: 5s }")().store).toEqual({
      kind: "postgres",
      urlFrom: { env: "PG_URL" },
      leaseMs: 5000,
    });
    expect(configWith("store: { kind: postgres, url_file: secrets/pg }")().store).toEqual({
      kind: "postgres",
      urlFrom: { file: join(dir.path, "secrets/pg") },
      leaseMs: 15_000,
    });
  });

  it("refuses two URL sources, none, or an unknown kind, naming the line", () => {
    for (const [store, message] of [
      ["store: { kind: postgres, url: postgres://h/db, url_env: PG_URL }", "set exactly one of url, url_env and url_file"],
      ["store: { kind: postgres }", "set exactly one of url, url_env and url_file"],
      ["store: { kind: mysql }", "kind"],
      ["store: { kind: postgres, url_env: 'not a name' }", "must be an environment variable name"],
    ] as const) {
      let err: unknown;
      try {
        configWith(store)();
      } catch (e) {
        err = e;
      }
      expect(err, store).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message, store).toContain(message);
      expect((err as ConfigError).line, store).toBe(3);
    }
  });

  it("reads the URL from the environment or a file, and says what is missing without printing a value", () => {
    expect(readPgUrl({ env: "PG_URL" }, { PG_URL: "postgres://u:pw@h/db\n" })).toBe("postgres://u:pw@h/db");
    expect(() => readPgUrl({ env: "PG_URL" }, {})).toThrow("store.url_env names PG_URL, but that environment variable is not set");
    const file = join(dir.path, "pg-url");
    writeFileSync(file, "postgres://u:pw@h/db\n");
    expect(readPgUrl({ file })).toBe("postgres://u:pw@h/db");
    writeFileSync(file, "\n");
    expect(() => readPgUrl({ file })).toThrow(`store.url_file ${file} is empty`);
    expect(() => readPgUrl({ file: join(dir.path, "none") })).toThrow("cannot read store.url_file");
  });
});
