import type { TrafficCounts, TrafficSample, TrafficStats } from "../engine/ports.js";
import { orderFailureClasses } from "./error-kind.js";

// Arithmetic over per-second samples: sums, success rates, error breakdowns. Pure.

/** A per-second sample as the load generator produces it. */
export interface LoadSample extends TrafficSample {
  /** Length of the bucket: 1000, except the last one of a run (cut short by stop). */
  durationMs: number;
}

/** Running sums over samples; `errors` adds up the per-class breakdowns. */
export type { TrafficCounts } from "../engine/ports.js";

export function emptyCounts(): TrafficCounts {
  return { requests: 0, ok: 0, failed: 0, errors: {} };
}

/** Adds `s` into `into` (mutates `into`, returns it). */
export function addCounts(
  into: TrafficCounts,
  s: Pick<TrafficSample, "requests" | "ok" | "failed" | "errors">,
): TrafficCounts {
  into.requests += s.requests;
  into.ok += s.ok;
  into.failed += s.failed;
  for (const kind in s.errors) into.errors[kind] = (into.errors[kind] ?? 0) + (s.errors[kind] ?? 0);
  return into;
}

/** `a - b`, for "everything since a point" computed as total minus the prefix before it. */
export function subtractCounts(a: TrafficCounts, b: TrafficCounts): TrafficCounts {
  const errors: Record<string, number> = {};
  for (const kind in a.errors) {
    const n = (a.errors[kind] ?? 0) - (b.errors[kind] ?? 0);
    if (n > 0) errors[kind] = n;
  }
  return {
    requests: a.requests - b.requests,
    ok: a.ok - b.ok,
    failed: a.failed - b.failed,
    errors,
  };
}

export function copyCounts(c: TrafficCounts): TrafficCounts {
  return { requests: c.requests, ok: c.ok, failed: c.failed, errors: { ...c.errors } };
}

/**
 * The success rate is ok / requests; with no requests it is 0, not 1: no evidence of
 * success is not success (a gate also checks a minimum number of requests).
 */
export function toStats(c: TrafficCounts): TrafficStats {
  return {
    requests: c.requests,
    ok: c.ok,
    failed: c.failed,
    successRate: c.requests > 0 ? c.ok / c.requests : 0,
  };
}

/** Failure classes ordered for display and CSV columns: status codes ascending, then transport. */
export const orderErrorKinds = orderFailureClasses;
