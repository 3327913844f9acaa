import { Box, Text } from "ink";
import { memo } from "react";
import { formatRate, lastSeconds, sparkline, successRate, type TrafficView } from "./state.js";

const WIDTH = 22;

export const TrafficPane = memo(function TrafficPane({ traffic }: { traffic: TrafficView }) {
  const last = traffic.samples.at(-1);
  const recent = lastSeconds(traffic, 10);
  const rates = traffic.samples.map((s) => (s.requests ? (s.ok / s.requests) * 100 : 100));
  const rps = traffic.samples.map((s) => s.requests);
  const minRate = Math.min(99, ...rates);
  const errors = Object.entries(traffic.errors);
  const rate10 = successRate(recent);
  return (
    <Box flexDirection="column" width={WIDTH + 2} flexShrink={0} paddingLeft={1}>
      <Text bold>Traffic</Text>
      <Text color={rate10 === undefined || rate10 === 100 ? "green" : "red"}>
        {formatRate(rate10)} ok (10s)
      </Text>
      <Text>{formatRate(successRate(traffic.step))} step</Text>
      <Text>{formatRate(successRate(traffic.total))} total</Text>
      <Text>{last ? `${last.requests.toLocaleString("en-US")} rps` : "– rps"}</Text>
      <Text dimColor>
        {last ? `p50 ${last.p50Ms.toFixed(1)}ms p99 ${last.p99Ms.toFixed(1)}ms` : ""}
      </Text>
      <Text color="green">{sparkline(rates, WIDTH, minRate, 100)}</Text>
      <Text color="cyan">{sparkline(rps, WIDTH)}</Text>
      <Text color={traffic.total.failed ? "red" : undefined}>
        errors {traffic.total.failed.toLocaleString("en-US")}
      </Text>
      {errors.slice(0, 4).map(([k, n]) => (
        <Text key={k} color="red">
          {"  "}
          {k} ×{n}
        </Text>
      ))}
      <Text dimColor>total {traffic.total.requests.toLocaleString("en-US")}</Text>
    </Box>
  );
});
