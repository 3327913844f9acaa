import type { TrafficStats } from "../engine/ports.js";
import {
  addCounts,
  copyCounts,
  emptyCounts,
  type LoadSample,
  subtractCounts,
  type TrafficCounts,
  toStats,
} from "./traffic-stats.js";

// The parent-side record of a traffic run: per-second samples in arrival order, named marks
// and running totals. Memory is bounded: at most `maxSamples` samples (one per second, so
// the default keeps the last 24 hours) and `maxMarks` marks; totals and "since a mark" stay
// exact after old samples are dropped, because they are kept as running sums.

export const DEFAULT_MAX_SAMPLES = 86_400;
export const DEFAULT_MAX_MARKS = 10_000;

interface Mark {
  label: string;
  at: number;
  /** Sum of the samples that ended at or before `at`: "since" is the total minus this. */
  prefix: TrafficCounts;
}

export interface TrafficTimelineOptions {
  maxSamples?: number;
  maxMarks?: number;
  /** Clock for marks (epoch ms); tests pass their own. */
  now?: () => number;
}

const endOf = (s: LoadSample) => s.at + s.durationMs;

export class TrafficTimeline {
  private readonly samples: LoadSample[] = [];
  private readonly marks: Mark[] = [];
  private readonly latestMark = new Map<string, Mark>();
  private readonly totals = emptyCounts();
  private readonly listeners = new Set<(s: LoadSample) => void>();
  private readonly maxSamples: number;
  private readonly maxMarks: number;
  private readonly now: () => number;
  private droppedSamples = 0;

  constructor(opts: TrafficTimelineOptions = {}) {
    this.maxSamples = Math.max(1, opts.maxSamples ?? DEFAULT_MAX_SAMPLES);
    this.maxMarks = Math.max(1, opts.maxMarks ?? DEFAULT_MAX_MARKS);
    this.now = opts.now ?? Date.now;
  }

  /** Samples dropped from the front to respect `maxSamples` (they still count in totals). */
  get dropped(): number {
    return this.droppedSamples;
  }

  add(sample: LoadSample): void {
    this.samples.push(sample);
    addCounts(this.totals, sample);
    // A sample that ended before a mark but arrived after it belongs to that mark's prefix.
    const end = endOf(sample);
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const m = this.marks[i]!;
      if (m.at < end) break;
      addCounts(m.prefix, sample);
    }
    if (this.samples.length > this.maxSamples) {
      const excess = this.samples.length - this.maxSamples;
      this.samples.splice(0, excess);
      this.droppedSamples += excess;
    }
    for (const listener of this.listeners) listener(sample);
  }

  /**
   * Marks a point in time. "Since" a mark counts every bucket that ends after it, so the
   * bucket the mark falls into is included: a failure just before a step boundary is
   * shown to the next step rather than lost.
   */
  mark(label: string, at = this.now()): void {
    const prefix = copyCounts(this.totals);
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i]!;
      if (endOf(s) <= at) break;
      const less = subtractCounts(prefix, s);
      prefix.requests = less.requests;
      prefix.ok = less.ok;
      prefix.failed = less.failed;
      prefix.errors = less.errors;
    }
    const m: Mark = { label, at, prefix };
    this.marks.push(m);
    this.latestMark.set(label, m);
    if (this.marks.length > this.maxMarks) {
      const old = this.marks.shift()!;
      if (this.latestMark.get(old.label) === old) this.latestMark.delete(old.label);
    }
  }

  hasMark(label: string): boolean {
    return this.latestMark.has(label);
  }

  subscribe(listener: (s: LoadSample) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The last `seconds` one-second buckets, counted back from the newest sample. */
  windowCounts(seconds: number): TrafficCounts {
    const sum = emptyCounts();
    const last = this.samples.at(-1);
    if (!last || seconds <= 0) return sum;
    const from = last.at - (seconds - 1) * 1000;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i]!;
      if (s.at < from) break;
      addCounts(sum, s);
    }
    return sum;
  }

  /** Everything since the latest mark with this label; throws for a label never marked. */
  sinceCounts(label: string): TrafficCounts {
    const m = this.latestMark.get(label);
    if (!m) throw new RangeError(`no traffic mark "${label}": call mark("${label}") first`);
    return subtractCounts(this.totals, m.prefix);
  }

  totalCounts(): TrafficCounts {
    return copyCounts(this.totals);
  }

  window(seconds: number): TrafficStats {
    return toStats(this.windowCounts(seconds));
  }

  since(label: string): TrafficStats {
    return toStats(this.sinceCounts(label));
  }

  total(): TrafficStats {
    return toStats(this.totals);
  }

  timeline(): { samples: LoadSample[]; marks: { label: string; at: number }[] } {
    return {
      samples: [...this.samples],
      marks: this.marks.map((m) => ({ label: m.label, at: m.at })),
    };
  }
}
