import { Text } from "ink";
import { memo } from "react";
import type { Decision } from "../engine/events.js";

const LABEL: Partial<Record<Decision, string>> = {
  confirm: "[y] apply",
  retry: "[r] retry gates",
  rollback: "[b] roll back",
  override: "[o] override gates",
  stop: "[s] stop",
};

export const KeyHints = memo(function KeyHints({
  options,
  kind,
}: {
  options: Decision[];
  kind?: "confirm" | "failure" | undefined;
}) {
  const hints = options
    .map((o) => (kind === "confirm" && o === "stop" ? "[n] stop here" : LABEL[o]))
    .filter((h): h is string => Boolean(h));
  return <Text dimColor>{[...hints, "[d] details", "[q] quit"].join("  ")}</Text>;
});
