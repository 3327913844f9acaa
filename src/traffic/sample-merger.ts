import type { WorkerBucket, WorkerTotals } from "./bucket-recorder.js";
import {
  addSlots,
  type FullPercentiles,
  fullPercentilesMs,
  type HistogramBar,
  histogramBars,
  type LatencyHistogram,
  newLatencyHistogram,
  type Percentiles,
  percentilesMs,
} from "./latency-histogram.js";
import type { LoadSample } from "./traffic-stats.js";

// Parent side: the load workers' per-second buckets merged into one sample per second.
// Second k is complete once every worker has sent its bucket k or has finished; samples go
// out in order. Latencies merge exactly (same-layout HDR histograms), per second and over
// the whole run.

export interface LoadSummary {
  durationSeconds: number;
  /** Requests per second over the whole run. */
  rps: number;
  requests: { total: number; ok: number; failed: number };
  /** Failures by class (error-kind.ts) over the whole run. */
  errors: Record<string, number>;
  /** Every answer by status code, 2xx included. */
  statuses: Record<string, number>;
  /** Rate mode: requests the schedule wanted sent that no free connection could send. */
  dropped: number;
  /** Latency of answered requests (any status); transport errors have none. */
  latencyMs: FullPercentiles;
  /** Response-time histogram (hey's layout: equal-width bars from fastest to slowest). */
  histogram: HistogramBar[];
}

interface Pending {
  ok: number;
  failed: number;
  dropped: number;
  errors: Record<string, number>;
  statuses: Record<string, number>;
  durationMs: number;
  latency: LatencyHistogram;
}

export class SampleMerger {
  /** The run's common start (epoch ms); set again when the workers actually start. */
  epoch0: number;
  private readonly emit: (s: LoadSample) => void;
  private readonly lastIndex: number[];
  private readonly totals: (WorkerTotals | undefined)[];
  private readonly pending = new Map<number, Pending>();
  private readonly spare: LatencyHistogram[] = [];
  private readonly cumulative = newLatencyHistogram(true);
  private readonly errors: Record<string, number> = {};
  private readonly statuses: Record<string, number> = {};
  private next = 0;

  /** `epoch0`: the run's common start (epoch ms): sample k starts at epoch0 + k s. */
  constructor(workers: number, epoch0: number, emit: (s: LoadSample) => void) {
    this.epoch0 = epoch0;
    this.emit = emit;
    this.lastIndex = new Array<number>(workers).fill(-1);
    this.totals = new Array<WorkerTotals | undefined>(workers).fill(undefined);
  }

  add(worker: number, b: WorkerBucket): void {
    this.lastIndex[worker] = b.index;
    let p = this.pending.get(b.index);
    if (!p) {
      p = {
        ok: 0,
        failed: 0,
        dropped: 0,
        errors: {},
        statuses: {},
        durationMs: 0,
        latency: this.spare.pop() ?? newLatencyHistogram(),
      };
      this.pending.set(b.index, p);
    }
    p.ok += b.ok;
    p.failed += b.failed;
    p.dropped += b.dropped;
    for (const kind in b.errors) p.errors[kind] = (p.errors[kind] ?? 0) + b.errors[kind]!;
    const statuses = b.statuses;
    for (const code in statuses) p.statuses[code] = (p.statuses[code] ?? 0) + statuses[code]!;
    p.durationMs = Math.max(p.durationMs, b.durationMs);
    addSlots(p.latency, b.latency);
    this.flushComplete();
  }

  /** The worker sent its last bucket. */
  workerDone(worker: number, totals: WorkerTotals): void {
    this.totals[worker] = totals;
    this.flushComplete();
  }

  get allDone(): boolean {
    return this.totals.every((t) => t !== undefined);
  }

  /** Latency over every second merged so far. */
  latency(): Percentiles {
    return percentilesMs(this.cumulative);
  }

  /** The run's summary once every worker is done. */
  summary(): LoadSummary {
    let total = 0;
    let ok = 0;
    let failed = 0;
    let dropped = 0;
    let durationMs = 0;
    for (const t of this.totals) {
      if (!t) continue;
      total += t.requests;
      ok += t.ok;
      failed += t.failed;
      dropped += t.dropped;
      durationMs = Math.max(durationMs, t.durationMs);
    }
    const seconds = durationMs / 1000;
    return {
      durationSeconds: Math.round(seconds * 1000) / 1000,
      rps: seconds > 0 ? Math.round((total / seconds) * 10) / 10 : 0,
      requests: { total, ok, failed },
      errors: { ...this.errors },
      statuses: { ...this.statuses },
      dropped,
      latencyMs: fullPercentilesMs(this.cumulative),
      histogram: histogramBars(this.cumulative),
    };
  }

  private isComplete(index: number): boolean {
    for (let w = 0; w < this.lastIndex.length; w++) {
      if (this.lastIndex[w]! < index && this.totals[w] === undefined) return false;
    }
    return true;
  }

  private flushComplete(): void {
    for (;;) {
      const p = this.pending.get(this.next);
      if (!p || !this.isComplete(this.next)) return;
      this.pending.delete(this.next);
      const pct = percentilesMs(p.latency);
      const answered = p.latency.totalCount > 0;
      this.cumulative.add(p.latency);
      for (const kind in p.errors) this.errors[kind] = (this.errors[kind] ?? 0) + p.errors[kind]!;
      for (const code in p.statuses) {
        this.statuses[code] = (this.statuses[code] ?? 0) + p.statuses[code]!;
      }
      p.latency.reset();
      this.spare.push(p.latency);
      const sample: LoadSample = {
        at: this.epoch0 + this.next * 1000,
        durationMs: p.durationMs,
        requests: p.ok + p.failed,
        ok: p.ok,
        failed: p.failed,
        errors: p.errors,
        p50Ms: pct.p50,
        p99Ms: pct.p99,
        // A second in which nothing answered has no latency, not a latency of 0.
        ...(answered ? { maxMs: pct.max } : {}),
        ...(p.dropped > 0 ? { dropped: p.dropped } : {}),
      };
      this.next++;
      this.emit(sample);
    }
  }
}
