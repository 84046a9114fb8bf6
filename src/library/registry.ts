// A typed registry of named extensions (adapters, actions, triggers): the one place built-ins and
// plugins put what they provide. Each entry remembers which plugin registered it, so a plugin whose
// setup fails can be taken out again whole, and a clash names both plugins.
import { ConfigError } from "./diagnostics.ts";

type Registered<T> = { item: T; owner: string };

/** The owner name of everything aicfg itself provides. */
export const BUILTIN_OWNER = "aicfg";

export type Registry<T> = {
  readonly kind: string;
  /** Adds an entry; an id that is already taken is an error naming both owners. */
  register: (item: T, owner: string) => void;
  get: (id: string) => T | undefined;
  /** Every entry, in registration order (built-ins first, then plugins in the order they were set up). */
  list: () => readonly T[];
  entries: () => readonly Registered<T>[];
  ownerOf: (id: string) => string | undefined;
  /** Removes every entry of one owner (a plugin whose setup threw, a plugin being unloaded); returns how many. */
  removeOwner: (owner: string) => number;
};

/**
 * `seed` registers the built-ins on first use, through the same `register` a plugin's setup calls:
 * lazily, because the built-in modules may import modules that read the registry while they load.
 */
export function createRegistry<T>(kind: string, idOf: (item: T) => string, seed?: (register: (item: T) => void) => void): Registry<T> {
  const byId = new Map<string, Registered<T>>();
  let seeded = seed === undefined;
  const add = (item: T, owner: string) => {
    const id = idOf(item);
    if (typeof id !== "string" || !/^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)?$/.test(id)) {
      throw new ConfigError("plugin-bad-id", `${owner}: ${kind} id ${JSON.stringify(id)} is not valid`, {
        hint: "ids are lower case letters, digits, '.', '_' and '-' (e.g. 'gptme' or 'token-budget')",
      });
    }
    const taken = byId.get(id);
    if (taken) {
      throw new ConfigError("plugin-duplicate-id", `${owner}: ${kind} '${id}' is already registered by ${taken.owner}`, {
        hint: `give the ${kind} another id, or remove one of the two plugins from plugins:`,
      });
    }
    byId.set(id, { item, owner });
  };
  const ensure = () => {
    if (seeded) return;
    seeded = true;
    seed?.((item) => add(item, BUILTIN_OWNER));
  };
  return {
    kind,
    register: (item, owner) => {
      ensure();
      add(item, owner);
    },
    get: (id) => {
      ensure();
      return byId.get(id)?.item;
    },
    list: () => {
      ensure();
      return [...byId.values()].map((e) => e.item);
    },
    entries: () => {
      ensure();
      return [...byId.values()];
    },
    ownerOf: (id) => {
      ensure();
      return byId.get(id)?.owner;
    },
    removeOwner: (owner) => {
      ensure();
      let n = 0;
      for (const [id, e] of byId) {
        if (e.owner === owner) {
          byId.delete(id);
          n++;
        }
      }
      return n;
    },
  };
}
