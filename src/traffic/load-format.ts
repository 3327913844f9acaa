import type { LoadSummary } from "./sample-merger.js";
import { type LoadSample, orderErrorKinds } from "./traffic-stats.js";

// The `load` command's output: one line (or JSON object) per second, then the summary.
// The JSON shapes are a stable interface: the per-second object is the engine's "traffic"
// event; the summary starts with DESIGN.md's keys, field for field, and adds the rest after
// them. The text summary keeps the short block scripts grep for, then the sections hey and
// oha users know: histogram, latency distribution, status codes, errors.

const num = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** What each transport class means, for the error distribution. */
const CLASS_MEANING: Record<string, string> = {
  refused: "connection refused (nothing listening)",
  reset: "connection reset or closed before a complete answer (fresh connection)",
  "keepalive-race":
    "reused keep-alive connection closed before any answer byte (browsers and Go retry this)",
  timeout: "no complete answer within --timeout",
  tls: "TLS handshake failed (certificate not trusted, or not a TLS port)",
  unreachable: "host did not resolve or has no route",
  other: "other transport error",
};

export function formatErrors(errors: Readonly<Record<string, number>>): string {
  return orderErrorKinds(Object.keys(errors))
    .filter((k) => (errors[k] ?? 0) > 0)
    .map((k) => `${k}×${num(errors[k]!)}`)
    .join(" ");
}

/**
 * `elapsedSeconds`: time from the start of the run to the end of this sample. A bucket
 * shorter than a second (the last one) shows its count and length, not a rate: a rate
 * extrapolated from a fraction of a second is not one anybody measured.
 */
export function formatSampleLine(s: LoadSample, elapsedSeconds: number): string {
  const t = Number.isInteger(elapsedSeconds)
    ? `${elapsedSeconds}s`
    : `${elapsedSeconds.toFixed(2)}s`;
  const partial = s.durationMs < 1000;
  const volume = partial
    ? `${num(s.requests)} in ${(s.durationMs / 1000).toFixed(2)}s`
    : `${num(s.requests)} req/s`;
  const failed = s.failed > 0 ? `failed ${num(s.failed)} (${formatErrors(s.errors)})` : "failed 0";
  const answered = s.ok > 0 || s.maxMs !== undefined || s.p50Ms > 0;
  return [
    t.padStart(6),
    volume.padStart(14),
    `ok ${num(s.ok)}`,
    failed,
    ...(answered ? [`p50 ${ms(s.p50Ms)}`, `p99 ${ms(s.p99Ms)}`] : ["no answers"]),
    ...(s.dropped ? [`not sent ${num(s.dropped)}`] : []),
  ].join("  ");
}

function histogramLines(s: LoadSummary): string[] {
  const peak = Math.max(1, ...s.histogram.map((b) => b.count));
  const width = Math.max(...s.histogram.map((b) => num(b.count).length));
  return s.histogram.map(
    (b) =>
      `  ${ms(b.ms).padStart(10)} [${num(b.count).padStart(width)}] |${"■".repeat(Math.round((b.count / peak) * 40))}`,
  );
}

export function formatSummaryLines(s: LoadSummary, interrupted: boolean): string[] {
  const answered = Object.values(s.statuses ?? {}).reduce((a, b) => a + b, 0) > 0;
  const L = s.latencyMs;
  const success = s.requests.total > 0 ? s.requests.ok / s.requests.total : 0;
  const lines = [
    `── summary${interrupted ? " (interrupted)" : ""} ──`,
    `duration  ${s.durationSeconds.toFixed(3)} s`,
    `requests  ${num(s.requests.total)}  (${num(s.rps)} req/s)`,
    `ok        ${num(s.requests.ok)}`,
    `failed    ${num(s.requests.failed)}${s.requests.failed > 0 ? `  (${formatErrors(s.errors)})` : ""}`,
    answered
      ? `latency   p50 ${ms(L.p50)} · p99 ${ms(L.p99)} · max ${ms(L.max)}`
      : "latency   no answers",
    `success   ${s.requests.total > 0 ? pct(success) : "no requests"}`,
    ...(s.dropped > 0
      ? [`not sent  ${num(s.dropped)}  (due by --rate, no free connection: raise --connections)`]
      : []),
  ];
  if (answered) {
    lines.push(
      "",
      "Response time histogram:",
      ...histogramLines(s),
      "",
      "Latency distribution:",
      ...(
        [
          ["fastest", L.min],
          ["mean", L.mean],
          ["p50", L.p50],
          ["p90", L.p90],
          ["p95", L.p95],
          ["p99", L.p99],
          ["p99.9", L.p999],
          ["max", L.max],
        ] as const
      ).map(([name, v]) => `  ${name.padEnd(8)}${ms(v).padStart(11)}`),
    );
  }
  const codes = Object.keys(s.statuses ?? {}).sort((a, b) => Number(a) - Number(b));
  if (codes.length > 0) {
    lines.push(
      "",
      "Status code distribution:",
      ...codes.map((c) => `  [${c}] ${num(s.statuses[c]!)} responses`),
    );
  }
  const classes = orderErrorKinds(Object.keys(s.errors)).filter((k) => (s.errors[k] ?? 0) > 0);
  if (classes.length > 0) {
    lines.push(
      "",
      "Error distribution:",
      ...classes.map(
        (k) => `  [${num(s.errors[k]!)}] ${k}${CLASS_MEANING[k] ? `: ${CLASS_MEANING[k]}` : ""}`,
      ),
    );
  }
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
    ...(s.maxMs !== undefined ? { maxMs: s.maxMs } : {}),
    ...(s.dropped ? { dropped: s.dropped } : {}),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * DESIGN.md's summary object first (same keys, same order), then the additions. Latencies
 * are null when nothing answered: no answer has no latency, not a latency of 0.
 */
export function summaryEvent(s: LoadSummary) {
  const answered = Object.values(s.statuses ?? {}).reduce((a, b) => a + b, 0) > 0;
  const lat = (x: number) => (answered ? round3(x) : null);
  return {
    type: "summary" as const,
    durationSeconds: s.durationSeconds,
    rps: s.rps,
    requests: { total: s.requests.total, ok: s.requests.ok, failed: s.requests.failed },
    latencyMs: {
      p50: lat(s.latencyMs.p50),
      p99: lat(s.latencyMs.p99),
      p90: lat(s.latencyMs.p90),
      p95: lat(s.latencyMs.p95),
      p999: lat(s.latencyMs.p999),
      max: lat(s.latencyMs.max),
    },
    successPercent:
      s.requests.total > 0 ? Math.round((s.requests.ok / s.requests.total) * 1e6) / 1e4 : null,
    notSent: s.dropped,
    statusCodes: { ...s.statuses },
    errors: Object.fromEntries(orderErrorKinds(Object.keys(s.errors)).map((k) => [k, s.errors[k]])),
    histogram: s.histogram.map((b) => ({ upToMs: round3(b.ms), count: b.count })),
  };
}
