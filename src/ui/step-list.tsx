import { Box, Text } from "ink";
import { memo } from "react";
import { formatDuration, type StepView } from "./state.js";

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

export const StepList = memo(function StepList({ steps, now }: { steps: StepView[]; now: number }) {
  return (
    <Box flexDirection="column" width={30} flexShrink={0} paddingRight={1}>
      <Text bold>Steps</Text>
      {steps.map((s) => {
        const look = ICON[s.status] ?? { icon: "·" };
        const took =
          s.startedAt !== undefined ? formatDuration((s.endedAt ?? now) - s.startedAt) : "";
        return (
          <Box key={s.id} justifyContent="space-between">
            <Text color={look.color} wrap="truncate">
              {look.icon} {s.index} {s.title}
            </Text>
            <Text dimColor>{took}</Text>
          </Box>
        );
      })}
    </Box>
  );
});
