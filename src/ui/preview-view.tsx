import { Box, Text } from "ink";
import { memo } from "react";
import {
  changeSummary,
  diffLine,
  groupedResources,
  resourceLine,
} from "../render/preview-lines.js";
import type { PreviewEvent } from "../runbook/events.js";

const OP_COLOR: Record<string, string> = {
  create: "green",
  update: "yellow",
  replace: "magenta",
  delete: "red",
};
const MAX_RESOURCES = 12;

export const PreviewView = memo(function PreviewView({
  preview,
  details,
}: {
  preview: PreviewEvent;
  details: boolean;
}) {
  const groups = groupedResources(preview);
  let shown = 0;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>Preview </Text>
        {changeSummary(preview)}
      </Text>
      {groups.map((g) =>
        g.resources.map((r) => {
          if (shown++ >= MAX_RESOURCES) return null;
          return (
            <Box key={r.urn} flexDirection="column">
              <Text color={OP_COLOR[g.op]} wrap="truncate">
                {" "}
                {resourceLine(r)}
              </Text>
              {(details ? r.diffs : r.diffs.slice(0, 2)).map((d) => (
                <Text key={d.path} dimColor wrap="truncate-middle">
                  {"    "}
                  {diffLine(d)}
                </Text>
              ))}
              {!details && r.diffs.length > 2 ? (
                <Text dimColor>{`    … ${r.diffs.length - 2} more ([d] details)`}</Text>
              ) : null}
            </Box>
          );
        }),
      )}
      {shown > MAX_RESOURCES ? (
        <Text dimColor>{` … ${shown - MAX_RESOURCES} more resources`}</Text>
      ) : null}
      {(preview.action?.items ?? []).slice(0, details ? 50 : 8).map((item) => (
        <Text
          key={`${item.kind}-${item.target}`}
          color={item.kind === "block" ? "red" : undefined}
          wrap="truncate"
        >
          {"  "}
          {item.kind} {item.target}
          {item.detail ? <Text dimColor> {item.detail}</Text> : null}
        </Text>
      ))}
    </Box>
  );
});
