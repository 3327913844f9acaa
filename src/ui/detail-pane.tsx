import { Box, Text } from "ink";
import { memo } from "react";
import type { DetailLine } from "./detail-lines.js";
import { toneProps } from "./tone.js";
import { truncate } from "./wrap.js";

/**
 * A title line and a window of pre-wrapped lines, `rows` tall in all (never more: the lines
 * are cut to the viewport before Ink lays them out).
 */
export const DetailPane = memo(function DetailPane({
  title,
  position,
  lines,
  width,
  bordered,
}: {
  title: string;
  /** e.g. "12–25 of 60"; empty when everything is visible. */
  position: string;
  lines: DetailLine[];
  width: number;
  bordered: boolean;
}) {
  const titleText = truncate(title, Math.max(1, width - position.length - 1));
  return (
    <Box
      flexDirection="column"
      flexGrow={1}
      overflow="hidden"
      {...(bordered
        ? { paddingX: 1, borderStyle: "single", borderTop: false, borderBottom: false }
        : {})}
    >
      <Box justifyContent="space-between">
        <Text bold wrap="truncate">
          {titleText}
        </Text>
        <Text dimColor>{position}</Text>
      </Box>
      {lines.map((l, i) => (
        // Lines are a window onto a list that changes as a whole; position is the identity.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <Text key={i} wrap="truncate" bold={l.bold ?? false} {...toneProps(l.tone)}>
          {l.text === "" ? " " : l.text}
        </Text>
      ))}
    </Box>
  );
});
