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
  const onChange = () => {
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
