import { errorMessage } from "../engine/errors.js";
import type {
  Probe,
  ProbeResult,
  TrafficSample,
  TrafficSource,
  TrafficStats,
} from "../engine/ports.js";
import { reportChanges } from "./report-changes.js";

export interface TrafficExpectation {
  /** Success rate is measured over the last this many full seconds. */
  windowSeconds: number;
  /** Minimum success rate, 0..1 (default 1: every request must succeed). */
  threshold?: number;
  /** Fewer requests than this in the window proves nothing (default 1). */
  minRequests?: number;
  /** Fail when no sample has arrived for this long while traffic runs (default 3000 ms). */
  staleAfterMs?: number;
  /**
   * Also judge everything since this timeline mark (the step's start): a request that
   * failed during the step is downtime the step caused, even if the window is clean again.
   * That verdict is final (terminal): no amount of waiting un-fails a request.
   */
  sinceMark?: string;
  /**
   * The gate's policy: failure classes (http-<code>, refused, reset, keepalive-race,
   * timeout, tls, unreachable, other) that are not user-visible, e.g. keep-alive races a
   * retrying client never shows its user. Default: none, every failed request counts.
   */
  ignoreFailureClasses?: readonly string[];
}

/** Failures that count under the policy: `failed` minus those in ignored classes. */
export function userVisible(
  c: { requests: number; ok: number; failed: number },
  errors: Readonly<Record<string, number>>,
  ignore: readonly string[] = [],
): { requests: number; ok: number; failed: number; ignored: number; successRate: number } {
  let ignored = 0;
  for (const cls of ignore) ignored += errors[cls] ?? 0;
  ignored = Math.min(ignored, c.failed);
  const failed = c.failed - ignored;
  const ok = c.requests - failed;
  return {
    requests: c.requests,
    ok,
    failed,
    ignored,
    successRate: c.requests ? ok / c.requests : 0,
  };
}

const ignoredNote = (n: number) =>
  n > 0 ? `; ${num(n)} failed in ignored classes (gates.ignoreFailureClasses)` : "";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const num = (n: number) => n.toLocaleString("en-US");

/** Step 9's verdict: no user-visible failure over the whole run (traffic has stopped). */
export function judgeZeroFailures(
  source: TrafficSource,
  ignore: readonly string[] = [],
): ProbeResult {
  const counts =
    ignore.length > 0 && source.totalCounts
      ? source.totalCounts()
      : { ...source.total(), errors: {} };
  const t = userVisible(counts, counts.errors, ignore);
  if (t.requests === 0) return { ok: false, reason: "no request was measured" };
  return t.failed === 0
    ? { ok: true, reason: `${num(t.requests)} requests, 0 failed${ignoredNote(t.ignored)}` }
    : {
        ok: false,
        // Traffic has stopped: the count is final, waiting cannot change it.
        terminal: true,
        reason: `${num(t.failed)} of ${num(t.requests)} requests failed${ignoredNote(t.ignored)}`,
      };
}

/**
 * The verdict for one window. `errors` is the breakdown (status codes, transport error
 * kinds) over the same window, for the reason only.
 */
export function evaluateTraffic(
  stats: TrafficStats,
  errors: Readonly<Record<string, number>>,
  exp: TrafficExpectation,
): ProbeResult {
  const threshold = exp.threshold ?? 1;
  const min = exp.minRequests ?? 1;
  const over = `over ${exp.windowSeconds}s`;
  if (stats.requests < min) {
    return {
      ok: false,
      reason: `${num(stats.requests)} requests ${over}, need at least ${num(min)} to judge`,
    };
  }
  const visible = userVisible(stats, errors, exp.ignoreFailureClasses);
  const rate = visible.successRate;
  const head = `${pct(rate)} ok ${over} (${num(stats.requests)} requests`;
  if (rate >= threshold) return { ok: true, reason: `${head}${ignoredNote(visible.ignored)})` };
  const breakdown = Object.entries(errors)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${kind}×${num(n)}`)
    .join(", ");
  return {
    ok: false,
    reason: `${head}, ${num(visible.failed)} failed${breakdown ? `: ${breakdown}` : ""}${ignoredNote(visible.ignored)}); threshold ${pct(threshold)}`,
  };
}

/**
 * Evaluates on every new per-second sample the source publishes (no timer drives the
 * verdict). A watchdog only notices that samples stopped arriving, so a stalled load
 * generator cannot leave a stale "100%" standing.
 */
export function trafficProbe(source: TrafficSource, exp: TrafficExpectation): Probe {
  const staleAfter = exp.staleAfterMs ?? 3_000;
  return {
    observe: (signal, report) =>
      new Promise<void>((resolve) => {
        const emit = reportChanges(report);
        const recent: TrafficSample[] = [];
        let watchdog: NodeJS.Timeout | undefined;
        const armWatchdog = () => {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => {
            emit({
              ok: false,
              reason: source.running
                ? `no traffic samples for ${(staleAfter / 1000).toFixed(0)}s: the load generator is stalled`
                : "traffic is not running",
            });
          }, staleAfter);
          watchdog.unref();
        };
        const evaluate = () => {
          try {
            judge();
          } catch (err) {
            // Runs inside the source's listener: never let it throw into the load generator.
            emit({ ok: false, reason: `traffic gate error: ${errorMessage(err)}` });
          }
        };
        const judge = () => {
          if (!source.running) {
            emit({ ok: false, reason: "traffic is not running" });
            return;
          }
          const latest = recent.at(-1)?.at ?? 0;
          const from = latest - (exp.windowSeconds - 1) * 1000;
          while (recent.length > 0 && recent[0]!.at < from) recent.shift();
          const errors: Record<string, number> = {};
          for (const s of recent) {
            for (const [k, n] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + n;
          }
          if (exp.sinceMark !== undefined) {
            const ignore = exp.ignoreFailureClasses ?? [];
            // Without a breakdown by class the policy cannot apply: everything counts.
            const counts =
              ignore.length > 0 && source.sinceCounts
                ? source.sinceCounts(exp.sinceMark)
                : { ...source.since(exp.sinceMark), errors: {} };
            const since = userVisible(counts, counts.errors, ignore);
            const rate = since.requests > 0 ? since.ok / since.requests : 1;
            if (since.failed > 0 && rate < (exp.threshold ?? 1)) {
              emit({
                ok: false,
                terminal: true,
                reason: `${num(since.failed)} of ${num(since.requests)} requests failed since this step started (${pct(rate)} ok)`,
              });
              return;
            }
          }
          emit(evaluateTraffic(source.window(exp.windowSeconds), errors, exp));
        };
        const unsubscribe = source.subscribe((s) => {
          recent.push(s);
          armWatchdog();
          evaluate();
        });
        evaluate();
        armWatchdog();
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(watchdog);
            unsubscribe();
            resolve();
          },
          { once: true },
        );
        if (signal.aborted) {
          clearTimeout(watchdog);
          unsubscribe();
          resolve();
        }
      }),
  };
}
