import type { Probe, ProbeResult } from "../engine/ports.js";
import type { BetweenNodesCheck } from "./drain.js";

/**
 * A probe's verdict as the drain's between-nodes check: watches the probe until it says ok
 * (or the drain's bound aborts) and answers with that verdict, or the last one seen. The
 * runbook passes its traffic gate, so the next node waits while requests fail.
 */
export function probeCheck(probe: Probe): BetweenNodesCheck {
  return async (signal) => {
    const ac = new AbortController();
    const both = AbortSignal.any([signal, ac.signal]);
    let last: ProbeResult = { ok: false, reason: "no verdict yet" };
    await probe.observe(both, (r) => {
      last = r;
      if (r.ok) ac.abort();
    });
    return { ok: last.ok, reason: last.reason };
  };
}
