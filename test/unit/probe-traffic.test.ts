import { describe, expect, it } from "vitest";
import type {
  ProbeResult,
  TrafficSample,
  TrafficSource,
  TrafficStats,
  TrafficTarget,
} from "../../src/engine/ports.js";
import { evaluateTraffic, trafficProbe } from "../../src/probes/traffic-probe.js";

const stats = (requests: number, failed: number): TrafficStats => ({
  requests,
  ok: requests - failed,
  failed,
  successRate: requests ? (requests - failed) / requests : 0,
});

describe("evaluateTraffic", () => {
  it("passes at 100% with enough requests", () => {
    expect(evaluateTraffic(stats(18420, 0), {}, { windowSeconds: 10 })).toEqual({
      ok: true,
      reason: "100.00% ok over 10s (18,420 requests)",
    });
  });

  it("fails below the threshold with the error breakdown", () => {
    const r = evaluateTraffic(stats(2000, 3), { "502": 2, reset: 1 }, { windowSeconds: 10 });
    expect(r).toEqual({
      ok: false,
      reason: "99.85% ok over 10s (2,000 requests, 3 failed: 502×2, reset×1); threshold 100.00%",
    });
    expect(evaluateTraffic(stats(2000, 3), {}, { windowSeconds: 10, threshold: 0.99 }).ok).toBe(
      true,
    );
  });

  it("refuses to judge too few requests", () => {
    expect(evaluateTraffic(stats(5, 0), {}, { windowSeconds: 10, minRequests: 100 })).toEqual({
      ok: false,
      reason: "5 requests over 10s, need at least 100 to judge",
    });
  });
});

/** A traffic source driven by the test: emit() publishes one per-second sample. */
class FakeSource implements TrafficSource {
  running = true;
  samples: TrafficSample[] = [];
  #listeners = new Set<(s: TrafficSample) => void>();
  async start(_t: TrafficTarget, _s: AbortSignal) {}
  async stop() {
    this.running = false;
  }
  mark() {}
  subscribe(l: (s: TrafficSample) => void) {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  get listeners() {
    return this.#listeners.size;
  }
  window(seconds: number): TrafficStats {
    const w = this.samples.slice(-seconds);
    const requests = w.reduce((n, s) => n + s.requests, 0);
    const failed = w.reduce((n, s) => n + s.failed, 0);
    return stats(requests, failed);
  }
  since() {
    return this.total();
  }
  total() {
    return this.window(this.samples.length);
  }
  timeline() {
    return { samples: this.samples, marks: [] };
  }
  emit(requests: number, failed: number, errors: Record<string, number> = {}) {
    const s: TrafficSample = {
      at: 1_000 * (this.samples.length + 1),
      requests,
      ok: requests - failed,
      failed,
      errors,
      p50Ms: 1,
      p99Ms: 2,
    };
    this.samples.push(s);
    for (const l of this.#listeners) l(s);
  }
}

describe("trafficProbe", () => {
  it("evaluates on each new sample, reports changes only, and unsubscribes on abort", async () => {
    // Given a running source with a probe over a 2 s window
    const src = new FakeSource();
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    const done = trafficProbe(src, { windowSeconds: 2, minRequests: 10 }).observe(ac.signal, (r) =>
      reports.push(r),
    );
    // When samples arrive: healthy, one with 502s, then healthy again (twice)
    src.emit(100, 0);
    src.emit(100, 0);
    src.emit(100, 4, { "502": 4 });
    src.emit(100, 0);
    src.emit(100, 0);
    src.emit(100, 0);
    ac.abort();
    await done;
    // Then the verdicts follow the window, each change reported once
    expect(reports.map((r) => r.reason)).toEqual([
      "0 requests over 2s, need at least 10 to judge",
      "100.00% ok over 2s (100 requests)",
      "100.00% ok over 2s (200 requests)",
      "98.00% ok over 2s (200 requests, 4 failed: 502×4); threshold 100.00%",
      "100.00% ok over 2s (200 requests)",
    ]);
    expect(src.listeners).toBe(0);
  });

  it("with sinceMark, a failure during the step fails the gate for good, even once the window is clean", async () => {
    // Given a probe that also judges everything since the step began
    const src = new FakeSource();
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    const done = trafficProbe(src, { windowSeconds: 1, sinceMark: "migrate-nginx" }).observe(
      ac.signal,
      (r) => reports.push(r),
    );
    // When one second has 3 timeouts and later seconds are clean again
    src.emit(100, 0);
    src.emit(100, 3, { timeout: 3 });
    src.emit(100, 0);
    ac.abort();
    await done;
    // Then the verdict stays failed and says waiting cannot help
    expect(reports.at(-1)).toEqual({
      ok: false,
      terminal: true,
      reason: "3 of 300 requests failed since this step started (99.00% ok)",
    });
  });

  it("fails when traffic is not running, and when samples stop arriving", async () => {
    const src = new FakeSource();
    src.running = false;
    const reports: ProbeResult[] = [];
    const ac = new AbortController();
    const p = trafficProbe(src, { windowSeconds: 2 }).observe(ac.signal, (r) => reports.push(r));
    expect(reports).toEqual([{ ok: false, reason: "traffic is not running" }]);
    ac.abort();
    await p;

    const live = new FakeSource();
    const seen: ProbeResult[] = [];
    const ac2 = new AbortController();
    const stale = new Promise<void>((resolve) => {
      void trafficProbe(live, { windowSeconds: 1, staleAfterMs: 50 }).observe(ac2.signal, (r) => {
        seen.push(r);
        if (r.reason.startsWith("no traffic samples")) resolve();
      });
    });
    live.emit(10, 0);
    await stale;
    ac2.abort();
    expect(seen.at(-1)?.ok).toBe(false);
  });
});
