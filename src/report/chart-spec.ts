import type { TopLevelSpec } from "vega-lite";
import type { TrafficSample } from "../engine/ports.js";
import { orderFailureClasses } from "../traffic/error-kind.js";

// The traffic chart as a declarative Vega-Lite spec with its data inline: a lane of the
// steps (their titles, where they ran), then success rate, requests/s, failures by class
// and p50/p99 latency per second, all on one UTC time axis. The spec is the evidence's
// single source: the SVG and PNG are rendered from it (chart-render.ts), the HTML report
// embeds the SVG, and tests check its data rather than pixels.
//
// Honesty rules: a second of the run in which no request completed is an outage (a red
// band, no success point), never "100%"; a second nobody answered has no latency (a gap,
// not 0 ms); the last, partial second gets no rate.

export interface ChartStep {
  index: number;
  id: string;
  title: string;
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface ChartInput {
  samples: readonly (TrafficSample & { durationMs?: number })[];
  steps: readonly ChartStep[];
  title: string;
  subtitle?: string;
}

export interface SecondRow {
  t: number;
  t2: number;
  requests: number;
  ok: number;
  failed: number;
  /** null: nothing completed in this second (an outage), not 100%. */
  successPct: number | null;
  /** null for the last, partial second: a rate over a fraction of a second is not measured. */
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  outage: boolean;
}

export interface FailureRow {
  t: number;
  t2: number;
  class: string;
  count: number;
}

export interface ChartData {
  seconds: SecondRow[];
  failures: FailureRow[];
  outages: { t: number; t2: number }[];
  steps: (ChartStep & { label: string; row: number })[];
  domain: [number, number];
  successFloor: number;
}

const WIDTH = 960;

/**
 * A whole second of running traffic in which no request completed. The last bucket of a
 * run is cut short when traffic stops; an empty sliver of a second is not an outage.
 */
export function isOutageSecond(s: { requests: number; durationMs?: number }): boolean {
  return s.requests === 0 && (s.durationMs ?? 1000) >= 1000;
}
const FONT = "DejaVu Sans";

/** Rows the spec plots, derived from the timeline; exported so tests check the data. */
export function chartData(input: ChartInput): ChartData {
  const seconds: SecondRow[] = input.samples.map((s) => {
    const duration = s.durationMs ?? 1000;
    const answered = s.maxMs !== undefined || s.ok > 0 || s.p50Ms > 0;
    return {
      t: s.at,
      t2: s.at + duration,
      requests: s.requests,
      ok: s.ok,
      failed: s.failed,
      successPct: s.requests > 0 ? (100 * s.ok) / s.requests : null,
      rps: duration >= 1000 ? s.requests : null,
      p50Ms: answered ? s.p50Ms : null,
      p99Ms: answered ? s.p99Ms : null,
      outage: isOutageSecond(s),
    };
  });
  const failures: FailureRow[] = [];
  for (const s of input.samples) {
    for (const cls of orderFailureClasses(Object.keys(s.errors))) {
      const count = s.errors[cls] ?? 0;
      if (count > 0) {
        failures.push({ t: s.at, t2: s.at + (s.durationMs ?? 1000), class: cls, count });
      }
    }
  }
  // The whole change window: steps that ran before the traffic started (provisioning)
  // are on the axis too, not drawn outside the plot.
  const starts = [...(seconds[0] ? [seconds[0].t] : []), ...input.steps.map((s) => s.start)];
  const first = starts.length > 0 ? Math.min(...starts) : 0;
  const last = Math.max(
    seconds.at(-1)?.t2 ?? first + 1000,
    ...input.steps.map((s) => s.end),
    first + 1000,
  );
  const lowest = Math.min(
    100,
    ...seconds.flatMap((r) => (r.successPct === null ? [] : [r.successPct])),
  );
  return {
    seconds,
    failures,
    outages: seconds.filter((r) => r.outage).map((r) => ({ t: r.t, t2: r.t2 })),
    // Labels in three staggered rows, so neighbouring short steps do not overlap.
    steps: input.steps.map((s, i) => ({ ...s, label: `${s.index} ${s.title}`, row: i % 3 })),
    domain: [first, last],
    // At least 1 point of range, so a clean run does not zoom into noise.
    successFloor: Math.max(0, Math.min(99, Math.floor(lowest - (100 - lowest) * 0.1))),
  };
}

/**
 * Each second as a flat segment over its whole span: its row at the start and again at the
 * end, joined linearly. ("step-after" would draw a second only up to the next point, so the
 * last second before a gap or the end of the run would not be drawn at all.) A null value
 * still breaks the line.
 */
function secondEdges(seconds: readonly SecondRow[]): (SecondRow & { k: number })[] {
  const out: (SecondRow & { k: number })[] = [];
  seconds.forEach((r, i) => {
    const prev = seconds[i - 1];
    // Seconds nobody measured (the runbook was not running: between a crash and its
    // resume) break the lines instead of being bridged as if traffic had gone on.
    if (prev && r.t > prev.t2 + 500) {
      const gap = { successPct: null, rps: null, p50Ms: null, p99Ms: null };
      out.push({ ...prev, ...gap, t: prev.t2, k: out.length });
    }
    out.push({ ...r, k: out.length }, { ...r, t: r.t2, k: out.length + 1 });
  });
  return out;
}

/** Points in edge order: one second's end and the next one's start share their x. */
const inEdgeOrder = { order: { field: "k", type: "quantitative" as const } };

/** x on the shared UTC scale; only the bottom panel draws the axis. */
const xAt = (field: string, domain: [number, number], withAxis = false) => ({
  field,
  type: "temporal" as const,
  scale: { type: "utc" as const, domainMin: domain[0], domainMax: domain[1] },
  axis: withAxis ? { title: "time (UTC)", format: "%H:%M:%S", labelFlush: true, grid: true } : null,
});

/**
 * Shaded step spans behind a panel, alternate shades telling neighbours apart. Fixed fills,
 * not a color encoding: layers share their color scale, and the data series own it.
 */
function stepBands(
  d: ChartData,
  shades: [string, string] = ["#eef2f7", "#ffffff"],
  lane = false,
  withAxis = false,
) {
  return [0, 1].map((parity) => ({
    data: { values: d.steps },
    transform: [{ filter: `datum.index % 2 === ${parity}` }],
    mark: {
      type: "rect" as const,
      color: shades[parity],
      ...(lane ? { stroke: "#7a8899", strokeWidth: 0.5 } : { opacity: 0.7 }),
    },
    encoding: {
      // layers merge their axes: the bottom panel's bands carry the axis too
      x: xAt("start", d.domain, withAxis),
      x2: { field: "end" },
      ...(lane
        ? {
            y: { field: "row", type: "ordinal" as const, axis: null, scale: { domain: [0, 1, 2] } },
            tooltip: [{ field: "label", type: "nominal" as const }],
          }
        : {}),
    },
  }));
}

const panelTitle = (text: string) => ({ text, anchor: "start" as const, fontSize: 11 });

export function buildChartSpec(input: ChartInput): TopLevelSpec {
  const d = chartData(input);
  const day = new Date(d.domain[0]).toISOString().slice(0, 10);
  const classes = orderFailureClasses(d.failures.map((f) => f.class));
  const edges = secondEdges(d.seconds);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: input.title,
      subtitle: input.subtitle ?? `${day} (UTC)`,
      anchor: "start",
      font: FONT,
      subtitleFont: FONT,
    },
    background: "white",
    padding: 12,
    config: {
      font: FONT,
      view: { stroke: "#c8ccd2" },
      axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 10, titleFontSize: 11 },
      legend: { labelFont: FONT, titleFont: FONT, orient: "right" },
      title: { fontSize: 14 },
    },
    spacing: 14,
    resolve: { scale: { x: "shared", color: "independent" }, legend: { color: "independent" } },
    vconcat: [
      {
        width: WIDTH,
        height: 54,
        title: panelTitle("steps"),
        layer: [
          ...stepBands(d, ["#dbe4ef", "#eef2f7"], true),
          {
            data: { values: d.steps },
            mark: {
              type: "text",
              align: "left",
              baseline: "middle",
              dx: 3,
              fontSize: 9,
              limit: 320,
              color: "#1d2733",
            },
            encoding: {
              x: xAt("start", d.domain),
              y: { field: "row", type: "ordinal", axis: null, scale: { domain: [0, 1, 2] } },
              text: { field: "label" },
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: 120,
        title: panelTitle("success rate per second, % (red: no request completed = outage)"),
        layer: [
          ...stepBands(d),
          {
            data: { values: d.outages },
            mark: { type: "rect", color: "#d62728", opacity: 0.45 },
            encoding: { x: xAt("t", d.domain), x2: { field: "t2" } },
          },
          {
            data: { values: d.steps },
            mark: { type: "rule", strokeDash: [4, 3], color: "#7a8899" },
            encoding: { x: xAt("start", d.domain) },
          },
          {
            data: { values: edges },
            mark: {
              type: "line",
              color: "#2ca02c",
              strokeWidth: 1.8,
              interpolate: "linear",
              // an outage second (null) breaks the line instead of being bridged
              invalid: "break-paths-show-domains",
            },
            encoding: {
              x: xAt("t", d.domain),
              y: {
                field: "successPct",
                type: "quantitative",
                title: "% ok",
                scale: { domain: [d.successFloor, 100], clamp: true },
              },
              ...inEdgeOrder,
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: 90,
        title: panelTitle("requests per second"),
        layer: [
          ...stepBands(d),
          {
            data: { values: edges },
            mark: {
              type: "area",
              color: "#1f77b4",
              opacity: 0.35,
              line: { color: "#1f77b4", strokeWidth: 1 },
              interpolate: "linear",
              invalid: "break-paths-show-domains",
            },
            encoding: {
              x: xAt("t", d.domain),
              // not stacked: a second's end and the next one's start share their x (the
              // area's path is sorted by x, a stable sort: ties keep the data's order)
              y: { field: "rps", type: "quantitative", title: "req/s", stack: null },
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: 80,
        title: panelTitle("failed requests per second, by class"),
        layer: [
          ...stepBands(d),
          {
            data: { values: d.failures },
            mark: { type: "rect" },
            encoding: {
              x: xAt("t", d.domain),
              x2: { field: "t2" },
              y: {
                aggregate: "sum",
                field: "count",
                type: "quantitative",
                title: "failed",
                stack: "zero",
              },
              color: {
                field: "class",
                type: "nominal",
                title: "failure class",
                // No failure: one grey "none" entry, not set1's red, so a clean run looks clean.
                scale: classes.length
                  ? { domain: classes, scheme: "set1" }
                  : { domain: ["none"], range: ["#9e9e9e"] },
              },
              order: { field: "class" },
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: 100,
        title: panelTitle("latency per second, ms (p50, p99; log scale)"),
        layer: [
          ...stepBands(d, undefined, false, true),
          {
            data: { values: edges },
            transform: [{ fold: ["p50Ms", "p99Ms"], as: ["percentile", "ms"] }],
            mark: {
              type: "line",
              strokeWidth: 1.5,
              interpolate: "linear",
              invalid: "break-paths-show-domains",
            },
            encoding: {
              x: xAt("t", d.domain, true),
              // log scale: a p50 of 2 ms and a 2 s timeout are both readable
              y: { field: "ms", type: "quantitative", title: "ms", scale: { type: "log" } },
              ...inEdgeOrder,
              color: {
                field: "percentile",
                type: "nominal",
                title: "latency",
                scale: { domain: ["p50Ms", "p99Ms"], range: ["#9467bd", "#ff7f0e"] },
                legend: { labelExpr: "datum.label === 'p50Ms' ? 'p50' : 'p99'" },
              },
            },
          },
        ],
      },
    ],
  };
  return spec as unknown as TopLevelSpec;
}
