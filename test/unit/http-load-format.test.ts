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
  errors: { reset: 2, "http-503": 11 },
  statuses: { "200": 253_212, "503": 11 },
  dropped: 0,
  latencyMs: {
    p50: 1.234,
    p90: 3.5,
    p95: 5.25,
    p99: 9.876,
    p999: 40.1,
    max: 120.5,
    min: 0.2,
    mean: 1.5,
  },
  histogram: [
    { ms: 12.2, count: 253_000 },
    { ms: 120.5, count: 223 },
  ],
};

describe("load output", () => {
  it("the JSON summary starts with DESIGN.md's object, keys in order, then the additions", () => {
    const line = JSON.stringify(summaryEvent(summary));
    expect(
      line.startsWith(
        '{"type":"summary","durationSeconds":10.004,"rps":25312.4,"requests":{"total":253225,"ok":253212,"failed":13},"latencyMs":{"p50":1.234,"p99":9.876,',
      ),
    ).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      latencyMs: { p90: 3.5, p95: 5.25, p999: 40.1, max: 120.5 },
      successPercent: 99.9949,
      notSent: 0,
      statusCodes: { "200": 253_212, "503": 11 },
      errors: { "http-503": 11, reset: 2 },
      histogram: [
        { upToMs: 12.2, count: 253_000 },
        { upToMs: 120.5, count: 223 },
      ],
    });
  });

  it("no p50 of 0 when nothing answered: latencies are null, lines say so", () => {
    const none: LoadSummary = {
      ...summary,
      requests: { total: 40, ok: 0, failed: 40 },
      errors: { refused: 40 },
      statuses: {},
      latencyMs: { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, min: 0, mean: 0 },
      histogram: [],
    };
    const e = summaryEvent(none);
    expect(e.latencyMs).toEqual({
      p50: null,
      p99: null,
      p90: null,
      p95: null,
      p999: null,
      max: null,
    });
    expect(e.successPercent).toBe(0);
    const lines = formatSummaryLines(none, false);
    expect(lines).toContain("latency   no answers");
    expect(lines.join("\n")).not.toMatch(/0\.00 ms/);
    expect(lines).toContain("  [40] refused: connection refused (nothing listening)");
    const line = formatSampleLine(
      {
        at: 0,
        durationMs: 1000,
        requests: 9,
        ok: 0,
        failed: 9,
        errors: { refused: 9 },
        p50Ms: 0,
        p99Ms: 0,
      },
      1,
    );
    expect(line).toContain("no answers");
    expect(line).not.toContain("p50");
  });

  it("the per-second JSON object is the engine's traffic event", () => {
    const e = sampleEvent({
      at: Date.UTC(2025, 0, 1),
      durationMs: 1000,
      requests: 5,
      ok: 4,
      failed: 1,
      errors: { "http-502": 1 },
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
      errors: { "http-502": 1 },
      p50Ms: 1,
      p99Ms: 2,
    });
  });

  it("plain lines: a full second's rate, failures broken down by class", () => {
    const full = formatSampleLine(
      {
        at: 0,
        durationMs: 1000,
        requests: 2000,
        ok: 1990,
        failed: 10,
        errors: { reset: 3, "http-503": 7 },
        p50Ms: 1.5,
        p99Ms: 12,
        dropped: 4,
      },
      3,
    );
    expect(full).toBe(
      "    3s     2,000 req/s  ok 1,990  failed 10 (http-503×7 reset×3)  p50 1.50 ms  p99 12.0 ms  not sent 4",
    );
  });

  it("plain lines: the last, partial second shows its count and length, not a rate", () => {
    const line = formatSampleLine(
      {
        at: 0,
        durationMs: 500,
        requests: 1000,
        ok: 990,
        failed: 10,
        errors: { reset: 3, "http-503": 7 },
        p50Ms: 1.5,
        p99Ms: 12,
      },
      3.5,
    );
    expect(line).toBe(
      " 3.50s  1,000 in 0.50s  ok 990  failed 10 (http-503×7 reset×3)  p50 1.50 ms  p99 12.0 ms",
    );
    expect(formatSummaryLines(summary, true)).toEqual([
      "── summary (interrupted) ──",
      "duration  10.004 s",
      "requests  253,225  (25,312.4 req/s)",
      "ok        253,212",
      "failed    13  (http-503×11 reset×2)",
      "latency   p50 1.23 ms · p99 9.88 ms · max 120.5 ms",
      "success   99.99%",
      "",
      "Response time histogram:",
      "     12.2 ms [253,000] |■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■",
      "    120.5 ms [    223] |",
      "",
      "Latency distribution:",
      "  fastest     0.20 ms",
      "  mean        1.50 ms",
      "  p50         1.23 ms",
      "  p90         3.50 ms",
      "  p95         5.25 ms",
      "  p99         9.88 ms",
      "  p99.9       40.1 ms",
      "  max        120.5 ms",
      "",
      "Status code distribution:",
      "  [200] 253,212 responses",
      "  [503] 11 responses",
      "",
      "Error distribution:",
      "  [11] http-503",
      "  [2] reset: connection reset or closed before a complete answer (fresh connection)",
    ]);
  });
});
