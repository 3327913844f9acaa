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

export interface FullPercentiles extends Percentiles {
  p90: number;
  p95: number;
  /** p99.9 */
  p999: number;
  min: number;
  mean: number;
}

/** p50, p99 and max in ms; all 0 for an empty histogram (callers say "no answers"). */
export function percentilesMs(h: LatencyHistogram): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p99: 0, max: 0 };
  return {
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    max: h.maxValue / 1000,
  };
}

/** The percentiles hey and oha users read, in ms; all 0 for an empty histogram. */
export function fullPercentilesMs(h: LatencyHistogram): FullPercentiles {
  if (h.totalCount === 0)
    return { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, min: 0, mean: 0 };
  const at = (p: number) => h.getValueAtPercentile(p) / 1000;
  return {
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: h.maxValue / 1000,
    min: h.minNonZeroValue / 1000,
    mean: h.mean / 1000,
  };
}

export interface HistogramBar {
  /** Upper bound of the bar (ms). */
  ms: number;
  count: number;
}

/**
 * `bars` equal-width bars from the fastest to the slowest answer, as hey's "Response time
 * histogram" draws them. Counts come from the HDR histogram's slots (3 significant digits).
 */
export function histogramBars(h: LatencyHistogram, bars = 10): HistogramBar[] {
  if (h.totalCount === 0) return [];
  const min = h.minNonZeroValue;
  const max = h.maxValue;
  const width = Math.max(1, (max - min) / bars);
  const out: HistogramBar[] = Array.from({ length: bars }, (_, i) => ({
    ms: (min + width * (i + 1)) / 1000,
    count: 0,
  }));
  const len = h.countsArrayLength;
  for (let i = 0; i < len; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    const v = h.valueFromIndex(i);
    const bar = Math.min(bars - 1, Math.max(0, Math.floor((v - min) / width)));
    out[bar]!.count += c;
  }
  return out;
}
