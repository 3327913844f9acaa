import { Box, Text } from "ink";
import { memo } from "react";
import type { PreviewEvent } from "../engine/events.js";
import {
  changeSummary,
  groupedResources,
  resourceLine,
  shortPath,
  valueChange,
} from "../render/preview-lines.js";

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
                // Path and values on their own lines: a narrow column truncates the path,
                // never the values the operator is confirming.
                <Box key={d.path} flexDirection="column" paddingLeft={4}>
                  <Text dimColor wrap="truncate">
                    {d.kind === "add" ? "+" : d.kind === "delete" ? "-" : "~"}{" "}
                    {shortPath(d.path, 60)}
                    {d.replaces ? " (forces replacement)" : ""}
                  </Text>
                  <Text wrap="truncate">
                    {"  "}
                    {valueChange(d)}
                  </Text>
                </Box>
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
