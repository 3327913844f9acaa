import { Text } from "ink";
import { memo } from "react";
import { optionText } from "./detail-lines.js";
import { summaryLine } from "./outcome-lines.js";
import { isApplying, type Prompt } from "./prompt-state.js";
import type { ScrollState } from "./scroll-state.js";
import type { ScreenState } from "./state.js";
import { truncate } from "./wrap.js";

// The two bottom rows: what the screen is asking (or the latest notice), and the keys.

export const StatusLine = memo(function StatusLine({
  state,
  prompt,
  scroll,
  width,
}: {
  state: ScreenState;
  prompt: Prompt;
  scroll: ScrollState;
  width: number;
}) {
  const line = (text: string, color?: string, bold = false) => (
    <Text wrap="truncate" bold={bold} {...(color ? { color } : {})}>
      {truncate(text, width)}
    </Text>
  );
  if (prompt.kind === "typed")
    return line(
      // What to type first: a narrow terminal cuts the end of the line, never the instruction.
      `Type ${prompt.confirmWith} and Enter to apply (Esc: back) › ${prompt.typed}_ ${prompt.error ? `${prompt.error} · ` : ""}${prompt.reason}`,
      "red",
      true,
    );
  if (prompt.kind === "quit")
    return line(
      isApplying(state)
        ? "Cancel the update in progress? [y] cancel it (resumable)  [n] continue  (Ctrl-C again forces)"
        : "Quit the run? [y] quit (resumable)  [n] continue  (Ctrl-C again forces)",
      "yellow",
      true,
    );
  if (scroll.draft !== undefined) return line(`/${scroll.draft}_  (Enter filter, Esc clear)`);
  if (state.summary)
    return line(
      summaryLine(state.summary),
      state.summary.result === "completed" || state.summary.result === "dry-run" ? "green" : "red",
      true,
    );
  const a = state.awaiting;
  if (a?.kind === "confirm")
    return line(
      a.destructive
        ? `Apply this step? ${a.destructive.reason} — [y] then type ${a.destructive.confirmWith}  [n] stop here`
        : "Apply this step? [y] yes  [n] stop here",
      "yellow",
      true,
    );
  if (a?.kind === "failure") return line(`Step failed: ${a.reason ?? "see the pane"}`, "red", true);
  if (state.run?.resumeFrom)
    return line(
      `resuming at step ${state.run.resumeFrom.index}: ${state.run.resumeFrom.reason}`,
      "yellow",
    );
  const last = state.diagnostics.at(-1);
  return last ? line(last, "yellow") : line(" ");
});

export const KeyHints = memo(function KeyHints({
  state,
  prompt,
  view,
  filter,
  width,
}: {
  state: ScreenState;
  prompt: Prompt;
  view: "step" | "log";
  filter: string;
  width: number;
}) {
  if (prompt.kind !== "none" || state.summary) return <Text> </Text>;
  const a = state.awaiting;
  const decisions = (a?.options ?? [])
    .map((o) => (a?.kind === "confirm" && o === "stop" ? "[n] stop here" : optionText(o)))
    .filter((h) => h !== "skip-confirm");
  const keys = [
    ...decisions,
    "↑↓ PgUp/PgDn scroll",
    filter ? `/ filter "${filter}" (Esc clears)` : "/ filter",
    view === "log" ? "[l] step" : "[l] log",
    "[q] quit",
  ];
  return (
    <Text dimColor wrap="truncate">
      {truncate(keys.join("  "), width)}
    </Text>
  );
});
