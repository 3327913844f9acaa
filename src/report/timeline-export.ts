import type { TrafficSample } from "../runbook/ports.js";

// The per-second timeline as CSV and JSON, with the step that was running in each second.

export interface TimelineRow extends TrafficSample {
  step: string;
}

export function withSteps(
  samples: TrafficSample[],
  marks: { label: string; at: number }[],
): TimelineRow[] {
  const sorted = [...marks].sort((a, b) => a.at - b.at);
  return samples.map((s) => {
    let step = "";
    for (const m of sorted) if (m.at <= s.at + 999) step = m.label;
    return { ...s, step };
  });
}

export function timelineCsv(rows: TimelineRow[]): string {
  const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.errors)))].sort();
  const header = [
    "time",
    "step",
    "requests",
    "ok",
    "failed",
    ...kinds.map((k) => `errors_${k}`),
    "p50_ms",
    "p99_ms",
  ];
  const lines = rows.map((r) =>
    [
      new Date(r.at).toISOString(),
      r.step,
      r.requests,
      r.ok,
      r.failed,
      ...kinds.map((k) => r.errors[k] ?? 0),
      r.p50Ms.toFixed(3),
      r.p99Ms.toFixed(3),
    ].join(","),
  );
  return `${[header.join(","), ...lines].join("\n")}\n`;
}
