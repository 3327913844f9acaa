import type { Probe, ProbeResult } from "../engine/ports.js";

/** A probe over a value that is final when asked (totals of a stopped load generator). */
export function onceProbe(
  evaluate: (signal: AbortSignal) => Promise<ProbeResult> | ProbeResult,
): Probe {
  return {
    observe: async (signal, report) => {
      try {
        report(await evaluate(signal));
      } catch (err) {
        report({ ok: false, reason: err instanceof Error ? err.message : String(err) });
      }
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    },
  };
}
