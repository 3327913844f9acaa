import { Box, Static, Text, useStdout } from "ink";
import { useEffect, useState, useSyncExternalStore } from "react";
import type { EngineActions } from "../engine/events.js";
import { KeyHints } from "./key-hints.js";
import type { ScreenStore } from "./screen-store.js";
import { formatDuration, isTerminal, type StepView } from "./state.js";
import { StepDetail } from "./step-detail.js";
import { StepList } from "./step-list.js";
import { TrafficPane } from "./traffic-pane.js";
import { useRunbookKeys } from "./use-runbook-keys.js";

export interface AppProps {
  store: ScreenStore;
  actions: EngineActions;
  interactive: boolean;
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

function finishedLine(s: StepView): string {
  const took =
    s.startedAt !== undefined && s.endedAt !== undefined
      ? ` ${formatDuration(s.endedAt - s.startedAt)}`
      : "";
  const gates = Object.values(s.gates);
  const passed = gates.filter((g) => g.settled).length;
  const gateText = gates.length ? ` · gates ${passed}/${gates.length}` : "";
  const icon = s.status === "done" ? "✔" : s.status === "failed" ? "✘" : "↺";
  return `${icon} ${s.index} ${s.title}${took}${gateText}${s.reason ? ` · ${s.reason}` : ""}`;
}

export function App({ store, actions, interactive }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [details, setDetails] = useState(false);
  const now = useClock(1000, !state.summary);
  // One column of slack: a glyph the terminal draws wider than Ink measures must not wrap
  // a line, or Ink's redraw leaves stale copies of the frame behind.
  const { stdout } = useStdout();
  const width = Math.max(60, ((stdout as NodeJS.WriteStream).columns ?? 100) - 1);
  useRunbookKeys(state, actions, {
    isActive: interactive,
    toggleDetails: () => setDetails((d) => !d),
  });

  const finished = state.steps.filter((s) => isTerminal(s.status) && s.id !== state.current);
  const current = state.steps.find((s) => s.id === state.current);
  const run = state.run;
  const awaiting = state.awaiting?.step === current?.id ? state.awaiting : undefined;

  return (
    <Box flexDirection="column" width={width}>
      <Static items={finished}>
        {(s) => (
          <Text key={s.id} color={s.status === "done" ? "green" : "red"}>
            {finishedLine(s)}
          </Text>
        )}
      </Static>
      <Box justifyContent="space-between">
        <Text bold>
          {" "}
          eks-runbook · stack {run?.stack ?? "…"} · {run?.target ?? "…"}
          {run?.dryRun ? " · dry run" : ""}
        </Text>
        <Text>elapsed {formatDuration(now - state.startedAt)} </Text>
      </Box>
      {run?.resumeFrom ? (
        <Text color="yellow">
          {" "}
          resuming at step {run.resumeFrom.index}: {run.resumeFrom.reason}
        </Text>
      ) : null}
      <Box>
        <StepList steps={state.steps} now={now} />
        <StepDetail
          step={current}
          total={state.steps.length}
          details={details}
          awaitingKind={awaiting?.kind}
        />
        <TrafficPane traffic={state.traffic} />
      </Box>
      {state.diagnostics.map((d, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: an append-only tail of log lines; equal lines may repeat
        <Text key={`${i}-${d}`} color="yellow" wrap="truncate">
          {d}
        </Text>
      ))}
      {state.summary ? (
        <Text
          bold
          color={
            state.summary.result === "completed" || state.summary.result === "dry-run"
              ? "green"
              : "red"
          }
        >
          {` ${state.summary.result}: ${state.summary.stepsDone} steps done, ${state.summary.requests.total.toLocaleString("en-US")} requests, ${state.summary.requests.failed} failed${state.summary.report ? ` · report ${state.summary.report}` : ""}`}
        </Text>
      ) : (
        <KeyHints options={awaiting?.options ?? []} kind={awaiting?.kind} />
      )}
    </Box>
  );
}
