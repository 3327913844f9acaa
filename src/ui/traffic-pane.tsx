import { Box, Text } from "ink";
import { memo } from "react";
import { formatRate, lastSeconds, sparkline, successRate, type TrafficView } from "./state.js";
import { truncate } from "./wrap.js";

function trafficFigures(traffic: TrafficView) {
  const last = traffic.samples.at(-1);
  const rates = traffic.samples.map((s) => (s.requests ? (s.ok / s.requests) * 100 : 100));
  return {
    last,
    rate10: successRate(lastSeconds(traffic, 10)),
    rates,
    minRate: Math.min(99, ...rates),
    rps: traffic.samples.map((s) => s.requests),
    errors: Object.entries(traffic.errors),
  };
}

/** The side pane (wide layout), at most `rows` rows. */
export const TrafficPane = memo(function TrafficPane({
  traffic,
  width,
  rows,
}: {
  traffic: TrafficView;
  width: number;
  rows: number;
}) {
  const f = trafficFigures(traffic);
  const bars = width - 2;
  const lines: { key: string; text: string; color?: string; dim?: boolean; bold?: boolean }[] = [
    { key: "t", text: "Traffic", bold: true },
    {
      key: "r10",
      text: `${formatRate(f.rate10)} ok (10s)`,
      color: f.rate10 === undefined || f.rate10 === 100 ? "green" : "red",
    },
    { key: "step", text: `${formatRate(successRate(traffic.step))} step` },
    { key: "total", text: `${formatRate(successRate(traffic.total))} total` },
    { key: "rps", text: f.last ? `${f.last.requests.toLocaleString("en-US")} rps` : "– rps" },
    {
      key: "lat",
      text: f.last ? `p50 ${f.last.p50Ms.toFixed(1)}ms p99 ${f.last.p99Ms.toFixed(1)}ms` : "",
      dim: true,
    },
    { key: "s1", text: sparkline(f.rates, bars, f.minRate, 100), color: "green" },
    { key: "s2", text: sparkline(f.rps, bars), color: "cyan" },
    {
      key: "err",
      text: `errors ${traffic.total.failed.toLocaleString("en-US")}`,
      ...(traffic.total.failed ? { color: "red" } : {}),
    },
    ...f.errors
      .slice(0, 4)
      .map(([k, n]) => ({ key: `e-${k}`, text: `  ${k} ×${n}`, color: "red" })),
    { key: "sum", text: `total ${traffic.total.requests.toLocaleString("en-US")}`, dim: true },
  ];
  return (
    <Box flexDirection="column" width={width} flexShrink={0} paddingLeft={1} overflow="hidden">
      {lines.slice(0, rows).map((l) => (
        <Text
          key={l.key}
          wrap="truncate"
          bold={l.bold ?? false}
          dimColor={l.dim ?? false}
          {...(l.color ? { color: l.color } : {})}
        >
          {l.text}
        </Text>
      ))}
    </Box>
  );
});

/** The traffic pane as a two-row strip (stacked layout). */
export const TrafficStrip = memo(function TrafficStrip({
  traffic,
  width,
}: {
  traffic: TrafficView;
  width: number;
}) {
  const f = trafficFigures(traffic);
  const ok = f.rate10 === undefined || f.rate10 === 100;
  const first = [
    `Traffic ${formatRate(f.rate10)} ok (10s)`,
    `${formatRate(successRate(traffic.step))} step`,
    `${formatRate(successRate(traffic.total))} total`,
    f.last ? `${f.last.requests.toLocaleString("en-US")} rps` : "– rps",
    f.last ? `p50 ${f.last.p50Ms.toFixed(1)}ms p99 ${f.last.p99Ms.toFixed(1)}ms` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const errs = f.errors.map(([k, n]) => `${k} ×${n}`).join(" ");
  const tail = ` errors ${traffic.total.failed.toLocaleString("en-US")}${errs ? ` (${errs})` : ""} · total ${traffic.total.requests.toLocaleString("en-US")}`;
  const bars = Math.max(0, Math.min(30, Math.floor((width - tail.length - 1) / 2)));
  return (
    <Box flexDirection="column" width={width} flexShrink={0}>
      <Text wrap="truncate" color={ok ? "green" : "red"}>
        {truncate(first, width)}
      </Text>
      <Text wrap="truncate">
        <Text color="green">{sparkline(f.rates, bars, f.minRate, 100)}</Text>{" "}
        <Text color="cyan">{sparkline(f.rps, bars)}</Text>
        <Text color={traffic.total.failed ? "red" : undefined}>{tail}</Text>
      </Text>
    </Box>
  );
});
