import type { EngineEvent, ErrorEvent } from "../engine/events.js";
import { SCHEMA_VERSION } from "./event-schema.js";

// `--json`: one event per line on stdout, each stamped with the schema version and the run's
// id (docs/events.schema.json describes every line).

export function stampEvent(e: EngineEvent, runId: string) {
  return { schemaVersion: SCHEMA_VERSION, runId, ...e };
}

export function createJsonRenderer(
  write: (line: string) => void,
  runId: string,
): (e: EngineEvent) => void {
  return (e) => write(JSON.stringify(stampEvent(e, runId)));
}

/** An error that ends the command, as the `error` event line (before or after the run starts). */
export function errorLine(
  err: { message: string; hint?: string | undefined; exitCode: number },
  runId: string,
): string {
  const e: ErrorEvent = {
    type: "error",
    message: err.message,
    ...(err.hint ? { hint: err.hint } : {}),
    exitCode: err.exitCode,
    at: new Date().toISOString(),
  };
  return JSON.stringify(stampEvent(e, runId));
}
