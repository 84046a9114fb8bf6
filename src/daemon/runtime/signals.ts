// Signal wiring for the daemon process: SIGTERM/SIGINT start a graceful drain (a second one exits
// at once), SIGHUP reloads. Node, Bun and Deno all deliver these through process.on.

export type SignalHandlers = {
  onTerminate: (signal: "SIGTERM" | "SIGINT") => void;
  onReload: () => void;
  /** A second SIGTERM/SIGINT while draining: exit now (default process.exit(130)). */
  onForce?: () => void;
};

export function installSignalHandlers(h: SignalHandlers): () => void {
  let terminating = false;
  const term = (signal: "SIGTERM" | "SIGINT") => () => {
    if (terminating) {
      (h.onForce ?? (() => process.exit(130)))();
      return;
    }
    terminating = true;
    h.onTerminate(signal);
  };
  const onTerm = term("SIGTERM");
  const onInt = term("SIGINT");
  const onHup = () => h.onReload();
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  const hup = process.platform !== "win32";
  if (hup) process.on("SIGHUP", onHup);
  return () => {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    if (hup) process.off("SIGHUP", onHup);
  };
}
