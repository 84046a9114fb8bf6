// The daemon's Clock: the type and its two implementations live in workflows/clock.ts (the lowest layer
// that sets timers, for the shell and notify actions); the daemon imports them from here.
export { createManualClock, sleep, systemClock, timeoutSignal, type Clock, type ManualClock } from "../workflows/clock.ts";
