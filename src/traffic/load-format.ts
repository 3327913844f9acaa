import type { LoadSummary } from "./sample-merger.js";
import { type LoadSample, orderErrorKinds } from "./traffic-stats.js";

// The `load` command's output: one line (or JSON object) per second, then the summary.
// The JSON shapes are a stable interface: the per-second object is the engine's "traffic"
// event, the summary is the one in DESIGN.md, field for field.

const num = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

export function formatErrors(errors: Readonly<Record<string, number>>): string {
  return orderErrorKinds(Object.keys(errors))
    .filter((k) => (errors[k] ?? 0) > 0)
    .map((k) => `${k}×${num(errors[k]!)}`)
    .join(" ");
}

/** `elapsedSeconds`: time from the start of the run to the end of this sample. */
export function formatSampleLine(s: LoadSample, elapsedSeconds: number): string {
  const rps = s.durationMs > 0 ? (s.requests * 1000) / s.durationMs : 0;
  const t = Number.isInteger(elapsedSeconds)
    ? `${elapsedSeconds}s`
    : `${elapsedSeconds.toFixed(2)}s`;
  const failed = s.failed > 0 ? `failed ${num(s.failed)} (${formatErrors(s.errors)})` : "failed 0";
  return [
    t.padStart(6),
    `${num(Math.round(rps))} req/s`.padStart(14),
    `ok ${num(s.ok)}`,
    failed,
    `p50 ${ms(s.p50Ms)}`,
    `p99 ${ms(s.p99Ms)}`,
  ].join("  ");
}

export function formatSummaryLines(s: LoadSummary, interrupted: boolean): string[] {
  const lines = [
    `── summary${interrupted ? " (interrupted)" : ""} ──`,
    `duration  ${s.durationSeconds.toFixed(3)} s`,
    `requests  ${num(s.requests.total)}  (${num(s.rps)} req/s)`,
    `ok        ${num(s.requests.ok)}`,
    `failed    ${num(s.requests.failed)}${s.requests.failed > 0 ? `  (${formatErrors(s.errors)})` : ""}`,
    `latency   p50 ${ms(s.latencyMs.p50)} · p99 ${ms(s.latencyMs.p99)} · max ${ms(s.latencyMs.max)}`,
  ];
  return lines;
}

export function sampleEvent(s: LoadSample) {
  return {
    type: "traffic" as const,
    at: new Date(s.at).toISOString(),
    durationMs: s.durationMs,
    requests: s.requests,
    ok: s.ok,
    failed: s.failed,
    errors: s.errors,
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
  };
}

/** Exactly the summary object of DESIGN.md, nothing more. */
export function summaryEvent(s: LoadSummary) {
  return {
    type: "summary" as const,
    durationSeconds: s.durationSeconds,
    rps: s.rps,
    requests: { total: s.requests.total, ok: s.requests.ok, failed: s.requests.failed },
    latencyMs: { p50: s.latencyMs.p50, p99: s.latencyMs.p99 },
  };
}
