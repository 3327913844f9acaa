import { TRANSPORT_ERROR_KINDS } from "./error-kind.js";
import {
  histogramSlots,
  type LatencySlots,
  newLatencyHistogram,
  recordLatencyMs,
} from "./latency-histogram.js";

// Per-second counting inside a load worker. Every request lands in the bucket of the
// second it completed in, seconds counted from the run's common start; nothing is kept per
// request: counters in fixed typed arrays and one HDR histogram for the current second,
// shipped as its non-empty slots and reset when the second closes.

const MAX_STATUS = 999;

/** One worker's share of one second. */
export interface WorkerBucket {
  /** Seconds since the run's start. */
  index: number;
  /** 1000, except a worker's last bucket (cut short when it stopped). */
  durationMs: number;
  ok: number;
  failed: number;
  /** Non-2xx by status code, transport errors by kind. */
  errors: Record<string, number>;
  latency: LatencySlots;
}

/** A worker's whole run. */
export interface WorkerTotals {
  requests: number;
  ok: number;
  failed: number;
  durationMs: number;
}

export class BucketRecorder {
  private readonly t0: number;
  private readonly emit: (b: WorkerBucket) => void;
  private index = 0;
  /** End of the current bucket on the recorder's clock. */
  private end: number;

  private ok = 0;
  private readonly status = new Uint32Array(MAX_STATUS + 1);
  private readonly transport = new Uint32Array(TRANSPORT_ERROR_KINDS.length);
  private readonly second = newLatencyHistogram();
  private totalOk = 0;
  private totalFailed = 0;

  /**
   * `t0`: the run's start on the clock later passed to the record methods (ms, e.g.
   * performance.now()); `emit` receives each bucket as it closes.
   */
  constructor(t0: number, emit: (b: WorkerBucket) => void) {
    this.t0 = t0;
    this.emit = emit;
    this.end = t0 + 1000;
  }

  /** A response with this status arrived at `now`, `latencyMs` after it was sent. */
  response(now: number, statusCode: number, latencyMs: number): void {
    if (now >= this.end) this.advance(now);
    if (statusCode >= 200 && statusCode < 300) this.ok++;
    else this.status[Math.min(Math.max(statusCode, 0), MAX_STATUS)]!++;
    recordLatencyMs(this.second, latencyMs);
  }

  /** A transport error (index into TRANSPORT_ERROR_KINDS) at `now`. */
  transportError(now: number, kindIndex: number): void {
    if (now >= this.end) this.advance(now);
    this.transport[kindIndex]!++;
  }

  /** Emits every bucket that has ended by `now`, empty seconds included. */
  advance(now: number): void {
    while (now >= this.end) this.emit(this.flush(1000));
  }

  /** Ends the run at `now`: emits the buckets due and the current, partial one. */
  finish(now: number): WorkerTotals {
    this.advance(now);
    const start = this.end - 1000;
    if (now > start || this.hasCounts()) this.emit(this.flush(Math.max(0, now - start)));
    return {
      requests: this.totalOk + this.totalFailed,
      ok: this.totalOk,
      failed: this.totalFailed,
      durationMs: Math.max(0, now - this.t0),
    };
  }

  private hasCounts(): boolean {
    return this.ok > 0 || this.second.totalCount > 0 || this.transport.some((n) => n > 0);
  }

  private flush(durationMs: number): WorkerBucket {
    const errors: Record<string, number> = {};
    let failed = 0;
    for (let code = 0; code <= MAX_STATUS; code++) {
      const n = this.status[code]!;
      if (n > 0) {
        errors[String(code)] = n;
        failed += n;
      }
    }
    for (let k = 0; k < this.transport.length; k++) {
      const n = this.transport[k]!;
      if (n > 0) {
        errors[TRANSPORT_ERROR_KINDS[k]!] = n;
        failed += n;
      }
    }
    const bucket: WorkerBucket = {
      index: this.index,
      durationMs: Math.round(durationMs * 1000) / 1000,
      ok: this.ok,
      failed,
      errors,
      latency: histogramSlots(this.second),
    };
    this.totalOk += this.ok;
    this.totalFailed += failed;
    this.ok = 0;
    this.status.fill(0);
    this.transport.fill(0);
    this.second.reset();
    this.index++;
    this.end += 1000;
    return bucket;
  }
}
