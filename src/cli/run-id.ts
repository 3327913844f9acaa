import { randomUUID } from "node:crypto";

// This invocation's run id, made once: the engine's `run` event, the journal's run record and
// every `--json` line (errors before the run starts included) carry the same one.

let id: string | undefined;

export function invocationRunId(): string {
  id ??= randomUUID();
  return id;
}
