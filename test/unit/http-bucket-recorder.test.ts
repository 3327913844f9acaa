import { describe, expect, it } from "vitest";
import { BucketRecorder, type WorkerBucket } from "../../src/traffic/bucket-recorder.js";
import { TRANSPORT_CLASSES } from "../../src/traffic/error-kind.js";
import {
  addSlots,
  newLatencyHistogram,
  percentilesMs,
} from "../../src/traffic/latency-histogram.js";

// Per-second bucket arithmetic in a worker, with a hand-driven clock: t0 = 5000.

const kind = (k: string) => TRANSPORT_CLASSES.indexOf(k as never);

function recorder() {
  const out: WorkerBucket[] = [];
  const r = new BucketRecorder(5000, (b) => out.push(b));
  return { r, out };
}

const latencyOf = (b: WorkerBucket) => {
  const h = newLatencyHistogram();
  addSlots(h, b.latency);
  return percentilesMs(h);
};

describe("BucketRecorder", () => {
  it("puts each request in the second it completed in and emits a bucket when it ends", () => {
    const { r, out } = recorder();
    r.response(5000, 200, 2); // first instant of bucket 0
    r.response(5999.9, 204, 4); // last instant of bucket 0
    r.response(5500, 503, 1);
    r.transportError(5600, kind("reset"));
    expect(out).toEqual([]); // nothing closes before the second ends
    r.response(6000, 200, 3); // first instant of bucket 1 closes bucket 0
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      index: 0,
      durationMs: 1000,
      ok: 2,
      failed: 2,
      errors: { "http-503": 1, reset: 1 },
      statuses: { "200": 1, "204": 1, "503": 1 },
    });
    // three answered requests (the reset has no latency)
    expect(Array.from(out[0]!.latency.counts).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("emits empty seconds when nothing completed in them, so the timeline is contiguous", () => {
    const { r, out } = recorder();
    r.response(5100, 200, 1);
    r.advance(8200); // buckets 0, 1, 2 have ended
    expect(out.map((b) => [b.index, b.ok + b.failed])).toEqual([
      [0, 1],
      [1, 0],
      [2, 0],
    ]);
    expect(out[1]!.errors).toEqual({});
    expect(out[1]!.latency.indexes.length).toBe(0);
  });

  it("finish() emits the partial last bucket with its real length and returns the totals", () => {
    const { r, out } = recorder();
    r.response(5100, 200, 1);
    r.response(6100, 500, 1);
    const totals = r.finish(6350);
    expect(out.map((b) => [b.index, b.durationMs, b.ok + b.failed])).toEqual([
      [0, 1000, 1],
      [1, 350, 1],
    ]);
    expect(totals).toEqual({ requests: 2, ok: 1, failed: 1, dropped: 0, durationMs: 1350 });
  });

  it("finish() at an exact second boundary emits no zero-length bucket", () => {
    const { r, out } = recorder();
    r.response(5100, 200, 1);
    r.finish(6000);
    expect(out.map((b) => b.durationMs)).toEqual([1000]);
  });

  it("ships each second's latencies as histogram slots that give its percentiles", () => {
    const { r, out } = recorder();
    for (let i = 1; i <= 100; i++) r.response(5000 + i, 200, i); // 1..100 ms
    for (let i = 1; i <= 100; i++) r.response(6000 + i, 200, 1000); // 1 s each
    r.finish(7000);
    expect(latencyOf(out[0]!).p50).toBeCloseTo(50, 0);
    expect(latencyOf(out[0]!).p99).toBeCloseTo(99, 0);
    expect(latencyOf(out[1]!).p50).toBeCloseTo(1000, -1);
  });

  it("keeps counts exact over many seconds and requests (no per-request state)", () => {
    const { r, out } = recorder();
    let sent = 0;
    for (let sec = 0; sec < 50; sec++) {
      for (let i = 0; i < 1000; i++) {
        const t = 5000 + sec * 1000 + i;
        if (i % 100 === 0) r.transportError(t, kind("reset"));
        else r.response(t, i % 10 === 0 ? 502 : 200, 1);
        sent++;
      }
    }
    const totals = r.finish(5000 + 50_000);
    expect(out).toHaveLength(50);
    expect(out.reduce((a, b) => a + b.ok + b.failed, 0)).toBe(sent);
    expect(totals).toEqual({
      requests: sent,
      ok: 45_000,
      failed: 5_000,
      dropped: 0,
      durationMs: 50_000,
    });
    expect(out[7]!.errors).toEqual({ "http-502": 90, reset: 10 });
  });

  it("counts requests the rate schedule could not send in the second they were due", () => {
    const { r, out } = recorder();
    r.notSent(5200, 30);
    r.notSent(6100, 5);
    r.notSent(6200, 0);
    const totals = r.finish(6500);
    expect(out.map((b) => b.dropped)).toEqual([30, 5]);
    expect(out.map((b) => b.ok + b.failed)).toEqual([0, 0]);
    expect(totals.dropped).toBe(35);
    expect(totals.requests).toBe(0);
  });
});
