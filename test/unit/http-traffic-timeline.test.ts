import { describe, expect, it } from "vitest";
import type { LoadSample } from "../../src/traffic/traffic-stats.js";
import { TrafficTimeline } from "../../src/traffic/traffic-timeline.js";

// Windows, marks and totals over per-second samples, with a hand-driven clock.

const T0 = 1_700_000_000_000;
function sample(i: number, ok: number, errors: Record<string, number> = {}, durationMs = 1000) {
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    at: T0 + i * 1000,
    durationMs,
    requests: ok + failed,
    ok,
    failed,
    errors,
    p50Ms: 1,
    p99Ms: 2,
  } satisfies LoadSample;
}

describe("TrafficTimeline", () => {
  it("window(n) sums the last n seconds counted back from the newest sample", () => {
    const t = new TrafficTimeline();
    t.add(sample(0, 10, { "503": 5 }));
    t.add(sample(1, 20));
    t.add(sample(2, 30, { reset: 1 }));
    expect(t.window(1)).toEqual({ requests: 31, ok: 30, failed: 1, successRate: 30 / 31 });
    expect(t.windowCounts(2)).toEqual({ requests: 51, ok: 50, failed: 1, errors: { reset: 1 } });
    expect(t.window(3).requests).toBe(66);
    expect(t.window(100).requests).toBe(66);
    expect(t.window(0).requests).toBe(0);
  });

  it("an empty window has success rate 0, not 1: no evidence is not success", () => {
    const t = new TrafficTimeline();
    expect(t.window(10)).toEqual({ requests: 0, ok: 0, failed: 0, successRate: 0 });
    t.add(sample(0, 0));
    expect(t.total().successRate).toBe(0);
  });

  it("since(mark) includes the bucket the mark falls into and everything after", () => {
    let now = T0;
    const t = new TrafficTimeline({ now: () => now });
    t.add(sample(0, 100, { "502": 1 }));
    now = T0 + 1500; // mid-bucket 1, which has not arrived yet
    t.mark("drain");
    t.add(sample(1, 10, { "503": 2 }));
    t.add(sample(2, 20));
    expect(t.sinceCounts("drain")).toEqual({
      requests: 32,
      ok: 30,
      failed: 2,
      errors: { "503": 2 },
    });
    expect(t.since("drain").successRate).toBe(30 / 32);
  });

  it("a bucket that ended before the mark but arrived after it is not counted since the mark", () => {
    let now = T0 + 1003; // bucket 0 ended at T0+1000, its message is still in flight
    const t = new TrafficTimeline({ now: () => now });
    t.mark("step-3");
    t.add(sample(0, 100, { timeout: 3 }));
    now += 5000;
    t.add(sample(1, 7));
    expect(t.since("step-3")).toEqual({ requests: 7, ok: 7, failed: 0, successRate: 1 });
  });

  it("a mark placed after samples already received that end later excludes none of them", () => {
    const t = new TrafficTimeline();
    t.add(sample(0, 5));
    t.add(sample(1, 6, {}, 400)); // partial last bucket ending at T0+1400
    t.mark("late", T0 + 1200); // inside the partial bucket
    expect(t.since("late").requests).toBe(6);
  });

  it("uses the latest mark of a label, and throws for a label never marked", () => {
    const t = new TrafficTimeline();
    t.mark("a", T0);
    t.add(sample(0, 1));
    t.add(sample(1, 2));
    t.mark("a", T0 + 1500);
    t.add(sample(2, 4));
    expect(t.since("a").requests).toBe(6);
    expect(() => t.since("nope")).toThrow(/no traffic mark "nope"/);
  });

  it("keeps at most maxSamples samples; totals and since stay exact after dropping", () => {
    const t = new TrafficTimeline({ maxSamples: 3 });
    t.mark("start", T0 - 1);
    for (let i = 0; i < 10; i++) t.add(sample(i, i + 1));
    t.mark("end", T0 + 10_000);
    expect(t.timeline().samples.map((s) => s.at - T0)).toEqual([7000, 8000, 9000]);
    expect(t.dropped).toBe(7);
    expect(t.total().requests).toBe(55);
    expect(t.since("start").requests).toBe(55);
    expect(t.since("end").requests).toBe(0);
    expect(t.window(10).requests).toBe(8 + 9 + 10);
  });

  it("keeps at most maxMarks marks, forgetting the oldest", () => {
    const t = new TrafficTimeline({ maxMarks: 2 });
    t.mark("a", T0);
    t.mark("b", T0 + 1);
    t.mark("c", T0 + 2);
    expect(t.timeline().marks.map((m) => m.label)).toEqual(["b", "c"]);
    expect(t.hasMark("a")).toBe(false);
    expect(() => t.since("a")).toThrow();
  });

  it("tells subscribers about each sample until they unsubscribe", () => {
    const t = new TrafficTimeline();
    const seen: number[] = [];
    const off = t.subscribe((s) => seen.push(s.requests));
    t.add(sample(0, 3));
    off();
    t.add(sample(1, 4));
    expect(seen).toEqual([3]);
  });
});
