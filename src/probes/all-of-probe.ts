import type { Probe, ProbeResult } from "../engine/ports.js";

/**
 * Holds when every probe holds; its reason names the ones that do not (or all, when all
 * hold). A terminal failure of any probe is terminal for the whole.
 */
export function allOfProbe(probes: readonly Probe[]): Probe {
  return {
    observe: async (signal, report) => {
      const latest: (ProbeResult | undefined)[] = probes.map(() => undefined);
      let last = "";
      const emit = () => {
        if (latest.some((r) => r === undefined)) return;
        const results = latest as ProbeResult[];
        const failing = results.filter((r) => !r.ok);
        const verdict: ProbeResult = failing.length
          ? {
              ok: false,
              reason: failing.map((r) => r.reason).join("; "),
              ...(failing.some((r) => r.terminal) ? { terminal: true } : {}),
            }
          : { ok: true, reason: results.map((r) => r.reason).join("; ") };
        const key = JSON.stringify(verdict);
        if (key === last) return;
        last = key;
        report(verdict);
      };
      await Promise.all(
        probes.map((p, i) =>
          p.observe(signal, (r) => {
            latest[i] = r;
            emit();
          }),
        ),
      );
    },
  };
}
