import { Box, Text } from "ink";
import { memo } from "react";
import { collapseSteps } from "./layout.js";
import { formatDuration, type StepView } from "./state.js";
import { truncate } from "./wrap.js";

const ICON: Record<string, { icon: string; color?: string }> = {
  pending: { icon: "○", color: "gray" },
  previewing: { icon: "▶", color: "cyan" },
  "awaiting-confirmation": { icon: "?", color: "yellow" },
  applying: { icon: "▶", color: "cyan" },
  verifying: { icon: "▶", color: "cyan" },
  done: { icon: "✔", color: "green" },
  failed: { icon: "✘", color: "red" },
  "rolled-back": { icon: "↺", color: "yellow" },
};

/** The steps in `rows` rows (collapsed around the current one when they do not fit). */
export const StepList = memo(function StepList({
  steps,
  current,
  now,
  width,
  rows,
  title,
}: {
  steps: StepView[];
  current: string | undefined;
  now: number;
  width: number;
  rows: number;
  title: boolean;
}) {
  const ci = Math.max(
    0,
    steps.findIndex((s) => s.id === current),
  );
  const entries = collapseSteps(steps, ci, rows);
  return (
    <Box flexDirection="column" width={width} flexShrink={0} paddingRight={1} overflow="hidden">
      {title ? <Text bold>Steps</Text> : null}
      {entries.map((e) => {
        if (e.kind === "more")
          return (
            <Text key={e.text} dimColor wrap="truncate">
              {e.text}
            </Text>
          );
        const s = e.step;
        const look = ICON[s.status] ?? { icon: "·" };
        const took =
          s.startedAt !== undefined ? formatDuration((s.endedAt ?? now) - s.startedAt) : "";
        const status = s.id === current && !title ? ` (${s.status})` : "";
        const label = truncate(
          `${look.icon} ${s.index} ${s.title}${status}`,
          Math.max(1, width - 2 - took.length),
        );
        return (
          <Box key={s.id} justifyContent="space-between">
            <Text color={look.color} bold={s.id === current} wrap="truncate">
              {label}
            </Text>
            <Text dimColor>{took}</Text>
          </Box>
        );
      })}
    </Box>
  );
});
