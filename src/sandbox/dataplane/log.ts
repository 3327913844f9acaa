import type { Logger } from "pino";

// The slice of pino the agent's parts log through; tests pass a silent or recording one.
export type Log = Pick<Logger, "debug" | "info" | "warn" | "error">;

const noop = () => {};
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop } as Log;
