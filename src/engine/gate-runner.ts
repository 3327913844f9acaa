import type { ProbeResult } from "./ports.js";
import type { GateDef } from "./step.js";

// Runs a step's gates together. Each probe reports on change; a gate is "settled" once its
// condition has held for its window; the step's gates pass when all are settled at the same
// time. No polling: timers are only armed for the window ends and the timeout.

export interface GateUpdate {
  gate: string;
  title: string;
  passed: boolean;
  settled: boolean;
  reason: string;
  warnings?: string[];
  /** False until the probe reported its first verdict. */
  observed?: boolean;
}

export interface GateOutcome {
  passed: boolean;
  /** Per gate: the last verdict. */
  results: GateUpdate[];
}

interface GateState {
  def: { id: string; title: string; windowMs: number; timeoutMs: number };
  last?: ProbeResult;
  okSince?: number;
  settled: boolean;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export async function runGates<C, S>(
  gates: GateDef<C, S>[],
  ctx: C,
  spec: S,
  opts: { signal: AbortSignal; onUpdate: (u: GateUpdate) => void; clock?: Clock },
): Promise<GateOutcome> {
  const clock = opts.clock ?? realClock;
  if (gates.length === 0) return { passed: true, results: [] };
  const states: GateState[] = gates.map((g) => ({ def: g, settled: false }));
  const stop = new AbortController();
  const onParentAbort = () => stop.abort(opts.signal.reason);
  opts.signal.addEventListener("abort", onParentAbort, { once: true });

  const snapshot = (s: GateState): GateUpdate => ({
    gate: s.def.id,
    title: s.def.title,
    passed: s.last?.ok ?? false,
    settled: s.settled,
    reason: s.last?.reason ?? "waiting for the first observation",
    observed: s.last !== undefined,
    ...(s.last?.warnings?.length ? { warnings: s.last.warnings } : {}),
  });

  return await new Promise<GateOutcome>((resolve, reject) => {
    let windowTimer: unknown;
    let finished = false;
    const timeoutMs = Math.max(...gates.map((g) => g.timeoutMs));

    const finish = (passed: boolean) => {
      if (finished) return;
      finished = true;
      clock.clearTimeout(windowTimer);
      clock.clearTimeout(timeoutTimer);
      opts.signal.removeEventListener("abort", onParentAbort);
      stop.abort();
      resolve({ passed, results: states.map(snapshot) });
    };

    const evaluate = () => {
      if (finished) return;
      const t = clock.now();
      let nextCheck = Number.POSITIVE_INFINITY;
      for (const s of states) {
        const held = s.okSince !== undefined ? t - s.okSince : -1;
        const wasSettled = s.settled;
        s.settled = s.last?.ok === true && held >= s.def.windowMs;
        if (s.settled !== wasSettled) opts.onUpdate(snapshot(s));
        if (s.last?.ok && !s.settled) nextCheck = Math.min(nextCheck, s.def.windowMs - held);
      }
      if (states.every((s) => s.settled)) return finish(true);
      clock.clearTimeout(windowTimer);
      if (Number.isFinite(nextCheck))
        windowTimer = clock.setTimeout(evaluate, Math.max(0, nextCheck));
    };

    const timeoutTimer = clock.setTimeout(() => finish(false), timeoutMs);

    if (opts.signal.aborted) {
      finished = true;
      clock.clearTimeout(timeoutTimer);
      reject(opts.signal.reason);
      return;
    }
    opts.signal.addEventListener(
      "abort",
      () => {
        if (finished) return;
        finished = true;
        clock.clearTimeout(windowTimer);
        clock.clearTimeout(timeoutTimer);
        reject(opts.signal.reason);
      },
      { once: true },
    );

    states.forEach((s, i) => {
      const probe = gates[i]!.probe(ctx, spec);
      probe
        .observe(stop.signal, (r) => {
          if (finished) return;
          const wasOk = s.last?.ok === true;
          const changed = s.last?.ok !== r.ok || s.last?.reason !== r.reason;
          s.last = r;
          if (r.ok && !wasOk) s.okSince = clock.now();
          if (!r.ok) s.okSince = undefined;
          if (changed) opts.onUpdate(snapshot(s));
          if (!r.ok && r.terminal) return finish(false);
          evaluate();
        })
        .catch((err: unknown) => {
          if (finished || stop.signal.aborted) return;
          // A probe must not throw for conditions of the world; if one does, it is a
          // failing verdict with the error as its reason, not the end of the session.
          s.last = {
            ok: false,
            reason: `probe error: ${err instanceof Error ? err.message : String(err)}`,
          };
          s.okSince = undefined;
          opts.onUpdate(snapshot(s));
        });
    });
  });
}
