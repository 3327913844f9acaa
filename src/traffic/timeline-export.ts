import type { TrafficSample } from "../engine/ports.js";
import { orderErrorKinds } from "./traffic-stats.js";

// The traffic timeline as files for the report: CSV (one row per second, one column per
// error kind seen anywhere in the run, marks in the row of the second they fall into) and
// JSON (ISO times, the same numbers).

export interface ExportableTimeline {
  samples: readonly (TrafficSample & { durationMs?: number })[];
  marks: readonly { label: string; at: number }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** RFC 4180 quoting: only when needed, doubling quotes. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Marks grouped by the sample whose second contains them; a mark between samples (traffic
 * stopped) goes to the next sample. Samples and marks are both in time order: one merge pass.
 */
function marksBySample(t: ExportableTimeline): string[][] {
  const out = t.samples.map((): string[] => []);
  const marks = [...t.marks].sort((a, b) => a.at - b.at);
  let i = 0;
  for (const m of marks) {
    while (i < t.samples.length) {
      const s = t.samples[i]!;
      if (m.at < s.at + (s.durationMs ?? 1000)) break;
      i++;
    }
    if (i === t.samples.length) break;
    out[i]!.push(m.label);
  }
  return out;
}

export function timelineToCsv(t: ExportableTimeline): string {
  const kinds = orderErrorKinds(t.samples.flatMap((s) => Object.keys(s.errors)));
  const header = [
    "at",
    "epoch_ms",
    "duration_ms",
    "requests",
    "ok",
    "failed",
    "p50_ms",
    "p99_ms",
    ...kinds.map((k) => `error_${k}`),
    "marks",
  ];
  const marks = marksBySample(t);
  const rows = t.samples.map((s, i) =>
    [
      iso(s.at),
      String(s.at),
      String(s.durationMs ?? 1000),
      String(s.requests),
      String(s.ok),
      String(s.failed),
      String(s.p50Ms),
      String(s.p99Ms),
      ...kinds.map((k) => String(s.errors[k] ?? 0)),
      marks[i]!.join(";"),
    ]
      .map(csvField)
      .join(","),
  );
  return `${[header.join(","), ...rows].join("\n")}\n`;
}

export interface TimelineJson {
  samples: {
    at: string;
    durationMs: number;
    requests: number;
    ok: number;
    failed: number;
    errors: Record<string, number>;
    p50Ms: number;
    p99Ms: number;
    /** Slowest answer of the second; absent when nothing answered. */
    maxMs?: number;
    /** Rate mode: requests due that no free connection could send. */
    dropped?: number;
  }[];
  marks: { label: string; at: string }[];
}

export function timelineToJsonObject(t: ExportableTimeline): TimelineJson {
  return {
    samples: t.samples.map((s) => ({
      at: iso(s.at),
      durationMs: s.durationMs ?? 1000,
      requests: s.requests,
      ok: s.ok,
      failed: s.failed,
      errors: { ...s.errors },
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      ...(s.maxMs !== undefined ? { maxMs: s.maxMs } : {}),
      ...(s.dropped ? { dropped: s.dropped } : {}),
    })),
    marks: t.marks.map((m) => ({ label: m.label, at: iso(m.at) })),
  };
}

export function timelineToJson(t: ExportableTimeline): string {
  return `${JSON.stringify(timelineToJsonObject(t), null, 2)}\n`;
}
