import { formatDuration, isTerminal, type ScreenState, type StepView } from "./state.js";

// What stays in the terminal's scrollback once the screen (alternate buffer) is gone: one
// line per finished step and the run's outcome.

export function finishedLine(s: StepView): string {
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

export function summaryLine(summary: NonNullable<ScreenState["summary"]>): string {
  return (
    `${summary.result}: ${summary.stepsDone} steps done, ${summary.requests.total.toLocaleString("en-US")} requests, ${summary.requests.failed} failed` +
    `${summary.overrides ? `, ${summary.overrides} gate override(s)` : ""}${summary.report ? ` · report ${summary.report}` : ""}`
  );
}

export function outcomeLines(s: ScreenState): string[] {
  const run = s.run;
  const lines = run
    ? [
        `eks-runbook · stack ${run.stack} · ${run.target}${run.dryRun ? " · dry run" : ""} · run ${run.runId}`,
      ]
    : [];
  for (const step of s.steps) if (isTerminal(step.status)) lines.push(finishedLine(step));
  const awaiting = s.awaiting;
  if (awaiting?.kind === "failure" && awaiting.reason)
    lines.push(`step ${awaiting.step} failed: ${awaiting.reason}`);
  for (const d of s.diagnostics.filter((x) => x.startsWith("error:"))) lines.push(d);
  if (s.summary) lines.push(summaryLine(s.summary));
  return lines;
}
