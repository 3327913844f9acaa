import { Box, Text, useWindowSize } from "ink";
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { EngineActions } from "../engine/events.js";
import { filterLines, logLines, stepDetailLines } from "./detail-lines.js";
import { DetailPane } from "./detail-pane.js";
import { computeLayout, MIN_COLUMNS, MIN_ROWS } from "./layout.js";
import type { Prompt } from "./prompt-state.js";
import type { ScreenStore } from "./screen-store.js";
import {
  initialScroll,
  reduceScroll,
  type ScrollAction,
  type ScrollState,
  visibleRange,
} from "./scroll-state.js";
import { formatDuration } from "./state.js";
import { KeyHints, StatusLine } from "./status-line.js";
import { StepList } from "./step-list.js";
import { TrafficPane, TrafficStrip } from "./traffic-pane.js";
import { useScreenKeys } from "./use-screen-keys.js";
import { truncate, wrapText } from "./wrap.js";

export interface AppProps {
  store: ScreenStore;
  actions: EngineActions;
  interactive: boolean;
  /** Fixed terminal size (tests); otherwise the terminal's, re-laid out on resize. */
  size?: { columns: number; rows: number };
}

function useClock(ms: number, active: boolean): number {
  const [t, setT] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const h = setInterval(() => setT(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms, active]);
  return t;
}

const NO_PROMPT: Prompt = { kind: "none" };

export function App({ store, actions, interactive, size }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const win = useWindowSize();
  const columns = size?.columns ?? win.columns;
  const rows = size?.rows ?? win.rows;
  const layout = computeLayout(columns, rows, state.steps.length || 9);
  const now = useClock(1000, !state.summary);
  const [prompt, setPrompt] = useState<Prompt>(NO_PROMPT);
  const [view, setView] = useState<"step" | "log">("step");
  const [scroll, setScroll] = useState<ScrollState>(initialScroll());

  const current = state.steps.find((s) => s.id === state.current);
  const detailWidth = layout.kind === "too-small" ? layout.width : layout.detailWidth;
  const viewportRows = layout.kind === "too-small" ? 0 : layout.viewportRows;
  const lines = useMemo(() => {
    const all =
      view === "log"
        ? logLines(state.log, detailWidth)
        : current
          ? stepDetailLines(current, state.awaiting, detailWidth)
          : [];
    return filterLines(all, scroll.filter);
  }, [view, state.log, state.awaiting, current, detailWidth, scroll.filter]);

  // A new step or view starts at its top (the log at its end).
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when these change
  useEffect(() => setScroll(initialScroll(view === "log")), [state.current, view]);
  // A typed confirmation for a question the engine no longer asks goes, and so does the quit
  // question once the run ended.
  useEffect(() => {
    if (prompt.kind === "typed" && state.awaiting?.step !== prompt.step) setPrompt(NO_PROMPT);
    if (prompt.kind === "quit" && state.summary) setPrompt(NO_PROMPT);
  }, [prompt, state.awaiting, state.summary]);

  const scrollBy = useCallback(
    (a: ScrollAction) =>
      setScroll((s) => reduceScroll(s, a, { total: lines.length, height: viewportRows })),
    [lines.length, viewportRows],
  );
  useScreenKeys(state, actions, {
    isActive: interactive,
    prompt,
    setPrompt,
    scroll,
    scrollBy,
    toggleLog: () => setView((v) => (v === "log" ? "step" : "log")),
  });

  const run = state.run;
  if (layout.kind === "too-small") {
    const msg = `The terminal is ${columns}×${rows}; the runbook's screen needs at least ${MIN_COLUMNS}×${MIN_ROWS}. Enlarge the window (the run continues; q quits).`;
    const status = current ? `step ${current.index} ${current.title}: ${current.status}` : "";
    return (
      <Box flexDirection="column" width={layout.width} height={layout.height} overflow="hidden">
        {[...wrapText(msg, layout.width), status].slice(0, Math.max(1, rows)).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static message lines
          <Text key={i} wrap="truncate" color="yellow">
            {l || " "}
          </Text>
        ))}
      </Box>
    );
  }

  const range = visibleRange(scroll, lines.length, viewportRows);
  const position =
    lines.length > viewportRows
      ? `${range.start + 1}–${range.end} of ${lines.length}${range.below > 0 ? " ↓" : ""}`
      : "";
  const title =
    view === "log"
      ? "Run log (this run's events, oldest first)"
      : current
        ? `${current.index}/${state.steps.length} ${current.title} (${current.status})`
        : run
          ? "Starting…"
          : "Preparing the target…";
  const detail = (
    <DetailPane
      title={title}
      position={position}
      lines={lines.slice(range.start, range.end)}
      width={detailWidth}
      bordered={layout.kind === "wide"}
    />
  );
  const elapsed = `elapsed ${formatDuration(now - state.startedAt)} `;
  const header = ` eks-runbook · stack ${run?.stack ?? "…"} · ${run?.target ?? "…"}${run?.dryRun ? " · dry run" : ""}`;

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height} overflow="hidden">
      <Box justifyContent="space-between" height={1}>
        <Text bold wrap="truncate">
          {truncate(header, layout.width - elapsed.length - 1)}
        </Text>
        <Text>{elapsed}</Text>
      </Box>
      {layout.kind === "wide" ? (
        <Box height={layout.bodyRows} overflow="hidden">
          <StepList
            steps={state.steps}
            current={state.current}
            now={now}
            width={layout.stepsWidth}
            rows={layout.stepRows}
            title={true}
          />
          {detail}
          <TrafficPane traffic={state.traffic} width={layout.trafficWidth} rows={layout.bodyRows} />
        </Box>
      ) : (
        <Box flexDirection="column" height={layout.bodyRows} overflow="hidden">
          <TrafficStrip traffic={state.traffic} width={layout.width} />
          <StepList
            steps={state.steps}
            current={state.current}
            now={now}
            width={layout.width}
            rows={layout.stepRows}
            title={false}
          />
          {detail}
        </Box>
      )}
      <Box height={1}>
        <StatusLine state={state} prompt={prompt} scroll={scroll} width={layout.width} />
      </Box>
      <Box height={1}>
        <KeyHints
          state={state}
          prompt={prompt}
          view={view}
          filter={scroll.filter}
          width={layout.width}
        />
      </Box>
    </Box>
  );
}
