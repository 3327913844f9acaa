import { describe, expect, it } from "vitest";
import type { WorkerBucket } from "../../src/traffic/bucket-recorder.js";
import {
  histogramSlots,
  newLatencyHistogram,
  recordLatencyMs,
} from "../../src/traffic/latency-histogram.js";
import { SampleMerger } from "../../src/traffic/sample-merger.js";
import type { LoadSample } from "../../src/traffic/traffic-stats.js";

// Merging the workers' per-second buckets into one sample per second.

const EPOCH = 1_700_000_000_000;

function bucket(
  index: number,
  ok: number,
  latenciesMs: number[] = [],
  extra: Partial<WorkerBucket> = {},
): WorkerBucket {
  const h = newLatencyHistogram();
  for (const ms of latenciesMs) recordLatencyMs(h, ms);
  return {
    index,
    durationMs: 1000,
    ok,
    failed: 0,
    errors: {},
    statuses: ok > 0 ? { "200": ok } : {},
    dropped: 0,
    latency: histogramSlots(h),
    ...extra,
  };
}

function merger(workers: number) {
  const out: LoadSample[] = [];
  return { m: new SampleMerger(workers, EPOCH, (s) => out.push(s)), out };
}

describe("SampleMerger", () => {
  it("emits second k only once every worker has sent it, in order", () => {
    const { m, out } = merger(2);
    m.add(0, bucket(0, 10));
    m.add(0, bucket(1, 11));
    expect(out).toEqual([]);
    m.add(1, bucket(0, 5, [], { failed: 2, errors: { "http-503": 2 } }));
    expect(out.map((s) => [s.at - EPOCH, s.requests, s.ok, s.failed])).toEqual([[0, 17, 15, 2]]);
    expect(out[0]!.errors).toEqual({ "http-503": 2 });
    m.add(1, bucket(1, 1));
    expect(out.map((s) => s.requests)).toEqual([17, 12]);
  });

  it("merges latencies exactly: the percentiles of the union, not an average of percentiles", () => {
    const { m, out } = merger(2);
    // worker 0: 99 fast answers; worker 1: one slow answer; p99 of the union is fast,
    // p50 is fast, and the cumulative max is the slow one
    m.add(0, bucket(0, 99, Array(99).fill(1)));
    m.add(1, bucket(0, 1, [500]));
    expect(out[0]!.p50Ms).toBeCloseTo(1, 1);
    expect(out[0]!.p99Ms).toBeCloseTo(1, 1);
    expect(m.latency().max).toBeCloseTo(500, -1);
  });

  it("a worker that finished early is not waited for; the last bucket is as long as the longest part", () => {
    const { m, out } = merger(2);
    m.add(0, bucket(0, 1));
    m.add(0, bucket(1, 1, [], { durationMs: 300 }));
    m.workerDone(0, { requests: 2, ok: 2, failed: 0, dropped: 0, durationMs: 1300 });
    m.add(1, bucket(0, 1));
    m.add(1, bucket(1, 1));
    m.add(1, bucket(2, 1, [], { durationMs: 20 }));
    expect(out.map((s) => [s.requests, s.durationMs])).toEqual([
      [2, 1000],
      [2, 1000],
      [1, 20],
    ]);
    expect(m.allDone).toBe(false);
    m.workerDone(1, { requests: 3, ok: 3, failed: 0, dropped: 0, durationMs: 2020 });
    expect(m.allDone).toBe(true);
    expect(m.summary()).toMatchObject({
      durationSeconds: 2.02,
      rps: 2.5,
      requests: { total: 5, ok: 5, failed: 0 },
    });
  });

  it("sums the run's errors by kind in the summary", () => {
    const { m } = merger(1);
    m.add(0, bucket(0, 1, [], { failed: 3, errors: { reset: 1, "http-500": 2 } }));
    m.add(0, bucket(1, 0, [], { failed: 1, errors: { reset: 1 }, durationMs: 10 }));
    m.workerDone(0, { requests: 5, ok: 1, failed: 4, dropped: 0, durationMs: 1010 });
    expect(m.summary().errors).toEqual({ reset: 2, "http-500": 2 });
    expect(m.summary().requests).toEqual({ total: 5, ok: 1, failed: 4 });
  });

  it("sums status codes, dropped requests, full percentiles and a histogram in the summary", () => {
    const { m, out } = merger(1);
    const fast = Array.from({ length: 1000 }, (_, i) => 1 + (i % 10));
    m.add(0, bucket(0, 1000, fast, { statuses: { "200": 990, "204": 10 }, dropped: 7 }));
    m.add(0, bucket(1, 0, [], { durationMs: 400, statuses: {} }));
    m.workerDone(0, { requests: 1000, ok: 1000, failed: 0, dropped: 7, durationMs: 1400 });
    const s = m.summary();
    expect(s.statuses).toEqual({ "200": 990, "204": 10 });
    expect(s.dropped).toBe(7);
    expect(out[0]!.dropped).toBe(7);
    expect(out[0]!.maxMs).toBeCloseTo(10, 1);
    // a second in which nothing answered has no max latency at all
    expect(out[1]!.maxMs).toBeUndefined();
    expect(s.latencyMs.p90).toBeCloseTo(9, 1);
    expect(s.latencyMs.p999).toBeCloseTo(10, 1);
    expect(s.histogram).toHaveLength(10);
    expect(s.histogram.reduce((a, b) => a + b.count, 0)).toBe(1000);
    expect(s.histogram.at(-1)!.ms).toBeCloseTo(10, 1);
  });
});
