import { httpClass, TRANSPORT_CLASSES } from "./error-kind.js";
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
  /** Failures by class: `http-<code>` for non-2xx answers, transport classes (error-kind.ts). */
  errors: Record<string, number>;
  /** Every answer by status code, 2xx included (the status-code distribution). */
  statuses: Record<string, number>;
  /** Rate mode: requests due by the schedule that no free connection could send. */
  dropped: number;
  latency: LatencySlots;
}

/** A worker's whole run. */
export interface WorkerTotals {
  requests: number;
  ok: number;
  failed: number;
  dropped: number;
  durationMs: number;
}

export class BucketRecorder {
  private readonly t0: number;
  private readonly emit: (b: WorkerBucket) => void;
  private index = 0;
  /** End of the current bucket on the recorder's clock. */
  private end: number;

  private ok = 0;
  private dropped = 0;
  private readonly status = new Uint32Array(MAX_STATUS + 1);
  private readonly transport = new Uint32Array(TRANSPORT_CLASSES.length);
  private readonly second = newLatencyHistogram();
  private totalOk = 0;
  private totalFailed = 0;
  private totalDropped = 0;

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
    this.status[Math.min(Math.max(statusCode, 0), MAX_STATUS)]!++;
    recordLatencyMs(this.second, latencyMs);
  }

  /** A transport failure (index into TRANSPORT_CLASSES) at `now`. */
  transportError(now: number, classIndex: number): void {
    if (now >= this.end) this.advance(now);
    this.transport[classIndex]!++;
  }

  /** `n` requests the rate schedule wanted sent by `now` that no connection was free for. */
  notSent(now: number, n: number): void {
    if (n <= 0) return;
    if (now >= this.end) this.advance(now);
    this.dropped += n;
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
      dropped: this.totalDropped,
      durationMs: Math.max(0, now - this.t0),
    };
  }

  private hasCounts(): boolean {
    return (
      this.ok > 0 ||
      this.dropped > 0 ||
      this.second.totalCount > 0 ||
      this.transport.some((n) => n > 0)
    );
  }

  private flush(durationMs: number): WorkerBucket {
    const errors: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    let failed = 0;
    for (let code = 0; code <= MAX_STATUS; code++) {
      const n = this.status[code]!;
      if (n > 0) {
        statuses[String(code)] = n;
        if (code < 200 || code >= 300) {
          errors[httpClass(code)] = n;
          failed += n;
        }
      }
    }
    for (let k = 0; k < this.transport.length; k++) {
      const n = this.transport[k]!;
      if (n > 0) {
        errors[TRANSPORT_CLASSES[k]!] = n;
        failed += n;
      }
    }
    const bucket: WorkerBucket = {
      index: this.index,
      durationMs: Math.round(durationMs * 1000) / 1000,
      ok: this.ok,
      failed,
      errors,
      statuses,
      dropped: this.dropped,
      latency: histogramSlots(this.second),
    };
    this.totalOk += this.ok;
    this.totalFailed += failed;
    this.totalDropped += this.dropped;
    this.ok = 0;
    this.dropped = 0;
    this.status.fill(0);
    this.transport.fill(0);
    this.second.reset();
    this.index++;
    this.end += 1000;
    return bucket;
  }
}
