import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToVega, renderChart } from "../../src/report/chart-render.js";
import { buildChartSpec, type ChartStep, chartData } from "../../src/report/chart-spec.js";
import { STALL, STEPS, type Story, syntheticSamples, T0 } from "../helpers/synthetic-timeline.js";

// The chart's data and spec on synthetic timelines: what is plotted, not how it looks.

const steps: ChartStep[] = STEPS.map((s, i) => ({
  index: i + 2,
  id: s.id,
  title: s.title,
  start: T0 + s.from * 1000,
  end: T0 + s.to * 1000,
}));
const input = (story: Story) => ({
  samples: syntheticSamples(story),
  steps,
  title: `synthetic ${story}`,
});

describe("chart data", () => {
  it("a stalled second is an outage with no success point, never 100%", () => {
    const d = chartData(input("stall"));
    const stalled = d.seconds.filter(
      (r) => r.t >= T0 + STALL.from * 1000 && r.t < T0 + STALL.to * 1000,
    );
    expect(stalled).toHaveLength(6);
    for (const r of stalled) {
      expect(r.outage).toBe(true);
      expect(r.successPct).toBeNull();
      expect(r.p50Ms).toBeNull();
      expect(r.p99Ms).toBeNull();
    }
    expect(d.outages).toHaveLength(6);
    expect(d.outages[0]).toEqual({ t: T0 + 30_000, t2: T0 + 31_000 });
    // the timeouts that end the stall are a failure of class "timeout"
    expect(d.failures).toContainEqual({
      t: T0 + 36_000,
      t2: T0 + 37_000,
      class: "timeout",
      count: 8,
    });
  });

  it("a 5xx spike shows as failures by class and a success dip; latency is present", () => {
    const d = chartData(input("spike"));
    expect(d.outages).toEqual([]);
    const classes = new Set(d.failures.map((f) => f.class));
    expect([...classes]).toEqual(["http-503", "keepalive-race"]);
    expect(d.seconds[40]!.successPct).toBe(90);
    expect(d.successFloor).toBeLessThanOrEqual(90);
    expect(d.seconds.every((r) => r.p50Ms !== null && r.p99Ms !== null)).toBe(true);
  });

  it("a clean run: 100% every second, no failures, and no rate for the partial last second", () => {
    const d = chartData(input("clean"));
    expect(d.seconds.every((r) => r.successPct === 100)).toBe(true);
    expect(d.failures).toEqual([]);
    expect(d.successFloor).toBe(99);
    expect(d.seconds.at(-1)!.rps).toBeNull();
    expect(d.seconds[0]!.rps).toBe(300);
    expect(d.steps.map((s) => s.label)).toEqual([
      "2 Start traffic",
      "3 Create the new node group",
      "4 Migrate NGINX to the new group",
      "5 Drain the old nodes",
    ]);
  });
});

describe("chart spec", () => {
  it("uses a UTC time axis shared by every panel, with latency and step titles", async () => {
    const spec = buildChartSpec(input("stall")) as unknown as {
      vconcat: {
        title: { text: string };
        layer: { encoding?: { x?: { scale?: { type?: string } } } }[];
      }[];
    };
    const titles = spec.vconcat.map((p) => p.title.text);
    expect(titles).toEqual([
      "steps",
      "success rate per second, % (red: no request completed = outage)",
      "requests per second",
      "failed requests per second, by class",
      "latency per second, ms (p50, p99; log scale)",
    ]);
    for (const p of spec.vconcat) {
      for (const l of p.layer) {
        if (l.encoding?.x) expect(l.encoding.x.scale?.type).toBe("utc");
      }
    }
    const vega = JSON.stringify(await compileToVega(buildChartSpec(input("stall"))));
    expect(vega).toContain('"type":"utc"');
    expect(vega).toContain("time (UTC)");
  });

  it("renders SVG with UTC tick labels and step titles, and a PNG, without a browser", async () => {
    const { svg, png } = await renderChart(buildChartSpec(input("stall")));
    // ticks are wall-clock UTC times of the run (10:00:00 UTC onwards), not m:ss offsets
    expect(svg).toMatch(/>10:00:\d0</);
    expect(svg).toContain("Migrate NGINX to the new group");
    expect(svg).toContain("time (UTC)");
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    if (process.env.CHART_OUT) {
      writeFileSync(join(process.env.CHART_OUT, "synthetic-stall.png"), png);
      writeFileSync(join(process.env.CHART_OUT, "synthetic-stall.svg"), svg);
    }
  });

  it("an empty sliver at the end of a run (traffic stopped) is not an outage", () => {
    const samples = syntheticSamples("clean");
    samples.push({ ...samples.at(-1)!, at: T0 + 60_000, durationMs: 3, requests: 0, ok: 0 });
    const d = chartData({ samples, steps, title: "t" });
    expect(d.outages).toEqual([]);
    expect(d.seconds.at(-1)!.successPct).toBeNull();
  });
});

describe("a resumed run's chart", () => {
  const sample = (second: number) => ({
    at: T0 + second * 1000,
    durationMs: 1000,
    requests: 300,
    ok: 300,
    failed: 0,
    errors: {},
    p50Ms: 1,
    p99Ms: 4,
  });
  // traffic for 0-9 s, the runbook killed, resumed: traffic again for 20-29 s
  const samples = [...Array(10).keys(), ...[...Array(10).keys()].map((i) => i + 20)].map(sample);
  const steps: ChartStep[] = [
    { index: 1, id: "provision", title: "Provision", start: T0 - 30_000, end: T0 },
    { index: 2, id: "start-traffic", title: "Start traffic", start: T0, end: T0 + 30_000 },
  ];

  it("spans the steps that ran before the traffic, and breaks the lines where nothing was measured", () => {
    expect(chartData({ samples, steps, title: "t" }).domain[0]).toBe(T0 - 30_000);
    const spec = buildChartSpec({ samples, steps, title: "t" }) as unknown as {
      vconcat: { layer: { data?: { values?: { t: number; rps?: number | null }[] } }[] }[];
    };
    const rps = spec.vconcat[2]!.layer.at(-1)!.data!.values!;
    // each second from its start to its end, and one null row at the end of second 9
    const gap = rps.filter((r) => r.rps === null);
    expect(gap.map((r) => r.t)).toEqual([T0 + 10_000]);
    expect(rps.length).toBe(2 * samples.length + 1);
    expect(rps.at(-1)!.t).toBe(T0 + 30_000);
  });
});
