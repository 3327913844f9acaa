import { describe, expect, it } from "vitest";
import {
  formatSampleLine,
  formatSummaryLines,
  sampleEvent,
  summaryEvent,
} from "../../src/traffic/load-format.js";
import type { LoadSummary } from "../../src/traffic/sample-merger.js";

const summary: LoadSummary = {
  durationSeconds: 10.004,
  rps: 25312.4,
  requests: { total: 253_225, ok: 253_212, failed: 13 },
  errors: { reset: 2, "503": 11 },
  latencyMs: { p50: 1.234, p99: 9.876, max: 120.5 },
};

describe("load output", () => {
  it("the JSON summary is exactly DESIGN.md's object, keys in order", () => {
    const line = JSON.stringify(summaryEvent(summary));
    expect(line).toBe(
      '{"type":"summary","durationSeconds":10.004,"rps":25312.4,"requests":{"total":253225,"ok":253212,"failed":13},"latencyMs":{"p50":1.234,"p99":9.876}}',
    );
  });

  it("the per-second JSON object is the engine's traffic event", () => {
    const e = sampleEvent({
      at: Date.UTC(2025, 0, 1),
      durationMs: 1000,
      requests: 5,
      ok: 4,
      failed: 1,
      errors: { "502": 1 },
      p50Ms: 1,
      p99Ms: 2,
    });
    expect(e).toEqual({
      type: "traffic",
      at: "2025-01-01T00:00:00.000Z",
      durationMs: 1000,
      requests: 5,
      ok: 4,
      failed: 1,
      errors: { "502": 1 },
      p50Ms: 1,
      p99Ms: 2,
    });
  });

  it("plain lines: rate from the bucket's length, failures broken down by kind", () => {
    const line = formatSampleLine(
      {
        at: 0,
        durationMs: 500,
        requests: 1000,
        ok: 990,
        failed: 10,
        errors: { reset: 3, "503": 7 },
        p50Ms: 1.5,
        p99Ms: 12,
      },
      3.5,
    );
    expect(line).toBe(
      " 3.50s     2,000 req/s  ok 990  failed 10 (503×7 reset×3)  p50 1.50 ms  p99 12.0 ms",
    );
    expect(formatSummaryLines(summary, true)).toEqual([
      "── summary (interrupted) ──",
      "duration  10.004 s",
      "requests  253,225  (25,312.4 req/s)",
      "ok        253,212",
      "failed    13  (503×11 reset×2)",
      "latency   p50 1.23 ms · p99 9.88 ms · max 120.5 ms",
    ]);
  });
});
