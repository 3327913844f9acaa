import { Box, Text } from "ink";
import { memo } from "react";
import { PreviewView } from "./preview-view.js";
import { Spinner } from "./spinner.js";
import type { StepView } from "./state.js";

export const StepDetail = memo(function StepDetail({
  step,
  total,
  details,
  awaitingKind,
}: {
  step: StepView | undefined;
  total: number;
  details: boolean;
  awaitingKind?: "confirm" | "failure" | undefined;
}) {
  if (!step) return <Box flexGrow={1} />;
  const gates = Object.values(step.gates);
  return (
    <Box
      flexDirection="column"
      flexGrow={1}
      paddingX={1}
      borderStyle="single"
      borderTop={false}
      borderBottom={false}
    >
      <Text bold>
        {step.index}/{total} {step.title} <Text dimColor>({step.status})</Text>
      </Text>
      <Text dimColor wrap="wrap">
        {step.why}
      </Text>
      {step.preview ? <PreviewView preview={step.preview} details={details} /> : null}
      {step.status === "applying" && step.progress ? (
        <Box>
          <Spinner
            label={`applying ${step.progress.done}/${step.progress.total} ${step.progress.current ?? step.progress.message ?? ""}`}
          />
        </Box>
      ) : null}
      {gates.length ? <Text bold>Gates</Text> : null}
      {gates.map((g) => (
        <Box key={g.gate}>
          <Box width={2} flexShrink={0}>
            {g.settled ? (
              <Text color="green">✔</Text>
            ) : step.status === "failed" ? (
              <Text color="red">✘</Text>
            ) : g.passed ? (
              <Text color="yellow">◔</Text>
            ) : (
              <Text color="cyan">⠿</Text>
            )}
          </Box>
          <Text wrap="truncate">
            {g.gate} <Text dimColor>{g.reason}</Text>
          </Text>
        </Box>
      ))}
      {step.messages.map((m, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: an append-only tail of log lines; equal lines may repeat
        <Text key={`${i}-${m}`} dimColor wrap="truncate">
          {m}
        </Text>
      ))}
      {awaitingKind === "confirm" ? (
        <Text color="yellow">Apply this step? [y] yes [n] stop here</Text>
      ) : null}
      {awaitingKind === "failure" ? (
        <Text color="red">{`Step failed: ${step.reason ?? ""}`}</Text>
      ) : null}
    </Box>
  );
});
