import { errorMessage } from "../engine/errors.js";
import type { ProbeResult } from "../engine/ports.js";
import { untilAborted } from "../kube/backoff.js";
import { reportChanges } from "./report-changes.js";

/** Anything a cluster probe waits on: a LiveList, the control-plane version, … */
export interface ProbeSource {
  /** Has a first answer (may be stale while `error` is set). */
  readonly synced: boolean;
  /** Set while the source cannot reach the API; the probe fails with it. */
  readonly error: string | undefined;
  run(signal: AbortSignal, onChange: () => void): Promise<void>;
}

/** Coalescing bounds for verdicts (see observeSources). */
const CHEAP_MS = 2;
const MIN_COALESCE_MS = 20;
const MAX_COALESCE_MS = 150;
const COST_FACTOR = 3;

/**
 * The shared body of every cluster probe: run the sources, evaluate on each change once
 * all have answered, report only changes, and turn every failure into a failing result.
 * `what` prefixes errors so the operator knows which gate lost its view of the cluster.
 */
export async function observeSources(
  signal: AbortSignal,
  report: (r: ProbeResult) => void,
  what: string,
  sources: readonly ProbeSource[],
  evaluate: () => ProbeResult,
): Promise<void> {
  const emit = reportChanges(report);
  // At scale a drain or a rollout streams thousands of watch events; evaluating a verdict
  // that is linear in the cluster's pods on each would be quadratic. So once an evaluation
  // costs more than CHEAP_MS, events are coalesced: at most one evaluation per interval, the
  // interval a few times the last evaluation's cost (verdicts then cost at most ~a third of
  // a core) and at most MAX_COALESCE_MS, well inside the 300 ms goal after the condition.
  // Cheap verdicts (small clusters) are still evaluated on every event.
  let pending: ReturnType<typeof setTimeout> | undefined;
  let lastRun = Number.NEGATIVE_INFINITY;
  let lastCost = 0;
  const run = () => {
    pending = undefined;
    const began = performance.now();
    evaluateNow();
    lastRun = performance.now();
    lastCost = lastRun - began;
  };
  const onChange = () => {
    if (signal.aborted || pending) return;
    if (lastCost < CHEAP_MS) {
      run();
      return;
    }
    const gap = Math.min(MAX_COALESCE_MS, Math.max(MIN_COALESCE_MS, lastCost * COST_FACTOR));
    pending = setTimeout(run, Math.max(0, lastRun + gap - performance.now()));
  };
  signal.addEventListener("abort", () => clearTimeout(pending), { once: true });
  const evaluateNow = () => {
    if (signal.aborted) return;
    const broken = sources.find((s) => s.error !== undefined);
    if (broken) {
      emit({ ok: false, reason: `${what}: cannot watch the cluster: ${broken.error}` });
      return;
    }
    if (!sources.every((s) => s.synced)) return;
    try {
      emit(evaluate());
    } catch (err) {
      // A bug in a verdict function must not end the session; say so and keep watching.
      emit({ ok: false, reason: `${what}: probe error: ${errorMessage(err)}` });
    }
  };
  try {
    await Promise.all(sources.map((s) => s.run(signal, onChange)));
  } catch (err) {
    emit({ ok: false, reason: `${what}: probe stopped: ${errorMessage(err)}` });
    await untilAborted(signal);
  }
}
