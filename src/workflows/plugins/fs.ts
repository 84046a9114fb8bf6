// The file writer a plugin's action gets as `ctx.fs`: it writes only inside the folders it was given
// (the grant), atomically and without following a link out of them; any other path is refused with
// an error that names the path and the grant. In process this is a seat belt for mistakes; out of
// process (daemon/plugins/child.ts) it is the only way the child's writes reach the host.
import { isAbsolute, resolve } from "node:path";
import { atomicWrite } from "../../adapters/atomic.ts";
import { isInside } from "../../library/paths.ts";
import { ActionError } from "../actions/types.ts";

export type PluginFs = {
  /** Writes a file (relative paths are relative to `base`); returns the absolute path written. */
  writeFile: (path: string, data: string | Uint8Array) => Promise<string>;
};

class OutsideGrantError extends ActionError {
  readonly path: string;
  constructor(path: string, roots: readonly string[], who: string) {
    super("outside-grant", `${who} may not write ${path}: it is outside its grant (${roots.length ? roots.join(", ") : "no folder"})`, {
      retryable: false,
      hint: "grant the folder in plugins: [{ use: …, grant: { write: [DIR] } }] if the plugin should write there, else report the plugin",
    });
    this.path = path;
  }
}

/** `onRefused` is told of every refused write (the daemon logs and counts it). */
export function scopedFs(roots: readonly string[], base: string, who: string, onRefused?: (path: string) => void): PluginFs {
  const abs = roots.map((r) => resolve(r));
  return {
    writeFile: async (path, data) => {
      const target = isAbsolute(path) ? resolve(path) : resolve(base, path);
      const root = abs.find((r) => isInside(r, target) && r !== target);
      if (!root) {
        onRefused?.(target);
        throw new OutsideGrantError(target, abs, who);
      }
      atomicWrite(target, data, 0o644, { root });
      return target;
    },
  };
}
