import * as hdr from "hdr-histogram-js";

// HDR latency histograms in microseconds, all with the same layout (1 µs .. 1 h, 3
// significant digits), so a worker can ship one second of latencies as (index, count) pairs
// of its non-empty slots and the parent can add them into its own histograms exactly.

const LOWEST_US = 1;
export const HIGHEST_US = 3_600_000_000;
const DIGITS = 3;

export type LatencyHistogram = hdr.JsHistogram;

/** `wide`: 64-bit counts, for run-long (cumulative) histograms. */
export function newLatencyHistogram(wide = false): LatencyHistogram {
  return wide
    ? new hdr.Float64Histogram(LOWEST_US, HIGHEST_US, DIGITS)
    : new hdr.Int32Histogram(LOWEST_US, HIGHEST_US, DIGITS);
}

/** Records a latency given in ms, clamped to the histogram's range. */
export function recordLatencyMs(h: LatencyHistogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(Math.min(Math.max(us, LOWEST_US), HIGHEST_US));
}

/** The non-empty slots of a histogram: what one second of latencies costs to send. */
export interface LatencySlots {
  indexes: Uint32Array;
  counts: Uint32Array;
}

export function histogramSlots(h: LatencyHistogram): LatencySlots {
  let n = 0;
  const len = h.countsArrayLength;
  for (let i = 0; i < len; i++) if (h.getCountAtIndex(i) > 0) n++;
  const indexes = new Uint32Array(n);
  const counts = new Uint32Array(n);
  let j = 0;
  for (let i = 0; i < len && j < n; i++) {
    const c = h.getCountAtIndex(i);
    if (c > 0) {
      indexes[j] = i;
      counts[j] = c;
      j++;
    }
  }
  return { indexes, counts };
}

export function addSlots(h: LatencyHistogram, slots: LatencySlots): void {
  for (let j = 0; j < slots.indexes.length; j++) {
    h.recordValueWithCount(h.valueFromIndex(slots.indexes[j]!), slots.counts[j]!);
  }
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max in ms; all 0 for an empty histogram. */
export function percentilesMs(h: LatencyHistogram): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p99: 0, max: 0 };
  return {
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    max: h.maxValue / 1000,
  };
}
