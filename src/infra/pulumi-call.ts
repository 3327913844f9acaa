import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type { Diagnostic } from "../engine/ports.js";
import { toDiagnostic } from "./engine-events.js";
import { mapPulumiError } from "./pulumi-errors.js";

// What every Automation API driver (the runbook's own stack, a user's project) does around
// a Pulumi call: bound it, map its failures to typed errors, collect engine diagnostics,
// and read a deployment's interrupted operations.

export interface CallContext {
  target: string;
  stack: string;
}

/** Runs a Pulumi call bounded by the caller's signal and a timeout; maps its failures. */
export async function boundedPulumiCall<T>(
  ctx: CallContext,
  operation: string,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  errors: string[],
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const combined = timeout ? AbortSignal.any([signal, timeout]) : signal;
  try {
    combined.throwIfAborted();
    return await fn(combined);
  } catch (err) {
    throw mapPulumiError(err, {
      target: ctx.target,
      stack: ctx.stack,
      operation,
      aborted: signal.aborted,
      timedOut: timeout?.aborted ?? false,
      errors,
    });
  }
}

/** Passes an engine event's diagnostic on, remembering errors for the failure message. */
export function forwardDiagnostic(
  e: EngineEvent,
  errors: string[],
  cb: ((d: Diagnostic) => void) | undefined,
): void {
  const d = toDiagnostic(e);
  if (!d) return;
  if (d.severity === "error") errors.push(d.message);
  cb?.(d);
}

export interface PendingOperation {
  type: string;
  urn: string;
}

/** The operations an interrupted update left in a deployment (stack export). */
export function pendingOperations(deployment: unknown): PendingOperation[] {
  const ops = (
    deployment as
      | { pending_operations?: { type?: string; resource?: { urn?: string } }[] }
      | undefined
  )?.pending_operations;
  return (ops ?? []).map((p) => ({ type: p.type ?? "operation", urn: p.resource?.urn ?? "?" }));
}
